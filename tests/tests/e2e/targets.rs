//! Every deployment target computes the same int8 outputs: the host runtime, the wasm32 module
//! under Node, the Cortex-M4 firmware under QEMU, and the browser demo in headless Chromium, for an
//! autoencoder with a classifier and for a CNN (a classifier alone).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use super::util::{bin, ok, repo, sample};

/// A tiny autoencoder with a fine-tuned classifier, exported; returns the classifier's run dir.
fn exported_classifier(dir: &Path) -> String {
    let s = sample();
    let data = s.to_str().unwrap();
    let common =
        ["--data", data, "--limit-train", "1000", "--limit-test", "200", "--batch-size", "32", "--runs", "runs", "-q"];
    let mut ae = vec!["train", "conv-ae", "--epochs", "2", "--name", "ae"];
    ae.extend(common);
    ok(dir, &ae);
    let mut clf = vec!["train", "classifier", "--pretrained", "runs/ae", "--epochs", "2", "--name", "clf"];
    clf.extend(common);
    ok(dir, &clf);
    ok(dir, &["export", "runs/clf", "--vectors", "40", "--calibration-images", "200"]);
    "runs/clf".into()
}

/// The digest on the report line of `target`.
pub fn digest_of(text: &str, target: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(target))
        .unwrap_or_else(|| panic!("no {target} line in:\n{text}"));
    line.split_whitespace().find(|w| w.starts_with("0x")).unwrap().to_string()
}

#[test]
fn wasm_and_cortex_m4_outputs_are_bit_identical_to_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let run = exported_classifier(dir.path());
    let out = ok(
        dir.path(),
        &[
            "validate",
            &run,
            "--vectors-only",
            "--min-agreement",
            "0",
            "--targets",
            "host-portable,wasm,wasm-simd128,firmware",
        ],
    );
    let host = digest_of(&out, "host");
    assert_eq!(digest_of(&out, "wasm32"), host, "{out}");
    assert_eq!(digest_of(&out, "wasm32-simd128"), host, "{out}");
    assert_eq!(digest_of(&out, "host-portable"), host, "{out}");
    // The firmware embeds the first 32 of the 40 vectors; its line names the host's digest on the
    // same 32 only when they differ, so "identical" is the check.
    let fw = out.lines().find(|l| l.trim_start().starts_with("cortex-m4")).unwrap();
    assert!(fw.contains("identical") && fw.contains(" 32 "), "{out}");
    assert!(out.contains("instructions: encode"), "{out}");
}

/// The CNN exports as a classifier alone (convolutions with batch norm folded, max pooling) and
/// runs bit-identically everywhere; the firmware then only classifies.
#[test]
fn a_cnn_runs_bit_identically_on_every_target() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let data = s.to_str().unwrap();
    ok(
        dir.path(),
        &[
            "train",
            "cnn",
            "--data",
            data,
            "--limit-train",
            "1000",
            "--limit-test",
            "200",
            "--epochs",
            "2",
            "--widths",
            "8,16,16",
            "--convs-per-block",
            "1,2,1",
            "--hidden",
            "32",
            "--runs",
            "runs",
            "--name",
            "cnn",
            "-q",
        ],
    );
    let export = ok(dir.path(), &["export", "runs/cnn", "--vectors", "40", "--calibration-images", "200", "--onnx"]);
    assert!(export.contains("max-pool2d") && export.contains("classifier.onnx"), "{export}");
    assert!(!dir.path().join("runs/cnn/export/encoder.onnx").exists(), "a classifier alone has no encoder file");
    let out = ok(
        dir.path(),
        &[
            "validate",
            "runs/cnn",
            "--data",
            data,
            "--min-agreement",
            "0",
            "--targets",
            "host-portable,wasm-simd128,firmware",
        ],
    );
    let host = digest_of(&out, "host");
    assert_eq!(digest_of(&out, "wasm32-simd128"), host, "{out}");
    assert_eq!(digest_of(&out, "host-portable"), host, "{out}");
    let fw = out.lines().find(|l| l.trim_start().starts_with("cortex-m4")).unwrap();
    assert!(fw.contains("identical"), "{out}");
    assert!(out.contains("instructions: encode 0 decode 0 classify"), "{out}");
    assert!(out.contains("accuracy float") && !out.contains("reconstruction"), "{out}");
    // And in the browser: the demo page classifies only, with the host's digest.
    let page = browser_check(dir.path(), "runs/cnn");
    assert!(page.contains("\"autoencoder\":false"), "{page}");
}

#[test]
fn browser_demo_works_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let run = exported_classifier(dir.path());
    let stdout = browser_check(dir.path(), &run);
    assert!(stdout.contains("\"autoencoder\":true") && stdout.contains("\"shape\":\"1x28x28\""), "{stdout}");
}

/// Serves the demo of `run` (exported) and clicks through it in headless Chromium
/// (`firmware-demo/web/test/demo.test.mjs`): the page's digest must be the host's. Returns what the
/// script observed (one JSON line).
pub fn browser_check(dir: &Path, run: &str) -> String {
    let validate = ok(dir, &["validate", run, "--vectors-only", "--min-agreement", "0"]);
    let host =
        validate.lines().find(|l| l.contains("output digest")).unwrap().split_whitespace().last().unwrap().to_string();
    let mut server = Server(
        Command::new(bin())
            .args(["serve-demo", run, "--port", "0"])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start serve-demo"),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    let web = repo().join("firmware-demo/web");
    assert!(
        web.join("node_modules/playwright-core").is_dir(),
        "run `npm ci` in firmware-demo/web first (cargo xtask ci does)"
    );
    let shot = dir.join(format!("{}.png", run.replace('/', "-")));
    let out = Command::new("node")
        .arg(web.join("test/demo.test.mjs"))
        .arg(&url)
        .arg(&host)
        .env("SCREENSHOT", &shot)
        .output()
        .expect("node is needed for this test");
    drop(server);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "the demo test failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("identical to the host runtime"), "{stdout}");
    assert!(stdout.contains("\"us\":{") && stdout.contains("\"classify\":"), "{stdout}");
    assert!(shot.is_file());
    // The page's observations, the in-browser time per image included (`--nocapture` shows them).
    eprintln!("{run} in headless Chromium: {stdout}");
    stdout
}

/// The demo server, stopped and reaped however the test ends (a failed assert included).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
