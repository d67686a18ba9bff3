//! `cargo xtask bench [inference] [training]`: measure, and write the results into
//! docs/BENCHMARKS.md between `<!-- BEGIN name -->` and `<!-- END name -->` markers, with the
//! commands that produced them.
//!
//! - `inference`: trains the pipeline's conv autoencoder (`bottleneck run --only conv-ae`) and a
//!   classifier fine-tuned on it, then the int8-vs-float agreement (`bottleneck validate`) and
//!   per-image latency of the int8 runtime, burn and tract (`cargo bench --bench inference`).
//! - `training`: seconds per epoch of the conv autoencoder on each CPU backend.
//! - `tuning` (only when named; 54 minutes on 2 cores): a 20-trial TPE study of the conv
//!   autoencoder with the median pruner, the same 20 trials replayed without pruning and under
//!   successive halving, and the default configuration, on the full data.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::install::TORCH;
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
    let runs = shell::root().join("runs/bench");
    let runs_s = runs.to_string_lossy().into_owned();
    let run = runs.join("classifier");
    let run_s = run.to_string_lossy().into_owned();
    // Both runs are made afresh unless the classifier's export is there (a run directory from an
    // older Bottleneck may not load).
    let fresh = !run.join("export/encoder.onnx").exists();
    if fresh {
        shell::run(
            "train the benchmark autoencoder",
            bottleneck(&[
                "run",
                "--only",
                "conv-ae",
                "--runs",
                &shell::root().join("runs").to_string_lossy(),
                "--name",
                "bench",
                "--overwrite",
                "-q",
            ]),
        )?;
    }
    if fresh {
        let ae = runs.join("conv-ae").to_string_lossy().into_owned();
        let train = [
            "train",
            "classifier",
            "--pretrained",
            &ae,
            "--epochs",
            "5",
            "--runs",
            &runs_s,
            "--name",
            "classifier",
            "--overwrite",
            "-q",
        ];
        shell::run("train the benchmark classifier", bottleneck(&train))?;
        shell::run("export it", bottleneck(&["export", &run_s, "--onnx"]))?;
    }
    // A measurement, not a gate: report the agreement whatever it is.
    let validate = capture("int8 agreement", bottleneck(&["validate", &run_s, "--min-agreement", "0"]))?;
    let mut bench = cargo(&["bench", "--workspace", "--bench", "inference", "--", &run_s]);
    bench.env("CARGO_TERM_QUIET", "true");
    let latency = capture("latency", bench)?;
    // The same model in WebAssembly under Node, both builds of the module.
    let (plain, simd) = wasm_modules()?;
    let export = run.join("export");
    let mut wasm_rows = Vec::new();
    for (name, module) in [("wasm32 (Node)", &plain), ("wasm32 simd128 (Node)", &simd)] {
        let out = capture(
            name,
            shell::cmd(
                "node",
                &[
                    &shell::root().join("firmware-demo/wasm/bench.mjs").to_string_lossy(),
                    &module.to_string_lossy(),
                    &export.join("model.bnq").to_string_lossy(),
                    &export.join("vectors.bin").to_string_lossy(),
                ],
            ),
        )?;
        let field = |k: &str| out.split_whitespace().skip_while(|w| *w != k).nth(1).unwrap_or("-").to_string();
        wasm_rows.push(format!(
            "| {name} | {} | {} | {} |",
            field("encode_us"),
            field("decode_us"),
            field("classify_us")
        ));
    }
    let wasm_table = format!(
        "\n### The int8 module in WebAssembly\n\nThe same `model.bnq` in `firmware-demo/wasm` under Node {} \
         (`node firmware-demo/wasm/bench.mjs MODULE model.bnq vectors.bin`: the first test image, batch 1, median of 9 \
         rounds), microseconds per image:\n\n| module | encode | decode | classify |\n|---|---|---|---|\n{}\n",
        shell::output("node", &["--version"]).trim(),
        wasm_rows.join("\n")
    );
    let body = format!(
        "Measured by `cargo xtask bench inference` on {machine}: it trains the pipeline's autoencoder \
         (`bottleneck run --only conv-ae --name bench`, the full Fashion-MNIST when installed) and a classifier\n\
         fine-tuned on its encoder for 5 epochs (`bottleneck train classifier --pretrained runs/bench/conv-ae --epochs 5`),\n\
         exports it (`bottleneck export runs/bench/classifier --onnx`), then runs `bottleneck validate runs/bench/classifier --min-agreement 0`\n\
         and `cargo bench --bench inference -- runs/bench/classifier`.\n\n\
         ### int8 against float\n\n```text\n$ bottleneck validate runs/bench/classifier --min-agreement 0\n{validate}```\n\n\
         ### Latency at batch 1\n\n{latency}{wasm_table}",
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

/// `(model, kind, batch)` of the training benchmark.
const MODELS: [(&str, &str, &str); 4] =
    [("conv-ae", "conv-ae", "256"), ("fc-ae", "fc-ae", "128"), ("conv-vae", "conv-vae", "256"), ("cnn", "cnn", "128")];

/// The configurations timed for each model: `(label, device, BOTTLENECK_CONV, epochs)`. ndarray
/// is skipped for the CNN (its convolutions would take most of an hour per epoch).
const SETUPS: [(&str, &str, &str, &str); 3] =
    [("flex", "flex", "own", "3"), ("flex, burn's kernels", "flex", "burn", "1"), ("ndarray", "ndarray", "own", "1")];

/// Peak resident memory of a training process: through its first epoch, and through all.
struct Peak {
    first_epoch_kib: u64,
    all_kib: u64,
}

/// `VmHWM` (peak resident set) of process `pid`, in KiB.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the release `bottleneck` with `args` into `run`, polling its peak memory; the peak when
/// the first epoch's row appears in metrics.csv is "through the first epoch" (read within 50 ms).
fn train_measured(step: &str, args: &[&str], env: (&str, &str), run: &Path) -> Result<Peak, String> {
    let bin = shell::target_dir(&shell::root()).join("release/bottleneck");
    let _ = std::fs::remove_dir_all(run);
    eprintln!("\n==> {step}: {} {}={} {}", bin.display(), env.0, env.1, args.join(" "));
    let mut child = Command::new(&bin)
        .args(args)
        .env(env.0, env.1)
        .current_dir(shell::root())
        .spawn()
        .map_err(|e| format!("{step}: cannot start {}: {e}", bin.display()))?;
    let (mut first, mut all) = (None, 0);
    let status = loop {
        if let Some(kib) = peak_kib(child.id()) {
            all = kib;
            let rows =
                std::fs::read_to_string(run.join("metrics.csv")).map_or(0, |t| t.lines().count().saturating_sub(1));
            if first.is_none() && rows >= 1 {
                first = Some(kib);
            }
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(50)),
            Err(e) => return Err(format!("{step}: {e}")),
        }
    };
    if !status.success() {
        return Err(format!("{step} failed ({status})"));
    }
    Ok(Peak { first_epoch_kib: first.unwrap_or(all), all_kib: all })
}

