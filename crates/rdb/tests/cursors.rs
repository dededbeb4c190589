//! The pull cursors of `view` against the push walks of `value`: the same
//! elements in the same order for every value of the corpus, side-by-side
//! walks of two values, and early stops.

use rdbscope_rdb::{Elem, Rdb, Record, Score, Scratch, Typed, Value};
use std::path::PathBuf;

fn corpus_files() -> Vec<PathBuf> {
    let Some(dir) = rdbscope_testkit::corpus("cursors") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for d in std::fs::read_dir(dir.join("rdb")).unwrap() {
        let d = d.unwrap().path();
        if !d.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&d).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "rdb") {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

/// An element as owned text, for comparing sequences.
#[derive(Debug, PartialEq)]
enum Item {
    Member(Vec<u8>),
    Scored(Vec<u8>, u64),
    Field(Vec<u8>, Vec<u8>, Option<i64>),
    Entry(u64, u64, Vec<(Vec<u8>, Vec<u8>)>),
}

fn entry(e: &rdbscope_rdb::stream::StreamEntry<'_>) -> R<Item> {
    let mut fields = Vec::new();
    for p in e.fields() {
        let (f, v) = p?;
        fields.push((f.to_vec(), v.to_vec()));
    }
    Ok(Item::Entry(e.id.ms, e.id.seq, fields))
}

fn score_bits(s: Score<'_>) -> u64 {
    s.value().to_bits()
}

type R<T> = Result<T, rdbscope_rdb::Error>;

fn pushed(v: &Value<'_>, s: &mut Scratch) -> R<Vec<Item>> {
    let mut out = Vec::new();
    match v.typed() {
        Typed::List(l) => l.for_each(s, |e: Elem<'_>| {
            out.push(Item::Member(e.to_vec()));
            R::Ok(())
        })?,
        Typed::Set(l) => l.for_each(s, |e: Elem<'_>| {
            out.push(Item::Member(e.to_vec()));
            R::Ok(())
        })?,
        Typed::Zset(z) => z.for_each(s, |m: Elem<'_>, sc| {
            out.push(Item::Scored(m.to_vec(), score_bits(sc)));
            R::Ok(())
        })?,
        Typed::Hash(h) => h.for_each(s, |f: Elem<'_>, v: Elem<'_>, t| {
            out.push(Item::Field(f.to_vec(), v.to_vec(), t));
            R::Ok(())
        })?,
        Typed::Stream(st) => st.stream()?.for_each_entry(s, |e| {
            out.push(entry(&e)?);
            R::Ok(())
        })?,
        Typed::String(_) | Typed::Module(_) => {}
    }
    Ok(out)
}

fn pulled(v: &Value<'_>, s: &mut Scratch) -> R<Vec<Item>> {
    let mut out = Vec::new();
    match v.typed() {
        Typed::List(l) => {
            let mut c = l.cursor(s)?;
            while let Some(e) = c.next()? {
                out.push(Item::Member(e.to_vec()));
            }
        }
        Typed::Set(l) => {
            let mut c = l.cursor(s)?;
            while let Some(e) = c.next()? {
                out.push(Item::Member(e.to_vec()));
            }
        }
        Typed::Zset(z) => {
            let mut c = z.cursor(s)?;
            while let Some((m, sc)) = c.next()? {
                out.push(Item::Scored(m.to_vec(), score_bits(sc)));
            }
        }
        Typed::Hash(h) => {
            let mut c = h.cursor(s)?;
            while let Some((f, v, t)) = c.next()? {
                out.push(Item::Field(f.to_vec(), v.to_vec(), t));
            }
        }
        Typed::Stream(st) => {
            let st = st.stream()?;
            let mut c = st.entries(s)?;
            while let Some(e) = c.next()? {
                out.push(entry(&e)?);
            }
        }
        Typed::String(_) | Typed::Module(_) => {}
    }
    Ok(out)
}

