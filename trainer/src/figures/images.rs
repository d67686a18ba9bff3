//! The figures of image runs: reconstructions, denoising, samples, 2-D latent spaces.

use burn::prelude::*;

use crate::data::batch::{InputRange, image_tensor};
use crate::data::{ImageSet, ImageShape};
use crate::models::Autoencoder;
use crate::objectives::reconstruction::noisy_values;
use crate::plot::grid::{GridRow, image_grid};
use crate::plot::scatter::{Axes, Coloring, scatter};
use crate::run_dir::RunDir;
use crate::util::to_vec;

/// The first test image of each class, in class order (fewer when a class is missing).
#[must_use]
pub fn one_per_class(set: &ImageSet, classes: usize) -> Vec<usize> {
    (0..classes).filter_map(|c| set.labels.iter().position(|&l| usize::from(l) == c)).collect()
}

fn bytes(values: &[f32], n: usize, range: InputRange) -> Vec<Vec<u8>> {
    values.chunks(n).map(|img| img.iter().map(|&v| range.to_byte(v)).collect()).collect()
}

/// `figures/reconstructions.png`: originals above their reconstructions.
///
/// # Errors
/// When drawing or writing fails.
pub fn reconstructions<M: Autoencoder>(
    run: &RunDir,
    model: &M,
    set: &ImageSet,
    indices: &[usize],
    range: InputRange,
    device: &Device,
) -> anyhow::Result<()> {
    let x = image_tensor(set, indices, range, device);
    let y = to_vec(model.decode(model.encode(x)))?;
    reconstruction_grid(
        &run.figure("reconstructions.png"),
        "Test images (top) and their reconstructions (bottom)",
        set,
        indices,
        &y,
        range,
    )
}

/// Draws originals (`indices` of `set`) above `outputs` (their reconstructions, model values in
/// `range`) into `path`.
///
/// # Errors
/// When drawing or writing fails.
pub fn reconstruction_grid(
    path: &std::path::Path,
    title: &str,
    set: &ImageSet,
    indices: &[usize],
    outputs: &[f32],
    range: InputRange,
) -> anyhow::Result<()> {
    let rows = vec![
        GridRow { label: "original".into(), images: indices.iter().map(|&i| set.image(i).to_vec()).collect() },
        GridRow { label: "reconstruction".into(), images: bytes(outputs, set.image_len(), range) },
    ];
    image_grid(path, title, &rows, set.shape()?, 3)
}

/// `figures/denoising.png`: noisy inputs, the model's outputs, and the clean originals.
///
/// # Errors
/// When drawing or writing fails.
pub fn denoising<M: Autoencoder>(
    run: &RunDir,
    model: &M,
    set: &ImageSet,
    indices: &[usize],
    noise: &InputNoise,
    device: &Device,
) -> anyhow::Result<()> {
    let n = set.image_len();
    let noisy = noisy_values(set, indices, noise.range, noise.std, noise.seed);
    let x = Tensor::from_data(TensorData::new(noisy.clone(), [indices.len(), n]), device);
    let y = to_vec(model.decode(model.encode(x)))?;
    denoising_grid(
        &run.figure("denoising.png"),
        "Denoising: noisy test images, outputs, originals",
        set,
        indices,
        &noisy,
        &y,
        noise,
    )
}

/// The noise a denoising autoencoder's inputs get: standard deviation `std` in the units of
/// `range`, drawn from `seed`.
#[derive(Debug, Clone, Copy)]
pub struct InputNoise {
    pub range: InputRange,
    pub std: f64,
    pub seed: u64,
}

