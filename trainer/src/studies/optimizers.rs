//! Optimizers compared on the conv autoencoder (seed 002: Adam against SGD): one run per
//! optimizer, same seed and data, test MSE per epoch in one figure.

use std::path::{Path, PathBuf};

use crate::config::data::DataSelection;
use crate::config::{DataSpec, ModelKind, ModelSpec, RunConfig, TrainOverrides, TrainSpec};
use crate::data::Dataset;
use crate::figures::comparison::write_comparison;
use crate::figures::epoch_series;
use crate::fit::{Column, Metric, Optimizer, Split};
use crate::plot::lines::Chart;
use crate::train::{Placement, TrainOptions, start_run};

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

/// Trains the conv autoencoder once per optimizer into `<dir>/<optimizer>/` (an ordinary run
/// directory each) and draws the comparison; returns the figure's path. `train` fixes everything
/// but the optimizer (and the learning rate, unless it sets one).
///
/// # Errors
/// When a run fails or the figure cannot be written.
pub fn optimizers(
    list: &[Optimizer],
    data: &Dataset,
    selection: &DataSelection,
    train: &TrainOverrides,
    dir: &Path,
    progress: bool,
) -> anyhow::Result<PathBuf> {
    let mut series = Vec::new();
    for &opt in list {
        let lr = train.lr.unwrap_or_else(|| default_lr(opt));
        let overrides = TrainOverrides { optimizer: Some(opt), lr: Some(lr), ..train.clone() };
        let spec = TrainSpec::resolve(ModelKind::ConvAe, &overrides, 0);
        let image_data = selection.spec(data, spec.seed)?;
        let config = RunConfig::new(ModelSpec::default_for(ModelKind::ConvAe), spec, DataSpec::Images(image_data));
        let (_, outcome) = start_run(
            &Placement::replacing(dir, &opt.to_string()),
            &config,
            Some(data),
            TrainOptions { progress, ..TrainOptions::default() },
        )?;
        series.push(epoch_series(&format!("{opt} (lr {lr})"), &outcome.history, Column::new(Split::Test, Metric::Mse)));
    }
    let chart = Chart {
        title: "Conv autoencoder: test MSE per epoch by optimizer",
        x_label: "epoch",
        y_label: "test mse",
        log_y: true,
    };
    write_comparison(dir, "optimizers", &chart, &series)
}