#[test]
fn cursors_yield_what_the_push_walks_yield_for_every_corpus_value() {
    let mut values = 0;
    let mut elements = 0;
    let mut s1 = Scratch::new();
    let mut s2 = Scratch::new();
    for f in corpus_files() {
        let data = std::fs::read(&f).unwrap();
        let Ok(rdb) = Rdb::new(&data) else { continue };
        for r in rdb.records() {
            let Ok(Record::Key(k)) = r else { continue };
            let a = pushed(&k.value, &mut s1);
            let b = pulled(&k.value, &mut s2);
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    elements += a.len();
                    assert_eq!(a, b, "{}: key {:?}", f.display(), k.key.to_vec());
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{}", f.display()),
                (a, b) => panic!("{}: push {a:?}, pull {b:?}", f.display()),
            }
            values += 1;
        }
    }
    eprintln!("{values} values, {elements} elements compared");
}

fn members<'a, 's>(v: &Value<'a>, s: &'s mut Scratch) -> rdbscope_rdb::MemberCursor<'a, 's> {
    match v.typed() {
        Typed::List(l) => l.cursor(s).unwrap(),
        Typed::Set(l) => l.cursor(s).unwrap(),
        _ => unreachable!(),
    }
}

/// Neighbouring collections walked in lockstep, as a diff would: both
/// cursors alive at once, stopping at the first difference; and a walk
/// that stops after one element.
#[test]
fn two_values_walk_in_lockstep_and_stop_early() {
    let mut pairs = 0;
    for f in corpus_files() {
        let data = std::fs::read(&f).unwrap();
        let Ok(rdb) = Rdb::new(&data) else { continue };
        let vals: Vec<Value<'_>> = rdb
            .records()
            .filter_map(|r| match r {
                Ok(Record::Key(k)) => Some(k.value),
                _ => None,
            })
            .filter(|v| matches!(v.typed(), Typed::List(_) | Typed::Set(_)))
            .collect();
        for w in vals.windows(2) {
            let (Ok(pa), Ok(pb)) = (
                pulled(&w[0], &mut Scratch::new()),
                pulled(&w[1], &mut Scratch::new()),
            ) else {
                continue;
            };
            let (mut sa, mut sb) = (Scratch::new(), Scratch::new());
            let mut ca = members(&w[0], &mut sa);
            let mut cb = members(&w[1], &mut sb);
            let mut same = 0usize;
            loop {
                let a = ca.next().unwrap().map(|e| e.to_vec());
                let b = cb.next().unwrap().map(|e| e.to_vec());
                if a.is_none() || a != b {
                    break;
                }
                same += 1;
            }
            let want = pa.iter().zip(&pb).take_while(|(x, y)| x == y).count();
            assert_eq!(same, want, "{}", f.display());
            pairs += 1;
            if let Some(Item::Member(first)) = pa.first() {
                let mut s = Scratch::new();
                let mut c = members(&w[0], &mut s);
                assert_eq!(c.next().unwrap().map(|e| e.to_vec()).as_ref(), Some(first));
            }
        }
    }
    eprintln!("{pairs} pairs walked in lockstep");
}

