//! Placeholder until the stream commands land.
use crate::error::{CmdError, CmdResult};
use crate::keyspace::Ctx;
macro_rules! todo_cmd { ($($n:ident),*) => { $(pub(crate) fn $n(_: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult { Err(CmdError::Unsupported(String::from_utf8_lossy(a[0]).into())) })* } }
todo_cmd!(xadd, xtrim, xdel, xack, xsetid, xgroup, xclaim);
