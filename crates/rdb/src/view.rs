//! Typed views of a value, and pull cursors over their elements.
//!
//! [`Value::typed`] turns a value into a [`Typed`] view, one variant per
//! Redis type. Consumers match on it without a `_` arm, so a new type is a
//! compile error in each of them; the encodings of a type are all handled
//! here, by matches on [`Encoding`] that have no `_` arm either.
//!
//! Each collection view hands out a cursor that yields one element per
//! `next` call (gimli's `next() -> Result<Option<..>>` shape):
//! [`MemberCursor`], [`ScoredCursor`], [`FieldCursor`], and for streams
//! [`crate::stream::EntryCursor`] (`StreamView::stream()?.entries(s)`).
//! So two values can be walked side by side and a consumer stops
//! early by not calling `next` again. An element may borrow the cursor's
//! decompression buffer (a [`Scratch`] the cursor borrows), so `next`
//! lends: the element lives until the next call. The push walks of
//! [`Value`] (`for_each_*`) remain beside the cursors: they are the tuned
//! paths of `check` and `dump`, and a test holds both to the same sequence.
//!
//! How the lending works without self-reference: the cursor keeps the
//! position of its walk over the current blob (a listpack, ziplist,
//! intset, zipmap or quicklist node) with the blob's bytes detached, and
//! re-attaches them for each step. A step yields where the element is
//! (an integer, a range of the blob, file bytes, or one of the scratch
//! buffers), and only the final answer borrows.
//!
//! Owned values ([`crate::owned`]) offer the same shapes: the cursor
//! traits [`crate::owned::Members`], [`crate::owned::Scored`],
//! [`crate::owned::Fields`] for walks in lockstep, and the push-walk traits
//! [`MemberWalk`], [`ScoredWalk`], [`FieldWalk`] that the printer renders
//! through, for borrowed and owned values alike.
//!
//! Adding an encoding of an existing type: its variant in
//! `types::Encoding`, its pattern in `value::encodings!`, then the compiler
//! names every match to extend (`skim_body` and the push walk in `value`,
//! the cursor's `new` and `advance` here). Adding a type: a [`Typed`]
//! variant and an `OwnedValue` variant, then the compiler names every
//! consumer (the JSON and RESP printers, the check rules, `to_owned`); the
//! JSON reader's type names are in `rdbscope_json::read`.

use crate::cursor::Cursor;
use crate::elem::{BlobLoc, Elem, Score};
use crate::error::{Error, Result};
use crate::intset::Intset;
use crate::listpack::{Listpack, ListpackIter};
use crate::module::ModuleValue;
use crate::rdb_string::RdbString;
use crate::stream::Stream;
use crate::types::Encoding;
use crate::value::{encodings, Scratch, Value, QUICKLIST_PLAIN};
use crate::ziplist::{Ziplist, ZiplistIter};
use crate::zipmap::{Zipmap, ZipmapIter};

