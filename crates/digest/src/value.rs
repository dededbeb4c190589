//! The digest of one value, as `xorObjectDigest` in the servers' `debug.c`
//! computes it, over a value read from a file (borrowed, decoded on demand)
//! or held in owned form (from a JSON dump).
//!
//! Two operations on a 20-byte state `d` do all the work: *xor* (`d ^=
//! SHA1(s)`, order-free: set members, the per-field digests of a hash) and
//! *mix* (`d = SHA1(d ^ SHA1(s))`, order-bound: list elements, stream
//! entries). A value's digest mixes in its type code, then its content,
//! then xors `!!expire!!` in when the key has an expire (its time does not
//! count). docs/format.md, "Digests".

use crate::server::Rules;
use rdbscope_rdb::owned::{Fields, Members, Scored};
use rdbscope_rdb::rdb_string::int_text;
use rdbscope_rdb::view::Typed;
use rdbscope_rdb::{Elem, KeyRecord, OwnedKey, OwnedValue, Scratch};
use sha1::{Digest as _, Sha1};
use std::fmt;

/// A 20-byte SHA1-based digest.
pub type Digest = [u8; 20];

/// The digest of an empty dataset (and the start of every digest).
pub const ZERO: Digest = [0; 20];

fn sha1(data: &[u8]) -> Digest {
    Sha1::digest(data).into()
}

/// `xorDigest`: `d ^= SHA1(s)`.
pub fn xor_in(d: &mut Digest, s: &[u8]) {
    let h = sha1(s);
    for (a, b) in d.iter_mut().zip(h) {
        *a ^= b;
    }
}

/// `mixDigest`: `d = SHA1(d ^ SHA1(s))`.
pub fn mix_in(d: &mut Digest, s: &[u8]) {
    xor_in(d, s);
    *d = sha1(d);
}

