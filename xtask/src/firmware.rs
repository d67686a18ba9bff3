//! `cargo xtask firmware [--model FILE.bnq --vectors vectors.bin]`: build the Cortex-M4 firmware,
//! report its flash and RAM use, and run it in QEMU (mps2-an386, deterministic instruction
//! counting). Fails when the firmware does not finish cleanly or prints no digest.

use std::process::Command;

use crate::install;
use crate::shell::{self, cargo, output};

const THUMB: &str = "thumbv7em-none-eabihf";
/// The budget the linker enforces (firmware-demo/cortex-m4/memory.x), reported next to the use.
const FLASH_BUDGET: u64 = 256 * 1024;
const RAM_BUDGET: u64 = 64 * 1024;

/// `llvm-size` from rustup's llvm-tools.
fn llvm_size() -> String {
    let sysroot = output("rustc", &["--print", "sysroot"]);
    let host = output("rustc", &["-vV"])
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap_or("x86_64-unknown-linux-gnu")
        .to_string();
    format!("{}/lib/rustlib/{host}/bin/llvm-size", sysroot.trim())
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut model = None;
    let mut vectors = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--model" => model = it.next().cloned(),
            "--vectors" => vectors = it.next().cloned(),
            other => return Err(format!("unknown option {other:?} (firmware takes --model FILE --vectors FILE)")),
        }
    }
    install::rustup(&["llvm-tools"], &[THUMB])?;
    install::apt(&[("qemu-system-arm", "/usr/bin/qemu-system-arm")])?;
    let dir = shell::root().join("firmware-demo/cortex-m4");
    // Absolute paths: the build script runs in another folder.
    let mut files = Vec::new();
    for (var, value) in [("BOTTLENECK_MODEL", &model), ("BOTTLENECK_VECTORS", &vectors)] {
        if let Some(v) = value {
            files.push((var, std::fs::canonicalize(v).map_err(|e| format!("{v}: {e}"))?));
        }
    }
    let mut build = cargo(&["build", "--release", "--target", THUMB]);
    build.current_dir(&dir).envs(files.iter().cloned());
    shell::run("build the firmware", build)?;
    let target = shell::target_dir(&dir);
    let elf = target.join(THUMB).join("release/bottleneck-firmware");
    let sizes = Command::new(llvm_size()).arg(&elf).output().map_err(|e| format!("llvm-size: {e}"))?;
    let text = String::from_utf8_lossy(&sizes.stdout);
    let nums: Vec<u64> =
        text.lines().nth(1).unwrap_or("").split_whitespace().take(3).filter_map(|n| n.parse().ok()).collect();
    if let [t, d, b] = nums[..] {
        println!(
            "flash: {} bytes of {FLASH_BUDGET} ({:.0}%), static RAM: {} bytes of {RAM_BUDGET} ({:.0}%)",
            t + d,
            100.0 * (t + d) as f64 / FLASH_BUDGET as f64,
            d + b,
            100.0 * (d + b) as f64 / RAM_BUDGET as f64
        );
    }
    // QEMU through the cargo runner of .cargo/config.toml, the one place its command line lives
    // (`bottleneck validate --targets firmware` runs it the same way); the build above is done, so
    // `cargo run` only starts it, and `timeout` bounds a hang.
    let mut qemu = shell::cmd("timeout", &["300"]);
    qemu.arg(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["run", "--release", "-q", "--target", THUMB])
        .current_dir(&dir)
        .envs(files);
    eprintln!("\n==> run in QEMU");
    let out = qemu.output().map_err(|e| format!("cargo run (QEMU): {e}"))?;
    let log = String::from_utf8_lossy(&out.stdout);
    print!("{log}");
    if !out.status.success() || !log.lines().any(|l| l.starts_with("digest ")) {
        return Err(format!(
            "the firmware did not finish cleanly ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}
