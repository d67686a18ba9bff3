//! The browser demo of an exported run, served on localhost: the static page (compiled into the
//! binary), the wasm module, the run's int8 file and vectors, and what the page must reproduce.

pub mod http;

use std::path::Path;

use anyhow::Context as _;

use crate::deploy::validate::{parse, read_export};
use crate::files;
use crate::run_dir::RunDir;
use http::{Asset, Limits, Server};

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

/// Everything the demo of `run` serves, with the wasm module at `wasm`.
///
/// # Errors
/// When the run is not exported, or a file cannot be read.
pub fn demo_assets(run: &RunDir, wasm: &Path) -> anyhow::Result<Vec<Asset>> {
    let config = run.read_config()?;
    let (bnq, vectors) = read_export(run)?;
    let model = parse(run, &bnq)?;
    // The digest the page must reproduce (bottleneck_runtime::check on the same vectors).
    let digest = bottleneck_export::validate::check(&model, &vectors).map_err(|e| anyhow::anyhow!("{e}"))?.digest;
    let wasm = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let classes: Vec<String> = config.data.images().map(|d| d.class_names()).unwrap_or_default();
    let meta = format!(
        "{{\"run\": {:?}, \"kind\": {:?}, \"classes\": [{}], \"host_digest\": \"{:#010x}\"}}",
        run.root.display().to_string(),
        config.model.kind(),
        classes.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", "),
        digest
    );
    let vectors_path = run.export_file(files::VECTORS);
    let vectors_bytes = std::fs::read(&vectors_path).with_context(|| format!("reading {}", vectors_path.display()))?;
    let mut assets = page_assets();
    assets.extend([
        Asset { path: "bottleneck_wasm.wasm".into(), content_type: "application/wasm", body: wasm },
        Asset { path: files::BNQ.into(), content_type: "application/octet-stream", body: bnq.clone() },
        Asset { path: files::VECTORS.into(), content_type: "application/octet-stream", body: vectors_bytes },
        Asset { path: "meta.json".into(), content_type: "application/json", body: meta.into_bytes() },
    ]);
    Ok(assets)
}

/// Serves the demo of `run` on `host:port` until the process stops; calls `ready` with the URL
/// first.
///
/// # Errors
/// When the run is not exported or the address cannot be bound.
pub fn serve_demo(run: &RunDir, host: &str, port: u16, wasm: &Path, ready: impl FnOnce(&str)) -> anyhow::Result<()> {
    let server = Server::bind(host, port, demo_assets(run, wasm)?, Limits::default())?;
    ready(&format!("http://{}/", server.addr()?));
    server.run();
    Ok(())
}
