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
/// Flash of the board `memory/default.x` describes, and what the firmware's code and embedded images
/// take besides the model (about 40 KB of code, docs/firmware.md, and 32 images of 784 bytes).
const BOARD_FLASH: u64 = 256 * 1024;
const BESIDES_THE_MODEL: u64 = 72 * 1024;

/// Builds the firmware with `bnq` and `vectors` (absolute paths) and runs it in QEMU.
///
/// # Errors
/// When the build or QEMU fails, or the firmware prints no digest.
pub fn check(bnq: &Path, vectors: &Path) -> anyhow::Result<(CheckReport, String)> {
    let dir = source_tree()?.join("firmware-demo/cortex-m4");
    // A model too large for the board of memory/default.x runs on QEMU's board as it is (4 MiB), and the
    // report says so.
    let model_bytes = std::fs::metadata(bnq).map(|m| m.len()).unwrap_or(0);
    let too_large = model_bytes + BESIDES_THE_MODEL > BOARD_FLASH;
    let memory_x = dir.join("memory/mps2-an386.x");
    let with_files = |c: &mut Command| {
        c.current_dir(&dir).env("BOTTLENECK_MODEL", bnq).env("BOTTLENECK_VECTORS", vectors);
        if too_large {
            c.env("BOTTLENECK_MEMORY_X", &memory_x);
        }
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
    let mut report = CheckReport::parse(&log, "the firmware")?;
    if too_large {
        let note =
            format!("(the {model_bytes}-byte model does not fit a 256 KiB part: linked for QEMU's mps2-an386, 4 MiB)");
        report.instructions = Some(report.instructions.map_or(note.clone(), |i| format!("{i}\n{:19}{note}", "")));
    }
    Ok((report, log))
}
