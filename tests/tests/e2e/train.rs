//! `bottleneck train`, `resume` and `run` on a few hundred images.

use std::process::Command;

use super::util::{bin, fails, metric, ok, sample};

fn tiny_args<'a>(data: &'a str, runs: &'a str, name: &'a str, epochs: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "conv-ae",
        "--data",
        data,
        "--limit-train",
        "640",
        "--limit-test",
        "200",
        "--epochs",
        epochs,
        "--batch-size",
        "32",
        "--latent",
        "8",
        "--runs",
        runs,
        "--name",
        name,
        "-q",
    ]
}

#[test]
fn tiny_run_learns_and_writes_its_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let out = ok(dir.path(), &tiny_args(s.to_str().unwrap(), "runs", "tiny", "4"));
    let run = dir.path().join("runs/tiny");
    assert!(out.contains("run directory:") && out.contains("test_mse"), "{out}");
    for f in [
        "config.toml",
        "metrics.csv",
        "model.bpk",
        "figures/loss.png",
        "figures/reconstructions.png",
        "checkpoints/LATEST",
    ] {
        assert!(run.join(f).is_file(), "missing {f}");
    }
    let train = metric(&run, "train_mse");
    let test = metric(&run, "test_mse");
    assert_eq!(train.len(), 4);
    assert!(train[3] < train[0] * 0.8, "training loss did not go down: {train:?}");
    assert!(test[3] < test[0], "test loss did not go down: {test:?}");
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("kind = \"conv-ae\"") && config.contains("latent = 8"), "{config}");

    // The same name again is refused rather than overwritten.
    let err = fails(dir.path(), &tiny_args(s.to_str().unwrap(), "runs", "tiny", "1"), 1);
    assert!(err.contains("already holds a run"), "{err}");

    // Resume continues where the run stopped, keeping the recorded epochs.
    ok(dir.path(), &["resume", "runs/tiny", "--epochs", "5", "-q"]);
    let resumed = metric(&run, "train_mse");
    assert_eq!(resumed.len(), 5);
    assert_eq!(&resumed[..4], &train[..], "resume rewrote earlier epochs");
}

#[test]
fn same_seed_gives_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    ok(dir.path(), &tiny_args(s.to_str().unwrap(), "runs", "a", "2"));
    ok(dir.path(), &tiny_args(s.to_str().unwrap(), "runs", "b", "2"));
    assert_eq!(metric(&dir.path().join("runs/a"), "test_mse"), metric(&dir.path().join("runs/b"), "test_mse"));
}

/// The CNN draws dropout masks every step, and its kernels run on all threads: three runs with the
/// same seed still agree to the last digit (a run whose step moved between threads once did not).
#[test]
fn same_seed_gives_the_same_cnn_run_with_dropout() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let losses: Vec<Vec<f64>> = ["a", "b", "c"]
        .iter()
        .map(|name| {
            let args = [
                "train",
                "cnn",
                "--data",
                s.to_str().unwrap(),
                "--limit-train",
                "1024",
                "--limit-test",
                "200",
                "--epochs",
                "1",
                "--runs",
                "runs",
                "--name",
                name,
                "-q",
            ];
            ok(dir.path(), &args);
            metric(&dir.path().join("runs").join(name), "test_loss")
        })
        .collect();
    assert!(losses.iter().all(|l| *l == losses[0]), "{losses:?}");
}

#[test]
fn diverging_loss_stops_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let mut args = tiny_args(s.to_str().unwrap(), "runs", "boom", "3");
    args.extend(["--optimizer", "sgd", "--lr", "1e30"]);
    let err = fails(dir.path(), &args, 1);
    assert!(err.contains("training diverged") && err.contains("lower --lr"), "{err}");
}

