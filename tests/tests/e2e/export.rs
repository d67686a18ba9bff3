//! `bottleneck export` and `validate` on a tiny trained run.

use std::path::Path;

use super::util::{fails, ok, sample};

fn trained(dir: &Path) {
    let s = sample();
    ok(
        dir,
        &[
            "train",
            "conv-ae",
            "--data",
            s.to_str().unwrap(),
            "--limit-train",
            "1000",
            "--limit-test",
            "200",
            "--epochs",
            "3",
            "--batch-size",
            "32",
            "--runs",
            "runs",
            "--name",
            "m",
            "-q",
        ],
    );
}

#[test]
fn export_then_validate_passes_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    trained(dir.path());
    let out = ok(dir.path(), &["export", "runs/m", "--vectors", "50", "--calibration-images", "200"]);
    assert!(out.contains("int8 model:") && out.contains("conv-transpose2d"), "{out}");
    assert!(out.contains("graph check: burn and the export graph agree"), "{out}");
    let out = ok(dir.path(), &["validate", "runs/m"]);
    assert!(out.contains("vectors (50):") && out.contains("test set (200):"), "{out}");
    assert!(out.contains("output digest") && out.contains("validation passed"), "{out}");
    // The same check twice gives the same digest: the runtime is deterministic.
    let again = ok(dir.path(), &["validate", "runs/m", "--vectors-only"]);
    let digest = |s: &str| s.lines().find(|l| l.contains("output digest")).map(str::to_owned);
    assert_eq!(digest(&out), digest(&again));
}

#[test]
fn validate_fails_below_thresholds_and_on_damaged_files() {
    let dir = tempfile::tempdir().unwrap();
    trained(dir.path());
    ok(dir.path(), &["export", "runs/m", "--vectors", "20", "--calibration-images", "100"]);
    // An impossible threshold: int8 is never better than half the float error.
    let err = fails(dir.path(), &["validate", "runs/m", "--vectors-only", "--max-mse-ratio", "0.5"], 1);
    assert!(err.contains("validation failed") && err.contains("--max-mse-ratio 0.5"), "{err}");
    // A flipped byte in the model file is caught by its checksum and the file is named.
    let p = dir.path().join("runs/m/export/model.bnq");
    let mut b = std::fs::read(&p).unwrap();
    let n = b.len() / 2;
    b[n] ^= 0x10;
    std::fs::write(&p, &b).unwrap();
    let err = fails(dir.path(), &["validate", "runs/m", "--vectors-only"], 1);
    assert!(err.contains("model.bnq") && err.contains("checksum mismatch"), "{err}");
    // A truncated vectors file too.
    let v = dir.path().join("runs/m/export/vectors.bin");
    let b = std::fs::read(&v).unwrap();
    std::fs::write(&v, &b[..b.len() - 7]).unwrap();
    std::fs::remove_file(&p).unwrap();
    let err = fails(dir.path(), &["validate", "runs/m"], 1);
    assert!(err.contains("model.bnq") && err.contains("bottleneck export"), "{err}");
}

#[test]
fn export_of_a_folder_that_is_no_run_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(dir.path(), &["export", "nowhere"], 1);
    assert!(err.contains("not a run directory"), "{err}");
}
