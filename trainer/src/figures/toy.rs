//! The toy study's figures (seed 003): loss, the embedding as colour over the input plane, the
//! decoder's curve at initialisation and after training, and the encoder-retraining arrows.

use crate::fit::{Column, History, Metric, Split};
use crate::models::toy::ToyArch;
use crate::plot::lines::{Chart, Series, line_chart, line_chart_with_dots};
use crate::plot::scatter::{Axes, Coloring, scatter};
use crate::run_dir::RunDir;

use super::curves::epoch_series;

/// A point of the plane.
pub type Point = [f32; 2];

fn plane(points: &[Point]) -> Vec<(f64, f64)> {
    points.iter().map(|p| (f64::from(p[0]), f64::from(p[1]))).collect()
}

/// `figures/<file>`: train and test MSE per epoch.
///
/// # Errors
/// When drawing or writing fails.
pub fn loss(run: &RunDir, history: &History, title: &str, file: &str) -> anyhow::Result<()> {
    let series: Vec<Series> = [Split::Train, Split::Test]
        .iter()
        .map(|&s| epoch_series(s.name(), history, Column::new(s, Metric::Mse)))
        .collect();
    line_chart(&run.figure(file), &Chart { title, x_label: "epoch", y_label: "mse", log_y: true }, &series)
}

/// `figures/embedding.png`: each training point coloured by its 1-D code.
///
/// # Errors
/// When drawing or writing fails.
pub fn embedding(run: &RunDir, arch: ToyArch, points: &[Point], codes: &[f32]) -> anyhow::Result<()> {
    let code_values: Vec<f64> = codes.iter().map(|&z| f64::from(z)).collect();
    scatter(
        &run.figure("embedding.png"),
        Axes { title: &format!("Toy autoencoder ({arch}): the 1-D code of each point, as colour"), x: "x", y: "y" },
        &plane(points),
        &Coloring::Values(&code_values, "code"),
        &[],
    )
}

/// `figures/decoder-curves.png`: the decoder's image of a code interval, over the data in grey.
///
/// # Errors
/// When drawing or writing fails.
pub fn decoder_curves(run: &RunDir, arch: ToyArch, curves: &[Series], points: &[Point]) -> anyhow::Result<()> {
    line_chart_with_dots(
        &run.figure("decoder-curves.png"),
        &Chart {
            title: &format!("Toy autoencoder ({arch}): decoder image of a code interval (grey: data)"),
            x_label: "x",
            y_label: "y",
            log_y: false,
        },
        curves,
        &plane(points),
    )
}

/// `figures/retrain-arrows.png`: an arrow from each point to its reconstruction through the
/// retrained encoder and the frozen decoder, coloured by the new code.
///
/// # Errors
/// When drawing or writing fails.
pub fn retrain_arrows(run: &RunDir, points: &[Point], recon: &[f32], codes: &[f32]) -> anyhow::Result<()> {
    let pts = plane(points);
    let arrows: Vec<((f64, f64), (f64, f64))> =
        pts.iter().zip(recon.chunks(2)).map(|(&p, r)| (p, (f64::from(r[0]), f64::from(r[1])))).collect();
    let code_values: Vec<f64> = codes.iter().map(|&z| f64::from(z)).collect();
    scatter(
        &run.figure("retrain-arrows.png"),
        Axes { title: "Point -> reconstruction with a retrained encoder (decoder frozen)", x: "x", y: "y" },
        &pts,
        &Coloring::Values(&code_values, "new code"),
        &arrows,
    )
}
