//! `completions` and `man`: generated from the same clap definitions as
//! `--help`, so they cannot drift from it.

use crate::args::Cli;
use crate::inspect_args::{CompletionsArgs, ManArgs};
use crate::report::Outcome;
use clap::CommandFactory;
use std::io::{self, Write};

pub fn completions(a: &CompletionsArgs) -> Outcome {
    let mut cmd = Cli::command();
    let mut out = io::stdout().lock();
    clap_complete::generate(a.shell, &mut cmd, "rdbscope", &mut out);
    match out.flush() {
        Ok(()) => Outcome::Ok,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Outcome::Ok,
        Err(e) => {
            eprintln!("rdbscope: write error: {e}");
            Outcome::Failure
        }
    }
}

pub fn man(a: &ManArgs) -> Outcome {
    let cmd = Cli::command();
    let written = match &a.dir {
        None => {
            let mut out = io::stdout().lock();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .and_then(|()| out.flush())
        }
        Some(dir) => pages(cmd, dir),
    };
    match written {
        Ok(()) => Outcome::Ok,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Outcome::Ok,
        Err(e) => {
            eprintln!("rdbscope: write error: {e}");
            Outcome::Failure
        }
    }
}

/// `rdbscope.1` and one `rdbscope-<command>.1` per subcommand, each written
/// beside itself and renamed into place.
fn pages(cmd: clap::Command, dir: &std::path::Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let write = |name: &str, man: clap_mangen::Man| -> io::Result<()> {
        let mut buf = Vec::new();
        man.render(&mut buf)?;
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, &buf)?;
        std::fs::rename(&tmp, dir.join(name))
    };
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() {
            continue;
        }
        let name = format!("rdbscope-{}", sub.get_name());
        let sub = sub.clone().name(name.clone());
        write(&format!("{name}.1"), clap_mangen::Man::new(sub))?;
    }
    write("rdbscope.1", clap_mangen::Man::new(cmd))
}
