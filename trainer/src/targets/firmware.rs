//! The Cortex-M4 firmware: built from the source tree with the run's files embedded, run in QEMU
//! through the cargo runner of `.cargo/config.toml` (the one place the QEMU command line lives;
//! `cargo xtask firmware` runs it the same way).

use std::path::Path;
use std::process::Command;

use super::report::CheckReport;
use super::source_tree::{cargo, run, source_tree};

/// The target triple.
pub const TRIPLE: &str = "thumbv7em-none-eabihf";
/// Images the firmware embeds (see firmware-demo/cortex-m4/build.rs).
pub const FIRMWARE_IMAGES: usize = 32;
/// Longest a firmware run may take in QEMU (it takes a few seconds).
const QEMU_SECONDS: &str = "300";

/// Builds the firmware with `bnq` and `vectors` (absolute paths) and runs it in QEMU.
///
/// # Errors
/// When the build or QEMU fails, or the firmware prints no digest.
pub fn check(bnq: &Path, vectors: &Path) -> anyhow::Result<(CheckReport, String)> {
    let dir = source_tree()?.join("firmware-demo/cortex-m4");
    let with_files = |c: &mut Command| {
        c.current_dir(&dir).env("BOTTLENECK_MODEL", bnq).env("BOTTLENECK_VECTORS", vectors);
    };
    // `check-kernels`: the firmware also runs every layer kind and the whole sequence with its
    // portable kernels, and fails unless they give the DSP kernels' bytes.
    let mut build = cargo();
    build.args(["build", "--release", "-q", "--target", TRIPLE, "--features", "check-kernels"]);
    with_files(&mut build);
    run("building the firmware", &mut build)?;
    // The build is done, so `cargo run` only starts the runner (QEMU); `timeout` bounds a hang.
    let mut qemu = Command::new("timeout");
    qemu.arg(QEMU_SECONDS).arg(cargo().get_program()).args([
        "run",
        "--release",
        "-q",
        "--target",
        TRIPLE,
        "--features",
        "check-kernels",
    ]);
    with_files(&mut qemu);
    let log = run("running the firmware in qemu-system-arm (needs `apt-get install qemu-system-arm`)", &mut qemu)?;
    Ok((CheckReport::parse(&log, "the firmware")?, log))
}