/// Seconds per epoch of `model` in `xtask/python/pytorch_reference.py` (3 epochs on 2 threads),
/// and the same as printed.
fn pytorch_epochs(data: &str, model: &str) -> Result<(Vec<f64>, String), String> {
    let python = crate::install::torch_python()?;
    let script = shell::root().join("xtask/python/pytorch_reference.py");
    let args = [&*script.to_string_lossy(), "--data", data, "--epochs", "3", "--threads", "2", "--models", model];
    let out = capture(&format!("PyTorch reference, {model}"), shell::cmd(&python.to_string_lossy(), &args))?;
    let line = out
        .lines()
        .find(|l| l.contains(&format!("\"model\": \"{model}\"")))
        .ok_or_else(|| format!("pytorch_reference.py printed no result for {model}:\n{out}"))?;
    let list = line
        .split("\"seconds_per_epoch\": [")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .ok_or_else(|| format!("pytorch_reference.py: no seconds_per_epoch in {line}"))?;
    let secs: Vec<f64> = list.split(',').filter_map(|v| v.trim().parse().ok()).collect();
    if secs.is_empty() {
        return Err(format!("pytorch_reference.py: no epoch times in {line}"));
    }
    Ok((secs, list.to_string()))
}

fn training() -> Result<(), String> {
    let runs = shell::root().join("runs/bench-training");
    let runs_s = runs.to_string_lossy().into_owned();
    let data = "/usr/share/datasets/fashion-mnist";
    if !Path::new(data).join("train-images-idx3-ubyte.gz").exists() {
        return Err(format!(
            "the training benchmark needs the full Fashion-MNIST in {data} (apt-get install dataset-fashion-mnist)"
        ));
    }
    shell::run("build bottleneck", cargo(&["build", "--release", "-q", "-p", "bottleneck"]))?;
    let mut medians: Vec<[Option<f64>; 4]> = vec![[None; 4]; MODELS.len()];
    let mut memory = Vec::new();
    let mut detail = Vec::new();
    for (m, (model, kind, batch)) in MODELS.iter().enumerate() {
        for (b, (label, device, kernels, epochs)) in SETUPS.iter().enumerate() {
            if *model == "cnn" && *device == "ndarray" {
                continue;
            }
            let name = format!("{model}-{}", label.replace([',', '\''], "").replace(' ', "-"));
            let args = [
                "train",
                kind,
                "--data",
                data,
                "--epochs",
                epochs,
                "--batch-size",
                batch,
                "--valid-fraction",
                "0",
                "--device",
                device,
                "--runs",
                &runs_s,
                "--name",
                &name,
                "--overwrite",
                "-q",
            ];
            let peak = train_measured(
                &format!("train {model} on {label}"),
                &args,
                ("BOTTLENECK_CONV", kernels),
                &runs.join(&name),
            )?;
            let secs = epoch_seconds(&runs.join(&name))?;
            medians[m][b] = Some(median(&secs));
            if b == 0 {
                memory.push((peak.first_epoch_kib, peak.all_kib));
            }
            detail.push(format!(
                "{model} on {label}: {}",
                secs.iter().map(|s| format!("{s:.1}")).collect::<Vec<_>>().join(", ")
            ));
            if b == 0 {
                // PyTorch right after the flex run it is compared with: this machine's speed
                // drifts by a quarter within minutes, so the two that make the ratio run
                // back to back.
                let (secs, line) = pytorch_epochs(data, model)?;
                medians[m][3] = Some(median(&secs));
                detail.push(format!("{model} in PyTorch {TORCH}: {line}"));
            }
        }
    }
    let cell = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{v:.1}"));
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "-".into(),
    };
    let mib = |kib: u64| format!("{:.0}", kib as f64 / 1024.0);
    let rows: Vec<String> = MODELS
        .iter()
        .zip(&medians)
        .zip(&memory)
        .map(|(((model, _, batch), [own, generic, nd, torch]), (first, all))| {
            format!(
                "| {model} | {batch} | {} | {} | {} | {} | **{}** | {} | {} / {} |",
                cell(*own),
                cell(*generic),
                cell(*nd),
                cell(*torch),
                ratio(*own, *torch),
                ratio(*generic, *torch),
                mib(*first),
                mib(*all)
            )
        })
        .collect();
    let body = format!(
        "Measured by `cargo xtask bench training` on {}: all 60,000 training images, Adam, median seconds per\n\
         training epoch (flex with the own kernels of `trainer/src/kernels`: 3 epochs; flex with burn's own\n\
         convolutions and batch norm, `BOTTLENECK_CONV=burn`: 1; ndarray: 1, not run for the CNN; PyTorch {TORCH}: 3 on 2\n\
         threads, `xtask/python/pytorch_reference.py`, same networks, batch sizes and optimizer, run right after\n\
         the flex run of the same model;\n\
         `bottleneck train KIND --epochs N --valid-fraction 0 --device BACKEND`). Peak memory is the process's\n\
         peak resident set (VmHWM) through the first epoch and through all three, with the own kernels.\n\n\
         | model | batch | flex | flex, burn's kernels | ndarray | PyTorch | flex / PyTorch | burn's kernels / PyTorch | peak MiB (1 epoch / 3) |\n\
         |---|---|---|---|---|---|---|---|---|\n{}\n\n\
         Each epoch: {}.\n",
        machine(),
        rows.join("\n"),
        detail.join("; ")
    );
    write_section("training", &body)
}

