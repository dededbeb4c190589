//! The byte values of RDB opcodes and object types, and what they mean for
//! each flavour of file (Redis's `REDIS` magic vs Valkey's `VALKEY` magic).
//!
//! Names follow `src/rdb.h` of Redis and Valkey.

/// Opcodes (the high end of the type byte space).
pub mod opcode {
    /// Valkey 81 (development): inline command during forkless save.
    pub const UPDATE: u8 = 242;
    /// Redis RDB 13: per-key module metadata. Valkey 80: SLOT_IMPORT.
    pub const KEY_META_OR_SLOT_IMPORT: u8 = 243;
    /// Redis 7.4+: slot number and key counts of the keys that follow (cluster mode).
    pub const SLOT_INFO: u8 = 244;
    /// Redis 7.0+: one function library, its whole source.
    pub const FUNCTION2: u8 = 245;
    /// Redis 7.0 release candidates: one function (name, engine, description, code).
    pub const FUNCTION_PRE_GA: u8 = 246;
    /// Module data not tied to a key, loaded before or after the keyspace.
    pub const MODULE_AUX: u8 = 247;
    /// Key prefix: LRU idle time in seconds.
    pub const IDLE: u8 = 248;
    /// Key prefix: LFU counter.
    pub const FREQ: u8 = 249;
    /// A metadata field: name and value strings.
    pub const AUX: u8 = 250;
    /// Sizing hint for the current database: keys and keys with an expiry.
    pub const RESIZEDB: u8 = 251;
    /// Key prefix: expiry as Unix milliseconds.
    pub const EXPIRETIME_MS: u8 = 252;
    /// Key prefix: expiry as Unix seconds (written before Redis 2.6).
    pub const EXPIRETIME: u8 = 253;
    /// The keys that follow are in this database.
    pub const SELECTDB: u8 = 254;
    /// End of the records; the CRC-64 trailer follows (version 5+).
    pub const EOF: u8 = 255;
}

/// Object type bytes.
pub mod rdb_type {
    /// A string.
    pub const STRING: u8 = 0;
    /// A list of strings (not written since Redis 3.2).
    pub const LIST: u8 = 1;
    /// A set of strings.
    pub const SET: u8 = 2;
    /// A sorted set with text scores.
    pub const ZSET: u8 = 3;
    /// A hash of (field, value) strings.
    pub const HASH: u8 = 4;
    /// A sorted set with binary double scores (RDB 8+).
    pub const ZSET_2: u8 = 5;
    /// A module value from Redis 4.0 release candidates, without tags.
    pub const MODULE_PRE_GA: u8 = 6;
    /// A module value: module id and tagged opcode stream.
    pub const MODULE_2: u8 = 7;
    /// A hash in a zipmap (RDB 2-3).
    pub const HASH_ZIPMAP: u8 = 9;
    /// A list in a ziplist.
    pub const LIST_ZIPLIST: u8 = 10;
    /// A set of integers in an intset.
    pub const SET_INTSET: u8 = 11;
    /// A sorted set in a ziplist.
    pub const ZSET_ZIPLIST: u8 = 12;
    /// A hash in a ziplist.
    pub const HASH_ZIPLIST: u8 = 13;
    /// A list as ziplist nodes (quicklist v1).
    pub const LIST_QUICKLIST: u8 = 14;
    /// A stream, layout v1 (Redis 5.0 to 6.2).
    pub const STREAM_LISTPACKS: u8 = 15;
    /// A hash in a listpack (Redis 7.0+).
    pub const HASH_LISTPACK: u8 = 16;
    /// A sorted set in a listpack (Redis 7.0+).
    pub const ZSET_LISTPACK: u8 = 17;
    /// A list as PLAIN or listpack nodes (quicklist v2, Redis 7.0+).
    pub const LIST_QUICKLIST_2: u8 = 18;
    /// A stream, layout v2 (Redis 7.0).
    pub const STREAM_LISTPACKS_2: u8 = 19;
    /// A set in a listpack (Redis 7.2+).
    pub const SET_LISTPACK: u8 = 20;
    /// A stream, layout v3 (Redis 7.2+).
    pub const STREAM_LISTPACKS_3: u8 = 21;
    /// Redis 7.4 RCs: HASH_METADATA_PRE_GA. Valkey 80: HASH_2.
    pub const HASH_22: u8 = 22;
    /// Redis 7.4 RCs: HASH_LISTPACK_EX_PRE_GA. Valkey 81: PATH_HASH.
    pub const HASH_23: u8 = 23;
    /// Redis 7.4+: a hashtable hash with field TTLs.
    pub const HASH_METADATA: u8 = 24;
    /// Redis 7.4+: a listpack hash with field TTLs.
    pub const HASH_LISTPACK_EX: u8 = 25;
    /// Redis 8.6+: a stream, layout v3 plus idempotent-producer state.
    pub const STREAM_LISTPACKS_4: u8 = 26;
}

