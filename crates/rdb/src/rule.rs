//! The rules of the format, each with a stable id.
//!
//! Every [`Error`](crate::Error) names the rule the input broke, so that a
//! report can say more than "invalid": `listpack-backlen`, `ziplist-zltail`,
//! `set-duplicate-member`. The ids are kebab-case and stable: scripts and
//! runbooks match on them, so an id is never renamed or reused, only added.
//! The message text beside it stays free to improve.
//!
//! The list below is the whole set; `docs/check-rules.md` has one row per
//! rule with the Redis or Valkey function that applies the same rule and
//! the test that breaks it (a test keeps the two in step).

use std::fmt;

macro_rules! rules {
    ($( $(#[$doc:meta])* $name:ident => $id:literal, $desc:literal; )*) => {
        /// A rule of the RDB format (structural or semantic) that input
        /// can break. See the [module documentation](self).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$doc])* $name, )*
        }

        impl Rule {
            /// Every rule, in the order of the documentation.
            pub const ALL: &'static [Rule] = &[$(Rule::$name),*];

            /// The stable kebab-case id, e.g. `listpack-backlen`.
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
    // --- Whole file -------------------------------------------------------
    /// The input ended in the middle of an item.
    Truncated => "truncated", "the input ends in the middle of an item";
    /// The magic at the start of the file.
    HeaderSignature => "header-signature", "the file starts with \"REDIS\" or \"VALKEY\"";
    /// The version after the magic.
    HeaderVersion => "header-version", "the version after the magic is a number this reader supports";
    /// An opcode or object type byte.
    TypeByte => "type-byte", "every opcode and object type byte is one the file's version defines";
    /// The CRC-64 trailer.
    Checksum => "checksum", "the CRC-64 trailer matches the bytes before it";
    /// Bytes after the trailer.
    TrailingData => "trailing-data", "nothing follows the checksum";
    /// A key appears twice in one database.
    DuplicateKey => "duplicate-key", "a key appears at most once per database";
    /// The input could not be read to its end.
    InputRead => "input-read", "the input can be read to its end (no I/O error, and a compressed input decompresses with its checksums right)";
    /// A declared size is above a configured limit.
    SizeLimit => "size-limit", "a declared size is within the configured decoding limits";
    // --- Primitive encodings ---------------------------------------------
    /// The two top bits of a length byte and the special lengths.
    LengthEncoding => "length-encoding", "a length uses one of the defined length encodings";
    /// 2^64-1, the value `rdbLoadLen` returns on a read error
    /// (`RDB_LENERR`), where the loader compares a length with it.
    LengthError => "length-error-value", "a length or count is not 2^64-1, the loader's read-error value";
    /// Special string encodings (0xc0..0xc3).
    StringEncoding => "string-encoding", "a string uses plain, integer or LZF encoding";
    /// A number written as text (old doubles, scores, integers).
    NumberText => "number-text", "a number written as text parses as one";
    /// An LZF string's declared lengths.
    LzfLength => "lzf-length", "an LZF string decompresses to exactly its declared length, which its compressed size can produce";
    /// LZF tokens.
    LzfData => "lzf-data", "LZF literals and back-references stay inside the input and the output";
    /// Bytes left inside a value.
    ValueTrailingBytes => "value-trailing-bytes", "a value's encoding uses every byte of its payload";
    // --- Ziplist ---------------------------------------------------------
    /// Ziplist minimum size.
    ZiplistSize => "ziplist-size", "a ziplist holds at least its 11-byte header and terminator";
    /// Ziplist `zlbytes`.
    ZiplistZlbytes => "ziplist-zlbytes", "a ziplist's zlbytes equals the size of its string";
    /// Ziplist `zltail`.
    ZiplistZltail => "ziplist-zltail", "a ziplist's zltail points at its last entry";
    /// Ziplist `zllen`.
    ZiplistZllen => "ziplist-zllen", "a ziplist's zllen (below 65535) equals its number of entries";
    /// Ziplist end marker.
    ZiplistTerminator => "ziplist-terminator", "a ziplist ends with 0xff and has no 0xff before its end";
    /// Ziplist `prevlen`.
    ZiplistPrevlen => "ziplist-prevlen", "each ziplist entry's prevlen equals the size of the entry before it";
    /// Ziplist entry encoding.
    ZiplistEncoding => "ziplist-encoding", "each ziplist entry uses a defined encoding byte";
    // --- Listpack --------------------------------------------------------
    /// Listpack minimum size.
    ListpackSize => "listpack-size", "a listpack holds at least its 7-byte header and terminator";
    /// Listpack total bytes.
    ListpackTotalBytes => "listpack-total-bytes", "a listpack's total-bytes header equals the size of its string";
    /// Listpack end marker.
    ListpackTerminator => "listpack-terminator", "a listpack ends with 0xff and has no 0xff before its end";
    /// Listpack element count.
    ListpackCount => "listpack-count", "a listpack's element count (below 65535) equals its number of elements";
    /// Listpack entry encoding.
    ListpackEncoding => "listpack-encoding", "each listpack entry uses a defined encoding byte";
    /// Listpack backlen.
    ListpackBacklen => "listpack-backlen", "each listpack entry's backlen equals the entry's size";
    /// Elements a fixed layout needs.
    ListpackElements => "listpack-elements", "a listpack holds every element its layout needs (pairs, stream entries)";
    /// An element that must be an integer.
    ListpackInteger => "listpack-integer", "an element a layout needs as a number is an integer";
    /// An even number of elements for pairs.
    PairCount => "pair-count", "a hash or zset blob holds whole (field, value) or (member, score) pairs";
    // --- Intset ----------------------------------------------------------
    /// Intset header.
    IntsetHeader => "intset-header", "an intset holds at least its 8-byte header";
    /// Intset encoding width.
    IntsetEncoding => "intset-encoding", "an intset's encoding is 2, 4 or 8";
    /// Intset length.
    IntsetLength => "intset-length", "an intset's size equals its header plus count times width";
    /// Empty intset.
    IntsetEmpty => "intset-empty", "an intset is not empty";
    /// Intset order.
    IntsetOrder => "intset-order", "an intset's integers are strictly ascending";
    // --- Zipmap ----------------------------------------------------------
    /// Zipmap minimum size.
    ZipmapSize => "zipmap-size", "a zipmap holds at least its count byte and terminator";
    /// Zipmap end marker.
    ZipmapTerminator => "zipmap-terminator", "a zipmap ends with 0xff and has no 0xff before its end";
    /// Zipmap pairs.
    ZipmapPairs => "zipmap-pairs", "every zipmap key has a value";
    /// Zipmap count byte.
    ZipmapCount => "zipmap-count", "a zipmap is not empty and its count byte (below 254) equals its pairs";
    // --- Values ----------------------------------------------------------
    /// Duplicate set member.
    SetDuplicateMember => "set-duplicate-member", "a set has no member twice";
    /// Duplicate zset member.
    ZsetDuplicateMember => "zset-duplicate-member", "a sorted set has no member twice";
    /// Zset score that is not a number.
    ZsetScore => "zset-score", "a sorted set score in a blob is a number";
    /// NaN zset score.
    ZsetNanScore => "zset-nan-score", "no sorted set score is NaN";
    /// Duplicate hash field.
    HashDuplicateField => "hash-duplicate-field", "a hash has no field twice";
    /// Hash field TTL range.
    HashFieldTtlRange => "hash-field-ttl-range", "a hash field's expire time is in 0..=2^48-1 (Valkey: not negative)";
    /// Hash field TTL type.
    HashFieldTtlInteger => "hash-field-ttl-integer", "a hash field's expire time in a listpack is an integer";
    /// Hash field TTL order.
    HashFieldTtlOrder => "hash-field-ttl-order", "a listpack hash lists fields with TTLs in ascending TTL order, then fields without";
    /// Hash minimum expire time.
    HashMinExpireRange => "hash-min-expire-range", "a hash's minimum expire time is in 0..=2^48-1";
    /// Quicklist container.
    QuicklistContainer => "quicklist-container", "a quicklist node is plain (1) or packed (2)";
    /// Empty quicklist node.
    QuicklistEmptyNode => "quicklist-empty-node", "a quicklist node is not an empty string";
    // --- Streams ---------------------------------------------------------
    /// Stream master ID size.
    StreamMasterId => "stream-master-id", "a stream node's key is a 16-byte master ID";
    /// Duplicate stream master ID.
    StreamMasterIdDuplicate => "stream-master-id-duplicate", "no two stream nodes have the same master ID";
    /// Empty stream listpack.
    StreamEmptyListpack => "stream-empty-listpack", "a stream node's listpack is not empty";
    /// Stream length without nodes.
    StreamLength => "stream-length", "a stream with entries has nodes";
    /// Stream master entry.
    StreamMasterEntry => "stream-master-entry", "a node's master entry has non-negative counts and ends with 0";
    /// Stream entry field count.
    StreamEntryFields => "stream-entry-fields", "a stream entry's field count is not negative";
    /// Stream entry lp-count.
    StreamLpCount => "stream-lp-count", "a stream entry's lp-count equals its number of listpack elements";
    /// Elements after the last entry.
    StreamTrailingElements => "stream-trailing-elements", "a node's listpack ends after its last entry";
    /// Live entry count.
    StreamLiveCount => "stream-live-count", "a node's master entry counts its live (not deleted) entries";
    /// Duplicate consumer group.
    StreamGroupDuplicate => "stream-group-duplicate", "a stream has no consumer group name twice";
    /// Duplicate group PEL entry.
    StreamPelDuplicate => "stream-pel-duplicate", "a group's PEL has no ID twice";
    /// Duplicate consumer.
    StreamConsumerDuplicate => "stream-consumer-duplicate", "a group has no consumer name twice";
    /// Consumer PEL entry not in the group PEL.
    StreamConsumerPelUnknown => "stream-consumer-pel-unknown", "each consumer PEL entry is in its group's PEL";
    /// Group PEL entry owned twice.
    StreamPelOwnedTwice => "stream-pel-owned-twice", "each group PEL entry is owned by one consumer only";
    /// Group PEL entry owned by no consumer.
    StreamPelOwner => "stream-pel-owner", "each group PEL entry is owned by a consumer";
    // --- Modules and opcodes ---------------------------------------------
    /// Module id.
    ModuleId => "module-id", "a module id is not 0";
    /// Module opcode.
    ModuleOpcode => "module-opcode", "a module value uses opcodes 0..=5 and ends with EOF";
    /// Module value of the pre-GA format.
    ModulePreGa => "module-pre-ga", "a module value is not in the pre-GA format (type 6), which needs its module";
    /// Module AUX `when`.
    ModuleAuxWhen => "module-aux-when", "a module AUX record's 'when' is written as an unsigned integer";
    /// SLOT_IMPORT job name.
    SlotImportJobName => "slot-import-job-name", "a SLOT_IMPORT job name is 40 bytes";
    /// KEY_META class count.
    KeyMetaClasses => "key-meta-classes", "a KEY_META prefix has at most 7 classes";
    /// DUMP payload checksum.
    PayloadChecksum => "payload-checksum", "a DUMP payload's CRC-64 footer matches its bytes";
    // --- Not about the input ---------------------------------------------
    /// Not a rule of the format: a caller asked a value for the wrong type,
    /// or the checker itself failed. Never produced by input bytes alone.
    Other => "other", "not a rule of the format: a misuse of the API or an internal failure";
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

#[cfg(test)]
mod tests {
    use super::Rule;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_kebab_case() {
        let mut seen = HashSet::new();
        for r in Rule::ALL {
            let id = r.id();
            assert!(seen.insert(id), "{id} twice");
            assert!(
                id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{id} is not kebab-case"
            );
            assert_eq!(Rule::from_id(id), Some(*r));
            assert!(!r.description().is_empty());
        }
    }
}
