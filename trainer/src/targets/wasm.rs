//! The wasm32 module: built from the source tree, run under Node on the run's files.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::report::CheckReport;
use super::source_tree::{cargo, run, source_tree, target_dir};

/// The target triple.
pub const TRIPLE: &str = "wasm32-unknown-unknown";

/// The two builds of the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmBuild {
    /// Plain wasm32: runs on every WebAssembly engine.
    Scalar,
    /// With the 128-bit SIMD proposal (`-C target-feature=+simd128`), which every current browser
    /// and Node runs: the kernels vectorised. An engine without SIMD refuses the whole module.
    Simd128,
}

/// Builds the wasm module from the source tree (a few seconds once the runtime is compiled) and
/// returns its path. The SIMD build has its own target folder, since its flags apply to every
/// crate in it.
///
/// # Errors
/// When the source tree, cargo or the wasm32 target is missing, or the build fails.
pub fn build_wasm(build: WasmBuild) -> anyhow::Result<PathBuf> {
    let root = source_tree()?;
    let mut cmd = cargo();
    cmd.current_dir(&root).args(["build", "--release", "-q", "-p", "bottleneck-wasm", "--target", TRIPLE]);
    let mut dir = target_dir(&root);
    if build == WasmBuild::Simd128 {
        dir = dir.join("wasm-simd128");
        cmd.arg("--target-dir")
            .arg(&dir)
            .args(["--config", &format!("target.{TRIPLE}.rustflags=[\"-C\", \"target-feature=+simd128\"]")]);
    }
    run("building the wasm module (needs `rustup target add wasm32-unknown-unknown`)", &mut cmd)?;
    Ok(dir.join(TRIPLE).join("release/bottleneck_wasm.wasm"))
}

/// Runs the standard check in Node on `bnq` and `vectors` (absolute paths).
///
/// # Errors
/// When the build or Node fails, or Node prints no digest.
pub fn check(bnq: &Path, vectors: &Path, build: WasmBuild) -> anyhow::Result<(CheckReport, String)> {
    let module = build_wasm(build)?;
    let script = source_tree()?.join("firmware-demo/wasm/check.mjs");
    let log = run("node", Command::new("node").arg(script).arg(&module).arg(bnq).arg(vectors))?;
    Ok((CheckReport::parse(&log, "the wasm check")?, log))
}
