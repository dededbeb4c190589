//! The rules of the AOF format, each with a stable id.
//!
//! The AOF counterpart of `rdbscope_rdb::Rule`: every [`Error`](crate::Error)
//! of the RESP reader and every problem of [`check`](mod@crate::check) names
//! the rule broken, so that the JSON report can say `aof-multi-nested`
//! rather than only `transaction`. Ids start with `aof-`, so they never
//! clash with the RDB ids that an RDB base or preamble reports; they are
//! never renamed or reused. `docs/check-rules.md` lists them.

use std::fmt;

macro_rules! rules {
    ($( $(#[$doc:meta])* $name:ident => $id:literal, $desc:literal; )*) => {
        /// A rule of the AOF format that input can break. See the
        /// [module documentation](self).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$doc])* $name, )*
        }

        impl Rule {
            /// Every rule, in the order of the documentation.
            pub const ALL: &'static [Rule] = &[$(Rule::$name),*];

            /// The stable kebab-case id, e.g. `aof-multi-nested`.
            pub fn id(self) -> &'static str {
                match self { $(Rule::$name => $id,)* }
            }

            /// One line on what the rule requires.
            pub fn description(self) -> &'static str {
                match self { $(Rule::$name => $desc,)* }
            }
        }
    };
}

rules! {
    /// The file ends inside a command.
    Truncated => "aof-truncated", "a file ends after a whole command (the last file may be cut: the server drops the partial command)";
    /// Truncated, in a file that is not the last.
    TruncatedNotLast => "aof-truncated-not-last", "only the last file of a multi-part AOF may end inside a command";
    /// What starts a record.
    CommandStart => "aof-command-start", "each record starts with '*' (a command) or '#' (an annotation)";
    /// `*0`.
    EmptyCommand => "aof-empty-command", "a command has at least one argument";
    /// What starts an argument.
    ArgumentStart => "aof-argument-start", "each argument starts with '$' and its length";
    /// Count and length lines.
    LengthLine => "aof-length-line", "an argument count or length is decimal digits ended by \\r\\n";
    /// CRLF after an argument.
    ArgumentEnd => "aof-argument-end", "each argument's bytes are followed by \\r\\n";
    /// MULTI inside a transaction.
    MultiNested => "aof-multi-nested", "no MULTI inside a transaction";
    /// EXEC without MULTI.
    ExecWithoutMulti => "aof-exec-without-multi", "every EXEC closes a MULTI";
    /// MULTI without EXEC at the end of the file.
    MultiWithoutExec => "aof-multi-without-exec", "a file does not end inside a transaction";
    /// The RDB base or preamble.
    RdbPart => "aof-rdb-part", "an RDB base or preamble is a sane RDB (its own problem names the RDB rule)";
    /// The manifest.
    Manifest => "aof-manifest", "the manifest parses and lists one base and its increments in order";
    /// A file the manifest lists.
    MissingFile => "aof-missing-file", "every file the manifest lists exists";
}

impl Rule {
    /// The rule with this id, if any.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.id() == id)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}
