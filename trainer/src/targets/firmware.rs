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
/// Flash of the board `memory/default.x` describes, and what the firmware's code takes besides the
/// model and the embedded images (about 40 KB, docs/firmware.md, with room to spare).
const BOARD_FLASH: u64 = 256 * 1024;
const CODE: u64 = 48 * 1024;

/// Flash the embedded images take: per image its pixels as bytes, its float code and its label
/// (read from the vectors file's header: `[c][h][w]` at bytes 12..18, the code size at 18).
fn embedded_images(vectors: &Path) -> u64 {
    let header = std::fs::read(vectors).unwrap_or_default();
    let u16_at = |o: usize| header.get(o..o + 2).map_or(0, |b| u64::from(u16::from_le_bytes([b[0], b[1]])));
    let (pixels, latent) = (u16_at(12) * u16_at(14) * u16_at(16), u16_at(18));
    FIRMWARE_IMAGES as u64 * (pixels + 4 * latent + 1)
}

/// Builds the firmware with `bnq` and `vectors` (absolute paths) and runs it in QEMU.
///
/// # Errors
/// When the build or QEMU fails, or the firmware prints no digest.
pub fn check(bnq: &Path, vectors: &Path) -> anyhow::Result<(CheckReport, String)> {
    let dir = source_tree()?.join("firmware-demo/cortex-m4");
    // A model too large for the board of memory/default.x runs on QEMU's board as it is (4 MiB), and the
    // report says so.
    let model_bytes = std::fs::metadata(bnq).map(|m| m.len()).unwrap_or(0);
    let too_large = model_bytes + CODE + embedded_images(vectors) > BOARD_FLASH;
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
