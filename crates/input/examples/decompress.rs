//! Reads an input the way rdbscope does and throws the content away,
//! printing the throughput: the cost of the input layer alone.
//!
//! ```text
//! cargo run --release -p rdbscope-input --example decompress -- FILE [FILE...]
//! ```
//!
//! `-` reads standard input. Each line gives the compression, the content
//! size, wall and CPU time, and MB/s of content (decompressed) per wall
//! second.

use std::io::{self, Read};
use std::path::Path;
use std::time::Instant;

use rdbscope_input::{Input, Source};

fn main() -> io::Result<()> {
    for arg in std::env::args_os().skip(1) {
        let start = Instant::now();
        let input = Input::open(Path::new(&arg))?;
        let name = input.name().to_string();
        let compression = input.compression().map_or("none", |c| c.name());
        let progress = input.progress();
        let bytes = match input.into_source() {
            Source::Mapped(m) => {
                // Touch every page, as a walk would, releasing pages
                // behind it.
                let mut sum = 0u8;
                for (i, chunk) in m.bytes().chunks(1 << 20).enumerate() {
                    sum ^= chunk.iter().step_by(4096).fold(0u8, |a, &b| a ^ b);
                    m.release_before(((i + 1) << 20) as u64);
                }
                std::hint::black_box(sum);
                m.bytes().len() as u64
            }
            Source::Stream(mut s) => {
                let mut buf = vec![0u8; 1 << 20];
                let mut total = 0u64;
                loop {
                    let n = s.read(&mut buf)?;
                    if n == 0 {
                        break total;
                    }
                    total += n as u64;
                }
            }
        };
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{name}\t{compression}\t{bytes} bytes from {} raw\t{secs:.3} s\t{:.0} MB/s",
            progress.bytes_read(),
            bytes as f64 / secs / 1e6
        );
    }
    Ok(())
}
