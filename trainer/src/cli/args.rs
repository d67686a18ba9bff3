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

/// How to train.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Passes over the training images.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,

    /// Images per optimizer step.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: u32,

    /// Optimizer.
    #[arg(long, value_enum, default_value = "adam")]
    pub optimizer: Optimizer,

    /// Learning rate.
    #[arg(long, default_value_t = 1e-3, value_parser = positive)]
    pub lr: f64,

    /// Weight decay (L2 penalty; decoupled for adamw).
    #[arg(long, default_value_t = 1e-5, value_parser = non_negative)]
    pub weight_decay: f64,

    /// Momentum for --optimizer momentum, nesterov and rmsprop.
    #[arg(long, default_value_t = 0.9, value_parser = fraction)]
    pub momentum: f64,

    /// Learning-rate schedule.
    #[arg(long, value_enum, default_value = "constant")]
    pub schedule: Schedule,

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

fn fraction(s: &str) -> Result<f64, String> {
    let v = parse_f64(s)?;
    if (0.0..1.0).contains(&v) { Ok(v) } else { Err(format!("{v} is not in [0, 1)")) }
}

fn positive(s: &str) -> Result<f64, String> {
    let v = parse_f64(s)?;
    if v > 0.0 { Ok(v) } else { Err(format!("{v} must be greater than 0")) }
}

fn non_negative(s: &str) -> Result<f64, String> {
    let v = parse_f64(s)?;
    if v >= 0.0 { Ok(v) } else { Err(format!("{v} must not be negative")) }
}
