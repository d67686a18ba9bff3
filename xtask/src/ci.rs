//! `cargo xtask ci`: everything CI checks, in the order that fails fastest.
//!
//! One cargo profile (release) serves clippy, the tests and the binary, so burn is compiled once
//! (plus a metadata-only pass for clippy and one for the CUDA type-check).

use crate::install;
use crate::shell::{self, cargo};

pub fn run(args: &[String]) -> Result<(), String> {
    let skip_cuda = args.iter().any(|a| a == "--no-cuda");
    if let Some(bad) = args.iter().find(|a| *a != "--no-cuda") {
        return Err(format!("unknown option {bad:?} (ci takes --no-cuda)"));
    }
    install::rustup(&["rustfmt", "clippy"], &[])?;
    install::apt(&[("dataset-fashion-mnist", "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")])?;

    shell::run("format", cargo(&["fmt", "--all", "--", "--check"]))?;
    shell::run("clippy", cargo(&["clippy", "--release", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    // The end-to-end tests run the real binary: build it first.
    shell::run("build", cargo(&["build", "--release", "-p", "bottleneck"]))?;
    shell::run("tests", cargo(&["test", "--release", "--workspace"]))?;
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
