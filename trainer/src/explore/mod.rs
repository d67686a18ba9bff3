//! `bottleneck explore RUN_DIR`: what a trained model learned. The codes of test images
//! (`explore/codes.csv`) and their PCA and t-SNE maps coloured by class; interpolations between
//! test images through the code space; for classifiers, per-class precision, recall and F1 and
//! the confusion matrix; for every model, its architecture table. Figures go to `figures/`, data
//! to `explore/`.

pub mod architecture;
pub mod classes;
pub mod pca;
pub mod probe;
pub mod tsne;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use burn::prelude::*;

use crate::config::{DataSpec, RunConfig};
use crate::data::{Dataset, ImageSet, stratified_subset};
use crate::inference::LoadedModel;
use crate::plot::grid::{GridRow, image_grid};
use crate::plot::heatmap::confusion;
use crate::plot::lines::{Chart, Series, line_chart};
use crate::plot::scatter::{Axes, Coloring, scatter};
use crate::run_dir::RunDir;
use crate::util::atomic_write_bytes;
pub use tsne::TsneOptions;

/// Folds of the linear probe's cross-validation.
const PROBE_FOLDS: usize = 5;

/// What to explore.
#[derive(Debug, Clone)]
pub struct ExploreOptions {
    /// Test images whose codes are mapped (stratified); `None`: all of them.
    pub codes: Option<usize>,
    /// Also map the codes with t-SNE.
    pub tsne: TsneOptions,
    /// Skip t-SNE (PCA only).
    pub skip_tsne: bool,
    /// Steps of the interpolation between two images.
    pub steps: usize,
}

impl Default for ExploreOptions {
    fn default() -> Self {
        Self { codes: Some(500), tsne: TsneOptions::default(), skip_tsne: false, steps: 10 }
    }
}

/// What an exploration found and wrote.
#[derive(Debug, Clone, Default)]
pub struct Explored {
    /// Codes mapped.
    pub codes: usize,
    /// Share of the codes' variance the first two principal components explain.
    pub pca_two: Option<f64>,
    /// Trustworthiness of the t-SNE map (10 neighbours), on at most 2,000 codes.
    pub trustworthiness: Option<f64>,
    /// Held-out accuracy of a linear classifier on the codes (5-fold, `probe::linear_probe`).
    pub linear_probe: Option<f64>,
    /// Seconds t-SNE took.
    pub tsne_seconds: Option<f64>,
    /// Test accuracy of a classifier.
    pub accuracy: Option<f64>,
    /// Every file written.
    pub files: Vec<PathBuf>,
}

