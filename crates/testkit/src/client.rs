//! A small binary-safe RESP2 client for tests that talk to a real server:
//! commands out, replies in as a tree, nothing more.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+...`
    Status(Vec<u8>),
    /// `:N`
    Int(i64),
    /// `$N ...` (`None`: the null bulk string).
    Bulk(Option<Vec<u8>>),
    /// `*N ...`
    Array(Vec<Reply>),
}

impl Reply {
    /// A status or bulk reply as text.
    pub fn text(&self) -> String {
        match self {
            Reply::Status(b) | Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("not a string: {other:?}"),
        }
    }
}

/// A connection to a server on the loopback interface.
pub struct Conn(BufReader<TcpStream>);

impl Conn {
    /// Connects to `127.0.0.1:port`.
    pub fn new(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        Conn(BufReader::new(s))
    }

    /// Sends one command; panics on an error reply.
    pub fn call(&mut self, args: &[&[u8]]) -> Reply {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        self.0.get_mut().write_all(&req).unwrap();
        self.reply()
            .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(args[0])))
    }

    /// [`Conn::call`] with text arguments.
    pub fn cmd(&mut self, args: &[&str]) -> Reply {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.call(&a)
    }

    fn reply(&mut self) -> Result<Reply, String> {
        let mut line = Vec::new();
        self.0.read_until(b'\n', &mut line).unwrap();
        line.truncate(line.len().saturating_sub(2));
        let rest = || String::from_utf8_lossy(&line[1..]).into_owned();
        Ok(match line.first() {
            Some(b'+') => Reply::Status(line[1..].to_vec()),
            Some(b'-') => return Err(rest()),
            Some(b':') => Reply::Int(rest().parse().unwrap()),
            Some(b'$') => {
                let n: i64 = rest().parse().unwrap();
                if n < 0 {
                    Reply::Bulk(None)
                } else {
                    let mut b = vec![0; n as usize + 2];
                    self.0.read_exact(&mut b).unwrap();
                    b.truncate(n as usize);
                    Reply::Bulk(Some(b))
                }
            }
            Some(b'*') => {
                let n: i64 = rest().parse().unwrap();
                let mut v = Vec::new();
                for _ in 0..n.max(0) {
                    v.push(self.reply()?);
                }
                Reply::Array(v)
            }
            _ => panic!("bad reply {:?}", String::from_utf8_lossy(&line)),
        })
    }

    /// Sends raw RESP commands (as `redis-cli --pipe` does), then PING, and
    /// reads every reply up to the PONG: the error replies, in order. For
    /// a few thousand commands (the replies must fit the socket buffers
    /// while the commands are written).
    pub fn pipe(&mut self, commands: &[u8]) -> Vec<String> {
        self.0.get_mut().write_all(commands).unwrap();
        self.0.get_mut().write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
        let mut errors = Vec::new();
        loop {
            match self.reply() {
                Ok(Reply::Status(s)) if s == b"PONG" => return errors,
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
        }
    }

    /// Every key of databases 0-15: db -> keys.
    pub fn keys(&mut self) -> BTreeMap<u64, Vec<Vec<u8>>> {
        let mut out = BTreeMap::new();
        for db in 0..16u64 {
            self.cmd(&["SELECT", &db.to_string()]);
            let mut cursor = "0".to_string();
            loop {
                let Reply::Array(r) = self.cmd(&["SCAN", &cursor, "COUNT", "1000"]) else {
                    panic!("SCAN")
                };
                cursor = r[0].text();
                if let Reply::Array(keys) = &r[1] {
                    for k in keys {
                        if let Reply::Bulk(Some(k)) = k {
                            out.entry(db).or_insert_with(Vec::new).push(k.clone());
                        }
                    }
                }
                if cursor == "0" {
                    break;
                }
            }
        }
        self.cmd(&["SELECT", "0"]);
        out
    }
}
