//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use rdbscope_select::units::parse_size;
use rdbscope_select::{KeyFilterArgs, OutputArgs};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "rdbscope",
    version,
    about = "Read, check, convert and inspect Redis and Valkey RDB and AOF files",
    long_about = "Read, check and convert Redis and Valkey RDB files (RDB versions 1-13 and \
VALKEY 80/81) and AOF files (a single appendonly.aof, with or without an RDB preamble, or \
a multi-part AOF: its manifest or its appendonlydir). What an input is, is decided by \
content.\n\nExit codes: 0 ok, 1 the input has a problem, 2 usage or I/O error. \
Progress goes to stderr for big RDB inputs when stderr is a terminal.",
    after_help = "Examples:\n  rdbscope dump dump.rdb | jq -c 'select(.record == null)'\n  \
rdbscope dump --db 0 --type hash --key 'user:*' dump.rdb\n  \
rdbscope dump --expiry --min-size 64K -o big-volatile.jsonl dump.rdb\n  \
rdbscope check backup.rdb\n  rdbscope check appendonlydir\n  rdbscope info dump.rdb\n  \
rdbscope dump --format resp dump.rdb | redis-cli --pipe\n  cat dump.rdb | rdbscope dump -\n  \
rdbscope memory --largest 20 dump.rdb\n  rdbscope stats dump.rdb.gz\n  rdbscope report dump.rdb -o report.html"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write every key (and the file's other records) as JSON Lines, JSON,
    /// or Redis protocol (RESTORE commands); every command of an AOF.
    #[command(
        after_help = "Output: JSON Lines, one record per line. Key records have no \
\"record\" field; header, aux, function, module-aux, selectdb, resizedb, slot and eof \
records carry \"record\": <kind>. Schema: docs/json-format.md.\n\n\
Key selection applies to keys; when any filter is given, only keys are printed. A key \
is printed when every given filter selects it; a repeated filter selects any of its values \
(--key and --key-regex together: any of the patterns). --expired compares expire times \
with --now, by default the file's ctime aux field (when the RDB was written), else the \
current time. Sizes are the value's stored bytes in the file.\n\n\
AOF inputs (a file, a manifest or an appendonlydir): one line per command, \
{\"file\":F,\"offset\":N,\"db\":D,\"ts\":T,\"multi\":B,\"command\":[...]} (ts: the last #TS \
time before it; multi: part of a MULTI/EXEC block), after the keys of an RDB base or \
preamble printed as for an RDB; \"record\": \"aof-file\" and \"annotation\" lines mark \
each file and each #TS annotation. --db, --key, --key-regex, --not-key, --slot and --type \
select commands too: a command is printed when one of the keys it writes matches \
(DEL a b: a or b) and its data type is selected (DEL, EXPIRE, RENAME and other commands \
of any type are left out by --type; commands that write no key, by any key filter). \
--since/--until select by #TS time. --expiry, --expired and the size filters apply to \
RDB keys only and are refused for an AOF. --format json writes one JSON array. \
--format resp passes the selected commands through byte for byte.\n\n\
--format commands (RDB or JSON inputs) writes each key as the plain commands a server's own AOF \
rewrite writes (SET, RPUSH, SADD, ZADD, HMSET, XADD, XSETID, XGROUP, XCLAIM, PEXPIREAT; \
at most 64 items per command), which any server version that knows them loads, unlike \
RESTORE payloads. --target SERVER picks that server's commands and score format \
(default redis-7.4); what it has no command for (field TTLs before redis-7.4 and \
valkey-9.0, functions before 7.0, streams before 5.0) is refused by name unless \
--drop field-ttl,functions; module values are refused. --replace adds DEL before each key.\n\n\
With -o, the file is written only if the whole dump succeeds (a corrupt input leaves no \
file; dump to standard output to keep the records before the problem); interrupted by \
Ctrl-C or SIGTERM, no file is left either.\n\n\
Examples:\n  rdbscope dump dump.rdb -o keys.jsonl\n  \
rdbscope dump --keys-only dump.rdb | jq -r .key\n  \
rdbscope dump --key 'session:*' --type hash dump.rdb\n  \
rdbscope dump --key 'user:*' --key 'acct:*' --not-key '*:tmp' dump.rdb\n  \
rdbscope dump --key-regex '^order:[0-9]{8}$' --db 2 dump.rdb\n  \
rdbscope dump --expired --now 2025-01-01T00:00:00Z dump.rdb | jq -r .key\n  \
rdbscope dump --min-size 1M --format resp dump.rdb > big-keys.resp\n  \
rdbscope dump --slot 0-5460 --format resp dump.rdb | redis-cli -p 7000 --pipe\n  \
rdbscope dump --format json dump.rdb > all.json\n  \
rdbscope dump --format resp dump.rdb | redis-cli --pipe\n  \
rdbscope dump --format commands --target redis-6.2 --drop field-ttl dump.rdb | redis-cli --pipe\n  \
cat dump.rdb | rdbscope dump -\n  \
rdbscope dump appendonlydir | jq -c 'select(.command[0] == \"DEL\")'\n  \
rdbscope dump --db 3 --format resp appendonlydir | redis-cli --pipe\n  \
rdbscope dump --key 'user:42' --since 2026-12-01T09:00:00Z appendonlydir\n  \
rdbscope dump --type hash --until 1733150000 --format json appendonly.aof | jq length"
    )]
    Dump(DumpArgs),
    /// Verify files completely: CRC-64 and every deep-sanitization rule of
    /// an RDB; every command, transaction and manifest rule of an AOF.
    #[command(
        visible_alias = "validate",
        after_help = "Decodes every value and applies the rules Redis applies with \
sanitize-dump-payload yes, plus duplicate keys and trailing data. The default report \
uses redis-check-rdb's grammar ([offset N] ..., --- RDB ERROR DETECTED ---, \\o/ RDB looks \
OK! \\o/); --format json writes one JSON object per input.\n\n\
AOF inputs (a file, a manifest or an appendonlydir) get redis-check-aof's report: \
per file \"AOF analyzed: filename=..., size=..., ok_up_to=..., ok_up_to_line=..., diff=...\" \
and \"... is valid\" or \"... is not valid\", with the same ok_up_to; an RDB base or \
preamble is checked as an RDB. A truncated AOF is a problem (exit 1), even though the \
server loads it when only its last file is truncated; the report says which.\n\n\
Several inputs are checked in parallel; reports come out whole, in argument order.\n\n\
check takes no key filters: it verifies every key and the whole file. With -o, the \
report goes to a file (kept also when it reports problems).\n\n\
Exit codes: 0 every input is OK, 1 some input has a problem, 2 usage or I/O error.\n\n\
Examples:\n  rdbscope check dump.rdb\n  rdbscope check --format json backups/*.rdb | jq -c \
'select(.verdict != \"ok\")'\n  rdbscope check --ignore-checksum dump.rdb\n  \
rdbscope check --quiet -o report.txt dump.rdb\n  \
rdbscope check /var/lib/redis/appendonlydir\n  \
rdbscope check --format json appendonlydir | jq -c '.files[] | [.name, .verdict, .ok_up_to]'"
    )]
    Check(CheckArgs),
    /// Summarize a file (format, aux fields, functions, keys per database;
    /// an AOF's files and commands), or report on the health of a data
    /// directory.
    #[command(
        visible_alias = "health",
        after_help = "Reads every record header but decodes no value. On a damaged file, \
prints what was read before the error, then the error (exit 1).\n\n\
With key filters, counts only the selected keys of an RDB (the other records are \
summarized as without filters).\n\n\
A JSON dump (what dump writes): the header, aux fields, functions and keys per \
database and type it holds (no checksum or sizes: a dump has none).\n\n\
An AOF (a file or a manifest): its files (type, sequence, size, format), commands, \
transactions, databases written to, the first and last #TS time, and its RDB base's or \
preamble's summary.\n\n\
A directory (a Redis data directory with dump.rdb and/or appendonlydir/, or any \
backup folder of RDB and AOF files, compressed or not): a health report, as INFO \
persistence would give it, from the files alone: per RDB the last save time (ctime) \
and its age, the server and RDB version, which servers can read it, keys per db, \
whether the checksum matches; per AOF the base and incr sizes, the growth since the last \
rewrite and whether a rewrite is due (--aof-rewrite-percentage, --aof-rewrite-min-size), \
and the base's keys (commands of the incr files are not replayed, so not counted). \
--max-age and --min-keys (also given a single file) make a stale or emptied backup exit \
1, for cron jobs and probes: age is that of the newest data in the directory, keys \
those of the newest snapshot.\n\n\
Examples:\n  rdbscope info dump.rdb\n  rdbscope info --format json dump.rdb | jq .dbs\n  \
rdbscope info --key 'session:*' --expiry dump.rdb\n  \
rdbscope info --slot 0-5460 --format json -o shard0.json dump.rdb\n  \
rdbscope info appendonlydir/appendonly.aof.manifest\n  \
rdbscope info /var/lib/redis\n  \
rdbscope health --max-age 26h --min-keys 1000 /backups/redis || alert\n  \
rdbscope info --format json /var/lib/redis | jq '.rdbs[] | {file, age_s, keys}'"
    )]
    Info(InfoArgs),
    /// Repair a damaged AOF as `redis-check-aof --fix` would, into a copy
    /// (or in place with a backup): cut the broken tail of its last file.
    #[command(
        after_help = "Cuts where redis-check-aof --fix (Redis 7.0) cuts: the last whole \
command outside a transaction, so an unfinished MULTI is dropped whole; a nested MULTI is \
cut at the outer MULTI, an EXEC without MULTI at that EXEC. Only the last file of a \
multi-part AOF may be cut; a broken RDB preamble or base, a refused manifest or a missing \
file cannot be repaired by cutting (exit 1, nothing written). Every mode prints what is \
removed: the byte range and the commands.\n\n\
Choose one: --output PATH writes a repaired copy (a file, or for an appendonlydir or \
manifest a new directory with the manifest and every file); --in-place --yes replaces \
the file cut, keeping the original as FILE.bak; --dry-run only prints. Writes go to a \
temporary file renamed into place, so an interrupted run leaves the input and the \
target as they were.\n\n\
--truncate-to-timestamp T cuts at the first #TS annotation later than T (Unix seconds), \
with redis-check-aof's refusals (nothing before it, not the last file, a malformed \
annotation, a file broken before it).\n\n\
Exit codes: 0 nothing to fix, or fixed; 1 cannot be fixed, or (--dry-run) something \
would be cut; 2 usage or I/O error.\n\n\
Examples:\n  rdbscope fix --dry-run appendonly.aof\n  \
rdbscope fix appendonly.aof -o appendonly.fixed.aof\n  \
rdbscope fix /var/lib/redis/appendonlydir -o /backup/appendonlydir.fixed\n  \
rdbscope fix --in-place --yes appendonly.aof\n  \
rdbscope fix --truncate-to-timestamp 1733150000 appendonlydir -o restored\n  \
rdbscope fix --dry-run --format json appendonlydir | jq .removed_commands"
    )]
    Fix(FixArgs),
    /// Print what DEBUG DIGEST returns on a server holding this data (or,
    /// with --per-key, DEBUG DIGEST-VALUE of every key), from the file.
    #[command(
        after_help = "Computes Redis's own logical fingerprint of the dataset: SHA1-based, \
independent of encodings and key order, covering every value and whether a key has an \
expire (not its time). Two files hold the same data as far as a server can tell when \
their digests are equal; a file restored into a server can be proven by comparing the \
server's DEBUG DIGEST with this.\n\n\
The rules differ by server: zset scores are hashed as %.17g text up to Redis 7.0 and as \
fpconv text from 7.2 and in Valkey; Redis 7.4+ marks hash fields with a TTL, Valkey does \
not. By default the rules are those of the server that wrote the file (its redis-ver or \
valkey-ver aux field), and a note on stderr says which were used; --server-version \
gives the digest another server would compute after loading the file.\n\n\
--as-loaded leaves out what a server drops when it loads the file at that time (by \
default now): keys whose expire has passed, and (Valkey) hash fields whose TTL has \
passed; the note (or the JSON) counts them.\n\n\
Inputs: an RDB, or a JSON dump written by rdbscope dump (compressed, or - for standard \
input). A module value has no digest outside its server: the command stops there, naming \
the key (exit 1). An AOF (a file or an appendonlydir) is replayed first, as a server \
loads it (docs/aof-replay.md), and its dataset digested.\n\n\
Output: the 40 hex digits, one line; --format json: {\"file\", \"digest\", \
\"server_version\", \"rules_from\", \"keys\", \"as_loaded\"}; --per-key: one JSON line per \
key, {\"db\":N,\"key\":K,\"digest\":\"...\"}, with K as in dump (a string, or \
{\"base64\":...} for bytes that are not UTF-8).\n\n\
Examples:\n  rdbscope digest dump.rdb\n  \
[ \"$(rdbscope digest -q dump.rdb)\" = \"$(redis-cli debug digest)\" ] && echo same\n  \
rdbscope digest --server-version redis-7.0 dump-from-7.4.rdb\n  \
rdbscope digest --per-key dump.rdb | jq -r 'select(.key|test(\"^user:\")) | .digest'\n  \
rdbscope digest --as-loaded dump.rdb\n  \
zcat dump.rdb.gz | rdbscope digest -"
    )]
    Digest(DigestArgs),
    /// Compare two inputs (RDB files or JSON dumps, compressed too): the
    /// keys only in A, only in B, and changed, with exactly what changed.
    #[command(
        after_help = "Compares by key (database and name): a key only in B is \"added\", only \
in A \"removed\", in both with a different value or TTL \"changed\". A change of encoding \
alone is no change. For a changed key it reports: a type change; a TTL change; a string's \
old and new value; a list's inserted and removed elements by position (a real sequence \
diff); a set's added and removed members; a zset's added, removed and rescored members; a \
hash's added, removed and changed fields and field TTL changes; a stream's added and \
removed entries, last ID, and its groups' last delivered ID, PEL and consumers.\n\n\
A key renamed or moved to another database is removed + added; --detect-renames pairs \
such keys when their values (and TTLs) are equal and reports them as renamed.\n\n\
How: each input is read twice. First every key's name and value are fingerprinted (24 \
bytes a key in memory; beyond --memory the index is partitioned into temporary files in \
$TMPDIR); then only the keys whose fingerprints differ are read again in full and compared. \
Standard input is saved to a temporary file first.\n\n\
Output: --format text (default): one line per key, - removed, + added, ~ changed (then one \
indented line per change, values cut short), > renamed, then a summary per database and \
type. --format jsonl: one JSON object per key, {\"db\",\"key\",\"change\",\"type\", ...details}, \
keys as in dump; last a {\"record\":\"summary\"} line. Schema: docs/json-format.md.\n\n\
Exit codes: 0 identical, 1 different, 2 error (unreadable or broken input, usage).\n\n\
Examples:\n  rdbscope diff yesterday.rdb today.rdb\n  \
rdbscope diff --format jsonl a.rdb b.rdb | jq -c 'select(.change == \"changed\")'\n  \
rdbscope diff --keys-only --key 'user:*' a.rdb b.rdb\n  \
rdbscope diff --ignore-ttl --detect-renames a.rdb.gz b.rdb.zst\n  \
rdbscope diff dump.rdb dump.jsonl && echo same\n  \
rdbscope diff --memory 32M big-a.rdb big-b.rdb"
    )]
    Diff(DiffArgs),
    /// Write an RDB or a JSON dump as an RDB of another version (or for
    /// another server), as JSON / JSON Lines, or as an AOF.
    #[command(
        after_help = "Converts key by key, in flat memory. To RDB, each value is written in \
the encoding the target server would choose under its default thresholds (listpacks, \
ziplists, intsets, quicklists, stream layouts, binary zset scores, field-TTL hash types \
24/25 for Redis 7.4+ or HASH_2 for Valkey 9), with integer-encoded and LZF-compressed \
strings as redis-server writes them, AUX fields, functions, module values verbatim, and a \
correct CRC-64.\n\n\
The target: --target redis-6.2|redis-7.0|redis-7.2|redis-7.4|valkey-8.0|valkey-9.1|... \
(the newest RDB version that server reads) or --rdb-version N (6 to 13, or 80 for \
VALKEY080). Both together must agree.\n\n\
Data the target cannot hold stops the conversion, naming the first key and counting all: \
hash field TTLs (Redis before 7.4, Valkey before 9), streams (before RDB 9), functions \
(before RDB 10), module values (before RDB 9). --drop field-ttl keeps the fields without \
their TTLs; --drop streams|functions|modules leaves those keys or records out; the report \
on stderr says what was dropped. Metadata the target has no place for (stream counters and \
consumer active times of newer layouts, slot info, LRU/LFU before RDB 9) is left out with \
a warning.\n\n\
To an AOF (--to aof, or OUTPUT named .aof; RDB or JSON inputs): one append-only file of the \
commands the target server's own rewrite writes (see dump --format commands), which that \
server loads as its appendonly.aof (Redis 7 and Valkey turn it into an appendonlydir). \
--target picks the server (default redis-7.4); --drop field-ttl,functions as for an RDB. \
--aof-base rdb writes an RDB-preamble AOF instead (the RDB, which a server reads as an AOF \
with nothing after its preamble). --to aof-dir makes a Redis 7 appendonlydir OUTPUT \
(never over an existing one): a BASE (an RDB, or commands with --aof-base aof), an empty \
INCR file and the manifest, as redis-server names them.\n\n\
The output format comes from --to or from OUTPUT's name (.rdb, .json, .jsonl, .aof); a name \
ending .gz, .zst, .bz2 or .lz4 is written compressed. OUTPUT is written to a temporary \
file renamed into place when complete; never over the input; an existing file only with \
--force; - writes to standard output.\n\n\
Exit codes: 0 written, 1 the input is broken or holds what the target cannot (nothing \
written), 2 usage or I/O error.\n\n\
Examples:\n  rdbscope convert dump-7.4.rdb dump-7.2.rdb --target redis-7.2\n  \
rdbscope convert dump.rdb for-valkey.rdb --target valkey-9.1\n  \
rdbscope convert dump.rdb old.rdb --rdb-version 9 --drop field-ttl\n  \
rdbscope convert edited.jsonl restored.rdb --target redis-7.0\n  \
rdbscope convert dump.rdb appendonly.aof --target redis-6.2 --drop field-ttl\n  \
rdbscope convert dump.rdb /var/lib/redis/appendonlydir --to aof-dir --target redis-7.0\n  \
rdbscope convert dump.rdb.gz keys.jsonl.zst --key 'user:*'\n  \
rdbscope convert dump.rdb - --target redis-6.2 | ssh host 'cat > /var/lib/redis/dump.rdb'"
    )]
    Convert(ConvertArgs),
    /// Rewrite an AOF offline, as BGREWRITEAOF would, without a server.
    #[command(
        after_help = "Replays the AOF (an appendonlydir, its manifest, or one appendonly.aof) \
and writes the dataset as a fresh append-only directory: a BASE (an RDB by default, as \
aof-use-rdb-preamble yes writes it; commands with --aof-base aof), an empty INCR file and \
the manifest. For a Redis 6.2 or older target (--target redis-6.2, or an input written \
by one), OUTPUT is one append-only file instead, with an RDB preamble unless \
--aof-base aof. The input is never touched and OUTPUT must not exist. A summary of the \
sizes before and after goes to stderr.\n\n\
The target server defaults to the one that wrote the input's RDB base or preamble; give \
--target when the input has none.\n\n\
Exit codes: 0 written, 1 the input is broken or holds what the target cannot hold, 2 usage \
or I/O error.\n\n\
Examples:\n  rdbscope rewrite /var/lib/redis/appendonlydir -o /backup/appendonlydir\n  \
rdbscope rewrite appendonly.aof -o compact.aof --target redis-6.2\n  \
rdbscope rewrite appendonlydir -o before-deploy --until-timestamp 2026-12-01T14:03:00Z"
    )]
    Rewrite(RewriteArgs),
    /// Merge several RDB, JSON or AOF inputs into one output.
    #[command(
        after_help = "Inputs are taken in order. An RDB or a JSON dump adds its keys as a \
shard: a key that an earlier input holds is an error unless --on-conflict first (keep the \
earlier) or last (take the later). An AOF is replayed on top of what the inputs before it \
made, as a server applies its INCR files to its BASE (so `merge dump.rdb appendonly.aof` \
is the server's state after both). The output is written as convert writes it (--to rdb, \
json, jsonl, aof or aof-dir, or from OUTPUT's name; --target / --rdb-version as for \
convert), never over an input.\n\n\
Examples:\n  rdbscope merge shard1.rdb shard2.rdb shard3.rdb -o all.rdb --target redis-7.0\n  \
rdbscope merge base.rdb appendonly.aof -o now.rdb --target redis-7.2\n  \
rdbscope merge a.jsonl b.rdb -o merged.jsonl --on-conflict last"
    )]
    Merge(MergeArgs),
    /// One row per key with the memory it uses in a running server, as
    /// `MEMORY USAGE key SAMPLES 0` counts it (rdbtools' memory CSV).
    #[command(
        after_help = "Columns (rdbtools' names, then ours): database,type,key,\
size_in_bytes,encoding,num_elements,len_largest_element,expiry,db_key_overhead,idle,freq. \
size_in_bytes is the estimate for the server that will load the file (--server-version, \
default the one that wrote it) built with --allocator (jemalloc, or libc); encoding is the \
one that server holds the value in after loading (a ziplist from RDB 9 is a listpack in \
7.0). expiry is UTC with milliseconds; keys are binary-safe (quoted when they hold a comma, \
quote or newline; --format jsonl gives {\"base64\": ...} for non-UTF-8 keys). How the \
estimate is made and how close it is: docs/memory.md.\n\n\
Examples:\n  rdbscope memory dump.rdb -o memory.csv\n  \
rdbscope memory --largest 20 dump.rdb\n  \
rdbscope memory --bytes 1M --type hash dump.rdb\n  \
rdbscope memory --server-version redis-6.2 --allocator libc dump.rdb\n  \
rdbscope memory --format jsonl dump.rdb.gz | jq -s 'map(.size_in_bytes) | add'\n  \
rdbscope memory --size-by memory --min-size 64K --key 'user:*' dump.rdb"
    )]
    Memory(crate::inspect_args::MemoryArgs),
    /// Statistics per database and type: key counts, expiries, encodings,
    /// element counts, value sizes and estimated memory with quantiles.
    #[command(
        after_help = "Per database and type: keys, keys with an expiry, keys expired at \
--now (default: the file's ctime aux field), encodings, and min/avg/p50/p90/p99/max of \
elements per key, stored value bytes and estimated memory (quantiles from a bounded sketch: \
exact below 1024, within 1% above); expiry buckets; the file's aux fields, functions and \
version. --format json is one document (schema: docs/inspect.md).\n\n\
Examples:\n  rdbscope stats dump.rdb\n  rdbscope stats --format json dump.rdb | jq .total\n  \
rdbscope stats --db 0 --format csv dump.rdb.zst\n  rdbscope stats --now 2026-01-01T00:00:00Z dump.rdb"
    )]
    Stats(crate::inspect_args::StatsArgs),
    /// The biggest keys, by estimated memory and by element count, over all
    /// keys and per type.
    #[command(
        after_help = "Always N rows when the file has at least N (selected) keys; ties \
are broken by file order, so the result does not depend on -j.\n\n\
Examples:\n  rdbscope bigkeys dump.rdb\n  rdbscope bigkeys --top 20 --per-type dump.rdb\n  \
rdbscope bigkeys --by elements --type zset --format json dump.rdb | jq '.lists[0].keys[].key'"
    )]
    Bigkeys(crate::inspect_args::BigkeysArgs),
    /// Key count and estimated memory per key prefix (`user:`, `user:42:`, ...).
    #[command(
        after_help = "Level d is the key up to its d-th separator; a key with fewer \
separators counts at its deepest prefix (\"\" with none), so each level adds up to the totals \
of `stats`. Memory stays bounded with many distinct prefixes: each level keeps \
--max-prefixes, the smallest going to an \"other\" row; exact when there are fewer \
(docs/inspect.md gives the error bound).\n\n\
Examples:\n  rdbscope prefixes dump.rdb\n  rdbscope prefixes --separator / --depth 3 --top 20 dump.rdb\n  \
rdbscope prefixes --format csv -o prefixes.csv dump.rdb"
    )]
    Prefixes(crate::inspect_args::PrefixesArgs),
    /// One self-contained HTML page: statistics, big keys, memory by type and
    /// database, a prefix flame graph, expiry buckets.
    #[command(
        after_help = "The page needs no network: open it in any browser. It holds \
aggregates and the top keys, not every key, so it stays small for any file.\n\n\
Examples:\n  rdbscope report dump.rdb -o report.html\n  \
rdbscope report --top 100 --separator / dump.rdb.gz -o report.html"
    )]
    Report(crate::inspect_args::ReportArgs),
    /// One row per key into a Parquet file, from one or many RDBs, for
    /// DuckDB, Spark, Trino or ClickHouse.
    #[command(
        after_help = "Columns: docs/export.md (source file, server version, db, key \
(binary), type, encoding, expiry, memory estimate, elements, largest element, idle/freq, \
cluster hash slot).\n\n\
Examples:\n  rdbscope export -o keys.parquet dump.rdb\n  \
rdbscope export -o fleet.parquet shard-*/dump.rdb\n  \
duckdb -c \"select type, count(*), sum(memory) from 'fleet.parquet' group by type\""
    )]
    Export(crate::inspect_args::ExportArgs),
    /// Shell completions for bash, zsh, fish, elvish or powershell.
    #[command(
        after_help = "Examples:\n  rdbscope completions bash > /etc/bash_completion.d/rdbscope\n  \
rdbscope completions zsh > \"${fpath[1]}/_rdbscope\"\n  \
rdbscope completions fish > ~/.config/fish/completions/rdbscope.fish"
    )]
    Completions(crate::inspect_args::CompletionsArgs),
    /// The man page (roff), from the same definitions as --help.
    #[command(
        after_help = "Examples:\n  rdbscope man | man -l -\n  rdbscope man --dir /usr/local/share/man/man1"
    )]
    Man(crate::inspect_args::ManArgs),
}

