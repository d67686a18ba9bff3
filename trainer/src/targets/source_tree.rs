//! Bottleneck's source tree and cargo, which the other targets are built with.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// Bottleneck's source tree (this binary was built from it).
///
/// # Errors
/// When the tree is not where the binary was built (an installed binary whose sources moved).
pub fn source_tree() -> anyhow::Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default();
    if !root.join("firmware-demo").is_dir() {
        bail!("checking other targets builds them from Bottleneck's source tree, expected at {}", root.display());
    }
    Ok(root)
}

/// Where cargo puts the builds of the workspace at `root`.
#[must_use]
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// `cargo` (the one running us, when we run under cargo).
#[must_use]
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Runs `c`; returns its stdout, or an error with everything it printed.
///
/// # Errors
/// When the program cannot start or exits with a failure.
pub fn run(what: &str, c: &mut Command) -> anyhow::Result<String> {
    let out = c.output().with_context(|| format!("{what}: cannot start {:?} (is it installed?)", c.get_program()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!("{what} failed ({}):\n{stdout}{}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    Ok(stdout)
}
