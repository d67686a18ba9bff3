//! Running the same check on the other deployment targets: the wasm32 module under Node and the
//! Cortex-M4 firmware under QEMU, each built from Bottleneck's source tree with the run's files.
//! Their digests must equal the host runtime's on the same vectors.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use bottleneck_export::validate::check;
use bottleneck_export::vectors::Vectors;
use bottleneck_runtime::Model;

/// Images the firmware embeds (see firmware-demo/cortex-m4/build.rs).
pub const FIRMWARE_IMAGES: usize = 32;

/// A deployment target other than the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// `wasm32-unknown-unknown`, run by Node.
    Wasm,
    /// `thumbv7em-none-eabihf` (Cortex-M4F), run by `qemu-system-arm -machine mps2-an386`.
    Firmware,
}

/// One target's result.
#[derive(Debug, Clone)]
pub struct TargetDigest {
    /// Target name.
    pub target: &'static str,
    /// Vectors checked.
    pub vectors: usize,
    /// The target's digest.
    pub digest: u32,
    /// The host runtime's digest on the same vectors.
    pub host: u32,
    /// Everything the target printed (for the firmware: results and instruction counts).
    pub log: String,
}

/// Bottleneck's source tree (this binary was built from it).
fn source_tree() -> anyhow::Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default();
    if !root.join("firmware-demo").is_dir() {
        bail!("checking other targets builds them from Bottleneck's source tree, expected at {}", root.display());
    }
    Ok(root)
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

fn run(what: &str, c: &mut Command) -> anyhow::Result<String> {
    let out = c.output().with_context(|| format!("{what}: cannot start {:?} (is it installed?)", c.get_program()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!("{what} failed ({}):\n{stdout}{}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    Ok(stdout)
}

fn parse_digest(text: &str, what: &str) -> anyhow::Result<(u32, usize)> {
    let line = text
        .lines()
        .find(|l| l.starts_with("digest "))
        .with_context(|| format!("{what} printed no digest:\n{text}"))?;
    let mut words = line.split_whitespace().skip(1);
    let hex = words.next().unwrap_or("").trim_start_matches("0x");
    let digest = u32::from_str_radix(hex, 16).with_context(|| format!("{what}: bad digest in {line:?}"))?;
    let count = words.nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
    Ok((digest, count))
}

/// Builds the wasm module from the source tree (a few seconds once the runtime is compiled) and
/// returns its path.
///
/// # Errors
/// When the source tree, cargo or the wasm32 target is missing, or the build fails.
pub fn build_wasm() -> anyhow::Result<PathBuf> {
    let root = source_tree()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(
        "building the wasm module (needs `rustup target add wasm32-unknown-unknown`)",
        Command::new(&cargo).current_dir(&root).args([
            "build",
            "--release",
            "-q",
            "-p",
            "bottleneck-wasm",
            "--target",
            "wasm32-unknown-unknown",
        ]),
    )?;
    Ok(target_dir(&root).join("wasm32-unknown-unknown/release/bottleneck_wasm.wasm"))
}

/// The host digest over the first `n` vectors.
fn host_digest(model: &Model<'_>, vectors: &Vectors, n: usize) -> anyhow::Result<u32> {
    let subset = Vectors { items: vectors.items.iter().take(n).cloned().collect(), ..vectors.clone() };
    Ok(check(model, &subset).map_err(|e| anyhow::anyhow!("host runtime: {e}"))?.digest)
}

/// Builds and runs `target` on the run's `model.bnq` and `vectors.bin` (in `export_dir`).
///
/// # Errors
/// When the tools are missing, a build or run fails, or the target prints no digest.
pub fn run_target(
    target: Target,
    export_dir: &Path,
    model: &Model<'_>,
    vectors: &Vectors,
) -> anyhow::Result<TargetDigest> {
    let root = source_tree()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Absolute paths: the builds run in other folders.
    let abs = |f: &str| export_dir.join(f).canonicalize().with_context(|| format!("{}", export_dir.join(f).display()));
    let (bnq, vec) = (abs("model.bnq")?, abs("vectors.bin")?);
    match target {
        Target::Wasm => {
            let module = build_wasm()?;
            let log = run(
                "node",
                Command::new("node").arg(root.join("firmware-demo/wasm/check.mjs")).arg(&module).arg(&bnq).arg(&vec),
            )?;
            let (digest, n) = parse_digest(&log, "the wasm check")?;
            Ok(TargetDigest { target: "wasm32", vectors: n, digest, host: host_digest(model, vectors, n)?, log })
        }
        Target::Firmware => {
            let dir = root.join("firmware-demo/cortex-m4");
            run(
                "building the firmware",
                Command::new(&cargo)
                    .current_dir(&dir)
                    .args(["build", "--release", "-q", "--target", "thumbv7em-none-eabihf"])
                    .env("BOTTLENECK_MODEL", &bnq)
                    .env("BOTTLENECK_VECTORS", &vec),
            )?;
            let elf = target_dir(&dir).join("thumbv7em-none-eabihf/release/bottleneck-firmware");
            let log = run(
                "qemu-system-arm",
                Command::new("timeout")
                    .arg("120")
                    .args([
                        "qemu-system-arm",
                        "-cpu",
                        "cortex-m4",
                        "-machine",
                        "mps2-an386",
                        "-nographic",
                        "-semihosting-config",
                        "enable=on,target=native",
                        "-icount",
                        "shift=0",
                        "-kernel",
                    ])
                    .arg(&elf),
            )?;
            let (digest, n) = parse_digest(&log, "the firmware")?;
            Ok(TargetDigest { target: "cortex-m4", vectors: n, digest, host: host_digest(model, vectors, n)?, log })
        }
    }
}
