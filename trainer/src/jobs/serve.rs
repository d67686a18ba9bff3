//! A minimal static HTTP server for the browser demo, on localhost.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

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

/// The page, its script and style, compiled into the binary.
#[must_use]
pub fn page_assets() -> Vec<Asset> {
    let text =
        |path: &str, ct, body: &str| Asset { path: path.into(), content_type: ct, body: body.as_bytes().to_vec() };
    vec![
        text("index.html", "text/html; charset=utf-8", include_str!("../../../firmware-demo/web/index.html")),
        text("demo.js", "text/javascript; charset=utf-8", include_str!("../../../firmware-demo/web/demo.js")),
        text("style.css", "text/css; charset=utf-8", include_str!("../../../firmware-demo/web/style.css")),
    ]
}

fn respond(mut stream: TcpStream, assets: &[Asset]) -> std::io::Result<()> {
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let path = target.split('?').next().unwrap_or("/").trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    match assets.iter().find(|a| a.path == path).filter(|_| method == "GET" || method == "HEAD") {
        Some(a) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                a.content_type,
                a.body.len()
            );
            stream.write_all(head.as_bytes())?;
            if method == "GET" {
                stream.write_all(&a.body)?;
            }
        }
        None => {
            let body = format!("not found: /{path}\n");
            let head = format!(
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes())?;
            stream.write_all(body.as_bytes())?;
        }
    }
    stream.flush()
}

/// Serves `assets` on `host:port` (port 0 picks a free one) until the process is stopped; calls
/// `ready` with the address first.
///
/// # Errors
/// When the address cannot be bound.
pub fn serve(host: &str, port: u16, assets: &[Asset], ready: impl FnOnce(&str)) -> anyhow::Result<()> {
    let listener = TcpListener::bind((host, port)).with_context(|| format!("cannot listen on {host}:{port}"))?;
    let addr = listener.local_addr().context("local address")?;
    ready(&format!("http://{addr}/"));
    for stream in listener.incoming() {
        match stream {
            // A client that hangs up mid-answer is its own business.
            Ok(s) => {
                let _ = respond(s, assets);
            }
            Err(e) => eprintln!("connection failed: {e}"),
        }
    }
    Ok(())
}
