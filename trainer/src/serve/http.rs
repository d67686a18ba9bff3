//! A small static HTTP/1.1 server for the demo page, on localhost: every connection on its own
//! thread (up to a cap), the request head bounded in size and read with a timeout, so one slow or
//! silent client never stalls the others. GET and HEAD of a fixed set of files; nothing else.
//!
//! Why not an HTTP crate: this serves five files to one local browser; the whole protocol needed
//! is a request line and a fixed response, which is shorter to write and review than a dependency
//! tree (a TLS-less, single-purpose server).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;

/// One file the server answers with.
#[derive(Debug, Clone)]
pub struct Asset {
    /// Path without the leading slash (`index.html`).
    pub path: String,
    /// Content type.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
}

/// Limits that keep a misbehaving client from hurting the others.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request head (request line and headers) read.
    pub max_head: usize,
    /// How long a client may take to send its request head, and to read the answer.
    pub timeout: Duration,
    /// Connections served at once; more are answered 503.
    pub max_clients: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_head: 8 * 1024, timeout: Duration::from_secs(10), max_clients: 64 }
    }
}

/// A bound server.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    assets: Arc<Vec<Asset>>,
    limits: Limits,
}

impl Server {
    /// Binds `host:port` (port 0 picks a free one).
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub fn bind(host: &str, port: u16, assets: Vec<Asset>, limits: Limits) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((host, port)).with_context(|| format!("cannot listen on {host}:{port}"))?;
        Ok(Self { listener, assets: Arc::new(assets), limits })
    }

    /// The address it listens on.
    ///
    /// # Errors
    /// When the socket cannot say.
    pub fn addr(&self) -> anyhow::Result<SocketAddr> {
        self.listener.local_addr().context("local address")
    }

    /// Answers connections until the process stops.
    pub fn run(self) {
        let active = Arc::new(AtomicUsize::new(0));
        for stream in self.listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            if active.load(Ordering::SeqCst) >= self.limits.max_clients {
                let _ = stream.set_write_timeout(Some(self.limits.timeout));
                let _ = respond(&mut stream, "503 Service Unavailable", "text/plain", b"busy, try again\n", true);
                continue;
            }
            active.fetch_add(1, Ordering::SeqCst);
            let (assets, active, limits) = (Arc::clone(&self.assets), Arc::clone(&active), self.limits);
            std::thread::spawn(move || {
                // A client that hangs up or times out is its own business.
                let _ = handle(stream, &assets, limits);
                active.fetch_sub(1, Ordering::SeqCst);
            });
        }
    }
}

/// Reads the request head: up to the blank line, at most `limits.max_head` bytes. `None` when the
/// head is too large.
fn read_head(stream: &mut TcpStream, limits: Limits) -> std::io::Result<Option<String>> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            break;
        }
        if head.len() > limits.max_head {
            return Ok(None);
        }
    }
    Ok(Some(String::from_utf8_lossy(&head).into_owned()))
}

fn handle(mut stream: TcpStream, assets: &[Asset], limits: Limits) -> std::io::Result<()> {
    stream.set_read_timeout(Some(limits.timeout))?;
    stream.set_write_timeout(Some(limits.timeout))?;
    let Some(head) = read_head(&mut stream, limits)? else {
        return respond(&mut stream, "431 Request Header Fields Too Large", "text/plain", b"request too large\n", true);
    };
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let path = target.split('?').next().unwrap_or("/").trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    if method != "GET" && method != "HEAD" {
        return respond(&mut stream, "405 Method Not Allowed", "text/plain", b"only GET and HEAD\n", true);
    }
    match assets.iter().find(|a| a.path == path) {
        Some(a) => respond(&mut stream, "200 OK", a.content_type, &a.body, method == "GET"),
        None => {
            let body = format!("not found: /{path}\n");
            respond(&mut stream, "404 Not Found", "text/plain", body.as_bytes(), method == "GET")
        }
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    with_body: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn get(addr: SocketAddr, request: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(request).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    #[test]
    fn a_silent_client_does_not_stall_the_others_and_large_heads_are_refused() {
        let assets = vec![Asset { path: "index.html".into(), content_type: "text/html", body: b"hello".to_vec() }];
        let limits = Limits { max_head: 1024, timeout: Duration::from_millis(1500), max_clients: 8 };
        let server = Server::bind("127.0.0.1", 0, assets, limits).unwrap();
        let addr = server.addr().unwrap();
        std::thread::spawn(move || server.run());

        // Connects and says nothing.
        let mut silent = TcpStream::connect(addr).unwrap();
        let started = Instant::now();
        let answer = get(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("hello"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(1), "served only after {:?}", started.elapsed());
        assert!(get(addr, b"GET /nope HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
        assert!(get(addr, b"POST / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
        let head = get(addr, b"HEAD / HTTP/1.1\r\n\r\n");
        assert!(head.starts_with("HTTP/1.1 200") && !head.contains("hello"), "{head}");
        let huge = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(4000));
        assert!(get(addr, huge.as_bytes()).starts_with("HTTP/1.1 431"));

        // The silent client is dropped once its time is up.
        silent.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 16];
        let n = silent.read(&mut buf).unwrap_or(0);
        assert_eq!(n, 0, "the silent client got an answer");
        assert!(started.elapsed() < Duration::from_secs(4), "dropped only after {:?}", started.elapsed());
    }
}
