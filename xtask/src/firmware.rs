//! `cargo xtask firmware [--model FILE.bnq --vectors vectors.bin]`: build the Cortex-M4 firmware,
//! report its flash and RAM use, and run it in QEMU (mps2-an386, deterministic instruction
//! counting). Fails when the firmware does not finish cleanly or prints no digest.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::install;
use crate::shell::{self, cargo, output};

const THUMB: &str = "thumbv7em-none-eabihf";
/// The budget the linker enforces (firmware-demo/cortex-m4/memory/default.x), reported next to the use.
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

/// The words of the thumb target's `runner` in `.cargo/config.toml`: QEMU's command line, up to
/// the `-kernel` that the ELF follows.
fn thumb_runner() -> Result<Vec<String>, String> {
    let path = shell::root().join(".cargo/config.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let section = text
        .split_once(&format!("[target.{THUMB}]"))
        .map(|(_, rest)| rest)
        .ok_or_else(|| format!("{}: no [target.{THUMB}] section", path.display()))?;
    let line = section
        .lines()
        .take_while(|l| !l.starts_with('['))
        .find_map(|l| l.trim().strip_prefix("runner").map(str::trim))
        .and_then(|l| l.strip_prefix('=').map(str::trim))
        .ok_or_else(|| format!("{}: no runner for {THUMB}", path.display()))?;
    Ok(line.trim_matches('"').split_whitespace().map(str::to_string).collect())
}

/// llvm-tools' `llvm-nm`, next to `llvm-size`.
fn llvm_nm() -> String {
    llvm_size().replace("llvm-size", "llvm-nm")
}

/// Symbols listed in the size report.
const TOP_SYMBOLS: usize = 12;

/// Flash and RAM per section, the largest symbols, and the runtime's own code, of the ELF.
fn size_report(elf: &Path, model_bytes: u64) -> Result<(), String> {
    let sections = Command::new(llvm_size()).arg("-A").arg(elf).output().map_err(|e| format!("llvm-size: {e}"))?;
    let text = String::from_utf8_lossy(&sections.stdout);
    let size_of = |name: &str| -> u64 {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let (vectors, code, rodata, data, bss, uninit) = (
        size_of(".vector_table"),
        size_of(".text"),
        size_of(".rodata"),
        size_of(".data"),
        size_of(".bss"),
        size_of(".uninit"),
    );
    let flash = vectors + code + rodata + data;
    let ram = data + bss + uninit;
    println!(
        "flash: {flash} bytes of {FLASH_BUDGET} ({:.0}%): .vector_table {vectors}, .text {code}, .rodata {rodata} \
         (the model {model_bytes}), .data {data}",
        100.0 * flash as f64 / FLASH_BUDGET as f64
    );
    println!(
        "static RAM: {ram} bytes of {RAM_BUDGET} ({:.0}%): .data {data}, .bss {bss}, .uninit {uninit}",
        100.0 * ram as f64 / RAM_BUDGET as f64
    );
    let nm = Command::new(llvm_nm())
        .args(["--print-size", "--size-sort", "--demangle", "--radix=d"])
        .arg(elf)
        .output()
        .map_err(|e| format!("llvm-nm: {e}"))?;
    // "address size type name", largest last; flash symbols only (code and read-only data).
    let mut symbols: Vec<(u64, char, String)> = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(4, ' ');
            let (_, size, kind, name) = (f.next()?, f.next()?, f.next()?, f.next()?);
            let kind = kind.chars().next()?.to_ascii_lowercase();
            (kind == 't' || kind == 'r')
                .then(|| (size.parse().ok(), kind, name.to_string()))
                .and_then(|(s, k, n)| Some((s?, k, n)))
        })
        .collect();
    let runtime: u64 =
        symbols.iter().filter(|(_, k, n)| *k == 't' && n.contains("bottleneck_runtime::")).map(|(s, _, _)| s).sum();
    println!("the runtime's code: {runtime} bytes (functions of bottleneck_runtime, inlined callers not counted)");
    symbols.sort_by_key(|s| std::cmp::Reverse(s.0));
    println!("largest symbols in flash:");
    for (size, kind, name) in symbols.iter().take(TOP_SYMBOLS) {
        // Rust's hash suffixes say nothing to a reader.
        let name = name.rsplit_once("::h").filter(|(_, h)| h.len() == 16).map_or(name.as_str(), |(n, _)| n);
        let what = match (kind, name.starts_with(".L")) {
            ('r', true) if *size == model_bytes => "the int8 model",
            ('r', true) => "unnamed constant (the images, tables)",
            ('r', false) => "read-only data",
            _ => "code",
        };
        println!("  {size:>7}  {}  [{what}]", name.chars().take(90).collect::<String>());
    }
    Ok(())
}