/// A value seen as its Redis type: small handles (a copy of the
/// [`Value`]), so that taking the view costs nothing; each decodes what it
/// is asked for.
#[derive(Debug, Clone, Copy)]
pub enum Typed<'a> {
    /// A string (int-encoded, raw or LZF).
    String(StringView<'a>),
    /// A list, head to tail.
    List(ListView<'a>),
    /// A set, in stored order.
    Set(SetView<'a>),
    /// A sorted set, in stored order.
    Zset(ZsetView<'a>),
    /// A hash, in stored order, with field expire times where stored.
    Hash(HashView<'a>),
    /// A stream.
    Stream(StreamView<'a>),
    /// A module value (module id and its opaque bytes).
    Module(ModuleView<'a>),
}

impl<'a> Value<'a> {
    /// The value as a view of its type.
    #[inline]
    pub fn typed(&self) -> Typed<'a> {
        let v = *self;
        match self.encoding() {
            encodings!(string) => Typed::String(StringView(v)),
            encodings!(list) => Typed::List(ListView(v)),
            encodings!(set) => Typed::Set(SetView(v)),
            encodings!(zset) => Typed::Zset(ZsetView(v)),
            encodings!(hash) => Typed::Hash(HashView(v)),
            encodings!(stream) => Typed::Stream(StreamView(v)),
            encodings!(module) => Typed::Module(ModuleView(v)),
        }
    }
}

/// A string value.
#[derive(Debug, Clone, Copy)]
pub struct StringView<'a>(Value<'a>);

impl<'a> StringView<'a> {
    /// The string as stored (an integer, raw bytes or LZF).
    #[inline]
    pub fn string(&self) -> Result<RdbString<'a>> {
        self.0.string()
    }
}

/// A module value.
#[derive(Debug, Clone, Copy)]
pub struct ModuleView<'a>(Value<'a>);

impl<'a> ModuleView<'a> {
    /// The module id and its opaque bytes (an error for the pre-GA format,
    /// which cannot be read without its module).
    pub fn module(&self) -> Result<ModuleValue<'a>> {
        match self.0.encoding() {
            Encoding::ModulePreGa => Err(Error::unsupported(
                self.0.offset(),
                "module value of the pre-GA format (type 6) cannot be read without its module",
            )),
            Encoding::Module2
            | encodings!(string)
            | encodings!(list)
            | encodings!(set)
            | encodings!(zset)
            | encodings!(hash)
            | encodings!(stream) => self.0.module(),
        }
    }
}

/// A list value.
#[derive(Debug, Clone, Copy)]
pub struct ListView<'a>(Value<'a>);

/// A set value.
#[derive(Debug, Clone, Copy)]
pub struct SetView<'a>(Value<'a>);

/// A sorted set value.
#[derive(Debug, Clone, Copy)]
pub struct ZsetView<'a>(Value<'a>);

/// A hash value.
#[derive(Debug, Clone, Copy)]
pub struct HashView<'a>(Value<'a>);

/// A stream value; its layout is parsed when asked (the parsed [`Stream`]
/// is a few hundred bytes, and `typed` runs for every key).
#[derive(Debug, Clone, Copy)]
pub struct StreamView<'a>(Value<'a>);

impl<'a> StreamView<'a> {
    /// The stream's nodes, metadata, groups and IDMP state, as views.
    pub fn stream(&self) -> Result<Stream<'a>> {
        self.0.stream()
    }
}

macro_rules! view_common {
    ($t:ident) => {
        impl<'a> $t<'a> {
            /// The value this is a view of.
            pub fn value(&self) -> &Value<'a> {
                &self.0
            }

            /// How the value is stored.
            pub fn encoding(&self) -> Encoding {
                self.0.encoding()
            }
        }
    };
}
view_common!(ListView);
view_common!(SetView);
view_common!(ZsetView);
view_common!(HashView);
view_common!(StreamView);
view_common!(StringView);
view_common!(ModuleView);

