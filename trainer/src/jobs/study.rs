//! Studies that compare training set-ups in one figure (T1, T3): optimizers on the conv
//! autoencoder (seed 002's Adam against SGD), and full-batch gradient descent against mini-batch
//! and stochastic gradient descent on the toy set, over examples seen (seed 003 h).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use burn::prelude::*;

use super::train::force_init;
use crate::data::toy::rectangle;
use crate::models::toy::{ToyAeConfig, ToyArch};
use crate::objectives::Points;
use crate::plot::lines::{Chart, Series, line_chart};
use crate::train::{FitOptions, History, OptimConfig, Optimizer, Schedule, fit};
use crate::util::atomic_write_bytes;

/// A learning rate that works for `optimizer` on the conv autoencoder: 1e-3 for the adaptive ones,
/// 1e-2 with momentum, 5e-2 for plain SGD.
#[must_use]
pub fn default_lr(optimizer: Optimizer) -> f64 {
    match optimizer {
        Optimizer::Adam | Optimizer::Adamw | Optimizer::Rmsprop => 1e-3,
        Optimizer::Momentum | Optimizer::Nesterov => 1e-2,
        Optimizer::Sgd => 5e-2,
    }
}

/// Writes `name,x,y` rows of every series, and a line chart, into `dir`.
///
/// # Errors
/// On I/O or drawing failure.
pub fn write_comparison(dir: &Path, stem: &str, chart: &Chart<'_>, series: &[Series]) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut csv = format!("series,{},{}\n", chart.x_label, chart.y_label);
    for s in series {
        for (x, y) in &s.points {
            csv.push_str(&format!("{},{x},{y:e}\n", s.name));
        }
    }
    let csv_path = dir.join(format!("{stem}.csv"));
    atomic_write_bytes(&csv_path, csv.as_bytes()).with_context(|| format!("writing {}", csv_path.display()))?;
    let png = dir.join(format!("{stem}.png"));
    line_chart(&png, chart, series)?;
    Ok(png)
}

/// The series of `metric` on `split` from a history, against epochs.
#[must_use]
pub fn epoch_series(name: &str, history: &History, column: &str) -> Series {
    Series { name: name.into(), points: history.series(column).into_iter().map(|(e, v)| (e as f64, v)).collect() }
}

/// Settings of [`gd_vs_sgd`].
#[derive(Debug, Clone)]
pub struct GdStudy {
    /// Toy architecture.
    pub arch: ToyArch,
    /// Points in the training set.
    pub points: usize,
    /// Passes over the points.
    pub epochs: usize,
    /// Learning rate of plain SGD, the same for every batch size.
    pub lr: f64,
    /// Batch sizes to compare.
    pub batches: Vec<usize>,
    /// Seed of the points and the initial weights.
    pub seed: u64,
}

impl Default for GdStudy {
    fn default() -> Self {
        Self { arch: ToyArch::Small, points: 100, epochs: 200, lr: 0.01, batches: vec![100, 10, 1], seed: 42 }
    }
}

/// Full-batch gradient descent against mini-batch and stochastic gradient descent on seed 003's
/// toy set: the training loss on all points after each pass, against examples seen.
///
/// # Errors
/// Divergence or I/O failures.
pub fn gd_vs_sgd(dir: &Path, study: &GdStudy, progress: bool) -> anyhow::Result<PathBuf> {
    let GdStudy { arch, points, epochs, lr, ref batches, seed } = *study;
    let pts = rectangle(points, seed);
    let device = Device::flex();
    let mut series = Vec::new();
    for &batch in batches {
        // Every contender starts from the same weights.
        device.seed(seed);
        let model = ToyAeConfig::new().with_arch(arch).init(&device.clone().autodiff());
        force_init(&model);
        // The "test" split is the training set itself: the loss on all points after each pass.
        let objective = Points { train: &pts, test: &pts };
        let label = if batch >= points {
            "full-batch GD".to_string()
        } else if batch == 1 {
            "SGD (batch 1)".to_string()
        } else {
            format!("mini-batch SGD ({batch})")
        };
        let opts = FitOptions {
            epochs,
            batch_size: batch,
            eval_batch_size: points,
            seed,
            optim: OptimConfig {
                optimizer: Optimizer::Sgd,
                lr,
                weight_decay: 0.0,
                momentum: 0.0,
                schedule: Schedule::Constant,
            },
            patience: None,
            progress,
            label: label.clone(),
        };
        let f = fit(&objective, model, &opts, &device, None, None)?;
        let pts_seen: Vec<(f64, f64)> =
            f.history.series("test_mse").into_iter().map(|(e, v)| ((e * points) as f64, v)).collect();
        series.push(Series { name: label, points: pts_seen });
    }
    let chart = Chart {
        title: &format!("Toy autoencoder ({arch}), plain SGD at lr {lr}: training loss against examples seen"),
        x_label: "examples seen",
        y_label: "mse on all training points",
        log_y: true,
    };
    write_comparison(dir, "gd-vs-sgd", &chart, &series)
}
