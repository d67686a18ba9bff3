//! `bottleneck explore`: codes, PCA, t-SNE, interpolations, per-class tables, architecture.

use super::util::{ok, sample};

#[test]
fn explore_maps_codes_and_reports_classes() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let common = [
        "--data",
        s.to_str().unwrap(),
        "--limit-train",
        "600",
        "--limit-test",
        "300",
        "--epochs",
        "2",
        "--batch-size",
        "50",
        "--runs",
        "runs",
        "-q",
    ];
    let mut ae = vec!["train", "conv-ae", "--name", "ae"];
    ae.extend(common);
    ok(dir.path(), &ae);
    let out = ok(dir.path(), &["explore", "runs/ae", "--codes", "200"]);
    assert!(out.contains("codes: 200 test images") && out.contains("t-SNE:") && out.contains("PCA:"), "{out}");
    for f in [
        "explore/codes.csv",
        "explore/pca.csv",
        "explore/tsne.csv",
        "explore/architecture.md",
        "figures/pca.png",
        "figures/pca-variance.png",
        "figures/tsne.png",
        "figures/interpolation.png",
        "figures/traversal.png",
    ] {
        assert!(dir.path().join("runs/ae").join(f).is_file(), "missing {f}");
    }
    let codes = std::fs::read_to_string(dir.path().join("runs/ae/explore/codes.csv")).unwrap();
    assert_eq!(codes.lines().count(), 201);
    assert!(codes.starts_with("label,class,z1,") && codes.contains(",Trouser,"), "{}", &codes[..200]);

    // A classifier: per-class table and confusion matrix; the CNN (no code) too.
    let mut clf = vec!["train", "classifier", "--pretrained", "runs/ae", "--name", "clf"];
    clf.extend(common);
    ok(dir.path(), &clf);
    let out = ok(dir.path(), &["explore", "runs/clf", "--no-tsne"]);
    assert!(out.contains("test accuracy:"), "{out}");
    let table = std::fs::read_to_string(dir.path().join("runs/clf/explore/classification.md")).unwrap();
    assert!(table.contains("| Ankle boot |") && table.contains("macro avg"), "{table}");
    assert!(dir.path().join("runs/clf/figures/confusion.png").is_file());
    let mut cnn = vec!["train", "cnn", "--name", "cnn", "--widths", "4,8", "--convs-per-block", "1"];
    cnn.extend(common);
    ok(dir.path(), &cnn);
    let out = ok(dir.path(), &["explore", "runs/cnn"]);
    assert!(out.contains("test accuracy:") && !out.contains("codes:"), "{out}");
    let arch = std::fs::read_to_string(dir.path().join("runs/cnn/explore/architecture.md")).unwrap();
    assert!(arch.contains("MaxPool2d") && arch.contains("**total**"), "{arch}");
}