/// Whose numbering of the contested type and opcode bytes applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `REDIS` magic (Redis, and Valkey up to 8.x which writes `REDIS0011`).
    Redis,
    /// `VALKEY` magic (Valkey 9 and later, versions 80+).
    Valkey,
}

/// The data type a key holds, as `TYPE key` would report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyType {
    /// `string`
    String,
    /// `list`
    List,
    /// `set`
    Set,
    /// `zset` (sorted set)
    ZSet,
    /// `hash`
    Hash,
    /// `stream`
    Stream,
    /// `module` (a value of a module type)
    Module,
}

impl KeyType {
    /// The name `TYPE key` answers with.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::String => "string",
            KeyType::List => "list",
            KeyType::Set => "set",
            KeyType::ZSet => "zset",
            KeyType::Hash => "hash",
            KeyType::Stream => "stream",
            KeyType::Module => "module",
        }
    }

    /// Parses a `TYPE` name (as given to `--type`).
    pub fn from_name(name: &str) -> Option<KeyType> {
        Some(match name.to_ascii_lowercase().as_str() {
            "string" => KeyType::String,
            "list" => KeyType::List,
            "set" => KeyType::Set,
            "zset" => KeyType::ZSet,
            "hash" => KeyType::Hash,
            "stream" => KeyType::Stream,
            "module" => KeyType::Module,
            _ => return None,
        })
    }

    /// Position in [`KeyType::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Every key type, in the order of [`KeyType::index`].
    pub const ALL: [KeyType; 7] = [
        KeyType::String,
        KeyType::List,
        KeyType::Set,
        KeyType::ZSet,
        KeyType::Hash,
        KeyType::Stream,
        KeyType::Module,
    ];
}

/// How one object type byte is laid out. Resolving the byte once, by
/// flavour, keeps the contested numbers (22, 23) out of every later `match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Encoding {
    /// 0: an RDB string.
    String,
    /// 1: `n` strings.
    List,
    /// 2: `n` strings.
    Set,
    /// 3: `n` (member, ASCII double).
    ZSet,
    /// 5: `n` (member, binary double).
    ZSet2,
    /// 4: `n` (field, value).
    Hash,
    /// 6: pre-GA module value; cannot be skipped without the module.
    ModulePreGa,
    /// 7: module id + tagged opcode stream.
    Module2,
    /// 9: one string holding a zipmap.
    HashZipmap,
    /// 10: one string holding a ziplist of elements.
    ListZiplist,
    /// 11: one string holding an intset.
    SetIntset,
    /// 12: one string holding a ziplist of member, score pairs.
    ZSetZiplist,
    /// 13: one string holding a ziplist of field, value pairs.
    HashZiplist,
    /// 14: `n` strings, each a ziplist.
    ListQuicklist,
    /// 18: `n` (container, string); PLAIN or PACKED (listpack) nodes.
    ListQuicklist2,
    /// 16: one string holding a listpack of field, value pairs.
    HashListpack,
    /// 17: one string holding a listpack of member, score pairs.
    ZSetListpack,
    /// 20: one string holding a listpack of members.
    SetListpack,
    /// 15, 19, 21, 26: streams; the number is the stream layout version
    /// (1, 2, 3, 4).
    Stream(u8),
    /// Redis 22 (7.4 RCs): `n` (expire_at:len, field, value).
    HashMetadataPreGa,
    /// Redis 24: min_expire:u64le, `n` (ttl:len, field, value).
    HashMetadata,
    /// Redis 23 (7.4 RCs): a listpack of (field, value, expire_at) triplets.
    HashListpackExPreGa,
    /// Redis 25: min_expire:u64le, then the listpack of triplets.
    HashListpackEx,
    /// Valkey 22 (RDB 80): `n` (field, value, expire:i64le).
    ValkeyHash2,
}

