//! `cargo xtask bench [inference] [training]`: measure, and write the results into
//! docs/BENCHMARKS.md between `<!-- BEGIN name -->` and `<!-- END name -->` markers, with the
//! commands that produced them.
//!
//! - `inference`: trains the pipeline's conv autoencoder (`bottleneck run --name bench`), then the
//!   int8-vs-float agreement (`bottleneck validate`) and per-image latency of the int8 runtime,
//!   burn and tract (`cargo bench --bench inference`).
//! - `training`: seconds per epoch of the conv autoencoder on each CPU backend.

use std::path::Path;
use std::process::Command;

use crate::shell::{self, cargo};

const DOC: &str = "docs/BENCHMARKS.md";

/// Runs `c`, echoing it, and returns its stdout (stderr passes through).
fn capture(step: &str, mut c: Command) -> Result<String, String> {
    eprintln!("\n==> {step}");
    let out = c.stderr(std::process::Stdio::inherit()).output().map_err(|e| format!("{step}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{step} failed ({})", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn bottleneck(args: &[&str]) -> Command {
    let mut all = vec!["run", "--release", "-q", "-p", "bottleneck", "--"];
    all.extend_from_slice(args);
    cargo(&all)
}

/// Replaces the text between the markers of `name` in the benchmarks document.
fn write_section(name: &str, body: &str) -> Result<(), String> {
    let path = shell::root().join(DOC);
    let doc = std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let (begin, end) = (format!("<!-- BEGIN {name} -->"), format!("<!-- END {name} -->"));
    let (Some(a), Some(b)) = (doc.find(&begin), doc.find(&end)) else {
        return Err(format!("{} has no {begin} ... {end} section", path.display()));
    };
    let new = format!("{}{begin}\n{}\n{}", &doc[..a], body.trim_end(), &doc[b..]);
    std::fs::write(&path, new).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores ({cpu})")
}

fn inference() -> Result<(), String> {
    let runs = shell::root().join("runs");
    let run = runs.join("bench/conv-ae");
    let run_s = run.to_string_lossy().into_owned();
    if !run.join("export/encoder.onnx").exists() {
        shell::run(
            "train the benchmark model",
            bottleneck(&["run", "--name", "bench", "--runs", &runs.to_string_lossy(), "-q"]),
        )?;
    }
    let validate = capture("int8 agreement", bottleneck(&["validate", &run_s]))?;
    let mut bench = cargo(&["bench", "--workspace", "--bench", "inference", "--", &run_s]);
    bench.env("CARGO_TERM_QUIET", "true");
    let latency = capture("latency", bench)?;
    let body = format!(
        "Measured by `cargo xtask bench inference` on {machine}: it trains the pipeline's model \
         (`bottleneck run --name bench`, the full Fashion-MNIST when installed), then runs\n\
         `bottleneck validate runs/bench/conv-ae` and `cargo bench --bench inference -- runs/bench/conv-ae`.\n\n\
         ### int8 against float\n\n```text\n$ bottleneck validate runs/bench/conv-ae\n{validate}```\n\n\
         ### Latency at batch 1\n\n{latency}",
        machine = machine(),
    );
    write_section("inference", &body)
}

fn epoch_seconds(run: &Path) -> Result<Vec<f64>, String> {
    let text = std::fs::read_to_string(run.join("metrics.csv")).map_err(|e| format!("{}: {e}", run.display()))?;
    Ok(text.lines().skip(1).filter_map(|l| l.split(',').nth(1)?.parse().ok()).collect())
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
}

fn training() -> Result<(), String> {
    let runs = shell::root().join("runs/bench-training");
    let runs_s = runs.to_string_lossy().into_owned();
    let mut rows = Vec::new();
    for (backend, epochs) in [("flex", "3"), ("ndarray", "1")] {
        let args = [
            "train",
            "conv-ae",
            "--epochs",
            epochs,
            "--latent",
            "16",
            "--batch-size",
            "256",
            "--valid-fraction",
            "0",
            "--device",
            backend,
            "--runs",
            &runs_s,
            "--name",
            backend,
            "--overwrite",
            "-q",
        ];
        shell::run(&format!("train on {backend}"), bottleneck(&args))?;
        let secs = epoch_seconds(&runs.join(backend))?;
        rows.push(format!(
            "| {backend} | {epochs} | {:.1} | {} |",
            median(&secs),
            secs.iter().map(|s| format!("{s:.1}")).collect::<Vec<_>>().join(", ")
        ));
    }
    let body = format!(
        "Measured by `cargo xtask bench training` on {}: the seed-002 conv autoencoder, latent 16,\n\
         batch 256, Adam, all 60,000 training images when the Debian dataset is installed\n\
         (`bottleneck train conv-ae --epochs N --valid-fraction 0 --device BACKEND`).\n\n\
         | backend | epochs | seconds per epoch (median) | each epoch |\n|---|---|---|---|\n{}\n",
        machine(),
        rows.join("\n")
    );
    write_section("training", &body)
}

pub fn run(args: &[String]) -> Result<(), String> {
    let all = args.is_empty();
    for a in args {
        if a != "inference" && a != "training" {
            return Err(format!("unknown benchmark {a:?} (inference, training)"));
        }
    }
    if all || args.iter().any(|a| a == "training") {
        training()?;
    }
    if all || args.iter().any(|a| a == "inference") {
        inference()?;
    }
    eprintln!("\nwrote {DOC}");
    Ok(())
}