#[derive(Args, Debug, Clone)]
pub struct RewriteArgs {
    /// The AOF: an appendonlydir, its manifest, or one append-only file.
    pub input: PathBuf,
    /// The new append-only directory (or file, for a Redis 6.2 target).
    #[arg(short = 'o', long, value_name = "PATH")]
    pub output: PathBuf,
    /// The server that will load it (default: the input's writer).
    #[arg(long, value_name = "SERVER", value_parser = rdbscope_digest::ServerVersion::parse)]
    pub target: Option<rdbscope_digest::ServerVersion>,
    /// BASE as an RDB (default) or as commands.
    #[arg(long, value_enum)]
    pub aof_base: Option<AofBase>,
    /// Leave out what the target cannot hold (field-ttl, streams, functions, modules).
    #[arg(long, value_name = "WHAT")]
    pub drop: Vec<String>,
    /// No summary on standard error (errors still).
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Threads that encode values.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub replay: ReplayArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnConflictArg {
    First,
    Last,
}

#[derive(Args, Debug, Clone)]
pub struct MergeArgs {
    /// The inputs, in order (RDB, JSON dump, AOF).
    #[arg(required = true, num_args = 2..)]
    pub inputs: Vec<PathBuf>,
    /// The output (`-`: standard output).
    #[arg(short = 'o', long, value_name = "PATH")]
    pub output: PathBuf,
    /// Output format (default: from OUTPUT's name, else rdb).
    #[arg(long, value_enum)]
    pub to: Option<ConvertTo>,
    /// A key held by two shards: keep the first or take the last (default: an error).
    #[arg(long, value_enum)]
    pub on_conflict: Option<OnConflictArg>,
    /// As convert: BASE or preamble form of an AOF output.
    #[arg(long, value_enum)]
    pub aof_base: Option<AofBase>,
    /// Write this RDB version (6 to 13; 80 for VALKEY080).
    #[arg(long, value_name = "N")]
    pub rdb_version: Option<u32>,
    /// Write what this server reads.
    #[arg(long, value_name = "SERVER", value_parser = rdbscope_digest::ServerVersion::parse)]
    pub target: Option<rdbscope_digest::ServerVersion>,
    /// Leave out what the target cannot hold (field-ttl, streams, functions, modules).
    #[arg(long, value_name = "WHAT")]
    pub drop: Vec<String>,
    /// Replace OUTPUT if it exists (never an input).
    #[arg(long)]
    pub force: bool,
    /// No report on standard error (errors still).
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Threads that encode values.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub replay: ReplayArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvertTo {
    Rdb,
    Json,
    Jsonl,
    /// One AOF file: the commands a server's own rewrite writes (RDB
    /// inputs), for `--target` (default redis-7.4).
    Aof,
    /// A Redis 7 `appendonlydir`: a BASE file (an RDB, or with
    /// `--aof-base aof` the rewrite's commands), an empty INCR file and
    /// the manifest naming them.
    AofDir,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AofBase {
    /// An RDB (`aof-use-rdb-preamble yes`).
    Rdb,
    /// Commands.
    Aof,
}

#[derive(Args, Debug, Clone)]
pub struct ConvertArgs {
    /// The input: an RDB, a JSON dump or an AOF (replayed), `-` reads
    /// standard input.
    pub input: PathBuf,
    /// The output file (`-`: standard output).
    pub output: PathBuf,
    /// Output format (default: from OUTPUT's name, else rdb).
    #[arg(long, value_enum)]
    pub to: Option<ConvertTo>,
    /// What an AOF starts with: with --to aof-dir its BASE file (default
    /// rdb); with --to aof, `rdb` writes an RDB-preamble AOF (default:
    /// commands).
    #[arg(long, value_enum)]
    pub aof_base: Option<AofBase>,
    /// Write this RDB version (6 to 13; 80 for VALKEY080).
    #[arg(long, value_name = "N")]
    pub rdb_version: Option<u32>,
    /// Write what this server reads: redis-6.2, redis-7.0, redis-7.2,
    /// redis-7.4, valkey-8.0, valkey-9.1, ...
    #[arg(long, value_name = "SERVER", value_parser = rdbscope_digest::ServerVersion::parse)]
    pub target: Option<rdbscope_digest::ServerVersion>,
    /// Leave out what the target cannot hold, by name (repeatable, or
    /// comma-separated): field-ttl, streams, functions, modules.
    #[arg(long, value_name = "WHAT")]
    pub drop: Vec<String>,
    /// Write strings uncompressed (as rdbcompression no).
    #[arg(long)]
    pub no_compression: bool,
    /// A damaged RDB input: write every record the damage did not touch
    /// (skipping what cannot be read, resuming at the next provable record
    /// boundary; the skipped ranges are reported). A valid file results.
    #[arg(long)]
    pub salvage: bool,
    /// A setting of the server that will load the file, as NAME=VALUE with
    /// redis.conf names (repeatable): the thresholds that choose encodings
    /// (hash-max-listpack-entries=512, list-max-listpack-size=-2,
    /// stream-node-max-entries=100, ...) and rdbcompression=yes|no.
    /// Defaults: the servers' own.
    #[arg(long = "config", value_name = "NAME=VALUE")]
    pub config: Vec<String>,
    /// Replace OUTPUT if it exists (never the input).
    #[arg(long)]
    pub force: bool,
    /// No report or progress on standard error (errors still).
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Threads that encode values (default: the number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub replay: ReplayArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub keys: KeyFilterArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffFormat {
    Text,
    Jsonl,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The first input (RDB or JSON dump; `-` reads standard input).
    pub a: PathBuf,
    /// The second input.
    pub b: PathBuf,
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Compare values only: key and hash field TTLs are not compared.
    #[arg(long)]
    pub ignore_ttl: bool,
    /// Report which keys differ, not how.
    #[arg(long)]
    pub keys_only: bool,
    /// Report a removed and an added key with the same value (and TTL) as
    /// one renamed (or moved) key.
    #[arg(long)]
    pub detect_renames: bool,
    /// Memory for the key index of both inputs; beyond it the index is
    /// partitioned into temporary files (units K, M, G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "256M")]
    pub memory: u64,
    /// Threads that walk each input (default: the number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub replay: ReplayArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub keys: KeyFilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct DigestArgs {
    /// An RDB file or a JSON dump; `-` reads standard input.
    pub input: PathBuf,
    /// Print DEBUG DIGEST-VALUE of every key, as JSON Lines.
    #[arg(long)]
    pub per_key: bool,
    /// Compute as this server does: redis-6.2, redis-7.0, redis-7.2,
    /// redis-7.4, valkey-8.0, valkey-9.1, ... (default: the server that
    /// wrote the file).
    #[arg(long, value_name = "VERSION", value_parser = rdbscope_digest::ServerVersion::parse)]
    pub server_version: Option<rdbscope_digest::ServerVersion>,
    /// Digest what a server loading the file at NOW holds: expired keys
    /// (and, on Valkey, expired hash fields) left out. NOW: Unix seconds,
    /// 1700000000000ms or YYYY-MM-DDTHH:MM:SSZ; default: now.
    #[arg(
        long,
        value_name = "NOW",
        num_args = 0..=1,
        require_equals = true,
        value_parser = rdbscope_select::units::parse_time_ms
    )]
    pub as_loaded: Option<Option<i64>>,
    #[arg(long, value_enum, default_value_t = InfoFormat::Text)]
    pub format: InfoFormat,
    /// Threads that digest values (default: the number of CPUs; the digest
    /// is the same either way). `-j1` uses one thread.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub replay: ReplayArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// How an AOF input is replayed into a dataset.
#[derive(Args, Debug, Clone, Default)]
pub struct ReplayArgs {
    /// AOF input: stop before the first `#TS:` annotation later than T
    /// (what `redis-check-aof --truncate-to-timestamp T` keeps). T: Unix
    /// seconds or YYYY-MM-DDTHH:MM:SSZ.
    #[arg(long, value_name = "T", value_parser = parse_unix_seconds)]
    pub until_timestamp: Option<i64>,
    /// AOF input: stop at this byte offset of the last file, or of FILE
    /// (a manifest's file name) with FILE:OFFSET.
    #[arg(long, value_name = "[FILE:]OFFSET")]
    pub until_offset: Option<String>,
    /// AOF directory input: stop after the whole of FILE (a manifest's
    /// file name, e.g. appendonly.aof.2.incr.aof).
    #[arg(long, value_name = "FILE")]
    pub until_file: Option<String>,
    /// AOF input: count and skip commands the replay engine does not
    /// support instead of stopping at the first.
    #[arg(long)]
    pub skip_unsupported: bool,
    /// AOF input: the time relative expires (EXPIRE, SET EX) count from, as
    /// a server loading the file would use its clock (default: now).
    #[arg(long, value_name = "NOW", value_parser = rdbscope_select::units::parse_time_ms)]
    pub replay_now: Option<i64>,
}

/// Unix seconds, from seconds or a date.
fn parse_unix_seconds(s: &str) -> Result<i64, String> {
    if let Ok(v) = s.parse::<i64>() {
        return Ok(v);
    }
    rdbscope_select::units::parse_time_ms(s).map(|ms| ms.div_euclid(1000))
}

#[derive(Args, Debug)]
pub struct FixArgs {
    /// The AOF file, its manifest or its appendonlydir.
    pub input: PathBuf,
    /// Write the repaired AOF here (a directory for a multi-part AOF); the
    /// input is left untouched.
    #[arg(short = 'o', long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Replace the file that is cut (needs --yes); the original is kept as
    /// FILE.bak.
    #[arg(long)]
    pub in_place: bool,
    /// Confirm --in-place.
    #[arg(long)]
    pub yes: bool,
    /// Only print what would be cut.
    #[arg(long)]
    pub dry_run: bool,
    /// Replace an existing --output, or an existing FILE.bak.
    #[arg(long)]
    pub force: bool,
    /// Cut at the first #TS annotation later than this Unix time.
    #[arg(long, value_name = "UNIX_SECONDS", allow_hyphen_values = true)]
    pub truncate_to_timestamp: Option<i64>,
    #[arg(long, value_enum, default_value_t = InfoFormat::Text)]
    pub format: InfoFormat,
    /// Print nothing but errors (text format).
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Args, Debug, Clone)]
pub struct DumpArgs {
    /// The RDB or AOF file, AOF manifest or appendonlydir; `-` reads
    /// standard input.
    pub input: PathBuf,
    /// Output layout.
    #[arg(long, value_enum, default_value_t = DumpFormat::Jsonl)]
    pub format: DumpFormat,
    /// Print key records only (not header/aux/function/... records), and
    /// without their values: db, key, type, encoding, expiry and the
    /// value's size ("elements" of a collection or a stream's entries,
    /// "length" of a string in bytes). JSON only.
    #[arg(long)]
    pub keys_only: bool,
    /// Forensics on a damaged RDB: skip each record that cannot be read,
    /// resume at the next record boundary that can be proven (3 records
    /// in a row decode completely), and go on; every skipped byte range is
    /// reported on stderr and as a {"record":"skipped"} line, with the
    /// keys before and after it. Exit 1 when anything was skipped.
    #[arg(long)]
    pub salvage: bool,
    /// Threads that render values (default: the number of CPUs; output
    /// order is the file's either way). `-j1` uses one thread.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// AOF: only commands whose time (the last #TS annotation before them)
    /// is at or after TIME: Unix seconds, 1700000000000ms or
    /// YYYY-MM-DDTHH:MM:SSZ. Commands before any #TS have no time.
    #[arg(long, value_name = "TIME", value_parser = rdbscope_select::units::parse_time_ms)]
    pub since: Option<i64>,
    /// AOF: only commands whose time is at or before TIME.
    #[arg(long, value_name = "TIME", value_parser = rdbscope_select::units::parse_time_ms)]
    pub until: Option<i64>,
    /// RESP: re-encode every RESTORE payload as RDB version N (6 to 13;
    /// 80 for VALKEY080), as `convert` writes it, so an older server or
    /// another vendor restores it.
    #[arg(long, value_name = "N", help_heading = "RESTORE payloads")]
    pub rdb_version: Option<u32>,
    /// RESP: re-encode the payloads for what this server reads
    /// (redis-6.2, redis-7.0, valkey-9.1, ...); commands: write what this
    /// server knows, formatted as it formats them.
    #[arg(long, value_name = "SERVER", value_parser = rdbscope_digest::ServerVersion::parse, help_heading = "RESTORE payloads")]
    pub target: Option<rdbscope_digest::ServerVersion>,
    /// RESP: leave out what the target cannot hold, by name: `field-ttl`
    /// (hashes restored without those TTLs), `functions` (no FUNCTION
    /// LOAD); else such a key or library is an error.
    #[arg(long, value_name = "WHAT", help_heading = "RESTORE payloads")]
    pub drop: Vec<String>,
    /// RESP: RESTORE ... REPLACE (overwrite keys that exist); commands: a
    /// DEL before each key.
    #[arg(long, help_heading = "RESTORE payloads")]
    pub replace: bool,
    /// With --format commands, an AOF input is replayed first.
    #[command(flatten)]
    pub replay: ReplayArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub keys: KeyFilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// RDB or AOF files, AOF manifests or appendonlydirs; `-` reads
    /// standard input.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = InfoFormat::Text)]
    pub format: InfoFormat,
    /// Threads to use in all (default: the number of CPUs). Files are
    /// checked this many at a time; threads left over check values of the
    /// files in hand. `-j1` uses one thread.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// An RDB or AOF file, a manifest, or a directory (a data directory
    /// with dump.rdb and/or appendonlydir, an appendonlydir, or a backup
    /// folder): a health report. `-` reads standard input.
    pub input: PathBuf,
    /// Health: exit 1 when the newest backup is older than this
    /// (e.g. 90m, 26h, 7d; plain seconds too).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Health")]
    pub max_age: Option<i64>,
    /// Health: exit 1 when the newest snapshot holds fewer keys.
    #[arg(long, value_name = "N", help_heading = "Health")]
    pub min_keys: Option<u64>,
    /// Health: also run the full check on every file (decodes every value).
    #[arg(long, help_heading = "Health")]
    pub deep: bool,
    /// Health: the server's auto-aof-rewrite-percentage, to say whether an
    /// AOF rewrite is due.
    #[arg(
        long,
        value_name = "PERCENT",
        default_value_t = 100,
        help_heading = "Health"
    )]
    pub aof_rewrite_percentage: u64,
    /// Health: the server's auto-aof-rewrite-min-size.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64M", help_heading = "Health")]
    pub aof_rewrite_min_size: u64,
    #[arg(long, value_enum, default_value_t = InfoFormat::Text)]
    pub format: InfoFormat,
    /// Threads that walk the file (default: the number of CPUs; the
    /// summary is the same either way). `-j1` uses one thread.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub keys: KeyFilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Do not compute or compare the CRC-64 trailer.
    #[arg(long)]
    pub ignore_checksum: bool,
    /// Largest decompressed LZF string to accept, in bytes (e.g. 512M, 4G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "4G")]
    pub max_value_size: u64,
}

/// A duration: plain seconds, or a number with s, m, h, d or w.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, "s"),
    };
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        "w" => 7 * 86400,
        _ => {
            return Err(format!(
                "invalid duration {s:?}: expected e.g. 90s, 15m, 26h, 7d"
            ))
        }
    };
    num.parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("invalid duration {s:?}: expected e.g. 90s, 15m, 26h, 7d"))
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpFormat {
    /// JSON Lines: one record per line.
    Jsonl,
    /// One JSON array of all records.
    Json,
    /// Redis protocol: SELECT, then one `RESTORE key ttl payload ABSTTL`
    /// per key (the value's stored bytes, exact), and `FUNCTION LOAD` per
    /// library; for `redis-cli --pipe`.
    Resp,
    /// Redis protocol: the plain commands a server's own AOF rewrite
    /// writes (SET, RPUSH, SADD, ZADD, HMSET, XADD..., PEXPIREAT), for
    /// `redis-cli --pipe` into any server version; `--target` picks the
    /// server's commands and formats (default: Redis 7.4's).
    Commands,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoFormat {
    Text,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
