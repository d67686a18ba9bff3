//! The int8 runtime gives bit-identical outputs on every target: the standard check's digest from
//! the native build (`bottleneck validate`) equals the one from the wasm32 module under Node.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::util::{ok, repo, sample};

/// The wasm module built by `cargo build --release -p bottleneck-wasm --target wasm32-unknown-unknown`
/// (`cargo xtask ci` builds it), or `$BOTTLENECK_WASM`.
fn wasm_module() -> PathBuf {
    if let Some(p) = std::env::var_os("BOTTLENECK_WASM") {
        return p.into();
    }
    let exe = std::env::current_exe().unwrap();
    // <target>/<profile>/deps/e2e-<hash> -> <target>
    let target = exe.ancestors().nth(3).unwrap();
    let m = target.join("wasm32-unknown-unknown/release/bottleneck_wasm.wasm");
    assert!(
        m.is_file(),
        "{} not found: build it with `cargo build --release -p bottleneck-wasm --target wasm32-unknown-unknown` \
         (cargo xtask ci does), or set BOTTLENECK_WASM",
        m.display()
    );
    m
}

fn digest_line(text: &str) -> String {
    let line = text.lines().find(|l| l.contains("digest")).unwrap_or_else(|| panic!("no digest in {text}"));
    line.split_whitespace().find(|w| w.starts_with("0x")).unwrap().to_string()
}

fn trained_export(dir: &Path) -> PathBuf {
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
            "2",
            "--batch-size",
            "32",
            "--runs",
            "runs",
            "--name",
            "m",
            "-q",
        ],
    );
    ok(dir, &["export", "runs/m", "--vectors", "40", "--calibration-images", "200"]);
    dir.join("runs/m/export")
}

#[test]
fn wasm_outputs_are_bit_identical_to_native() {
    let dir = tempfile::tempdir().unwrap();
    let export = trained_export(dir.path());
    let native = digest_line(&ok(dir.path(), &["validate", "runs/m", "--vectors-only"]));
    let out = Command::new("node")
        .arg(repo().join("firmware-demo/wasm/check.mjs"))
        .arg(wasm_module())
        .arg(export.join("model.bnq"))
        .arg(export.join("vectors.bin"))
        .output()
        .expect("node is needed for this test (cargo xtask ci installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "node failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("vectors 40"), "{stdout}");
    assert_eq!(digest_line(&stdout), native, "wasm and native int8 outputs differ");
}