#[test]
fn pipeline_trains_every_model_and_validates_the_deployable_ones() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let out = ok(
        dir.path(),
        &["run", "--data", s.to_str().unwrap(), "--epochs", "1", "--limit-train", "512", "--limit-test", "100", "-q"],
    );
    assert!(out.contains("pipeline finished in") && out.contains("runs/pipeline"), "{out}");
    let root = dir.path().join("runs/pipeline");
    for f in [
        "conv-ae/figures/reconstructions.png",
        "conv-ae/export/model.bnq",
        "conv-ae/export/encoder.onnx",
        "classifier-finetune/export/classifier.onnx",
        "classifier-finetune/summary.toml",
        "classifier-frozen/figures/accuracy.png",
        "classifier-scratch/summary.toml",
        "simclr/figures/loss.png",
        "classifier-simclr/summary.toml",
        "cnn/figures/accuracy.png",
        "learning-speed.md",
        "conv-vae/figures/samples.png",
        "conv-vae/export/vae-encoder.onnx",
        "denoising-ae/figures/denoising.png",
        "denoising-fc-ae/figures/denoising.png",
        "fc-ae/export/model.bnq",
        "ae-2d/figures/latent-grid.png",
        "vae-2d/figures/latent.png",
        "toy-small/figures/embedding.png",
        "toy-large/figures/retrain-arrows.png",
        "toy-large/arrows.csv",
        "toy-linear/figures/decoder-curves.png",
        "study-optimizers/figures/curves.png",
        "study-regularisation/trials.csv",
        "study-gd-vs-sgd/gd-vs-sgd.png",
        "tune-conv-ae/best.toml",
        "tune-conv-ae/figures/history.png",
        "cv-classifier/cv.md",
        "cv-classifier/figures/cv.png",
    ] {
        assert!(root.join(f).is_file(), "missing {f}");
    }
    // The fine-tuned classifier's int8 export was validated, with its top-1 agreement.
    assert!(out.contains("classifier-finetune: int8") && out.contains("top-1 agreement"), "{out}");
    let speed = std::fs::read_to_string(root.join("learning-speed.md")).unwrap();
    for row in ["encoder + MLP, finetune", "SimCLR encoder, finetune", "CNN from scratch"] {
        assert!(speed.contains(row), "{row} missing from {speed}");
    }
    // Only some stages.
    let out = ok(
        dir.path(),
        &[
            "run",
            "--data",
            s.to_str().unwrap(),
            "--epochs",
            "1",
            "--limit-train",
            "256",
            "--limit-test",
            "50",
            "--only",
            "toy",
            "--name",
            "t",
            "-q",
        ],
    );
    assert!(out.contains("stage Toy") && !out.contains("stage ConvAe"), "{out}");

    // Every run directory the pipeline wrote loads back, whatever its kind (CNN and toy included),
    // the studies' trials and the cross-validation's folds too.
    let mut runs = Vec::new();
    let mut folders = vec![root.clone()];
    while let Some(f) = folders.pop() {
        for e in std::fs::read_dir(&f).unwrap() {
            let p = e.unwrap().path();
            if p.join("config.toml").is_file() {
                runs.push(p);
            } else if p.is_dir() {
                folders.push(p);
            }
        }
    }
    runs.sort();
    // 16 models (SimCLR and its classifier among them), 6 + 8 study trials, 12 tuning trials,
    // 3 folds.
    assert_eq!(runs.len(), 16 + 6 + 8 + 12 + 3, "{runs:?}");
    for run in &runs {
        let info = ok(dir.path(), &["info", run.to_str().unwrap()]);
        assert!(info.contains(" parameters") && info.contains("deployable:"), "{info}");
    }
    // The report: printed by a real browser.
    super::report::check(&root.join("report.html"));
    for f in [
        "conv-ae/figures/tsne.png",
        "conv-ae/explore/codes.csv",
        "classifier-finetune/explore/classification.md",
        "conv-ae/export/model.py",
    ] {
        assert!(root.join(f).is_file(), "missing {f}");
    }
    // The CNN deploys as a classifier alone (`bottleneck export`); the pipeline exports one run of
    // each other kind.
    let cnn = ok(dir.path(), &["info", root.join("cnn").to_str().unwrap()]);
    assert!(cnn.contains("deployable: yes"), "{cnn}");
    let clf = ok(dir.path(), &["info", root.join("classifier-finetune").to_str().unwrap()]);
    assert!(clf.contains("deployable: yes") && clf.contains("validated:  passed"), "{clf}");
}