/// Rough speed of the two walk shapes over every corpus value (run with
/// `cargo test --release -p rdbscope-rdb --test cursors -- --ignored
/// --nocapture`).
#[test]
#[ignore]
fn timing_push_against_cursor() {
    let files: Vec<Vec<u8>> = corpus_files()
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    let mut s = Scratch::new();
    let walk = |push: bool, s: &mut Scratch| -> u64 {
        let mut n = 0u64;
        for data in &files {
            let Ok(rdb) = Rdb::new(data) else { continue };
            for r in rdb.records() {
                let Ok(Record::Key(k)) = r else { continue };
                let add = |e: Elem<'_>| match e {
                    Elem::Str(b) => b.len() as u64,
                    Elem::Int(v) => v as u64,
                };
                let _ = (|| -> R<()> {
                    match k.value.typed() {
                        Typed::List(l) if push => l.for_each(s, |e| {
                            n += add(e);
                            R::Ok(())
                        })?,
                        Typed::Set(l) if push => l.for_each(s, |e| {
                            n += add(e);
                            R::Ok(())
                        })?,
                        Typed::Zset(z) if push => z.for_each(s, |m, sc| {
                            n += add(m) + sc.is_nan() as u64;
                            R::Ok(())
                        })?,
                        Typed::Hash(h) if push => h.for_each(s, |f, v, _| {
                            n += add(f) + add(v);
                            R::Ok(())
                        })?,
                        Typed::List(l) => {
                            let mut c = l.cursor(s)?;
                            while let Some(e) = c.next()? {
                                n += add(e);
                            }
                        }
                        Typed::Set(l) => {
                            let mut c = l.cursor(s)?;
                            while let Some(e) = c.next()? {
                                n += add(e);
                            }
                        }
                        Typed::Zset(z) => {
                            let mut c = z.cursor(s)?;
                            while let Some((m, sc)) = c.next()? {
                                n += add(m) + sc.is_nan() as u64;
                            }
                        }
                        Typed::Hash(h) => {
                            let mut c = h.cursor(s)?;
                            while let Some((f, v, _)) = c.next()? {
                                n += add(f) + add(v);
                            }
                        }
                        Typed::String(_) | Typed::Stream(_) | Typed::Module(_) => {}
                    }
                    Ok(())
                })();
            }
        }
        n
    };
    // TIMING_ONLY=push or =cursor runs one shape (for a profiler).
    let only = std::env::var("TIMING_ONLY").ok();
    for round in 0..3 {
        for push in [true, false] {
            if only.as_deref().is_some_and(|o| (o == "push") != push) {
                continue;
            }
            let t = std::time::Instant::now();
            let mut n = 0;
            for _ in 0..20 {
                n += std::hint::black_box(walk(push, &mut s));
            }
            eprintln!(
                "round {round} {}: {:?} ({n})",
                if push { "push  " } else { "cursor" },
                t.elapsed()
            );
        }
    }
}

/// Mutated files: wherever a value still skims, the cursor and the push
/// walk agree on the elements, and on whether the value is broken.
#[test]
fn cursors_and_push_walks_agree_on_mutants() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let (mut s1, mut s2) = (Scratch::new(), Scratch::new());
    let (mut broken, mut values) = (0, 0);
    for f in corpus_files().iter().step_by(3) {
        let data = std::fs::read(f).unwrap();
        for _ in 0..60 {
            let mut m = data.clone();
            for _ in 0..3 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let at = 9 + (x % (m.len() as u64 - 9)) as usize;
                m[at] ^= 1 << (x >> 61);
            }
            let Ok(rdb) = Rdb::new(&m) else { continue };
            for r in rdb.verify_checksum(false).records() {
                let k = match r {
                    Ok(Record::Key(k)) => k,
                    Ok(_) => continue,
                    Err(_) => break,
                };
                values += 1;
                match (pushed(&k.value, &mut s1), pulled(&k.value, &mut s2)) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", f.display()),
                    (Err(_), Err(_)) => broken += 1,
                    (a, b) => panic!("{}: push {a:?}, pull {b:?}", f.display()),
                }
            }
        }
    }
    eprintln!("{values} mutated values, {broken} broken ones agreed on");
    if values > 0 {
        assert!(broken > 0, "no mutant broke a value");
    }
}

/// The owned form's memory for a whole file, against the server's
/// `used-mem` AUX field (run with `OWNED_FILE=path cargo test --release -p
/// rdbscope-rdb --test cursors -- --ignored owned_memory --nocapture`).
#[test]
#[ignore]
fn owned_memory_of_a_file() {
    let Some(path) = std::env::var_os("OWNED_FILE") else {
        return;
    };
    let data = std::fs::read(path).unwrap();
    let rdb = Rdb::new(&data).unwrap();
    let mut s = Scratch::new();
    let (mut keys, mut heap, mut used_mem) = (0u64, 0usize, None);
    let mut held = Vec::new();
    for r in rdb.records() {
        match r.unwrap() {
            Record::Key(k) => {
                let o = k.to_owned(&mut s).unwrap();
                heap += o.heap_bytes();
                keys += 1;
                held.push(o);
            }
            Record::Aux { name, value } if name.to_vec().unwrap() == b"used-mem" => {
                used_mem = Some(String::from_utf8(value.to_vec().unwrap()).unwrap());
            }
            _ => {}
        }
    }
    eprintln!(
        "{keys} keys, file {} bytes, owned heap {heap} bytes ({:.1} per key), server used-mem {used_mem:?}",
        data.len(),
        heap as f64 / keys as f64
    );
}
