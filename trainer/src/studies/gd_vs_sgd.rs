//! Seed 003 h: full-batch gradient descent against mini-batch and stochastic gradient descent on
//! the toy set, the loss plotted against the number of examples seen.

use std::path::{Path, PathBuf};

use burn::prelude::*;

use crate::data::toy::rectangle;
use crate::figures::comparison::write_comparison;
use crate::fit::{Column, FitHooks, FitOptions, Metric, OptimConfig, Optimizer, Schedule, Split, fit, force_init};
use crate::models::toy::{ToyAeConfig, ToyArch};
use crate::objectives::Points;
use crate::plot::lines::{Chart, Series};

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
        let f = fit(&objective, model, &opts, &device, FitHooks::default())?;
        let pts_seen: Vec<(f64, f64)> = f
            .history
            .series(Column::new(Split::Test, Metric::Mse))
            .into_iter()
            .map(|(e, v)| ((e * points) as f64, v))
            .collect();
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
