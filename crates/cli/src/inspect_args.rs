//! Arguments of the inspection commands (`memory`, `stats`, `bigkeys`,
//! `prefixes`, `report`, `export`) and of `completions` / `man`.

use crate::args::CommonArgs;
use clap::{Args, ValueEnum};
use rdbscope_select::units::parse_size;
use rdbscope_select::{KeyFilterArgs, OutputArgs};
use std::path::PathBuf;

/// How memory is estimated, shared by every inspection command.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Memory estimate")]
pub struct EstimateArgs {
    /// Estimate for this server loading the file: redis-6.2, redis-7.0,
    /// redis-7.4, valkey-8.0, valkey-9.1, ... (default: the server that
    /// wrote the file, from its redis-ver / valkey-ver aux field).
    #[arg(long, value_name = "VERSION", value_parser = rdbscope_digest::ServerVersion::parse)]
    pub server_version: Option<rdbscope_digest::ServerVersion>,
    /// The allocator that server was built with: jemalloc (Redis's
    /// default build) or libc (`make MALLOC=libc`, many packaged builds).
    #[arg(long, value_enum, default_value_t = AllocatorArg::Jemalloc)]
    pub allocator: AllocatorArg,
    /// What --min-size and --max-size measure: the value's bytes in the
    /// file (stored, the default) or the key's estimated memory.
    #[arg(long, value_enum, default_value_t = SizeBy::Stored)]
    pub size_by: SizeBy,
    /// Threads that walk the file (default: the number of CPUs; results
    /// are the same either way).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

/// What every inspection command takes: the estimate's server and
/// allocator, the decoder's limits, the shared key filters, `-o`.
#[derive(Args, Debug, Clone)]
pub struct Shared {
    #[command(flatten)]
    pub estimate: EstimateArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub keys: KeyFilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocatorArg {
    Jemalloc,
    Libc,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeBy {
    Stored,
    Memory,
}

#[derive(Args, Debug, Clone)]
pub struct MemoryArgs {
    /// An RDB file (compressed too), or `-` for standard input.
    pub input: PathBuf,
    #[arg(long, value_enum, default_value_t = MemoryFormat::Csv)]
    pub format: MemoryFormat,
    /// Only keys using at least this many bytes of memory (as rdbtools'
    /// --bytes; units K, M, G are powers of 1024).
    #[arg(long, value_name = "N", value_parser = parse_size)]
    pub bytes: Option<u64>,
    /// Only the N keys using the most memory, biggest first (as rdbtools'
    /// --largest).
    #[arg(long, short = 'l', value_name = "N")]
    pub largest: Option<usize>,
    #[command(flatten)]
    pub shared: Shared,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryFormat {
    Csv,
    Jsonl,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    Table,
    Json,
    Csv,
}

#[derive(Args, Debug, Clone)]
pub struct StatsArgs {
    /// An RDB file (compressed too), or `-` for standard input.
    pub input: PathBuf,
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
    #[command(flatten)]
    pub shared: Shared,
}

#[derive(Args, Debug, Clone)]
pub struct BigkeysArgs {
    /// An RDB file (compressed too), or `-` for standard input.
    pub input: PathBuf,
    /// Keys per list.
    #[arg(long, short = 'n', value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Rank by memory, by element count, or both (default).
    #[arg(long, value_enum, default_value_t = RankBy::Both)]
    pub by: RankBy,
    /// Also one list per type.
    #[arg(long)]
    pub per_type: bool,
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
    #[command(flatten)]
    pub shared: Shared,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankBy {
    Memory,
    Elements,
    Both,
}

#[derive(Args, Debug, Clone)]
pub struct PrefixArgs {
    /// What ends a prefix.
    #[arg(long, short = 's', value_name = "SEP", default_value = ":")]
    pub separator: String,
    /// Levels of prefix (level d: the key up to its d-th separator).
    #[arg(long, short = 'd', value_name = "D", default_value_t = 2)]
    pub depth: usize,
    /// Prefixes kept per level; with more distinct prefixes than this the
    /// smallest go to an "other" row (totals stay exact; docs/inspect.md
    /// gives the error bound).
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub max_prefixes: usize,
}

#[derive(Args, Debug, Clone)]
pub struct PrefixesArgs {
    /// An RDB file (compressed too), or `-` for standard input.
    pub input: PathBuf,
    #[command(flatten)]
    pub prefix: PrefixArgs,
    /// Rows per level, biggest memory first (0: all kept).
    #[arg(long, short = 'n', value_name = "N", default_value_t = 0)]
    pub top: usize,
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
    #[command(flatten)]
    pub shared: Shared,
}

#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// An RDB file (compressed too), or `-` for standard input.
    pub input: PathBuf,
    /// Big keys per list.
    #[arg(long, short = 'n', value_name = "N", default_value_t = 50)]
    pub top: usize,
    #[command(flatten)]
    pub prefix: PrefixArgs,
    #[command(flatten)]
    pub shared: Shared,
}

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// RDB files (compressed too; `-` for standard input), all into one
    /// Parquet file.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The Parquet file's compression: lz4 (fast, the default), zstd
    /// (about a third smaller, slower to write) or none.
    #[arg(long, value_enum, default_value_t = ParquetCompression::Lz4)]
    pub compression: ParquetCompression,
    #[command(flatten)]
    pub shared: Shared,
}

#[derive(Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug, Clone)]
pub struct ManArgs {
    /// Write one page per command (rdbscope.1, rdbscope-dump.1, ...) into
    /// this directory instead of printing rdbscope.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParquetCompression {
    Lz4,
    Zstd,
    None,
}
