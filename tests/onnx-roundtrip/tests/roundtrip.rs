//! Export, import, same outputs: the ONNX files Bottleneck wrote from a burn-trained conv
//! autoencoder (`models/`, refreshed by `cargo xtask golden`), imported into burn by burn-import,
//! reproduce the original burn model's codes and reconstructions (stored in `models/vectors.bin`)
//! to 1e-4.

use bottleneck_onnx_roundtrip::{decoder, encoder};
use burn::prelude::*;

const TOLERANCE: f32 = 1e-4;

/// The parts of `vectors.bin` (format 1, docs/vectors-format.md) this test needs. Parsed here
/// rather than with bottleneck-export, whose protobuf version cannot share this lock file.
struct Vectors {
    latent: usize,
    pixels: usize,
    inputs: Vec<f32>,
    codes: Vec<f32>,
    reconstructions: Vec<f32>,
}

fn read_vectors() -> Vectors {
    let b = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/models/vectors.bin")).unwrap();
    assert_eq!(&b[..4], b"BTNV");
    let u16_at = |o: usize| usize::from(u16::from_le_bytes([b[o], b[o + 1]]));
    let count = u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize;
    let pixels = u16_at(12) * u16_at(14) * u16_at(16);
    let (latent, classes) = (u16_at(18), u16_at(20));
    let f = |o: usize| f32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let record = (2 * pixels + latent + classes) * 4 + 4;
    let mut v = Vectors { latent, pixels, inputs: vec![], codes: vec![], reconstructions: vec![] };
    for i in 0..count {
        let at = 32 + i * record;
        v.inputs.extend((0..pixels).map(|k| f(at + 4 * k)));
        v.codes.extend((0..latent).map(|k| f(at + 4 * (pixels + k))));
        v.reconstructions.extend((0..pixels).map(|k| f(at + 4 * (pixels + latent + k))));
    }
    v
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max)
}

#[test]
fn imported_models_reproduce_the_original_outputs() {
    let device = Device::flex();
    let v = read_vectors();
    let n = v.inputs.len() / v.pixels;
    let enc = encoder::Model::from_embedded(&device);
    let dec = decoder::Model::from_embedded(&device);

    let images = Tensor::<4>::from_data(TensorData::new(v.inputs.clone(), [n, 1, 28, 28]), &device);
    let codes: Vec<f32> = enc.forward(images).try_into_vec_as::<f32>().unwrap();
    let d = max_diff(&codes, &v.codes);
    assert!(d <= TOLERANCE, "imported encoder differs from the original by {d}");

    let z = Tensor::<2>::from_data(TensorData::new(v.codes.clone(), [n, v.latent]), &device);
    let recon: Vec<f32> = dec.forward(z).try_into_vec_as::<f32>().unwrap();
    let d = max_diff(&recon, &v.reconstructions);
    assert!(d <= TOLERANCE, "imported decoder differs from the original by {d}");
}