/// Builds the runtime's wasm module twice, plain and with 128-bit SIMD (as
/// `trainer/src/targets/wasm.rs` does: the SIMD build in its own target folder); returns both paths.
fn wasm_modules() -> Result<(PathBuf, PathBuf), String> {
    const WASM: &str = "wasm32-unknown-unknown";
    crate::install::rustup(&[], &[WASM])?;
    let target = shell::target_dir(&shell::root());
    shell::run(
        "build the runtime's wasm module",
        cargo(&["build", "--release", "--target", WASM, "-p", "bottleneck-wasm"]),
    )?;
    let simd_dir = target.join("wasm-simd128");
    let simd_dir_s = simd_dir.to_string_lossy().into_owned();
    let flags = format!("target.{WASM}.rustflags=[\"-C\", \"target-feature=+simd128\"]");
    shell::run(
        "build the runtime's wasm module with simd128",
        cargo(&[
            "build",
            "--release",
            "--target",
            WASM,
            "-p",
            "bottleneck-wasm",
            "--target-dir",
            &simd_dir_s,
            "--config",
            &flags,
        ]),
    )?;
    Ok((
        target.join(WASM).join("release/bottleneck_wasm.wasm"),
        simd_dir.join(WASM).join("release/bottleneck_wasm.wasm"),
    ))
}