/// Runs the built firmware in QEMU; returns its output.
fn run_in_qemu(dir: &Path, features: &[&str], files: &[(&str, PathBuf)]) -> Result<String, String> {
    // QEMU through the cargo runner of .cargo/config.toml, the one place its command line lives
    // (`bottleneck validate --targets firmware` runs it the same way); the build is done, so
    // `cargo run` only starts it, and `timeout` bounds a hang.
    let mut qemu = shell::cmd("timeout", &["300"]);
    qemu.arg(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["run", "--release", "-q", "--target", THUMB])
        .args(features)
        .current_dir(dir)
        .envs(files.iter().cloned());
    let out = qemu.output().map_err(|e| format!("cargo run (QEMU): {e}"))?;
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{log}");
    if !out.status.success() || !log.lines().any(|l| l.starts_with("digest ")) {
        return Err(format!(
            "the firmware did not finish cleanly ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(log)
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
    install::apt(&[
        ("qemu-system-arm", "/usr/bin/qemu-system-arm"),
        ("gcc-arm-none-eabi", "/usr/bin/arm-none-eabi-gcc"),
        // The C check's `string.h`: gcc only recommends it, and apt runs without recommends.
        ("libnewlib-arm-none-eabi", "/usr/lib/arm-none-eabi/include/string.h"),
    ])?;
    let dir = shell::root().join("firmware-demo/cortex-m4");
    // Absolute paths: the build script runs in another folder.
    let mut files = Vec::new();
    for (var, value) in [("BOTTLENECK_MODEL", &model), ("BOTTLENECK_VECTORS", &vectors)] {
        if let Some(v) = value {
            files.push((var, std::fs::canonicalize(v).map_err(|e| format!("{v}: {e}"))?));
        }
    }
    let model_path = files
        .iter()
        .find(|(v, _)| *v == "BOTTLENECK_MODEL")
        .map_or_else(|| dir.join("assets/model.bnq"), |(_, p)| p.clone());
    let model_bytes = std::fs::metadata(&model_path).map(|m| m.len()).unwrap_or(0);
    let digest = |log: &str| log.lines().find(|l| l.starts_with("digest ")).map(str::to_string);

    // The firmware as shipped: the fastest kernels only.
    let mut build = cargo(&["build", "--release", "--target", THUMB]);
    build.current_dir(&dir).envs(files.iter().cloned());
    shell::run("build the firmware", build)?;
    let elf = shell::target_dir(&dir).join(THUMB).join("release/bottleneck-firmware");
    size_report(&elf, model_bytes)?;
    eprintln!("\n==> run in QEMU");
    let shipped = run_in_qemu(&dir, &[], &files)?;

    // The same with the portable kernels beside the fast ones: every layer kind and the whole
    // check sequence run with both, and the digests must agree.
    let features = ["--features", "check-kernels"];
    let mut build = cargo(&["build", "--release", "--target", THUMB]);
    build.current_dir(&dir).envs(files.iter().cloned()).args(features);
    shell::run("build the firmware with both kernel builds (check-kernels)", build)?;
    eprintln!("\n==> run in QEMU, both kernel builds");
    let checked = run_in_qemu(&dir, &features, &files)?;
    if digest(&shipped) != digest(&checked) || !checked.contains("the portable build gives the same digest") {
        return Err(format!(
            "the kernel builds disagree: {:?} (shipped) against {:?} (check-kernels)",
            digest(&shipped),
            digest(&checked)
        ));
    }

    // The firmware for a board with a debug probe logs with defmt over RTT instead of
    // semihosting: QEMU cannot show RTT, so it is built (and its size reported), not run.
    let mut build = cargo(&["build", "--release", "--target", THUMB, "--features", "rtt"]);
    build.current_dir(&dir).envs(files.iter().cloned());
    shell::run("build the firmware with RTT logging (rtt)", build)?;
    size_report(&elf, model_bytes)?;

    // The C library on the same core: a C program, compiled by arm-none-eabi-gcc against the
    // thumbv7em libbottleneck_c.a, runs the same check on the same files.
    let c_log = c_check(&model_path, &files)?;
    if digest(&c_log) != digest(&shipped) {
        return Err(format!(
            "the C check disagrees: {:?} (C) against {:?} (Rust firmware)",
            digest(&c_log),
            digest(&shipped)
        ));
    }
    Ok(())
}

/// Builds `runtime-c`'s check program (tests/c) for the Cortex-M4 with arm-none-eabi-gcc, linked
/// with the thumbv7em static library, runs it in QEMU and returns its output.
fn c_check(model: &Path, files: &[(&str, PathBuf)]) -> Result<String, String> {
    let root = shell::root();
    let c = root.join("runtime-c/tests/c");
    let vectors = files
        .iter()
        .find(|(v, _)| *v == "BOTTLENECK_VECTORS")
        .map_or_else(|| root.join("firmware-demo/cortex-m4/assets/vectors.bin"), |(_, p)| p.clone());
    shell::run(
        "build libbottleneck_c.a for the Cortex-M4",
        cargo(&[
            "rustc",
            "--release",
            "-p",
            "bottleneck-runtime-c",
            "--lib",
            "--target",
            THUMB,
            "--crate-type",
            "staticlib",
        ]),
    )?;
    let target = shell::target_dir(&root);
    let lib = target.join(THUMB).join("release/libbottleneck_c.a");
    let elf = target.join("c-check-cm4.elf");
    let quoted = |p: &Path| format!("\"{}\"", p.display());
    let mut gcc = shell::cmd(
        "arm-none-eabi-gcc",
        &[
            "-mcpu=cortex-m4",
            "-mthumb",
            "-mfloat-abi=hard",
            "-mfpu=fpv4-sp-d16",
            "-O2",
            "-std=gnu99",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-ffreestanding",
            "-nostdlib",
            "-ffunction-sections",
            "-fdata-sections",
            "-Wl,--gc-sections",
            // Bare-metal objects carry no .note.GNU-stack, and a Cortex-M has no stack execution
            // protection to lose: ld's warning says nothing here.
            "-Wl,--no-warn-execstack",
        ],
    );
    gcc.arg("-I")
        .arg(root.join("runtime-c/include"))
        .arg(format!("-DMODEL_PATH={}", quoted(model)))
        .arg(format!("-DVECTORS_PATH={}", quoted(&vectors)))
        .args([c.join("check.c"), c.join("main_cm4.c"), c.join("data.S")])
        .arg("-T")
        .arg(c.join("cm4.ld"))
        .arg(&lib)
        .arg("-o")
        .arg(&elf);
    shell::run("compile the C check for the Cortex-M4 (arm-none-eabi-gcc)", gcc)?;
    eprintln!("\n==> run the C check in QEMU");
    // The command line of the thumb target's cargo runner (.cargo/config.toml), the one place it
    // is written; cargo's runner would start the Rust firmware, so it is read here for the C one.
    let runner = thumb_runner()?;
    let out = shell::cmd("timeout", &["120"])
        .args(&runner)
        .arg(&elf)
        .output()
        .map_err(|e| format!("qemu-system-arm: {e}"))?;
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{log}");
    if !out.status.success() {
        return Err(format!("the C check failed in QEMU ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)));
    }
    Ok(log)
}
