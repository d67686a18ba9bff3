//! `bottleneck train`, `resume` and `run` on a few hundred images.

use super::util::{fails, metric, ok, sample};

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
        "cnn/figures/accuracy.png",
        "learning-speed.md",
        "conv-vae/figures/samples.png",
        "conv-vae/export/vae-encoder.onnx",
        "denoising-ae/figures/denoising.png",
        "fc-ae/export/model.bnq",
        "ae-2d/figures/latent-grid.png",
        "vae-2d/figures/latent.png",
        "toy-small/figures/embedding.png",
        "toy-large/figures/retrain-arrows.png",
        "toy-large/arrows.csv",
        "toy-linear/figures/decoder-curves.png",
    ] {
        assert!(root.join(f).is_file(), "missing {f}");
    }
    // The fine-tuned classifier's int8 export was validated, with its top-1 agreement.
    assert!(out.contains("classifier-finetune: int8") && out.contains("top-1 agreement"), "{out}");
    let speed = std::fs::read_to_string(root.join("learning-speed.md")).unwrap();
    assert!(speed.contains("encoder + MLP, finetune") && speed.contains("CNN from scratch"), "{speed}");
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
}