/// Size of the browser module next to burn's flex backend built for wasm32 with the same model.
fn wasm_size() -> Result<(), String> {
    const WASM: &str = "wasm32-unknown-unknown";
    let (ours, ours_simd) = wasm_modules()?;
    let dir = shell::root().join("firmware-demo/burn-wasm");
    let mut burn = cargo(&["build", "--release", "--target", WASM]);
    burn.current_dir(&dir);
    shell::run("build the burn flex wasm module", burn)?;
    // Its own workspace: its own target folder unless CARGO_TARGET_DIR names a shared one.
    let theirs = shell::target_dir(&dir).join(WASM).join("release/bottleneck_burn_wasm.wasm");
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).map_err(|e| format!("{}: {e}", p.display()));
    let (a, a_simd, b) = (size(&ours)?, size(&ours_simd)?, size(&theirs)?);
    let body = format!(
        "Measured by `cargo xtask bench wasm-size`: release builds for `wasm32-unknown-unknown`, no weights inside\n\
         either module (both load them at run time). Sizes only: the burn module is built, not run (its getrandom\n\
         import needs wasm-bindgen glue).\n\n\
         | module | contents | bytes |\n|---|---|---|\n\
         | `firmware-demo/wasm` | Bottleneck's int8 runtime: encode, decode, classify, sample (opt-level 3) | {a} |\n\
         | `firmware-demo/wasm`, `+simd128` | the same, vectorised with 128-bit SIMD (what `bottleneck serve-demo` serves) | {a_simd} |\n\
         | `firmware-demo/burn-wasm` | burn 0.22 flex (f32, SIMD, no threads): the seed-002 encoder, decoder and MLP head, loading a burn record (opt-level s, LTO, stripped) | {b} |\n\n\
         burn's module is {:.0} times larger.\n",
        b as f64 / a as f64
    );
    write_section("wasm-size", &body)
}

