//! The output buffer of every JSON and RESP writer.
//!
//! Output is built from many small pieces (quotes, keys, field names, a
//! few digits), and a `Vec::extend_from_slice` of a few bytes costs a call
//! to `memcpy` for each. `OutBuf` keeps its whole allocation initialized
//! (zeroed once, when it grows) and tracks the end of the output itself,
//! so a piece of up to 64 bytes is copied inline, as two overlapping
//! fixed-size moves, with no call and no per-write zeroing.
//!
//! A buffer can be taken back out as a `Vec` and handed in again (see
//! [`OutBuf::from_vec`]), so that threads that render batch after batch
//! reuse memory that is already initialized and mapped.

use std::io::Write;

/// A growable output buffer, initialized in full, for many small writes.
pub struct OutBuf {
    /// Initialized in full; the output is `buf[..len]`.
    buf: Vec<u8>,
    len: usize,
}

impl OutBuf {
    /// An empty buffer with `n` bytes ready.
    pub fn with_capacity(n: usize) -> OutBuf {
        OutBuf {
            buf: vec![0; n],
            len: 0,
        }
    }

    /// An empty buffer that reuses `v`'s memory.
    pub fn from_vec(mut v: Vec<u8>) -> OutBuf {
        // Bytes past `v.len()` may be uninitialized: zero them once.
        v.resize(v.capacity(), 0);
        OutBuf { buf: v, len: 0 }
    }

    /// The output, as a `Vec` of exactly its length.
    pub fn into_vec(mut self) -> Vec<u8> {
        self.buf.truncate(self.len);
        self.buf
    }

    /// The output so far.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Bytes of output.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no output.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Cuts the output back to `len` bytes (a no-op when shorter).
    #[inline]
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Empties the output, keeping the memory.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends one byte.
    #[inline(always)]
    pub fn push(&mut self, b: u8) {
        if self.len == self.buf.len() {
            self.grow(self.len + 1);
        }
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// Appends bytes.
    #[inline(always)]
    pub fn put(&mut self, b: &[u8]) {
        let end = self.len + b.len();
        if end > self.buf.len() {
            self.grow(end);
        }
        copy(&mut self.buf[self.len..end], b);
        self.len = end;
    }

    /// Appends a RESP bulk string (`$<len>\r\n<bytes>\r\n`) with one
    /// bounds check: the commands an AOF holds are mostly short ones.
    #[inline(always)]
    pub fn put_bulk(&mut self, b: &[u8]) {
        let n = b.len();
        let most = self.len + n + 26;
        if most > self.buf.len() {
            self.grow(most);
        }
        let out = &mut self.buf[self.len..most];
        out[0] = b'$';
        let mut i = if n < 10 {
            out[1] = b'0' + n as u8;
            2
        } else if n < 100 {
            out[1] = b'0' + (n / 10) as u8;
            out[2] = b'0' + (n % 10) as u8;
            3
        } else {
            let mut tmp = [0u8; 20];
            let t = rdbscope_rdb::rdb_string::uint_text(n as u64, &mut tmp);
            out[1..1 + t.len()].copy_from_slice(t);
            1 + t.len()
        };
        out[i..i + 2].copy_from_slice(b"\r\n");
        i += 2;
        copy(&mut out[i..i + n], b);
        i += n;
        out[i..i + 2].copy_from_slice(b"\r\n");
        self.len += i + 2;
    }

    /// Appends `before`, then `b` between double quotes, then `after`,
    /// with one bounds check: how an element goes out between the
    /// brackets and commas around it (the caller knows `b` needs no
    /// escaping).
    #[inline(always)]
    pub fn put_quoted_between(&mut self, before: &[u8], b: &[u8], after: &[u8]) {
        let end = self.len + before.len() + b.len() + after.len() + 2;
        if end > self.buf.len() {
            self.grow(end);
        }
        let out = &mut self.buf[self.len..end];
        let (head, rest) = out.split_at_mut(before.len());
        copy(head, before);
        rest[0] = b'"';
        let (body, tail) = rest[1..].split_at_mut(b.len());
        copy(body, b);
        tail[0] = b'"';
        copy(&mut tail[1..], after);
        self.len = end;
    }

    #[cold]
    fn grow(&mut self, need: usize) {
        let to = need.max(self.buf.len() * 2).max(4096);
        self.buf.resize(to, 0);
    }
}

impl Write for OutBuf {
    #[inline(always)]
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.put(b);
        Ok(b.len())
    }

    #[inline(always)]
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.put(b);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `dst.copy_from_slice(src)` (equal lengths), inline for short pieces: two
/// fixed-size copies that overlap in the middle cover every length in their
/// class exactly.
#[inline(always)]
fn copy(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    debug_assert_eq!(dst.len(), n);
    if n <= 16 {
        if n >= 8 {
            dst[..8].copy_from_slice(&src[..8]);
            dst[n - 8..].copy_from_slice(&src[n - 8..]);
        } else if n >= 4 {
            dst[..4].copy_from_slice(&src[..4]);
            dst[n - 4..].copy_from_slice(&src[n - 4..]);
        } else if n > 0 {
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
    } else if n <= 32 {
        dst[..16].copy_from_slice(&src[..16]);
        dst[n - 16..].copy_from_slice(&src[n - 16..]);
    } else if n <= 64 {
        dst[..32].copy_from_slice(&src[..32]);
        dst[n - 32..].copy_from_slice(&src[n - 32..]);
    } else {
        dst.copy_from_slice(src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_is_copied_exactly() {
        let src: Vec<u8> = (0..200u8).map(|b| b.wrapping_mul(31) | 1).collect();
        let mut o = OutBuf::with_capacity(0);
        let mut want = Vec::new();
        for n in 0..=150 {
            o.put(&src[..n]);
            want.extend_from_slice(&src[..n]);
            o.push(0);
            want.push(0);
        }
        assert_eq!(o.as_slice(), &want[..]);
        o.truncate(10);
        assert_eq!(o.as_slice(), &want[..10]);
        let v = o.into_vec();
        assert_eq!(v, &want[..10]);
        let mut again = OutBuf::from_vec(v);
        assert_eq!(again.len(), 0);
        again.put(b"xyz");
        assert_eq!(again.into_vec(), b"xyz");
    }
}

#[cfg(test)]
mod bulk_tests {
    use super::OutBuf;

    #[test]
    fn bulk_strings_of_every_length_class() {
        for n in [0usize, 1, 9, 10, 99, 100, 4095, 70_000] {
            let mut o = OutBuf::with_capacity(0);
            let b = vec![b'x'; n];
            o.put_bulk(&b);
            o.put_bulk(b"k");
            let want = [
                format!("${n}\r\n").into_bytes(),
                b,
                b"\r\n$1\r\nk\r\n".to_vec(),
            ]
            .concat();
            assert_eq!(o.as_slice(), &want[..], "length {n}");
        }
    }
}