/// The kinds of compact blob (one RDB string holding a packed structure)
/// a value can be made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobKind {
    /// `docs/format.md#zipmap`.
    Zipmap,
    /// `docs/format.md#ziplist`.
    Ziplist,
    /// `docs/format.md#intset`.
    Intset,
    /// `docs/format.md#listpack`.
    Listpack,
}

impl BlobKind {
    /// The size of the smallest (empty) blob of the kind: zipmap 2 bytes,
    /// ziplist 11, intset 8, listpack 7.
    pub fn min_size(self) -> u64 {
        match self {
            BlobKind::Zipmap => 2,
            BlobKind::Ziplist => crate::ziplist::HEADER_SIZE as u64 + 1,
            BlobKind::Intset => 8,
            BlobKind::Listpack => crate::listpack::HEADER_SIZE as u64 + 1,
        }
    }
}

/// How a value made of compact blobs lays them out: one blob, or a
/// quicklist's node count and nodes (each with a container byte first in
/// quicklist v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobLayout {
    /// What each blob holds.
    pub kind: BlobKind,
    /// A node count comes first (quicklists).
    pub counted: bool,
    /// Each node has a container byte before its blob (quicklist v2).
    pub containers: bool,
}

impl Encoding {
    /// For a value made of compact blobs, how they are laid out; `None`
    /// for the other encodings.
    pub fn blob_layout(self) -> Option<BlobLayout> {
        use BlobKind::*;
        use Encoding::*;
        let (kind, counted, containers) = match self {
            HashZipmap => (Zipmap, false, false),
            ListZiplist | ZSetZiplist | HashZiplist => (Ziplist, false, false),
            SetIntset => (Intset, false, false),
            HashListpack | ZSetListpack | SetListpack => (Listpack, false, false),
            ListQuicklist => (Ziplist, true, false),
            ListQuicklist2 => (Listpack, true, true),
            _ => return None,
        };
        Some(BlobLayout {
            kind,
            counted,
            containers,
        })
    }

    /// Whether a server writing RDB files of `header`'s version saves
    /// values in this encoding: it converts whatever it loaded to its own
    /// encodings (`docs/format.md`, "Writing for a server version"). So a
    /// record in any other encoding, met while looking for a boundary
    /// inside damaged bytes, is bytes that happen to decode; and a value
    /// in another encoding must be encoded anew for that version.
    pub fn written_by(self, header: crate::Header) -> bool {
        use Encoding::*;
        let enc = self;
        let v = match header.flavor {
            crate::Flavor::Redis => header.version,
            // VALKEY080 is RDB 11 plus HASH_2.
            crate::Flavor::Valkey => {
                if enc == ValkeyHash2 {
                    return true;
                }
                11
            }
        };
        match enc {
            String | Set | Hash | SetIntset => true,
            List | ListZiplist => v <= 6,
            ListQuicklist => (7..=9).contains(&v),
            ListQuicklist2 => v >= 10,
            SetListpack => v >= 11,
            ZSet => v <= 7,
            ZSet2 => v >= 8,
            ZSetZiplist | HashZiplist => v <= 9,
            ZSetListpack | HashListpack => v >= 10,
            HashZipmap => v <= 5,
            ModulePreGa => v == 8,
            Module2 => v >= 8,
            Stream(layout) => match v {
                9 => layout == 1,
                10 => layout == 2,
                11 | 12 => layout == 3,
                _ => v >= 13 && layout >= 3,
            },
            HashMetadataPreGa | HashListpackExPreGa | HashMetadata | HashListpackEx => {
                header.flavor == crate::Flavor::Redis && v >= 12
            }
            ValkeyHash2 => false,
        }
    }