/// Starts `n` toy trainings at once in one folder, with `extra` arguments; returns each
/// process's success and output.
fn start_together(dir: &std::path::Path, n: usize, extra: &[&str]) -> Vec<(bool, String, String)> {
    let children: Vec<_> = (0..n)
        .map(|_| {
            Command::new(bin())
                .args(["train", "toy-ae", "--epochs", "40", "--points", "30", "--test-points", "30", "-q"])
                .args(extra)
                .current_dir(dir)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start bottleneck")
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            (out.status.success(), text(&out.stdout), text(&out.stderr))
        })
        .collect()
}

#[test]
fn trainings_started_together_never_share_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    // Default names: each run claims its own directory.
    let results = start_together(dir.path(), 4, &[]);
    let mut roots: Vec<String> = results
        .iter()
        .map(|(ok, out, err)| {
            assert!(ok, "{out}{err}");
            out.lines().find_map(|l| l.strip_prefix("run directory: ")).unwrap().split("  ").next().unwrap().to_string()
        })
        .collect();
    roots.sort();
    roots.dedup();
    assert_eq!(roots.len(), 4, "{roots:?}");
    for r in &roots {
        assert_eq!(metric(&dir.path().join(r), "train_mse").len(), 40, "{r}");
    }
    // One explicit name: one run wins, the others stop with an error that says why.
    let results = start_together(dir.path(), 4, &["--name", "contested"]);
    assert_eq!(results.iter().filter(|r| r.0).count(), 1, "{results:?}");
    for (_, _, err) in results.iter().filter(|r| !r.0) {
        assert!(err.contains("runs/contested") && err.contains("already"), "{err}");
    }
    assert_eq!(metric(&dir.path().join("runs/contested"), "train_mse").len(), 40);
}

/// The first epoch of each convolutional model trains to the same loss on the own kernels
/// (trainer/src/kernels) and on burn's generic convolutions and batch norm
/// (`BOTTLENECK_CONV=burn`).
#[test]
fn own_kernels_and_burns_train_the_same_first_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let data = s.to_str().unwrap();
    let models: [(&str, &[&str], &str); 5] = [
        ("conv-ae", &["--batch-norm", "--widths", "8,16,32"], "train_mse"),
        ("conv-vae", &[], "train_loss"),
        ("fc-ae", &[], "train_mse"),
        // Without dropout: the own kernels draw their masks from another generator than burn's
        // dropout (the kernel tests check the own dropout on its own).
        ("cnn", &["--dropout", "0"], "train_loss"),
        ("classifier", &["--mode", "scratch", "--batch-norm"], "train_loss"),
    ];
    for (kind, extra, column) in models {
        let mut losses = Vec::new();
        for choice in ["own", "burn"] {
            let name = format!("{kind}-{choice}");
            let mut args = vec![
                "train",
                kind,
                "--data",
                data,
                "--limit-train",
                "512",
                "--limit-test",
                "100",
                "--epochs",
                "1",
                "--runs",
                "runs",
                "--name",
                &name,
                "-q",
            ];
            args.extend_from_slice(extra);
            let out = Command::new(bin())
                .args(&args)
                .current_dir(dir.path())
                .env_remove("BOTTLENECK_DATA")
                .env("BOTTLENECK_CONV", choice)
                .output()
                .unwrap();
            assert!(out.status.success(), "{kind} ({choice}): {}", String::from_utf8_lossy(&out.stderr));
            losses.push(metric(&dir.path().join("runs").join(&name), column)[0]);
        }
        let gap = (losses[0] - losses[1]).abs() / losses[1].abs().max(1e-12);
        assert!(
            gap <= 1e-3,
            "{kind}: {column} {} on the own kernels, {} on burn's ({gap:.2e} apart)",
            losses[0],
            losses[1]
        );
    }
}