impl<'a> ListView<'a> {
    /// A cursor over the elements, head to tail.
    pub fn cursor<'s>(&self, s: &'s mut Scratch) -> Result<MemberCursor<'a, 's>> {
        MemberCursor::new(&self.0, s)
    }

    /// Calls `f` with each element (the push walk, see the module doc).
    pub fn for_each<E, F>(&self, s: &mut Scratch, f: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(Elem<'_>) -> Result<(), E>,
    {
        self.0.for_each_member(s, f)
    }
}

impl<'a> SetView<'a> {
    /// A cursor over the members, in stored order.
    pub fn cursor<'s>(&self, s: &'s mut Scratch) -> Result<MemberCursor<'a, 's>> {
        MemberCursor::new(&self.0, s)
    }

    /// Calls `f` with each member (the push walk).
    pub fn for_each<E, F>(&self, s: &mut Scratch, f: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(Elem<'_>) -> Result<(), E>,
    {
        self.0.for_each_member(s, f)
    }
}

impl<'a> ZsetView<'a> {
    /// A cursor over (member, score), in stored order.
    pub fn cursor<'s>(&self, s: &'s mut Scratch) -> Result<ScoredCursor<'a, 's>> {
        ScoredCursor::new(&self.0, s)
    }

    /// Calls `f` with each (member, score) (the push walk).
    pub fn for_each<E, F>(&self, s: &mut Scratch, f: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(Elem<'_>, Score<'_>) -> Result<(), E>,
    {
        self.0.for_each_scored(s, f)
    }
}

impl<'a> HashView<'a> {
    /// A cursor over (field, value, field expire time), in stored order.
    pub fn cursor<'s>(&self, s: &'s mut Scratch) -> Result<FieldCursor<'a, 's>> {
        FieldCursor::new(&self.0, s)
    }

    /// Calls `f` with each (field, value, expire) (the push walk).
    pub fn for_each<E, F>(&self, s: &mut Scratch, f: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(Elem<'_>, Elem<'_>, Option<i64>) -> Result<(), E>,
    {
        self.0.for_each_field(s, f)
    }

    /// The minimum field expire time stored before a type 24 or 25 hash.
    pub fn min_expire(&self) -> Option<i64> {
        self.0.hash_min_expire()
    }
}

/// Lists and sets, borrowed or owned, walked by pushing each element to a
/// closure: the fastest shape, for consumers that take every element in
/// order (the printer). An `Err` from `f` stops the walk and is returned.
pub trait MemberWalk {
    /// Calls `f` with each element, in order.
    fn walk_members<E, F>(&self, s: &mut Scratch, f: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(Elem<'_>) -> Result<(), E>;
}

/// Sorted sets, borrowed or owned, walked by pushing (member, score).
pub trait ScoredWalk {
    /// Calls `f` with each (member, score), in order.
    fn walk_scored<E, F>(&self, s: &mut Scratch, f: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(Elem<'_>, Score<'_>) -> Result<(), E>;
}

/// Hashes, borrowed or owned, walked by pushing (field, value, expire).
pub trait FieldWalk {
    /// Calls `f` with each (field, value, expire), in order.
    fn walk_fields<E, F>(&self, s: &mut Scratch, f: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(Elem<'_>, Elem<'_>, Option<i64>) -> Result<(), E>;
}

macro_rules! push_walk {
    ($view:ident, $tr:ident, $m:ident, $walk:ident, ($($arg:ty),*)) => {
        impl $tr for $view<'_> {
            #[inline]
            fn $m<E, F>(&self, s: &mut Scratch, f: F) -> Result<(), E>
            where
                E: From<Error>,
                F: FnMut($($arg),*) -> Result<(), E>,
            {
                self.0.$walk(s, f)
            }
        }
    };
}
push_walk!(
    ListView,
    MemberWalk,
    walk_members,
    for_each_member,
    (Elem<'_>)
);
push_walk!(
    SetView,
    MemberWalk,
    walk_members,
    for_each_member,
    (Elem<'_>)
);
push_walk!(
    ZsetView,
    ScoredWalk,
    walk_scored,
    for_each_scored,
    (Elem<'_>, Score<'_>)
);
push_walk!(
    HashView,
    FieldWalk,
    walk_fields,
    for_each_field,
    (Elem<'_>, Elem<'_>, Option<i64>)
);

/// Where a blob's bytes are: in the input, or decompressed into
/// [`Scratch`]'s blob buffer.
#[derive(Debug, Clone, Copy)]
enum Blob<'a> {
    File(&'a [u8]),
    /// The first `n` bytes of the buffer (which may hold more).
    Scratch(usize),
}

impl<'a> Blob<'a> {
    fn load(s: &RdbString<'a>, buf: &mut Vec<u8>, limit: u64) -> Result<Blob<'a>> {
        match s.as_raw() {
            Some(b) => Ok(Blob::File(b)),
            None => Ok(Blob::Scratch(s.bytes_limited(buf, limit)?.len())),
        }
    }

    #[inline]
    fn bytes<'x>(self, scratch: &'x [u8]) -> &'x [u8]
    where
        'a: 'x,
    {
        match self {
            Blob::File(b) => b,
            Blob::Scratch(n) => &scratch[..n],
        }
    }
}

/// Where an element is, before it is lent out.
#[derive(Debug, Clone, Copy)]
enum Got<'a> {
    Int(i64),
    File(&'a [u8]),
    /// A range of the current blob.
    Blob(usize, usize),
    /// The first `n` bytes of `Scratch::a`.
    A(usize),
    /// The first `n` bytes of `Scratch::b`.
    B(usize),
}

impl<'a> Got<'a> {
    /// An element of `bytes` (the current blob).
    #[inline]
    fn of(e: Elem<'_>, bytes: &[u8]) -> Got<'a> {
        match e {
            Elem::Int(v) => Got::Int(v),
            Elem::Str(s) => {
                let at = s.as_ptr() as usize - bytes.as_ptr() as usize;
                Got::Blob(at, at + s.len())
            }
        }
    }

    /// A string stored on its own (a plain encoding's element): into
    /// scratch buffer `a` (or `b`) only when compressed.
    #[inline]
    fn plain(e: &RdbString<'a>, buf: &mut Vec<u8>, limit: u64, in_b: bool) -> Result<Got<'a>> {
        if let Some(v) = e.as_int() {
            return Ok(Got::Int(v));
        }
        if let Some(b) = e.as_raw() {
            return Ok(Got::File(b));
        }
        let n = e.bytes_limited(buf, limit)?.len();
        Ok(if in_b { Got::B(n) } else { Got::A(n) })
    }

    #[inline]
    fn lend<'x>(self, blob: &'x [u8], s: &'x Scratch) -> Elem<'x>
    where
        'a: 'x,
    {
        match self {
            Got::Int(v) => Elem::Int(v),
            Got::File(b) => Elem::Str(b),
            Got::Blob(a, b) => Elem::Str(&blob[a..b]),
            Got::A(n) => Elem::Str(&s.a[..n]),
            Got::B(n) => Elem::Str(&s.b[..n]),
        }
    }
}

/// The position of a walk over one blob, its bytes detached.
#[derive(Debug, Clone)]
enum Packed {
    Done,
    Ziplist(ZiplistIter<'static>),
    Listpack(ListpackIter<'static>),
    Intset(usize),
    Zipmap(ZipmapIter<'static>),
}

/// The compact encodings a blob can hold.
#[derive(Clone, Copy)]
enum Kind {
    Ziplist,
    Listpack,
    Intset,
    Zipmap,
}

impl Packed {
    /// The next element of the blob, `None` at its end.
    #[inline]
    fn next<'a>(&mut self, bytes: &[u8], loc: BlobLoc) -> Result<Option<Got<'a>>> {
        let e = match self {
            Packed::Done => return Ok(None),
            Packed::Ziplist(st) => {
                let mut it = st.rebind(bytes);
                let e = it.next();
                *st = it.rebind(&[]);
                e
            }
            Packed::Listpack(st) => {
                let mut it = st.rebind(bytes);
                let e = it.next();
                *st = it.rebind(&[]);
                e
            }
            Packed::Intset(i) => {
                let v = Intset::new(bytes, loc)?.get(*i);
                *i += 1;
                return Ok(v.map(Got::Int));
            }
            // Zipmaps are walked in pairs (`next_zipmap`).
            Packed::Zipmap(_) => return Ok(None),
        };
        match e {
            None => {
                *self = Packed::Done;
                Ok(None)
            }
            Some(Err(e)) => {
                *self = Packed::Done;
                Err(e)
            }
            Some(Ok(e)) => Ok(Some(Got::of(e, bytes))),
        }
    }

    /// The next (key, value) of a zipmap.
    fn next_zipmap<'a>(&mut self, bytes: &[u8]) -> Result<Option<(Got<'a>, Got<'a>)>> {
        let Packed::Zipmap(st) = self else {
            return Ok(None);
        };
        let mut it = st.rebind(bytes);
        let p = it.next();
        *st = it.rebind(&[]);
        match p {
            None => Ok(None),
            Some(Err(e)) => {
                *self = Packed::Done;
                Err(e)
            }
            Some(Ok((k, v))) => Ok(Some((
                Got::of(Elem::Str(k), bytes),
                Got::of(Elem::Str(v), bytes),
            ))),
        }
    }

    /// The next element of a listpack, which must be there (`what`).
    fn expect<'a>(&mut self, bytes: &[u8], what: &'static str) -> Result<Got<'a>> {
        let Packed::Listpack(st) = self else {
            // Only listpacks have fixed layouts here.
            return Err(loc_less(what));
        };
        let mut it = st.rebind(bytes);
        let e = it.expect(what);
        *st = it.rebind(&[]);
        Ok(Got::of(e?, bytes))
    }

    fn pos(&self) -> usize {
        match self {
            Packed::Listpack(st) => st.pos(),
            _ => 0,
        }
    }
}

/// An element that a fixed layout needs is missing.
fn loc_less(what: &'static str) -> Error {
    Error::invalid(0, format!("{what} expected"))
}

fn wrong(v: &Value<'_>, wanted: &str) -> Error {
    Error::invalid(
        v.offset(),
        format!("value of type {} is not {wanted}", v.key_type().as_str()),
    )
}

/// The part of a cursor shared by every collection type: where it is in
/// the value, the blob being walked, and the scratch buffers.
struct Walk<'a, 's> {
    c: Cursor<'a>,
    /// Plain elements (or quicklist nodes) still to read.
    left: u64,
    s: &'s mut Scratch,
    blob: Blob<'a>,
    loc: BlobLoc,
    packed: Packed,
}

impl<'a, 's> Walk<'a, 's> {
    fn new(v: &Value<'a>, s: &'s mut Scratch) -> Walk<'a, 's> {
        Walk {
            c: Cursor::new(v.raw(), v.offset()),
            left: 0,
            s,
            blob: Blob::Scratch(0),
            loc: BlobLoc::raw(v.offset()),
            packed: Packed::Done,
        }
    }

    /// Reads the next RDB string as the blob to walk, of kind `kind`.
    fn open(&mut self, what: &'static str, kind: Kind) -> Result<()> {
        let st = self.c.rdb_string(what)?;
        let loc = st.blob_loc();
        self.loc = loc;
        self.blob = Blob::load(&st, &mut self.s.blob, self.s.max_decompressed)?;
        let b = self.blob.bytes(&self.s.blob);
        self.packed = match kind {
            Kind::Ziplist => Packed::Ziplist(Ziplist::new(b, loc)?.iter().rebind(&[])),
            Kind::Listpack => Packed::Listpack(Listpack::new(b, loc)?.iter().rebind(&[])),
            Kind::Intset => {
                Intset::new(b, loc)?;
                Packed::Intset(0)
            }
            Kind::Zipmap => Packed::Zipmap(Zipmap::new(b, loc)?.iter().rebind(&[])),
        };
        Ok(())
    }

    #[inline]
    fn step(&mut self) -> Result<Option<Got<'a>>> {
        let bytes = self.blob.bytes(&self.s.blob);
        self.packed.next(bytes, self.loc)
    }

    #[inline]
    fn lend(&self, g: Got<'a>) -> Elem<'_> {
        g.lend(self.blob.bytes(&self.s.blob), &*self.s)
    }
}

/// A cursor over the elements of a list or the members of a set.
pub struct MemberCursor<'a, 's> {
    w: Walk<'a, 's>,
    enc: Encoding,
}

impl<'a, 's> MemberCursor<'a, 's> {
    fn new(v: &Value<'a>, s: &'s mut Scratch) -> Result<MemberCursor<'a, 's>> {
        use Encoding::*;
        let mut w = Walk::new(v, s);
        match v.encoding() {
            List | Set => w.left = w.c.len("element count")?,
            ListZiplist => {
                w.open("ziplist", Kind::Ziplist)?;
            }
            SetIntset => {
                w.open("intset", Kind::Intset)?;
            }
            SetListpack => {
                w.open("listpack", Kind::Listpack)?;
            }
            ListQuicklist | ListQuicklist2 => w.left = w.c.len("quicklist node count")?,
            encodings!(string)
            | encodings!(zset)
            | encodings!(hash)
            | encodings!(stream)
            | encodings!(module) => return Err(wrong(v, "a list or set")),
        }
        Ok(MemberCursor {
            w,
            enc: v.encoding(),
        })
    }

    /// The next element, or `None` after the last. After an error, the
    /// cursor yields `None`.
    // Not `Iterator::next`: the element borrows the cursor (it lends).
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Result<Option<Elem<'_>>> {
        let g = match self.advance() {
            Ok(Some(g)) => g,
            Ok(None) => return Ok(None),
            Err(e) => {
                self.w.left = 0;
                self.w.packed = Packed::Done;
                return Err(e);
            }
        };
        Ok(Some(self.w.lend(g)))
    }

    #[inline]
    fn advance(&mut self) -> Result<Option<Got<'a>>> {
        let w = &mut self.w;
        loop {
            if let Some(g) = w.step()? {
                return Ok(Some(g));
            }
            if w.left == 0 {
                return Ok(None);
            }
            w.left -= 1;
            let limit = w.s.max_decompressed;
            match self.enc {
                Encoding::ListQuicklist => {
                    w.open("quicklist node", Kind::Ziplist)?;
                }
                Encoding::ListQuicklist2 => {
                    let container = w.c.len("quicklist container")?;
                    if container == QUICKLIST_PLAIN {
                        let e = w.c.rdb_string("quicklist node")?;
                        return Got::plain(&e, &mut w.s.a, limit, false).map(Some);
                    }
                    w.open("quicklist node", Kind::Listpack)?;
                }
                Encoding::List | Encoding::Set => {
                    let e = w.c.rdb_string("element")?;
                    return Got::plain(&e, &mut w.s.a, limit, false).map(Some);
                }
                // One blob, walked above; `left` is 0 for these.
                Encoding::ListZiplist | Encoding::SetIntset | Encoding::SetListpack => {
                    return Ok(None)
                }
                // Refused by `MemberCursor::new`.
                encodings!(string)
                | encodings!(zset)
                | encodings!(hash)
                | encodings!(stream)
                | encodings!(module) => return Ok(None),
            }
        }
    }
}

/// A cursor over the (member, score) pairs of a sorted set.
pub struct ScoredCursor<'a, 's> {
    w: Walk<'a, 's>,
    enc: Encoding,
    /// Pairs read from a blob (for messages).
    i: u64,
}

/// Where a score is, before it is lent out.
#[derive(Clone, Copy)]
enum GotScore {
    Double(f64),
    Text(usize, usize),
}

impl<'a, 's> ScoredCursor<'a, 's> {
    fn new(v: &Value<'a>, s: &'s mut Scratch) -> Result<ScoredCursor<'a, 's>> {
        use Encoding::*;
        let mut w = Walk::new(v, s);
        match v.encoding() {
            ZSet | ZSet2 => w.left = w.c.len("zset size")?,
            ZSetZiplist => {
                w.open("zset blob", Kind::Ziplist)?;
            }
            ZSetListpack => {
                w.open("zset blob", Kind::Listpack)?;
            }
            encodings!(string)
            | encodings!(list)
            | encodings!(set)
            | encodings!(hash)
            | encodings!(stream)
            | encodings!(module) => return Err(wrong(v, "a zset")),
        }
        Ok(ScoredCursor {
            w,
            enc: v.encoding(),
            i: 0,
        })
    }

    /// The next (member, score), or `None` after the last.
    // Not `Iterator::next`: the element borrows the cursor (it lends).
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Result<Option<(Elem<'_>, Score<'_>)>> {
        let (m, sc) = match self.advance() {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(None),
            Err(e) => {
                self.w.left = 0;
                self.w.packed = Packed::Done;
                return Err(e);
            }
        };
        let score = match sc {
            GotScore::Double(v) => Score::Double(v),
            GotScore::Text(a, b) => Score::Text(&self.w.blob.bytes(&self.w.s.blob)[a..b]),
        };
        Ok(Some((self.w.lend(m), score)))
    }

    #[inline]
    fn advance(&mut self) -> Result<Option<(Got<'a>, GotScore)>> {
        let w = &mut self.w;
        match self.enc {
            Encoding::ZSet | Encoding::ZSet2 => {
                if w.left == 0 {
                    return Ok(None);
                }
                w.left -= 1;
                let m = w.c.rdb_string("zset member")?;
                let score = if self.enc == Encoding::ZSet {
                    w.c.ascii_double("zset score")?
                } else {
                    w.c.binary_double("zset score")?
                };
                let limit = w.s.max_decompressed;
                Ok(Some((
                    Got::plain(&m, &mut w.s.a, limit, false)?,
                    GotScore::Double(score),
                )))
            }
            // Refused by `ScoredCursor::new`.
            encodings!(string)
            | encodings!(list)
            | encodings!(set)
            | encodings!(hash)
            | encodings!(stream)
            | encodings!(module) => Ok(None),
            Encoding::ZSetZiplist | Encoding::ZSetListpack => {
                let Some(m) = w.step()? else {
                    return Ok(None);
                };
                let Some(sc) = w.step()? else {
                    return Err(w.loc.invalid(
                        0,
                        "zset blob has an odd number of elements (member without score)",
                    ));
                };
                let bytes = w.blob.bytes(&w.s.blob);
                let score = match (sc, sc.lend(bytes, &*w.s).as_score()) {
                    // Text stays text (parsed only if asked, see `Score`).
                    (Got::Blob(a, b), Some(Score::Text(_))) => GotScore::Text(a, b),
                    (_, Some(v)) => GotScore::Double(v.value()),
                    (_, None) => {
                        return Err(w.loc.invalid(
                            0,
                            format!("zset blob entry {}: score is not a number", self.i),
                        ))
                    }
                };
                self.i += 1;
                Ok(Some((m, score)))
            }
        }
    }
}

/// One hash field as a cursor lends it: field, value, and the field's
/// expire time in Unix ms (`None` without a TTL).
pub type Field<'x> = (Elem<'x>, Elem<'x>, Option<i64>);

/// A cursor over the fields of a hash.
pub struct FieldCursor<'a, 's> {
    w: Walk<'a, 's>,
    enc: Encoding,
    min_expire: Option<i64>,
}

impl<'a, 's> FieldCursor<'a, 's> {
    fn new(v: &Value<'a>, s: &'s mut Scratch) -> Result<FieldCursor<'a, 's>> {
        use Encoding::*;
        let mut w = Walk::new(v, s);
        let mut min_expire = None;
        match v.encoding() {
            Hash | ValkeyHash2 | HashMetadataPreGa => w.left = w.c.len("hash size")?,
            HashMetadata => {
                min_expire = Some(w.c.i64_le("hash minimum expire time")?);
                w.left = w.c.len("hash size")?;
            }
            HashZipmap => {
                w.open("zipmap", Kind::Zipmap)?;
            }
            HashZiplist => {
                w.open("hash blob", Kind::Ziplist)?;
            }
            HashListpack => {
                w.open("hash blob", Kind::Listpack)?;
            }
            HashListpackEx | HashListpackExPreGa => {
                if v.encoding() == HashListpackEx {
                    w.c.i64_le("hash minimum expire time")?;
                }
                w.open("hash listpack", Kind::Listpack)?;
            }
            encodings!(string)
            | encodings!(list)
            | encodings!(set)
            | encodings!(zset)
            | encodings!(stream)
            | encodings!(module) => return Err(wrong(v, "a hash")),
        }
        Ok(FieldCursor {
            w,
            enc: v.encoding(),
            min_expire,
        })
    }

    /// The next (field, value, expire), or `None` after the last.
    // Not `Iterator::next`: the element borrows the cursor (it lends).
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Result<Option<Field<'_>>> {
        let (f, v, t) = match self.advance() {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(None),
            Err(e) => {
                self.w.left = 0;
                self.w.packed = Packed::Done;
                return Err(e);
            }
        };
        Ok(Some((self.w.lend(f), self.w.lend(v), t)))
    }

    #[allow(clippy::type_complexity)]
    #[inline]
    fn advance(&mut self) -> Result<Option<(Got<'a>, Got<'a>, Option<i64>)>> {
        use Encoding::*;
        let w = &mut self.w;
        let limit = w.s.max_decompressed;
        match self.enc {
            Hash | ValkeyHash2 | HashMetadataPreGa | HashMetadata => {
                if w.left == 0 {
                    return Ok(None);
                }
                w.left -= 1;
                let at = w.c.offset();
                let ttl = match self.enc {
                    HashMetadataPreGa | HashMetadata => Some(w.c.len("hash field TTL")?),
                    _ => None,
                };
                let k = w.c.rdb_string("hash field")?;
                let v = w.c.rdb_string("hash value")?;
                let expire = match (self.enc, ttl) {
                    (ValkeyHash2, _) => {
                        let e = w.c.i64_le("hash field expire time")?;
                        (e != -1).then_some(e)
                    }
                    (_, None) | (_, Some(0)) => None,
                    // 24: stored relative to the minimum, plus one.
                    (_, Some(t)) => match self.min_expire {
                        Some(min) => Some(
                            min.checked_add(t as i64 - 1)
                                .filter(|_| t <= i64::MAX as u64)
                                .ok_or_else(|| {
                                    Error::invalid(at, format!("hash field TTL {t} overflows"))
                                })?,
                        ),
                        // 22 (7.4 RCs): absolute.
                        None => Some(t.min(i64::MAX as u64) as i64),
                    },
                };
                let kg = Got::plain(&k, &mut w.s.a, limit, false)?;
                let vg = Got::plain(&v, &mut w.s.b, limit, true)?;
                Ok(Some((kg, vg, expire)))
            }
            HashZipmap => {
                let bytes = w.blob.bytes(&w.s.blob);
                Ok(w.packed.next_zipmap(bytes)?.map(|(k, v)| (k, v, None)))
            }
            HashListpackEx | HashListpackExPreGa => {
                let Some(k) = w.step()? else {
                    return Ok(None);
                };
                let bytes = w.blob.bytes(&w.s.blob);
                let v = w.packed.expect(bytes, "hash value")?;
                let at = w.packed.pos();
                let ttl = match w.packed.expect(bytes, "hash field expire time")? {
                    Got::Int(t) => t,
                    _ => {
                        return Err(w
                            .loc
                            .invalid(at, "hash field expire time is not an integer"))
                    }
                };
                Ok(Some((k, v, (ttl != 0).then_some(ttl))))
            }
            // Refused by `FieldCursor::new`.
            encodings!(string)
            | encodings!(list)
            | encodings!(set)
            | encodings!(zset)
            | encodings!(stream)
            | encodings!(module) => Ok(None),
            HashZiplist | HashListpack => {
                let Some(k) = w.step()? else {
                    return Ok(None);
                };
                let Some(v) = w.step()? else {
                    return Err(w.loc.invalid(
                        0,
                        "hash blob has an odd number of elements (field without value)",
                    ));
                };
                Ok(Some((k, v, None)))
            }
        }
    }
}
