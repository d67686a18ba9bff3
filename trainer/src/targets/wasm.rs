//! The wasm32 module: built from the source tree, run under Node on the run's files.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::report::CheckReport;
use super::source_tree::{cargo, run, source_tree, target_dir};

/// The target triple.
pub const TRIPLE: &str = "wasm32-unknown-unknown";

/// Builds the wasm module from the source tree (a few seconds once the runtime is compiled) and
/// returns its path.
///
/// # Errors
/// When the source tree, cargo or the wasm32 target is missing, or the build fails.
pub fn build_wasm() -> anyhow::Result<PathBuf> {
    let root = source_tree()?;
    run(
        "building the wasm module (needs `rustup target add wasm32-unknown-unknown`)",
        cargo().current_dir(&root).args(["build", "--release", "-q", "-p", "bottleneck-wasm", "--target", TRIPLE]),
    )?;
    Ok(target_dir(&root).join(TRIPLE).join("release/bottleneck_wasm.wasm"))
}

/// Runs the standard check in Node on `bnq` and `vectors` (absolute paths).
///
/// # Errors
/// When the build or Node fails, or Node prints no digest.
pub fn check(bnq: &Path, vectors: &Path) -> anyhow::Result<(CheckReport, String)> {
    let module = build_wasm()?;
    let script = source_tree()?.join("firmware-demo/wasm/check.mjs");
    let log = run("node", Command::new("node").arg(script).arg(&module).arg(bnq).arg(vectors))?;
    Ok((CheckReport::parse(&log, "the wasm check")?, log))
}
