//! `cargo xtask golden`: refresh the golden files that tests read, from a fresh small training run.
//!
//! `tests/onnx-roundtrip/models/`: ONNX files exported by Bottleneck and the burn model's outputs
//! (`vectors.bin`), which the burn-import round trip must reproduce.
//! `firmware-demo/cortex-m4/assets/`: the default model and images of the firmware: a conv
//! autoencoder with a fine-tuned classifier, trained on the bundled sample.

use crate::shell::{self, cargo};

pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(a) = args.first() {
        return Err(format!("golden takes no arguments, got {a:?}"));
    }
    let root = shell::root();
    let work = std::env::temp_dir().join(format!("bottleneck-golden-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    let runs = work.to_string_lossy().into_owned();
    let sample = root.join("data/fashion-mnist-sample").to_string_lossy().into_owned();
    let bin = |args: &[&str]| {
        let mut all = vec!["run", "--release", "-q", "-p", "bottleneck", "--"];
        all.extend_from_slice(args);
        cargo(&all)
    };
    shell::run(
        "train",
        bin(&[
            "train",
            "conv-ae",
            "--data",
            &sample,
            "--limit-train",
            "2000",
            "--limit-test",
            "100",
            "--epochs",
            "2",
            "--latent",
            "8",
            "--runs",
            &runs,
            "--name",
            "golden",
            "--overwrite",
            "-q",
        ]),
    )?;
    let run_dir = work.join("golden");
    shell::run(
        "export",
        bin(&["export", &run_dir.to_string_lossy(), "--onnx", "--vectors", "16", "--calibration-images", "200"]),
    )?;
    let dst = root.join("tests/onnx-roundtrip/models");
    std::fs::create_dir_all(&dst).map_err(|e| format!("creating {}: {e}", dst.display()))?;
    for f in ["encoder.onnx", "decoder.onnx", "vectors.bin"] {
        let from = run_dir.join("export").join(f);
        std::fs::copy(&from, dst.join(f)).map_err(|e| format!("copying {}: {e}", from.display()))?;
    }
    // The firmware's default model: autoencoder + fine-tuned classifier on the whole sample.
    shell::run(
        "train the firmware's autoencoder",
        bin(&[
            "train",
            "conv-ae",
            "--data",
            &sample,
            "--epochs",
            "15",
            "--runs",
            &runs,
            "--name",
            "fw-ae",
            "--overwrite",
            "-q",
        ]),
    )?;
    let ae = work.join("fw-ae").to_string_lossy().into_owned();
    shell::run(
        "train the firmware's classifier",
        bin(&[
            "train",
            "classifier",
            "--pretrained",
            &ae,
            "--data",
            &sample,
            "--epochs",
            "15",
            "--runs",
            &runs,
            "--name",
            "fw-clf",
            "--overwrite",
            "-q",
        ]),
    )?;
    let clf = work.join("fw-clf");
    shell::run("export", bin(&["export", &clf.to_string_lossy(), "--vectors", "32", "--calibration-images", "500"]))?;
    let fw = root.join("firmware-demo/cortex-m4/assets");
    std::fs::create_dir_all(&fw).map_err(|e| format!("creating {}: {e}", fw.display()))?;
    for f in ["model.bnq", "vectors.bin"] {
        let from = clf.join("export").join(f);
        std::fs::copy(&from, fw.join(f)).map_err(|e| format!("copying {}: {e}", from.display()))?;
    }
    let _ = std::fs::remove_dir_all(&work);
    eprintln!("golden files written to {} and {}", dst.display(), fw.display());
    Ok(())
}
