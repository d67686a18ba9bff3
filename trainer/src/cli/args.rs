//! Arguments shared by several commands.

use std::path::PathBuf;

use clap::Args;

use crate::data::DatasetKind;
use crate::device::Backend;
use crate::train::{Optimizer, Schedule};

/// Where the images come from and how many to use.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Dataset to use. MNIST needs --data (there is no package or bundled sample for it).
    #[arg(long, value_enum, default_value = "fashion-mnist")]
    pub dataset: DatasetKind,

    /// Folder holding the four IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
    /// t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]). Without it: $BOTTLENECK_DATA, then
    /// /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist), then the small sample
    /// shipped in the repository.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Use at most N training images (a stratified subset), e.g. for a quick try.
    #[arg(long, value_name = "N")]
    pub limit_train: Option<usize>,

    /// Use at most N test images (a stratified subset).
    #[arg(long, value_name = "N")]
    pub limit_test: Option<usize>,

    /// Share of the training images held out for validation (stratified by class, seeded).
    #[arg(long, value_name = "F", default_value_t = 0.1, value_parser = fraction)]
    pub valid_fraction: f64,
}

/// How to train. Unset options take the model kind's defaults, listed in each kind's help.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Passes over the training data.
    #[arg(long)]
    pub epochs: Option<usize>,

    /// Examples per optimizer step.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: Option<u32>,

    /// Optimizer.
    #[arg(long, value_enum)]
    pub optimizer: Option<Optimizer>,

    /// Learning rate.
    #[arg(long, value_parser = positive)]
    pub lr: Option<f64>,

    /// Weight decay (L2 penalty; decoupled for adamw).
    #[arg(long, value_parser = non_negative)]
    pub weight_decay: Option<f64>,

    /// Momentum for --optimizer momentum, nesterov and rmsprop.
    #[arg(long, default_value_t = 0.9, value_parser = fraction)]
    pub momentum: f64,

    /// Learning-rate schedule.
    #[arg(long, value_enum)]
    pub schedule: Option<Schedule>,

    /// Stop when the validation loss has not improved for this many epochs.
    #[arg(long, value_name = "EPOCHS")]
    pub patience: Option<usize>,

    /// Seed for weights, data order, splits and noise: the same seed gives the same run.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Compute backend: flex (CPU, default), ndarray (CPU, slower) or cuda (needs a build with
    /// `--features cuda`).
    #[arg(long, value_enum, default_value = "flex")]
    pub device: Backend,
}

/// A model kind's training defaults.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub epochs: usize,
    pub batch_size: u32,
    pub optimizer: Optimizer,
    pub lr: f64,
    pub weight_decay: f64,
    pub schedule: Schedule,
}

impl Defaults {
    /// Seed 002's settings: 10 epochs, batch 256, Adam 1e-3, weight decay 1e-5.
    pub const IMAGES: Self = Self {
        epochs: 10,
        batch_size: 256,
        optimizer: Optimizer::Adam,
        lr: 1e-3,
        weight_decay: 1e-5,
        schedule: Schedule::Constant,
    };
}

impl TrainArgs {
    /// The settings: what was given, else the kind's defaults.
    #[must_use]
    pub fn resolve(&self, d: Defaults) -> crate::run_dir::TrainSpec {
        crate::run_dir::TrainSpec {
            epochs: self.epochs.unwrap_or(d.epochs),
            batch_size: self.batch_size.unwrap_or(d.batch_size) as usize,
            optim: crate::train::OptimConfig {
                optimizer: self.optimizer.unwrap_or(d.optimizer),
                lr: self.lr.unwrap_or(d.lr),
                weight_decay: self.weight_decay.unwrap_or(d.weight_decay),
                momentum: self.momentum,
                schedule: self.schedule.unwrap_or(d.schedule),
            },
            patience: self.patience,
            seed: self.seed,
            device: self.device,
        }
    }
}

/// Where the run directory goes.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Folder that holds run directories.
    #[arg(long, value_name = "DIR", default_value = "runs")]
    pub runs: PathBuf,

    /// Name of the run directory (default: the model kind, numbered if taken).
    #[arg(long)]
    pub name: Option<String>,

    /// Replace an existing run of the same --name.
    #[arg(long)]
    pub overwrite: bool,

    /// No progress bars or per-epoch lines.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_f64(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if v.is_finite() { Ok(v) } else { Err(format!("{s} is not finite")) }
}

pub(crate) fn fraction(s: &str) -> Result<f64, String> {
    let v = parse_f64(s)?;
    if (0.0..1.0).contains(&v) { Ok(v) } else { Err(format!("{v} is not in [0, 1)")) }
}

pub(crate) fn positive(s: &str) -> Result<f64, String> {
    let v = parse_f64(s)?;
    if v > 0.0 { Ok(v) } else { Err(format!("{v} must be greater than 0")) }
}

pub(crate) fn non_negative(s: &str) -> Result<f64, String> {
    let v = parse_f64(s)?;
    if v >= 0.0 { Ok(v) } else { Err(format!("{v} must not be negative")) }
}

/// Three channel counts, `8,16,32`: the conv autoencoder's `--widths`.
pub(crate) fn widths(s: &str) -> Result<[usize; 3], String> {
    let v: Vec<usize> = s
        .split(',')
        .map(|w| w.trim().parse::<usize>().map_err(|e| format!("{w:?} is not a channel count: {e}")))
        .collect::<Result<_, _>>()?;
    // The int8 runtime's limits: at most 32,768 terms per output (conv2 reads 4x4xC1 values,
    // conv3 3x3xC2) and 4,096 values per vector (the flattened 3x3xC3).
    match v[..] {
        [a, b, c] if (1..=2048).contains(&a) && (1..=3640).contains(&b) && (1..=455).contains(&c) => Ok([a, b, c]),
        _ => Err(format!(
            "{s:?}: give three positive channel counts, e.g. 8,16,32 (at most 2048, 3640 and 455, what the int8 \
             runtime can run)"
        )),
    }
}
