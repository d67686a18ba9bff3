//! `cargo xtask ci`: everything CI checks, in the order that fails fastest.
//!
//! One cargo profile (release) serves clippy, the tests and the binary, so burn is compiled once
//! (plus a metadata-only pass for clippy and one for the CUDA type-check).

use crate::install;
use crate::shell::{self, cargo};

const ROUNDTRIP: &str = "tests/onnx-roundtrip/Cargo.toml";
const FIRMWARE: &str = "firmware-demo/cortex-m4/Cargo.toml";
/// The burn-in-wasm size reference (`cargo xtask bench wasm-size`; not built in CI: burn for wasm32
/// is a long build that checks nothing of ours).
const BURN_WASM: &str = "firmware-demo/burn-wasm/Cargo.toml";
const WASM: &str = "wasm32-unknown-unknown";
const THUMB: &str = "thumbv7em-none-eabihf";

pub fn run(args: &[String]) -> Result<(), String> {
    let skip_cuda = args.iter().any(|a| a == "--no-cuda");
    if let Some(bad) = args.iter().find(|a| *a != "--no-cuda") {
        return Err(format!("unknown option {bad:?} (ci takes --no-cuda)"));
    }
    install::rustup(&["rustfmt", "clippy", "llvm-tools"], &[WASM, THUMB])?;
    install::apt(&[
        ("dataset-fashion-mnist", "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"),
        ("nodejs", "/usr/bin/node"),
        ("npm", "/usr/bin/npm"),
        ("qemu-system-arm", "/usr/bin/qemu-system-arm"),
        ("chromium", "/usr/bin/chromium"),
        // The tuner's PostgreSQL storage is tested against a real server the test starts.
        ("postgresql", "/usr/lib/postgresql"),
    ])?;
    // The browser test's driver (playwright-core, pinned by package-lock.json; it uses Debian's
    // Chromium, no browser download).
    if !shell::root().join("firmware-demo/web/node_modules/playwright-core").is_dir() {
        let mut npm = shell::cmd("npm", &["ci", "--no-audit", "--no-fund"]);
        npm.current_dir(shell::root().join("firmware-demo/web"));
        shell::run("npm ci", npm)?;
    }

    shell::run("format", cargo(&["fmt", "--all", "--", "--check"]))?;
    shell::run("format round trip", cargo(&["fmt", "--manifest-path", ROUNDTRIP, "--", "--check"]))?;
    shell::run("format firmware", cargo(&["fmt", "--manifest-path", FIRMWARE, "--", "--check"]))?;
    shell::run("format burn wasm", cargo(&["fmt", "--manifest-path", BURN_WASM, "--", "--check"]))?;
    shell::run("clippy", cargo(&["clippy", "--release", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    for target in [WASM, THUMB] {
        let mut args = vec!["clippy", "--release", "--target", target, "-p", "bottleneck-runtime"];
        if target == WASM {
            args.extend(["-p", "bottleneck-wasm"]);
        } else {
            // The C library as firmware links it (libbottleneck_c.a; `cargo xtask firmware` runs it).
            args.extend(["-p", "bottleneck-runtime-c"]);
        }
        args.extend(["--", "-D", "warnings"]);
        shell::run(&format!("clippy {target}"), cargo(&args))?;
    }
    // The runtime builds with no std and no allocator for the microcontroller; the firmware
    // links within its flash and RAM budget and runs in QEMU.
    shell::run("runtime for Cortex-M4", cargo(&["build", "--release", "-p", "bottleneck-runtime", "--target", THUMB]))?;
    shell::run(
        "clippy firmware",
        cargo(&[
            "clippy",
            "--release",
            "--manifest-path",
            FIRMWARE,
            "--target",
            THUMB,
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    crate::firmware::run(&[])?;
    // The end-to-end tests run the real binary and the wasm module: build them first.
    shell::run("build", cargo(&["build", "--release", "-p", "bottleneck"]))?;
    shell::run("wasm module", cargo(&["build", "--release", "-p", "bottleneck-wasm", "--target", WASM]))?;
    // PyTorch runs the exported model.py in a test (a virtual environment under ~/.cache).
    let python = install::torch_python()?;
    let mut tests = cargo(&["test", "--release", "--workspace"]);
    // The PostgreSQL, PyTorch and digits tests must run here, not skip.
    tests.env("BOTTLENECK_REQUIRE_POSTGRES", "1").env("BOTTLENECK_REQUIRE_TORCH", "1").env("BOTTLENECK_PYTHON", python);
    // scikit-learn's digits as a PNG folder, for the image-folder tests (under ~/.cache).
    let digits = crate::digits::default_dir();
    crate::digits::ensure(&digits)?;
    tests.env("BOTTLENECK_DIGITS", &digits).env("BOTTLENECK_REQUIRE_DIGITS", "1");
    shell::run("tests", tests)?;
    // ONNX written by Bottleneck, imported back with burn-import (its own lock file: docs/onnx.md).
    shell::run("onnx round trip", cargo(&["test", "--release", "--manifest-path", ROUNDTRIP]))?;
    if !skip_cuda {
        // Type-checks the CUDA backend; DOCS_RS=1 skips the LLVM download that a real build needs
        // (see docs/cuda.md for the real build).
        let mut c = cargo(&["check", "--release", "-p", "bottleneck", "--features", "cuda"]);
        c.env("DOCS_RS", "1");
        shell::run("cuda type-check", c)?;
    }
    eprintln!("\nci: all checks passed");
    Ok(())
}