/// A digest as the servers print it: 40 lowercase hex digits.
pub fn hex(d: &Digest) -> String {
    let mut out = Vec::with_capacity(40);
    hex_into(d, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Appends the 40 hex digits of `d` (what `--per-key` writes per key).
pub fn hex_into(d: &Digest, out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in d {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
}

/// Why a value has no digest here.
#[derive(Debug)]
pub enum DigestError {
    /// A module value: the server asks the module's own digest callback,
    /// which only the module's code knows.
    Module {
        /// The module type's name.
        module: String,
    },
    /// The value could not be decoded.
    Decode(rdbscope_rdb::Error),
}

impl fmt::Display for DigestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigestError::Module { module } => write!(
                f,
                "a module value (type {module}) has no digest outside the server: \
                 DEBUG DIGEST asks the module's own callback"
            ),
            DigestError::Decode(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for DigestError {}

impl From<rdbscope_rdb::Error> for DigestError {
    fn from(e: rdbscope_rdb::Error) -> Self {
        DigestError::Decode(e)
    }
}

/// The type codes `DEBUG DIGEST` mixes in first (`OBJ_STRING` …).
mod type_code {
    pub const STRING: u32 = 0;
    pub const LIST: u32 = 1;
    pub const SET: u32 = 2;
    pub const ZSET: u32 = 3;
    pub const HASH: u32 = 4;
    // 5 is OBJ_MODULE: a module value is digested by its own module.
    pub const STREAM: u32 = 6;
}

/// An element's string form: its bytes, or an integer's decimal text.
fn text<'e>(e: &Elem<'e>, tmp: &'e mut [u8; 20]) -> &'e [u8] {
    match *e {
        Elem::Str(s) => s,
        Elem::Int(v) => int_text(v, tmp),
    }
}

/// Computes digests under one server's rules, reusing its buffers; one per
/// thread.
pub struct Digester {
    rules: Rules,
    scratch: Scratch,
    buf: Vec<u8>,
    score: Vec<u8>,
    /// Hash fields left out so far because their TTL had passed.
    pub dropped_fields: u64,
}

impl Digester {
    /// A digester for `rules`; `max_decompressed` caps a decompressed
    /// string (`--max-value-size`).
    pub fn new(rules: Rules, max_decompressed: u64) -> Digester {
        Digester {
            rules,
            scratch: Scratch::with_limit(max_decompressed),
            buf: Vec::new(),
            score: Vec::new(),
            dropped_fields: 0,
        }
    }

    /// The rules in use.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// `DEBUG DIGEST-VALUE` of a key read from a file.
    /// `None` when every field of a hash is dropped (see
    /// [`Digester::key`]).
    pub fn value(
        &mut self,
        k: &KeyRecord<'_>,
        drop_fields_before: Option<i64>,
    ) -> Result<Option<Digest>, DigestError> {
        let mut d = ZERO;
        Ok(self.object(&mut d, k, drop_fields_before)?.then_some(d))
    }

    /// What a key adds to `DEBUG DIGEST` (`computeDatasetDigest`: a fresh
    /// state, the key mixed in, then the value on the same state); the
    /// dataset xors it in.
    ///
    /// Hash fields whose TTL is before `drop_fields_before` are left out
    /// (counted in [`Digester::dropped_fields`]), as a server that drops
    /// them on load would; `None` when that leaves a hash empty, so the
    /// server would not hold the key at all.
    pub fn key(
        &mut self,
        key: &[u8],
        k: &KeyRecord<'_>,
        drop_fields_before: Option<i64>,
    ) -> Result<Option<Digest>, DigestError> {
        let mut d = ZERO;
        mix_in(&mut d, key);
        Ok(self.object(&mut d, k, drop_fields_before)?.then_some(d))
    }

    /// `DEBUG DIGEST-VALUE` of an owned key.
    pub fn owned_value(
        &mut self,
        k: &OwnedKey,
        drop_fields_before: Option<i64>,
    ) -> Result<Option<Digest>, DigestError> {
        let mut d = ZERO;
        let kept = self.owned_object(
            &mut d,
            &k.value,
            k.expire_at_ms.is_some(),
            drop_fields_before,
        )?;
        Ok(kept.then_some(d))
    }

    /// What an owned key adds to `DEBUG DIGEST`.
    pub fn owned_key(
        &mut self,
        k: &OwnedKey,
        drop_fields_before: Option<i64>,
    ) -> Result<Option<Digest>, DigestError> {
        let mut d = ZERO;
        mix_in(&mut d, &k.key);
        let kept = self.owned_object(
            &mut d,
            &k.value,
            k.expire_at_ms.is_some(),
            drop_fields_before,
        )?;
        Ok(kept.then_some(d))
    }

    /// `xorObjectDigest` of a key read from a file, onto `d`. Hash fields
    /// whose TTL is before `drop_fields_before` are left out (what a
    /// server that drops them on load holds).
    /// `Ok(false)`: every field of a hash was dropped, so a server would
    /// not hold the key.
    fn object(
        &mut self,
        d: &mut Digest,
        k: &KeyRecord<'_>,
        drop_fields_before: Option<i64>,
    ) -> Result<bool, DigestError> {
        let rules = self.rules;
        match k.value.typed() {
            Typed::String(v) => {
                mix_in(d, &type_code::STRING.to_be_bytes());
                let s = v.string()?;
                let bytes = s.bytes(&mut self.buf)?;
                mix_in(d, bytes);
            }
            Typed::List(v) => {
                mix_in(d, &type_code::LIST.to_be_bytes());
                list(d, &mut v.cursor(&mut self.scratch)?)?;
            }
            Typed::Set(v) => {
                mix_in(d, &type_code::SET.to_be_bytes());
                set(d, &mut v.cursor(&mut self.scratch)?)?;
            }
            Typed::Zset(v) => {
                mix_in(d, &type_code::ZSET.to_be_bytes());
                zset(
                    d,
                    &mut v.cursor(&mut self.scratch)?,
                    &rules,
                    &mut self.score,
                )?;
            }
            Typed::Hash(v) => {
                mix_in(d, &type_code::HASH.to_be_bytes());
                let (kept, dropped) = hash(
                    d,
                    &mut v.cursor(&mut self.scratch)?,
                    &rules,
                    drop_fields_before,
                )?;
                self.dropped_fields += dropped;
                if kept == 0 && dropped > 0 {
                    return Ok(false);
                }
            }
            Typed::Stream(v) => {
                mix_in(d, &type_code::STREAM.to_be_bytes());
                let s = v.stream()?;
                let mut entries = s.entries(&mut self.scratch)?;
                let mut id = Vec::with_capacity(42);
                while let Some(e) = entries.next()? {
                    id.clear();
                    stream_id(&mut id, e.id.ms, e.id.seq);
                    mix_in(d, &id);
                    for pair in e.fields() {
                        let (f, v) = pair?;
                        let mut tmp = [0u8; 20];
                        mix_in(d, text(&f, &mut tmp));
                        mix_in(d, text(&v, &mut tmp));
                    }
                }
            }
            Typed::Module(v) => {
                return Err(DigestError::Module {
                    module: v.module()?.id.name(),
                })
            }
        }
        if k.expire_at_ms.is_some() {
            xor_in(d, b"!!expire!!");
        }
        Ok(true)
    }

    fn owned_object(
        &mut self,
        d: &mut Digest,
        v: &OwnedValue,
        has_expire: bool,
        drop_fields_before: Option<i64>,
    ) -> Result<bool, DigestError> {
        let rules = self.rules;
        match v {
            OwnedValue::String(s) => {
                mix_in(d, &type_code::STRING.to_be_bytes());
                mix_in(d, s);
            }
            OwnedValue::List(p) => {
                mix_in(d, &type_code::LIST.to_be_bytes());
                list(d, &mut p.cursor())?;
            }
            OwnedValue::Set(p) => {
                mix_in(d, &type_code::SET.to_be_bytes());
                set(d, &mut p.cursor())?;
            }
            OwnedValue::Zset(z) => {
                mix_in(d, &type_code::ZSET.to_be_bytes());
                zset(d, &mut z.cursor(), &rules, &mut self.score)?;
            }
            OwnedValue::Hash(h) => {
                mix_in(d, &type_code::HASH.to_be_bytes());
                let (kept, dropped) = hash(d, &mut h.cursor(), &rules, drop_fields_before)?;
                self.dropped_fields += dropped;
                if kept == 0 && dropped > 0 {
                    return Ok(false);
                }
            }
            OwnedValue::Stream(s) => {
                mix_in(d, &type_code::STREAM.to_be_bytes());
                let mut fields = s.fields.cursor();
                let mut id = Vec::with_capacity(42);
                for e in &s.entries {
                    id.clear();
                    stream_id(&mut id, e.id.ms, e.id.seq);
                    mix_in(d, &id);
                    for _ in 0..e.fields {
                        let (Some(f), Some(v)) = (fields.next(), fields.next()) else {
                            break;
                        };
                        mix_in(d, f);
                        mix_in(d, v);
                    }
                }
            }
            OwnedValue::Module(m) => {
                return Err(DigestError::Module {
                    module: m.name.clone(),
                })
            }
        }
        if has_expire {
            xor_in(d, b"!!expire!!");
        }
        Ok(true)
    }
}

/// `ms.seq`, as `sdscatfmt("%U.%U")` writes a stream entry's ID.
fn stream_id(out: &mut Vec<u8>, ms: u64, seq: u64) {
    use std::io::Write;
    let _ = write!(out, "{ms}.{seq}");
}

/// A list: each element mixed in, head to tail.
fn list<M: Members>(d: &mut Digest, m: &mut M) -> Result<(), DigestError> {
    while let Some(e) = m.next_member()? {
        let mut tmp = [0u8; 20];
        mix_in(d, text(&e, &mut tmp));
    }
    Ok(())
}

/// A set: each member xored in.
fn set<M: Members>(d: &mut Digest, m: &mut M) -> Result<(), DigestError> {
    while let Some(e) = m.next_member()? {
        let mut tmp = [0u8; 20];
        xor_in(d, text(&e, &mut tmp));
    }
    Ok(())
}

/// A zset: per member a fresh state with the member and the score's text
/// mixed in, xored into `d` as a 20-byte string.
fn zset<S: Scored>(
    d: &mut Digest,
    m: &mut S,
    rules: &Rules,
    score: &mut Vec<u8>,
) -> Result<(), DigestError> {
    while let Some((member, s)) = m.next_scored()? {
        let mut e = ZERO;
        let mut tmp = [0u8; 20];
        mix_in(&mut e, text(&member, &mut tmp));
        score.clear();
        rules.score.write(s.value(), score);
        mix_in(&mut e, score);
        xor_in(d, &e);
    }
    Ok(())
}

/// A hash: per field a fresh state with the field and the value mixed in
/// (and, where the server does it, `!!hexpire!!` xored in for a field with
/// a TTL), xored into `d`.
/// Returns the fields (kept, dropped).
fn hash<F: Fields>(
    d: &mut Digest,
    m: &mut F,
    rules: &Rules,
    drop_before: Option<i64>,
) -> Result<(u64, u64), DigestError> {
    let (mut kept, mut dropped) = (0, 0);
    while let Some((field, value, ttl)) = m.next_field()? {
        if let (Some(t), Some(now)) = (ttl, drop_before) {
            if t < now {
                dropped += 1;
                continue;
            }
        }
        kept += 1;
        let mut e = ZERO;
        let mut tmp = [0u8; 20];
        mix_in(&mut e, text(&field, &mut tmp));
        mix_in(&mut e, text(&value, &mut tmp));
        if ttl.is_some() && rules.field_ttl_mark {
            xor_in(&mut e, b"!!hexpire!!");
        }
        xor_in(d, &e);
    }
    Ok((kept, dropped))
}
