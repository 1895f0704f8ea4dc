//! A fault-injecting HTTP proxy in front of the S3 server: it answers the first N S3
//! server-side copies (`PUT` with `x-amz-copy-source`: rclone's `moveto`, a commit step after
//! the upload) with `500 Internal Server Error` and forwards everything else. One request
//! per connection (`Connection: close`), bodies by `Content-Length` or chunked.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub struct Faulty {
    pub port: u16,
    /// Copies answered with 500 so far.
    pub injected: Arc<AtomicUsize>,
}

/// A proxy on a free loopback port forwarding to `upstream` (a loopback port), failing the
/// first `copies` server-side copies.
pub fn start(upstream: u16, copies: usize) -> Faulty {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let injected = Arc::new(AtomicUsize::new(0));
    let counter = injected.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let counter = counter.clone();
            std::thread::spawn(move || {
                let _ = serve(conn, upstream, copies, &counter);
            });
        }
    });
    Faulty { port, injected }
}

fn serve(
    client: TcpStream,
    upstream: u16,
    copies: usize,
    injected: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client = client;
    let mut head: Vec<String> = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "\r\n" {
            break;
        }
        head.push(line);
    }
    let header = |name: &str| {
        head.iter().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    if header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(&mut reader)?
    } else {
        let n: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; n];
        reader.read_exact(&mut body)?;
        body
    };
    let is_copy = head[0].starts_with("PUT ") && header("x-amz-copy-source").is_some();
    if is_copy
        && injected
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < copies).then_some(n + 1)
            })
            .is_ok()
    {
        let msg = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>injected by the test</Message></Error>";
        write!(
            client,
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            msg.len()
        )?;
        client.write_all(msg)?;
        return Ok(());
    }
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    let mut out = String::new();
    out.push_str(&head[0]);
    for l in &head[1..] {
        let name = l.split(':').next().unwrap_or_default().trim();
        if [
            "connection",
            "expect",
            "transfer-encoding",
            "content-length",
        ]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
        {
            continue;
        }
        out.push_str(l);
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    up.write_all(out.as_bytes())?;
    up.write_all(&body)?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    client.write_all(&response)?;
    Ok(())
}

fn read_chunked(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        if n == 0 {
            // Trailers, then the empty line.
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l)? == 0 || l == "\r\n" {
                    return Ok(body);
                }
            }
        }
        let mut chunk = vec![0u8; n + 2];
        reader.read_exact(&mut chunk)?;
        body.extend_from_slice(&chunk[..n]);
    }
}
