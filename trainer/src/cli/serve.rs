//! `bottleneck serve-demo RUN_DIR`: the browser demo on localhost.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;

use crate::jobs::export::export_dir;
use crate::jobs::serve::{Asset, page_assets, serve};
use crate::jobs::validate::read_export;
use crate::run_dir::RunDir;

#[derive(Debug, Args)]
pub struct ServeCmd {
    /// An exported run (after `bottleneck export`): its int8 model and test images are served.
    run: PathBuf,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The wasm module to serve (default: built from Bottleneck's source tree).
    #[arg(long, value_name = "FILE")]
    wasm: Option<PathBuf>,
}

impl ServeCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let run = RunDir::open(&self.run)?;
        let config = run.read_config()?;
        let (bnq, vectors) = read_export(&run)?;
        let model = bottleneck_runtime::Model::parse(&bnq)
            .map_err(|e| anyhow::anyhow!("{}: {e}", export_dir(&run).join("model.bnq").display()))?;
        // The digest the page must reproduce (bottleneck_runtime::check on the same vectors).
        let digest = bottleneck_export::validate::check(&model, &vectors).map_err(|e| anyhow::anyhow!("{e}"))?.digest;
        let wasm_path = match self.wasm {
            Some(p) => p,
            None => crate::jobs::targets::build_wasm()?,
        };
        let wasm = std::fs::read(&wasm_path).map_err(|e| anyhow::anyhow!("{}: {e}", wasm_path.display()))?;
        let classes: Vec<&str> = config.data.images().map(|d| d.dataset.classes().to_vec()).unwrap_or_default();
        let meta = format!(
            "{{\"run\": {:?}, \"kind\": {:?}, \"classes\": [{}], \"host_digest\": \"{:#010x}\"}}",
            run.root.display().to_string(),
            config.model.kind(),
            classes.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", "),
            digest
        );
        let vectors_bytes = std::fs::read(export_dir(&run).join("vectors.bin"))?;
        let mut assets = page_assets();
        assets.extend([
            Asset { path: "bottleneck_wasm.wasm".into(), content_type: "application/wasm", body: wasm },
            Asset { path: "model.bnq".into(), content_type: "application/octet-stream", body: bnq.clone() },
            Asset { path: "vectors.bin".into(), content_type: "application/octet-stream", body: vectors_bytes },
            Asset { path: "meta.json".into(), content_type: "application/json", body: meta.into_bytes() },
        ]);
        serve(&self.host, self.port, &assets, |url| {
            println!("serving the demo of {} at {url} (Ctrl-C to stop)", run.root.display());
            let _ = std::io::stdout().flush();
        })
    }
}