fn write(path: &Path, text: &str, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    atomic_write_bytes(path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    files.push(path.to_path_buf());
    Ok(())
}

/// Explores the run `run` (of `config`) on the test images of `data`.
///
/// # Errors
/// When the model cannot be loaded or run, or a file cannot be written.
pub fn explore(
    run: &RunDir,
    config: &RunConfig,
    data: Option<&Dataset>,
    opts: &ExploreOptions,
) -> anyhow::Result<Explored> {
    let device = config.train.device.device()?;
    let model = LoadedModel::load(run, config, &device)?;
    let dir = run.root.join("explore");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut out = Explored::default();
    let (channels, side) = data.map_or((1, 28), |d| (d.test.channels, d.test.height));
    if let Some(rows) = architecture::architecture(&model, channels, side) {
        write(&dir.join("architecture.md"), &architecture::to_markdown(&rows), &mut out.files)?;
    }
    let (Some(data), DataSpec::Images(images)) = (data, &config.data) else { return Ok(out) };
    let test = images.prepare(data, config.train.seed).test;
    let names = data.classes();
    let kind = config.model.kind();
    if model.has_classifier() {
        classify(&model, &test, names, kind, run, &dir, &device, &mut out)?;
    }
    if model.latent().is_some() && !matches!(model, LoadedModel::Cnn(_)) {
        codes(&model, &test, names, kind, run, &dir, &device, opts, &mut out)?;
    }
    if model.has_decoder() {
        interpolate(&model, &test, kind, run, &device, opts.steps, &mut out)?;
    }
    let mut summary = format!("codes = {}\n", out.codes);
    for (key, v) in [
        ("pca_two_components", out.pca_two),
        ("trustworthiness", out.trustworthiness),
        ("linear_probe", out.linear_probe),
        ("tsne_seconds", out.tsne_seconds),
        ("test_accuracy", out.accuracy),
    ] {
        if let Some(v) = v {
            let _ = writeln!(summary, "{key} = {v}");
        }
    }
    write(&dir.join("summary.toml"), &summary, &mut out.files)?;
    Ok(out)
}

/// Codes of a stratified subset of the test set, mapped by PCA and t-SNE.
#[allow(clippy::too_many_arguments)]
fn codes(
    model: &LoadedModel,
    test: &ImageSet,
    names: &[String],
    kind: &str,
    run: &RunDir,
    dir: &Path,
    device: &Device,
    opts: &ExploreOptions,
    out: &mut Explored,
) -> anyhow::Result<()> {
    let set = opts.codes.map_or_else(|| test.clone(), |n| stratified_subset(test, n, 7));
    let idx: Vec<usize> = (0..set.len()).collect();
    let codes = model.outputs(&set, &idx, device)?.codes;
    let dim = model.latent().unwrap_or(1);
    out.codes = set.len();
    let mut csv = String::from("label,class");
    for d in 0..dim {
        let _ = write!(csv, ",z{}", d + 1);
    }
    csv.push('\n');
    for (i, row) in codes.chunks(dim).enumerate() {
        let label = set.labels[i];
        let _ = write!(csv, "{label},{}", names.get(usize::from(label)).map_or("?", String::as_str));
        for v in row {
            let _ = write!(csv, ",{v}");
        }
        csv.push('\n');
    }
    write(&dir.join("codes.csv"), &csv, &mut out.files)?;

    // PCA.
    let pca = pca::Pca::fit(&codes, dim);
    let ratio = pca.explained_ratio();
    out.pca_two = Some(ratio.iter().take(2).sum());
    let mut table = String::from("component,variance,explained,cumulative\n");
    let mut cum = 0.0;
    for (i, (v, r)) in pca.variance.iter().zip(&ratio).enumerate() {
        cum += r;
        let _ = writeln!(table, "{},{v:.6e},{r:.6},{cum:.6}", i + 1);
    }
    write(&dir.join("pca.csv"), &table, &mut out.files)?;
    let labels: Vec<u8> = set.labels.clone();
    out.linear_probe = probe::linear_probe(&codes, dim, &labels, names.len(), PROBE_FOLDS);
    if dim >= 2 {
        let p = pca.project(&codes, 2);
        let pts: Vec<(f64, f64)> = p.chunks(2).map(|c| (c[0], c[1])).collect();
        let path = run.figure("pca.png");
        let title = format!(
            "{kind}: {} test codes ({dim}-D) on their first two principal components ({:.0}% of the variance)",
            set.len(),
            100.0 * out.pca_two.unwrap_or(0.0)
        );
        scatter(
            &path,
            Axes { title: &title, x: "principal component 1", y: "principal component 2" },
            &pts,
            &Coloring::Classes(&labels, names),
            &[],
        )?;
        out.files.push(path);
    }
    let per: Vec<(f64, f64)> = ratio.iter().enumerate().map(|(i, &r)| ((i + 1) as f64, 100.0 * r)).collect();
    let cumulative: Vec<(f64, f64)> = ratio
        .iter()
        .scan(0.0, |s, &r| {
            *s += r;
            Some(*s)
        })
        .enumerate()
        .map(|(i, c)| ((i + 1) as f64, 100.0 * c))
        .collect();
    let path = run.figure("pca-variance.png");
    let title = format!("{kind}: variance of the codes explained by each principal component");
    line_chart(
        &path,
        &Chart { title: &title, x_label: "principal component", y_label: "explained variance (%)", log_y: false },
        &[
            Series { name: "this component".into(), points: per },
            Series { name: "cumulative".into(), points: cumulative },
        ],
    )?;
    out.files.push(path);

    // t-SNE.
    if !opts.skip_tsne && set.len() >= 8 {
        let started = std::time::Instant::now();
        let e = tsne::tsne(&codes, dim, opts.tsne)?;
        out.tsne_seconds = Some(started.elapsed().as_secs_f64());
        let mut csv = String::from("label,class,x,y\n");
        for (i, p) in e.chunks(2).enumerate() {
            let label = set.labels[i];
            let _ = writeln!(
                csv,
                "{label},{},{},{}",
                names.get(usize::from(label)).map_or("?", String::as_str),
                p[0],
                p[1]
            );
        }
        write(&dir.join("tsne.csv"), &csv, &mut out.files)?;
        // Trustworthiness is quadratic: on the first 2,000 codes at most.
        let m = set.len().min(2000);
        out.trustworthiness = Some(tsne::trustworthiness(&codes[..m * dim], dim, &e[..2 * m], 10));
        let pts: Vec<(f64, f64)> = e.chunks(2).map(|c| (f64::from(c[0]), f64::from(c[1]))).collect();
        let path = run.figure("tsne.png");
        let title = format!("{kind}: t-SNE of {} test codes ({dim}-D), coloured by class", set.len());
        scatter(
            &path,
            Axes { title: &title, x: "t-SNE 1", y: "t-SNE 2" },
            &pts,
            &Coloring::Classes(&labels, names),
            &[],
        )?;
        out.files.push(path);
    }
    Ok(())
}

/// Per-class report and confusion matrix on the whole test set.
#[allow(clippy::too_many_arguments)]
fn classify(
    model: &LoadedModel,
    test: &ImageSet,
    names: &[String],
    kind: &str,
    run: &RunDir,
    dir: &Path,
    device: &Device,
    out: &mut Explored,
) -> anyhow::Result<()> {
    let idx: Vec<usize> = (0..test.len()).collect();
    let logits = model.outputs(test, &idx, device)?.logits;
    let k = names.len();
    anyhow::ensure!(
        logits.len() == k * test.len(),
        "the classifier gives {} logits for {} images",
        logits.len(),
        test.len()
    );
    let predicted: Vec<usize> = logits.chunks(k).map(|l| bottleneck_runtime::argmax(l.iter().copied())).collect();
    let r = classes::report(&test.labels, &predicted, names);
    out.accuracy = Some(r.accuracy);
    write(&dir.join("classification.csv"), &r.to_csv(), &mut out.files)?;
    write(&dir.join("classification.md"), &r.to_markdown(), &mut out.files)?;
    let mut csv = String::from("true\\predicted");
    for n in names {
        let _ = write!(csv, ",{n}");
    }
    csv.push('\n');
    for (t, row) in r.confusion.iter().enumerate() {
        let _ = write!(csv, "{}", names[t]);
        for c in row {
            let _ = write!(csv, ",{c}");
        }
        csv.push('\n');
    }
    write(&dir.join("confusion.csv"), &csv, &mut out.files)?;
    let path = run.figure("confusion.png");
    let title = format!("{kind}: confusion matrix on {} test images (accuracy {:.2}%)", test.len(), 100.0 * r.accuracy);
    confusion(&path, &title, &r.confusion, names)?;
    out.files.push(path);
    Ok(())
}

/// Decodes points on the line between two codes, and on the square between four.
fn interpolate(
    model: &LoadedModel,
    test: &ImageSet,
    kind: &str,
    run: &RunDir,
    device: &Device,
    steps: usize,
    out: &mut Explored,
) -> anyhow::Result<()> {
    // The first test image of four different classes (T-shirt, trouser, sneaker, bag on
    // Fashion-MNIST): the corners.
    let first = |c: u8| test.labels.iter().position(|&l| l == c);
    let corners: Vec<usize> = [0u8, 1, 7, 8].iter().filter_map(|&c| first(c)).collect();
    if corners.len() < 4 {
        return Ok(());
    }
    let latent = model.latent().unwrap_or(1);
    let codes = model.outputs(test, &corners, device)?.codes;
    let code = |i: usize| &codes[i * latent..(i + 1) * latent];
    let range = model.range();
    let pixels = test.image_len();
    let bytes = |v: &[f32]| -> Vec<Vec<u8>> {
        v.chunks(pixels).map(|img| img.iter().map(|&x| range.to_byte(x)).collect()).collect()
    };
    let steps = steps.max(2);
    // Two images: from corner 0 to corner 1.
    let mut line = Vec::with_capacity(steps * latent);
    for s in 0..steps {
        let t = s as f32 / (steps - 1) as f32;
        line.extend(code(0).iter().zip(code(1)).map(|(a, b)| a + t * (b - a)));
    }
    let decoded = model.decode(&line, device)?;
    let rows = vec![
        GridRow { label: "decoded".into(), images: bytes(&decoded) },
        GridRow {
            label: "originals".into(),
            images: {
                let blank = vec![255u8; pixels];
                let mut v = vec![blank; steps];
                v[0] = test.image(corners[0]).to_vec();
                v[steps - 1] = test.image(corners[1]).to_vec();
                v
            },
        },
    ];
    let path = run.figure("interpolation.png");
    let title = format!("{kind}: decoding the line between two test images' codes, in {steps} steps");
    image_grid(&path, &title, &rows, test.shape()?, 3)?;
    out.files.push(path);
    // Four corners: bilinear in code space.
    let n = 8usize;
    let mut square = Vec::with_capacity(n * n * latent);
    for r in 0..n {
        let v = r as f32 / (n - 1) as f32;
        for c in 0..n {
            let u = c as f32 / (n - 1) as f32;
            for d in 0..latent {
                let top = code(0)[d] + u * (code(1)[d] - code(0)[d]);
                let bottom = code(2)[d] + u * (code(3)[d] - code(2)[d]);
                square.push(top + v * (bottom - top));
            }
        }
    }
    let decoded = model.decode(&square, device)?;
    let rows: Vec<GridRow> =
        bytes(&decoded).chunks(n).map(|r| GridRow { label: String::new(), images: r.to_vec() }).collect();
    let path = run.figure("traversal.png");
    let title = format!("{kind}: the square between four test images' codes (corners), decoded");
    image_grid(&path, &title, &rows, test.shape()?, 3)?;
    out.files.push(path);
    Ok(())
}