    /// Resolves a type byte. `None` for bytes that are not a known object
    /// type for this flavour and version.
    pub fn from_type_byte(t: u8, flavor: Flavor) -> Option<Encoding> {
        use rdb_type::*;
        Some(match t {
            STRING => Encoding::String,
            LIST => Encoding::List,
            SET => Encoding::Set,
            ZSET => Encoding::ZSet,
            HASH => Encoding::Hash,
            ZSET_2 => Encoding::ZSet2,
            MODULE_PRE_GA => Encoding::ModulePreGa,
            MODULE_2 => Encoding::Module2,
            HASH_ZIPMAP => Encoding::HashZipmap,
            LIST_ZIPLIST => Encoding::ListZiplist,
            SET_INTSET => Encoding::SetIntset,
            ZSET_ZIPLIST => Encoding::ZSetZiplist,
            HASH_ZIPLIST => Encoding::HashZiplist,
            LIST_QUICKLIST => Encoding::ListQuicklist,
            STREAM_LISTPACKS => Encoding::Stream(1),
            HASH_LISTPACK => Encoding::HashListpack,
            ZSET_LISTPACK => Encoding::ZSetListpack,
            LIST_QUICKLIST_2 => Encoding::ListQuicklist2,
            STREAM_LISTPACKS_2 => Encoding::Stream(2),
            SET_LISTPACK => Encoding::SetListpack,
            STREAM_LISTPACKS_3 => Encoding::Stream(3),
            HASH_22 => match flavor {
                Flavor::Redis => Encoding::HashMetadataPreGa,
                Flavor::Valkey => Encoding::ValkeyHash2,
            },
            HASH_23 => match flavor {
                Flavor::Redis => Encoding::HashListpackExPreGa,
                // Valkey 81 PATH_HASH: layout not public in a firm form.
                Flavor::Valkey => return None,
            },
            HASH_METADATA if flavor == Flavor::Redis => Encoding::HashMetadata,
            HASH_LISTPACK_EX if flavor == Flavor::Redis => Encoding::HashListpackEx,
            STREAM_LISTPACKS_4 if flavor == Flavor::Redis => Encoding::Stream(4),
            _ => return None,
        })
    }

    /// The key type this encoding holds.
    pub fn key_type(self) -> KeyType {
        use Encoding::*;
        match self {
            String => KeyType::String,
            List | ListZiplist | ListQuicklist | ListQuicklist2 => KeyType::List,
            Set | SetIntset | SetListpack => KeyType::Set,
            ZSet | ZSet2 | ZSetZiplist | ZSetListpack => KeyType::ZSet,
            Hash | HashZipmap | HashZiplist | HashListpack | HashMetadataPreGa | HashMetadata
            | HashListpackExPreGa | HashListpackEx | ValkeyHash2 => KeyType::Hash,
            Stream(_) => KeyType::Stream,
            ModulePreGa | Module2 => KeyType::Module,
        }
    }

    /// The in-memory encoding Redis gives the value when it loads this type,
    /// in `OBJECT ENCODING` vocabulary where one applies.
    pub fn name(self) -> &'static str {
        use Encoding::*;
        match self {
            String => "string",
            List => "linkedlist",
            Set | Hash | HashMetadataPreGa | HashMetadata | ValkeyHash2 => "hashtable",
            ZSet | ZSet2 => "skiplist",
            ModulePreGa | Module2 => "module",
            HashZipmap => "zipmap",
            ListZiplist | ZSetZiplist | HashZiplist => "ziplist",
            SetIntset => "intset",
            ListQuicklist | ListQuicklist2 => "quicklist",
            HashListpack | ZSetListpack | SetListpack => "listpack",
            Stream(_) => "stream",
            HashListpackExPreGa | HashListpackEx => "listpackex",
        }
    }
}

/// A name for any type or opcode byte, for messages (Redis flavour names for
/// contested bytes; the decoder resolves them by magic).
pub fn type_byte_name(t: u8) -> &'static str {
    match t {
        0 => "string",
        1 => "list",
        2 => "set",
        3 => "zset",
        4 => "hash",
        5 => "zset-v2",
        6 => "module-pre-ga",
        7 => "module-v2",
        9 => "hash-zipmap",
        10 => "list-ziplist",
        11 => "set-intset",
        12 => "zset-ziplist",
        13 => "hash-ziplist",
        14 => "list-quicklist",
        15 => "stream",
        16 => "hash-listpack",
        17 => "zset-listpack",
        18 => "list-quicklist-v2",
        19 => "stream-v2",
        20 => "set-listpack",
        21 => "stream-v3",
        22 => "hash-metadata-pre-ga / valkey hash-2",
        23 => "hash-listpack-ex-pre-ga",
        24 => "hash-metadata",
        25 => "hash-listpack-ex",
        26 => "stream-v4",
        242 => "UPDATE",
        243 => "KEY_META / SLOT_IMPORT",
        244 => "SLOT_INFO",
        245 => "FUNCTION2",
        246 => "FUNCTION_PRE_GA",
        247 => "MODULE_AUX",
        248 => "IDLE",
        249 => "FREQ",
        250 => "AUX",
        251 => "RESIZEDB",
        252 => "EXPIRETIME_MS",
        253 => "EXPIRETIME",
        254 => "SELECTDB",
        255 => "EOF",
        _ => "unknown",
    }
}
