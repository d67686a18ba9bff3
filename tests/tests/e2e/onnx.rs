//! ONNX files exported from a burn-trained model run in tract and reproduce burn's own outputs
//! (stored in vectors.bin) to 1e-4.

use std::path::Path;

use bottleneck_export::vectors::Vectors;
use tract_onnx::prelude::*;

use super::util::{ok, sample};

fn run(path: &Path, input: &[f32], dims: &[usize]) -> Vec<f32> {
    let plan = tract_onnx::onnx()
        .model_for_path(path)
        .unwrap_or_else(|e| panic!("tract cannot read {}: {e}", path.display()))
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let out = plan.run(tvec!(Tensor::from_shape(dims, input).unwrap().into())).unwrap();
    out[0].try_as_plain_ram().unwrap().as_slice::<f32>().unwrap().to_vec()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max)
}

/// A conv autoencoder trained briefly on part of the sample, as `runs/m` under `dir`.
fn train_small_conv_ae(dir: &Path) {
    let s = sample();
    let data = s.to_str().unwrap();
    let args = ["--data", data, "--limit-train", "800", "--limit-test", "100", "--epochs", "2", "--batch-size", "32"];
    let mut train = vec!["train", "conv-ae"];
    train.extend(args);
    train.extend(["--runs", "runs", "--name", "m", "-q"]);
    ok(dir, &train);
}

#[test]
fn onnx_files_reproduce_burn_in_tract() {
    let dir = tempfile::tempdir().unwrap();
    train_small_conv_ae(dir.path());
    let out = ok(dir.path(), &["export", "runs/m", "--onnx", "--vectors", "64", "--calibration-images", "100"]);
    assert!(out.contains("encoder.onnx") && out.contains("decoder.onnx") && out.contains("model.safetensors"), "{out}");
    let export = dir.path().join("runs/m/export");
    let v = Vectors::from_bytes(&std::fs::read(export.join("vectors.bin")).unwrap(), "vectors.bin").unwrap();
    let n = v.items.len();
    let inputs: Vec<f32> = v.items.iter().flat_map(|x| x.input.clone()).collect();
    let codes: Vec<f32> = v.items.iter().flat_map(|x| x.code.clone()).collect();
    let recons: Vec<f32> = v.items.iter().flat_map(|x| x.reconstruction.clone()).collect();
    // The whole batch at once: the batch dimension is dynamic.
    let got_codes = run(&export.join("encoder.onnx"), &inputs, &[n, 1, 28, 28]);
    assert!(max_diff(&got_codes, &codes) <= 1e-4, "codes differ by {}", max_diff(&got_codes, &codes));
    let got_images = run(&export.join("decoder.onnx"), &codes, &[n, v.latent]);
    assert!(max_diff(&got_images, &recons) <= 1e-4, "reconstructions differ by {}", max_diff(&got_images, &recons));
    // And one at a time.
    let one = run(&export.join("encoder.onnx"), &v.items[0].input, &[1, 1, 28, 28]);
    assert!(max_diff(&one, &v.items[0].code) <= 1e-4);
}

#[test]
fn exported_onnx_imports_back_as_a_run_that_exports_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let data = s.to_str().unwrap();
    train_small_conv_ae(dir.path());
    ok(dir.path(), &["export", "runs/m", "--onnx", "--vectors", "16", "--calibration-images", "100"]);
    let out = ok(
        dir.path(),
        &[
            "import",
            "runs/m/export/encoder.onnx",
            "--decoder",
            "runs/m/export/decoder.onnx",
            "--name",
            "back",
            "--data",
            data,
            "--limit-train",
            "400",
            "--limit-test",
            "100",
        ],
    );
    assert!(out.contains("imported into runs/back") && out.contains("code of 16"), "{out}");
    ok(dir.path(), &["export", "runs/back", "--vectors", "16", "--calibration-images", "100"]);
    let v = ok(dir.path(), &["validate", "runs/back"]);
    assert!(v.contains("validation passed"), "{v}");
    // An imported run is not trained here.
    let err = super::util::fails(dir.path(), &["resume", "runs/back"], 1);
    assert!(err.contains("imported model"), "{err}");
}

#[test]
fn import_refuses_unsupported_files_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("junk.onnx"), b"not onnx").unwrap();
    let s = sample();
    let err = super::util::fails(dir.path(), &["import", "junk.onnx", "--data", s.to_str().unwrap()], 1);
    assert!(err.contains("junk.onnx") && err.contains("not an ONNX model"), "{err}");
    assert!(!dir.path().join("runs/imported").exists(), "a failed import left a run directory");
}
