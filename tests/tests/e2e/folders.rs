//! Image folders end to end: scikit-learn's 8x8 digits (grey PNG, `cargo xtask digits`) and a
//! generated colour folder (RGB PNG and JPEG) load, train, export, and run bit-identically on the
//! host, in wasm and on the Cortex-M4 (and the colour one in the browser demo).

use std::path::{Path, PathBuf};

use super::targets::digest_of;
use super::util::{fails, ok};

/// The digits folder: `$BOTTLENECK_DIGITS`, else where `cargo xtask digits` writes it.
fn digits() -> Option<PathBuf> {
    let dir = std::env::var_os("BOTTLENECK_DIGITS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/bottleneck/sklearn-digits")))?;
    if dir.join("DONE").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("BOTTLENECK_REQUIRE_DIGITS").is_none(),
        "{} holds no digits folder (cargo xtask digits writes it)",
        dir.display()
    );
    eprintln!("skipped: no digits folder (run `cargo xtask digits`)");
    None
}

/// Trains a conv-ae and a fine-tuned classifier on `data`, exports and validates them on every
/// target; returns the validation report.
fn train_export_validate(dir: &Path, data: &[&str]) -> String {
    let common = ["--batch-size", "32", "--runs", "runs", "-q"];
    let mut ae = vec!["train", "conv-ae", "--epochs", "5", "--name", "ae"];
    ae.extend(data.iter().chain(&common));
    ok(dir, &ae);
    let mut clf =
        vec!["train", "classifier", "--pretrained", "runs/ae", "--epochs", "10", "--lr", "3e-3", "--name", "clf"];
    clf.extend(data.iter().chain(&common));
    ok(dir, &clf);
    ok(dir, &["export", "runs/clf", "--vectors", "40", "--calibration-images", "200"]);
    // The run recorded the folder, its image size and classes: validate needs no data flags.
    let out =
        ok(dir, &["validate", "runs/clf", "--min-agreement", "0", "--targets", "host-portable,wasm-simd128,firmware"]);
    let host = digest_of(&out, "host");
    assert_eq!(digest_of(&out, "wasm32-simd128"), host, "{out}");
    assert_eq!(digest_of(&out, "host-portable"), host, "{out}");
    let fw = out.lines().find(|l| l.trim_start().starts_with("cortex-m4")).unwrap();
    assert!(fw.contains("identical"), "{out}");
    out
}

/// The accuracy a classifier's summary.toml records on the test split.
fn test_accuracy(run: &Path) -> f64 {
    let text = std::fs::read_to_string(run.join("summary.toml")).unwrap();
    let line = text.lines().find(|l| l.starts_with("final_test_accuracy")).unwrap_or_else(|| panic!("{text}"));
    line.split('=').nth(1).unwrap().trim().parse().unwrap()
}

#[test]
fn digits_folder_trains_exports_and_runs_bit_identically() {
    let Some(digits) = digits() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = digits.to_str().unwrap();
    // 8x8 is too small for three stride-2 convolutions: the error says what to pass.
    let err = fails(dir.path(), &["train", "conv-ae", "--dataset", "folder", "--data", d, "--epochs", "1"], 1);
    assert!(err.contains("--image-size 12"), "{err}");
    let summary = ok(dir.path(), &["data", "--dataset", "folder", "--data", d, "--image-size", "16"]);
    assert!(summary.contains("16x16, grey") && summary.contains("total"), "{summary}");
    // Every fourth of the 1,797 rows is a test image.
    assert!(summary.lines().last().unwrap().ends_with(" 449"), "{summary}");
    let data = ["--dataset", "folder", "--data", d, "--image-size", "16"];
    train_export_validate(dir.path(), &data);
    let config = std::fs::read_to_string(dir.path().join("runs/clf/config.toml")).unwrap();
    assert!(config.contains("classes = [") && config.contains("\"9\",") && config.contains("side = 16"), "{config}");
    // Digits are easy: ten epochs of a fine-tuned encoder are far above chance (10%).
    let acc = test_accuracy(&dir.path().join("runs/clf"));
    assert!(acc > 0.7, "test accuracy {acc}");
}

/// Three colour classes: red blobs, green bars, blue rings on noisy backgrounds, as PNG and JPEG
/// files of different sizes.
fn colour_folder(root: &Path) {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 48) as u8
    };
    for (class, name) in ["red-blob", "green-bar", "blue-ring"].iter().enumerate() {
        let folder = root.join(name);
        std::fs::create_dir_all(&folder).unwrap();
        for i in 0..40u32 {
            let size = if i % 3 == 0 { 24 } else { 20 };
            let c = size as f32 / 2.0 + (i % 5) as f32 - 2.0;
            let img = image::RgbImage::from_fn(size, size, |x, y| {
                let (dx, dy) = (x as f32 - c, y as f32 - c);
                let r = (dx * dx + dy * dy).sqrt();
                let on = match class {
                    0 => r < size as f32 / 4.0,
                    1 => dx.abs() < 3.0,
                    _ => (r - size as f32 / 3.0).abs() < 2.0,
                };
                let mut px = [noise(), noise(), noise()];
                if on {
                    px[class] = 200 + noise();
                }
                image::Rgb(px)
            });
            let ext = if i % 2 == 0 { "png" } else { "jpg" };
            img.save(folder.join(format!("{i:02}.{ext}"))).unwrap();
        }
    }
}

#[test]
fn colour_folder_trains_exports_and_runs_bit_identically() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("shapes");
    colour_folder(&data_dir);
    let d = data_dir.to_str().unwrap();
    let err = fails(dir.path(), &["data", "--dataset", "folder", "--data", d], 1);
    assert!(err.contains("--image-size"), "images of two sizes need it: {err}");
    let summary = ok(dir.path(), &["data", "--dataset", "folder", "--data", d, "--image-size", "16"]);
    assert!(summary.contains("16x16, 3 channels") && summary.contains("blue-ring"), "{summary}");
    let out = train_export_validate(dir.path(), &["--dataset", "folder", "--data", d, "--image-size", "16"]);
    assert!(out.contains("accuracy"), "{out}");
    // The reconstructions figure is in colour: some pixel's channels differ.
    let fig = image::open(dir.path().join("runs/ae/figures/reconstructions.png")).unwrap().to_rgb8();
    assert!(fig.pixels().any(|p| p[0].abs_diff(p[1]) > 40), "reconstructions.png has no colour");
    // The fully-connected autoencoder's decoder ends in tanh, then unflattens to three channels:
    // its export reorders the last linear layer's outputs channel-last and still agrees.
    let fc = ["train", "fc-ae", "--dataset", "folder", "--data", d, "--image-size", "16", "--epochs", "1"];
    ok(dir.path(), &[&fc[..], &["--runs", "runs", "--name", "fc", "-q"]].concat());
    ok(dir.path(), &["export", "runs/fc", "--vectors", "20", "--calibration-images", "100"]);
    let fc_out = ok(dir.path(), &["validate", "runs/fc", "--min-agreement", "0"]);
    assert!(fc_out.contains("validation passed"), "{fc_out}");
    // The browser demo shows and checks the colour model too.
    let page = super::targets::browser_check(dir.path(), "runs/clf");
    assert!(page.contains("\"shape\":\"3x16x16\""), "{page}");
}
