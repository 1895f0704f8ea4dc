//! SHA-256 rate of the sha2 crate (the version dbstash uses), over a file read in 128 KiB
//! batches like dbstash's copy loop: `sha256-rate FILE` prints "<hex> <bytes> <seconds of hashing>".
use sha2::{Digest, Sha256};
use std::io::Read;
use std::time::{Duration, Instant};

fn main() {
    let path = std::env::args().nth(1).expect("usage: sha256-rate FILE");
    let mut f = std::fs::File::open(&path).expect("open");
    let mut buf = vec![0u8; 128 * 1024];
    let mut h = Sha256::new();
    let (mut total, mut hashing) = (0u64, Duration::ZERO);
    loop {
        let n = f.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        let t = Instant::now();
        h.update(&buf[..n]);
        hashing += t.elapsed();
        total += n as u64;
    }
    println!("{:x} {} {:.3}", h.finalize(), total, hashing.as_secs_f64());
}
