//! `cargo xtask fuzz`: runs the cargo-fuzz targets (the runtime's in `runtime/fuzz`, the trainer's
//! file readers in `trainer/fuzz`, each its own workspace) for a number of executions or seconds,
//! installing the nightly toolchain and cargo-fuzz first when they are missing.
//!
//! Options: `--runs N` (executions per target, default 1,000,000), `--seconds S` (a time limit per
//! target instead), `--target NAME` (one target; default every one). Builds go to
//! `$CARGO_TARGET_DIR`, or `~/.cache/bottleneck/fuzz-target` when it is unset. A crash stops the
//! run with an error; libFuzzer saves the input under `<crate>/fuzz/artifacts/<target>/`.
//!
//! The trainer's targets build without a sanitizer (`-s none`): they fuzz safe Rust for panics,
//! and AddressSanitizer would only slow the build of burn they link.

use std::path::PathBuf;

use crate::shell::{self, has, output};

/// A fuzz target: its crate folder, name, and whether it builds with AddressSanitizer.
struct Target {
    dir: &'static str,
    name: &'static str,
    asan: bool,
}

/// Every target.
const TARGETS: &[Target] = &[
    Target { dir: "runtime/fuzz", name: "parse_and_run", asan: true },
    Target { dir: "trainer/fuzz", name: "idx", asan: false },
    Target { dir: "trainer/fuzz", name: "run_files", asan: false },
];
const DEFAULT_RUNS: u64 = 1_000_000;
/// libFuzzer options for every run: one process, a memory cap, a per-input time limit (a slow
/// input is a finding too), and the totals at the end.
// Inputs up to 128 KiB: large enough for layers near the runtime's size limits, which a cap at the
// seed's size (60 KB) would never reach.
const LIBFUZZER: &[&str] = &["-rss_limit_mb=2048", "-timeout=60", "-print_final_stats=1", "-max_len=131072"];

enum Budget {
    Runs(u64),
    Seconds(u64),
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut budget = Budget::Runs(DEFAULT_RUNS);
    let mut targets: Vec<&Target> = TARGETS.iter().collect();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--runs" => budget = Budget::Runs(number(arg, it.next())?),
            "--seconds" => budget = Budget::Seconds(number(arg, it.next())?),
            "--target" => {
                let name = it.next().ok_or("--target needs a name")?;
                let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
                let known = TARGETS.iter().find(|t| t.name == name.as_str());
                targets = vec![known.ok_or_else(|| format!("unknown fuzz target {name:?} (have {names:?})"))?];
            }
            other => {
                return Err(format!("unknown option {other:?} (fuzz takes --runs N, --seconds S, --target NAME)"));
            }
        }
    }

    nightly()?;
    if !has("cargo-fuzz") {
        shell::run("install cargo-fuzz", shell::cargo(&["install", "cargo-fuzz", "--locked"]))?;
    }

    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/bottleneck/fuzz-target")));
    let limit = match budget {
        Budget::Runs(n) => format!("-runs={n}"),
        Budget::Seconds(s) => format!("-max_total_time={s}"),
    };
    for target in targets {
        let dir = shell::root().join(target.dir);
        let sanitizer = if target.asan { "address" } else { "none" };
        // Plain `cargo` (the rustup proxy), not `$CARGO`: only the proxy understands `+nightly`.
        let mut c = shell::cmd("cargo", &["+nightly", "fuzz", "run", "-s", sanitizer, target.name]);
        // New inputs go to the first corpus folder (a cache, so the repository stays clean); the
        // repository's corpus folder holds the seeds.
        let cache = corpus_cache(target.name)?;
        c.arg(&cache).arg(format!("corpus/{}", target.name)).args(["--", &limit]);
        c.args(LIBFUZZER).current_dir(&dir).env("RUSTUP_TOOLCHAIN", "nightly");
        if let Some(t) = &target_dir {
            c.env("CARGO_TARGET_DIR", t);
        }
        shell::run(&format!("fuzz {}", target.name), c)?;
    }
    eprintln!("\nfuzz: no crash");
    Ok(())
}

/// `~/.cache/bottleneck/fuzz-corpus/<target>`, created.
fn corpus_cache(target: &str) -> Result<PathBuf, String> {
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    let dir = PathBuf::from(home).join(".cache/bottleneck/fuzz-corpus").join(target);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// Installs the nightly toolchain (cargo-fuzz's sanitizers need it) unless it is there.
fn nightly() -> Result<(), String> {
    if !has("rustup") {
        return Err("cargo xtask fuzz needs rustup to get a nightly toolchain".into());
    }
    // `nightly-<host>` (a dated `nightly-2025-...` is not what `+nightly` picks).
    let installed = output("rustup", &["toolchain", "list"]).lines().any(|l| {
        l.split_whitespace()
            .next()
            .and_then(|name| name.strip_prefix("nightly-"))
            .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_digit()))
    });
    if installed {
        return Ok(());
    }
    shell::run("install nightly", shell::cmd("rustup", &["toolchain", "install", "nightly", "--profile", "minimal"]))
}

fn number(option: &str, value: Option<&String>) -> Result<u64, String> {
    let v = value.ok_or_else(|| format!("{option} needs a number"))?;
    v.replace('_', "").parse().map_err(|_| format!("{option}: {v:?} is not a number"))
}
