//! The figures every autoencoder run gets.

use burn::prelude::*;

use crate::data::ImageSet;
use crate::data::batch::{InputRange, image_tensor};
use crate::models::Autoencoder;
use crate::plot::grid::{GridRow, image_grid};
use crate::plot::lines::{Chart, Series, line_chart};
use crate::run_dir::RunDir;
use crate::train::History;

/// The first test image of each class, in class order (fewer when a class is missing).
#[must_use]
pub fn one_per_class(set: &ImageSet, classes: usize) -> Vec<usize> {
    (0..classes).filter_map(|c| set.labels.iter().position(|&l| usize::from(l) == c)).collect()
}

/// `figures/loss.png`: every split's value of `metric` per epoch.
///
/// # Errors
/// When drawing or writing fails.
pub fn loss_curves(run: &RunDir, history: &History, metric: &str, title: &str, file: &str) -> anyhow::Result<()> {
    let series: Vec<Series> = ["train", "valid", "test"]
        .iter()
        .map(|split| Series {
            name: (*split).to_string(),
            points: history.series(&format!("{split}_{metric}")).into_iter().map(|(e, v)| (e as f64, v)).collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    let chart = Chart { title, x_label: "epoch", y_label: metric, log_y: true };
    line_chart(&run.figure(file), &chart, &series)
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
    let y: Vec<f32> = model.decode(model.encode(x)).try_into_vec_as::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let n = set.image_len();
    let rows = vec![
        GridRow { label: "original".into(), images: indices.iter().map(|&i| set.image(i).to_vec()).collect() },
        GridRow {
            label: "reconstruction".into(),
            images: y.chunks(n).map(|img| img.iter().map(|&v| range.to_byte(v)).collect()).collect(),
        },
    ];
    image_grid(
        &run.figure("reconstructions.png"),
        "Test images (top) and their reconstructions (bottom)",
        &rows,
        set.height,
        set.width,
        3,
    )
}
