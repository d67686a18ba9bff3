//! `cargo xtask <task>`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! Tasks:
//! - `ci`: install what the checks need when it is missing, then format check, clippy (warnings
//!   denied), the CUDA type-check, and every test. `.ci/run` calls this.
//! - `sample-data`: rebuild `data/fashion-mnist-sample/` from the full Fashion-MNIST.
//! - `firmware`: build the Cortex-M4 firmware, report flash and RAM, run it in QEMU.
//! - `bench`: measure training and inference speed and int8 agreement; writes docs/BENCHMARKS.md.
//! - `fuzz`: run the runtime's fuzz target (nightly and cargo-fuzz, installed when missing).
//! - `digits`: write scikit-learn's 8x8 digits as a PNG image folder (tests of `--dataset folder`).
//! - `golden`: refresh the golden files tests read (`tests/onnx-roundtrip/models/`).

mod bench;
mod ci;
mod digits;
mod firmware;
mod fuzz;
mod golden;
mod install;
mod sample;
mod shell;

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo xtask <task>\n\n\
         tasks:\n  \
           ci            install what is missing, then fmt, clippy, cuda type-check, tests\n  \
           sample-data   rebuild data/fashion-mnist-sample from the full Fashion-MNIST\n  \
           digits        write scikit-learn's 8x8 digits as a PNG folder [DIR]\n  \
           golden        refresh the golden files of tests/onnx-roundtrip from a small training run\n  \
           fuzz          fuzz the runtime's parser and kernels (--runs N | --seconds S)\n  \
           bench         measure and write docs/BENCHMARKS.md ([inference] [training] [wasm-size])\n  \
           firmware      build the Cortex-M4 firmware, report its size, run it in QEMU\n"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(&args[1..]),
        Some("sample-data") => sample::run(&args[1..]),
        Some("digits") => digits::run(&args[1..]),
        Some("golden") => golden::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("firmware") => firmware::run(&args[1..]),
        Some("-h" | "--help" | "help") | None => return usage(),
        Some(other) => {
            eprintln!("unknown task {other:?}");
            return usage();
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