/// Draws noisy inputs, outputs and originals (`indices` of `set`, pixels in `range`) into `path`.
///
/// # Errors
/// When drawing or writing fails.
pub fn denoising_grid(
    path: &std::path::Path,
    title: &str,
    set: &ImageSet,
    indices: &[usize],
    noisy: &[f32],
    outputs: &[f32],
    noise: &InputNoise,
) -> anyhow::Result<()> {
    let n = set.image_len();
    let rows = vec![
        GridRow { label: format!("noisy (std {})", noise.std), images: bytes(noisy, n, noise.range) },
        GridRow { label: "denoised".into(), images: bytes(outputs, n, noise.range) },
        GridRow { label: "original".into(), images: indices.iter().map(|&i| set.image(i).to_vec()).collect() },
    ];
    image_grid(path, title, &rows, set.shape()?, 3)
}

/// `figures/samples.png`: an 8x8 grid of decoded random codes.
///
/// # Errors
/// When drawing or writing fails.
pub fn samples<M: Autoencoder>(
    run: &RunDir,
    model: &M,
    shape: ImageShape,
    codes: &[f32],
    range: InputRange,
    title: &str,
    device: &Device,
) -> anyhow::Result<()> {
    let latent = model.latent();
    let n = codes.len() / latent;
    let z = Tensor::from_data(TensorData::new(codes.to_vec(), [n, latent]), device);
    let imgs = bytes(&to_vec(model.decode(z))?, shape.len(), range);
    let rows: Vec<GridRow> = imgs.chunks(8).map(|r| GridRow { label: String::new(), images: r.to_vec() }).collect();
    image_grid(&run.figure("samples.png"), title, &rows, shape, 3)
}

/// For a 2-D code: `figures/latent.png` (test codes coloured by class) and `figures/latent-grid.png`
/// (decodings of a 10x10 grid spanning the codes, seed 004).
///
/// # Errors
/// When drawing or writing fails.
pub fn latent_2d<M: Autoencoder>(
    run: &RunDir,
    model: &M,
    set: &ImageSet,
    classes: &[String],
    range: InputRange,
    device: &Device,
) -> anyhow::Result<()> {
    let idx: Vec<usize> = (0..set.len().min(3000)).collect();
    let mut codes = Vec::with_capacity(idx.len() * 2);
    for chunk in idx.chunks(1000) {
        codes.extend(to_vec(model.encode(image_tensor(set, chunk, range, device)))?);
    }
    let pts: Vec<(f64, f64)> = codes.chunks(2).map(|c| (f64::from(c[0]), f64::from(c[1]))).collect();
    let labels: Vec<u8> = idx.iter().map(|&i| set.labels[i]).collect();
    scatter(
        &run.figure("latent.png"),
        Axes { title: "Test images in the 2-D code space", x: "z1", y: "z2" },
        &pts,
        &Coloring::Classes(&labels, classes),
        &[],
    )?;
    // The grid spans the 1st to 99th percentile of each coordinate.
    let pct = |k: usize| {
        let mut v: Vec<f32> = codes.iter().skip(k).step_by(2).copied().collect();
        v.sort_by(f32::total_cmp);
        (v[v.len() / 100], v[v.len() * 99 / 100])
    };
    let ((x0, x1), (y0, y1)) = (pct(0), pct(1));
    let steps = 10usize;
    let at = |lo: f32, hi: f32, i: usize| lo + (hi - lo) * i as f32 / (steps - 1) as f32;
    let mut grid = Vec::with_capacity(steps * steps * 2);
    for r in 0..steps {
        for c in 0..steps {
            grid.extend([at(x0, x1, c), at(y1, y0, r)]); // top row = largest z2
        }
    }
    let z = Tensor::from_data(TensorData::new(grid, [steps * steps, 2]), device);
    let shape = set.shape()?;
    let imgs = bytes(&to_vec(model.decode(z))?, shape.len(), range);
    // Each row is labelled with its z2; the title gives z1's span (left to right).
    let rows: Vec<GridRow> = imgs
        .chunks(steps)
        .enumerate()
        .map(|(r, row)| GridRow { label: format!("z2 = {:.2}", at(y1, y0, r)), images: row.to_vec() })
        .collect();
    let title = format!("Decoded grid of codes: z1 from {x0:.2} to {x1:.2}, left to right");
    image_grid(&run.figure("latent-grid.png"), &title, &rows, shape, 2)
}
