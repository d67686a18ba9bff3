//! `bottleneck export --pytorch`: the generated model.py, run under PyTorch, computes what burn
//! computed (to 1e-4) on the validation vectors.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::util::{ok, repo, sample};

/// A Python with torch: `$BOTTLENECK_PYTHON`, else the cached environment `cargo xtask ci` makes.
fn python() -> Option<PathBuf> {
    let p = std::env::var_os("BOTTLENECK_PYTHON").map(PathBuf::from).or_else(|| {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/bottleneck/torch-venv/bin/python3"))
    })?;
    let works = Command::new(&p).args(["-c", "import torch, safetensors"]).status().is_ok_and(|s| s.success());
    if works {
        return Some(p);
    }
    assert!(
        std::env::var_os("BOTTLENECK_REQUIRE_TORCH").is_none(),
        "{} has no torch (cargo xtask ci installs it)",
        p.display()
    );
    eprintln!("skipped: no Python with torch");
    None
}

fn check(python: &Path, export: &Path) -> String {
    let out = Command::new(python)
        .arg(repo().join("tests/python/check_pytorch.py"))
        .arg(export)
        .output()
        .expect("start python");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn exported_pytorch_code_matches_burn() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let data = s.to_str().unwrap();
    let common = [
        "--data",
        data,
        "--limit-train",
        "600",
        "--limit-test",
        "100",
        "--epochs",
        "1",
        "--batch-size",
        "50",
        "--runs",
        "runs",
        "-q",
    ];
    for (kind, name, extra) in
        [("conv-ae", "ae", vec!["--batch-norm"]), ("fc-ae", "fc", vec![]), ("conv-vae", "vae", vec![])]
    {
        let mut args = vec!["train", kind, "--name", name];
        args.extend(common);
        args.extend(extra);
        ok(dir.path(), &args);
    }
    let mut clf = vec!["train", "classifier", "--pretrained", "runs/ae", "--name", "clf"];
    clf.extend(common);
    ok(dir.path(), &clf);
    for run in ["ae", "fc", "vae", "clf"] {
        ok(
            dir.path(),
            &["export", &format!("runs/{run}"), "--pytorch", "--vectors", "40", "--calibration-images", "100"],
        );
        let export = dir.path().join("runs").join(run).join("export");
        assert!(export.join("model.py").is_file() && export.join("model.safetensors").is_file());
        let text = check(&python, &export);
        assert!(text.contains("pytorch matches burn"), "{run}: {text}");
        if run == "clf" {
            assert!(text.contains("logits: max"), "{text}");
        }
    }
}
