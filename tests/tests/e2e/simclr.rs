//! `bottleneck train simclr`: a contrastive encoder trains without labels, a classifier starts
//! from it, and that classifier deploys alone (no decoder) through the int8 chain.

use super::util::{fails, metric, ok, sample};

#[test]
fn simclr_encoder_trains_and_a_classifier_on_it_deploys() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let data = s.to_str().unwrap();
    let common = ["--data", data, "--limit-train", "1000", "--limit-test", "200", "--runs", "runs", "-q"];
    let mut simclr = vec!["train", "simclr", "--epochs", "3", "--batch-size", "64", "--name", "simclr"];
    simclr.extend(common);
    ok(dir.path(), &simclr);
    let loss = metric(&dir.path().join("runs/simclr"), "train_loss");
    assert!(loss.iter().all(|l| l.is_finite()) && loss[2] < loss[0], "NT-Xent did not fall: {loss:?}");
    assert!(dir.path().join("runs/simclr/figures/loss.png").is_file());
    // Alone it has nothing to deploy; explore maps its codes.
    let err = fails(dir.path(), &["export", "runs/simclr"], 1);
    assert!(err.contains("train classifier"), "{err}");
    ok(dir.path(), &["explore", "runs/simclr", "--codes", "200"]);
    assert!(dir.path().join("runs/simclr/figures/pca.png").is_file());
    // A frozen probe on its encoder trains and exports as a classifier alone.
    let mut clf = vec!["train", "classifier", "--mode", "frozen", "--pretrained", "runs/simclr", "--epochs", "2"];
    clf.extend(["--name", "probe"]);
    clf.extend(common);
    ok(dir.path(), &clf);
    ok(dir.path(), &["export", "runs/probe", "--vectors", "20", "--calibration-images", "100"]);
    let out = ok(dir.path(), &["validate", "runs/probe", "--min-agreement", "0", "--targets", "host-portable,wasm"]);
    assert!(out.contains("validation passed") && out.contains("identical"), "{out}");
}