/// Splits a CSV line, honouring quoted cells.
fn csv_cells(line: &str) -> Vec<String> {
    let (mut cells, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

/// A study's trials.csv as (state, value, seconds) per trial.
fn study_trials(dir: &Path) -> Result<Vec<(String, Option<f64>, f64)>, String> {
    let path = dir.join("trials.csv");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header = csv_cells(lines.next().unwrap_or(""));
    let col = |n: &str| header.iter().position(|h| h == n).ok_or(format!("{}: no {n} column", path.display()));
    let (v, st, sec) = (col("value")?, col("state")?, col("seconds")?);
    Ok(lines.map(csv_cells).map(|c| (c[st].clone(), c[v].parse().ok(), c[sec].parse().unwrap_or(0.0))).collect())
}

fn tuning() -> Result<(), String> {
    let runs = shell::root().join("runs/bench-tune");
    if runs.exists() {
        std::fs::remove_dir_all(&runs).map_err(|e| format!("{}: {e}", runs.display()))?;
    }
    // Built before the clock starts: the first study must not time a compilation.
    shell::run("building bottleneck", cargo(&["build", "--release", "-q", "-p", "bottleneck"]))?;
    let runs_s = runs.to_string_lossy().into_owned();
    let storage = runs.join("pruned/study.sqlite").to_string_lossy().into_owned();
    let timed = |step: &str, args: &[&str]| -> Result<f64, String> {
        let t = std::time::Instant::now();
        shell::run(step, bottleneck(args))?;
        Ok(t.elapsed().as_secs_f64())
    };
    let common = ["tune", "conv-ae", "--runs", &runs_s, "--trials", "20", "-q"];
    let mut a = common.to_vec();
    a.extend(["--study", "pruned", "--sampler", "tpe", "--pruner", "median"]);
    let wall_pruned = timed("TPE study, median pruner", &a)?;
    let mut b = common.to_vec();
    b.extend(["--study", "unpruned", "--replay", "pruned", "--storage", &storage, "--pruner", "none"]);
    let wall_unpruned = timed("the same trials, no pruner", &b)?;
    let mut c = common.to_vec();
    c.extend(["--study", "halving", "--replay", "pruned", "--storage", &storage, "--pruner", "halving"]);
    let wall_halving = timed("the same trials, successive halving", &c)?;
    shell::run(
        "the default configuration",
        bottleneck(&["train", "conv-ae", "--runs", &runs_s, "--name", "default", "-q"]),
    )?;
    let default_valid = {
        let path = runs.join("default/metrics.csv");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let header = csv_cells(text.lines().next().unwrap_or(""));
        let c = header.iter().position(|h| h == "valid_mse").ok_or("no valid_mse column")?;
        text.lines().last().map(csv_cells).and_then(|r| r[c].parse::<f64>().ok()).ok_or("no valid_mse value")?
    };
    let pruned = study_trials(&runs.join("pruned"))?;
    let unpruned = study_trials(&runs.join("unpruned"))?;
    let halving = study_trials(&runs.join("halving"))?;
    let count = |t: &[(String, Option<f64>, f64)], s: &str| t.iter().filter(|x| x.0 == s).count();
    let best = |t: &[(String, Option<f64>, f64)]| {
        t.iter().filter(|x| x.0 == "complete").filter_map(|x| x.1).fold(f64::INFINITY, f64::min)
    };
    let train_s = |t: &[(String, Option<f64>, f64)]| t.iter().map(|x| x.2).sum::<f64>();
    let epochs = |dir: &str| -> usize {
        (0..20)
            .map(|n| runs.join(dir).join(format!("trials/trial-{n:04}/metrics.csv")))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .map(|t| t.lines().count().saturating_sub(1))
            .sum()
    };
    let body = format!(
        "Measured on {} with `cargo xtask bench tuning` (full Fashion-MNIST, 54,000 training and 6,000 \
         validation images, conv autoencoder, 10 epochs per trial, the default space of `bottleneck tune \
         conv-ae --print-space`):\n\n\
         ```sh\n\
         bottleneck tune conv-ae --study pruned --sampler tpe --pruner median --trials 20\n\
         bottleneck tune conv-ae --study unpruned --replay pruned --storage runs/bench-tune/pruned/study.sqlite --pruner none --trials 20\n\
         bottleneck tune conv-ae --study halving --replay pruned --storage runs/bench-tune/pruned/study.sqlite --pruner halving --trials 20\n\
         bottleneck train conv-ae --name default\n\
         ```\n\n\
         | study | complete | pruned | failed | epochs trained | wall-clock | training seconds | best valid_mse |\n|---|---|---|---|---|---|---|---|\n\
         | TPE + median pruner | {} | {} | {} | {} | {:.0} s | {:.0} s | {:.5} |\n\
         | same 20 trials, no pruner | {} | {} | {} | {} | {:.0} s | {:.0} s | {:.5} |\n\
         | same 20 trials, successive halving | {} | {} | {} | {} | {:.0} s | {:.0} s | {:.5} |\n\
         | default configuration (one run) | | | | 10 | | | {default_valid:.5} |\n\n\
         With the median pruner the study took {:.2} of the unpruned one's wall-clock time ({:.2} of its epochs), \
         with successive halving {:.2} ({:.2}); the median-pruned study's best configuration's validation MSE is {:.2} \
         of the default's.\n",
        machine(),
        count(&pruned, "complete"),
        count(&pruned, "pruned"),
        count(&pruned, "failed"),
        epochs("pruned"),
        wall_pruned,
        train_s(&pruned),
        best(&pruned),
        count(&unpruned, "complete"),
        count(&unpruned, "pruned"),
        count(&unpruned, "failed"),
        epochs("unpruned"),
        wall_unpruned,
        train_s(&unpruned),
        best(&unpruned),
        count(&halving, "complete"),
        count(&halving, "pruned"),
        count(&halving, "failed"),
        epochs("halving"),
        wall_halving,
        train_s(&halving),
        best(&halving),
        wall_pruned / wall_unpruned,
        epochs("pruned") as f64 / epochs("unpruned").max(1) as f64,
        wall_halving / wall_unpruned,
        epochs("halving") as f64 / epochs("unpruned").max(1) as f64,
        best(&pruned) / default_valid,
    );
    write_section("tuning", &body)
}

pub fn run(args: &[String]) -> Result<(), String> {
    let all = args.is_empty();
    for a in args {
        if !["inference", "training", "wasm-size", "tuning"].contains(&a.as_str()) {
            return Err(format!("unknown benchmark {a:?} (inference, training, wasm-size, tuning)"));
        }
    }
    // The study benchmark takes about an hour: only when asked for by name.
    if args.iter().any(|a| a == "tuning") {
        tuning()?;
    }

    if all || args.iter().any(|a| a == "training") {
        training()?;
    }
    if all || args.iter().any(|a| a == "inference") {
        inference()?;
    }
    if all || args.iter().any(|a| a == "wasm-size") {
        wasm_size()?;
    }
    eprintln!("\nwrote {DOC}");
    Ok(())
}
