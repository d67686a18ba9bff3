//! `bottleneck serve-demo RUN_DIR`: the browser demo on localhost.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;

use crate::run_dir::RunDir;
use crate::serve::serve_demo;
use crate::targets::{WasmBuild, build_wasm};

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
    /// The wasm module to serve (default: built from Bottleneck's source tree, with 128-bit SIMD,
    /// which every current browser runs).
    #[arg(long, value_name = "FILE")]
    wasm: Option<PathBuf>,
}

impl ServeCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let run = RunDir::open(&self.run)?;
        let wasm = match self.wasm {
            Some(p) => p,
            None => build_wasm(WasmBuild::Simd128)?,
        };
        serve_demo(&run, &self.host, self.port, &wasm, |url| {
            println!("serving the demo of {} at {url} (Ctrl-C to stop)", run.root.display());
            let _ = std::io::stdout().flush();
        })
    }
}
