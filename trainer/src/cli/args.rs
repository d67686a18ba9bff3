//! Arguments shared by several commands, and how they become library values.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use clap::Args;

use crate::config::{DataSelection, TrainOverrides, TrainSpec};
use crate::data::DatasetKind;
use crate::device::Backend;
use crate::fit::{Optimizer, Schedule};
use crate::train::Placement;

/// Where the images come from and how many to use.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Dataset to use. MNIST, CIFAR-10 and folders need --data (only Fashion-MNIST has a package
    /// and a bundled sample).
    #[arg(long, value_enum, default_value = "fashion-mnist")]
    pub dataset: DatasetKind,

    /// Where the files are. For the MNIST family: a folder holding the four IDX files
    /// (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz],
    /// t10k-labels-idx1-ubyte[.gz]). For cifar10: where cifar-10-binary.tar.gz was unpacked. For
    /// folder: one sub-folder of PNG or JPEG files per class (or train/ and test/, each with class
    /// sub-folders; otherwise every fifth file of each class is the test split). Without it:
    /// $BOTTLENECK_DATA, then /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist),
    /// then the small sample shipped in the repository.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Resize every image to NxN (centre-cropped to a square first). Needed when a folder's images
    /// differ in size; the convolutional models need N of at least 12. Images with any colour make
    /// the whole set RGB; otherwise it is grey.
    #[arg(long, value_name = "N")]
    pub image_size: Option<usize>,

    /// Use at most N training images (a stratified subset), e.g. for a quick try.
    #[arg(long, value_name = "N")]
    pub limit_train: Option<usize>,

    /// Use at most N test images (a stratified subset).
    #[arg(long, value_name = "N")]
    pub limit_test: Option<usize>,

    /// Share of the training images held out for validation (stratified by class, seeded).
    #[arg(long, value_name = "F", default_value_t = DataSelection::DEFAULT_VALID_FRACTION, value_parser = fraction)]
    pub valid_fraction: f64,
}

impl DataArgs {
    /// The selection these flags make.
    #[must_use]
    pub fn selection(&self) -> DataSelection {
        DataSelection {
            dataset: self.dataset,
            dir: self.data.clone(),
            limit_train: self.limit_train,
            limit_test: self.limit_test,
            valid_fraction: self.valid_fraction,
            image_size: self.image_size,
        }
    }
}

/// How to train. Each model kind has its own defaults (shown by `bottleneck train KIND --help`).
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
    #[arg(long, default_value_t = TrainSpec::DEFAULT_MOMENTUM, value_parser = fraction)]
    pub momentum: f64,

    /// Learning-rate schedule.
    #[arg(long, value_enum)]
    pub schedule: Option<Schedule>,

    /// Stop when the validation loss has not improved for this many epochs.
    #[arg(long, value_name = "EPOCHS")]
    pub patience: Option<usize>,

    /// Seed for weights, data order, splits and noise: the same seed gives the same run.
    #[arg(long, default_value_t = TrainSpec::DEFAULT_SEED)]
    pub seed: u64,

    /// Compute backend: flex (CPU, default), ndarray (CPU, slower) or cuda (needs a build with
    /// `--features cuda`).
    #[arg(long, value_enum, default_value = "flex")]
    pub device: Backend,
}

impl TrainArgs {
    /// The overrides these flags give.
    #[must_use]
    pub fn overrides(&self) -> TrainOverrides {
        TrainOverrides {
            epochs: self.epochs,
            batch_size: self.batch_size.map(|b| b as usize),
            optimizer: self.optimizer,
            lr: self.lr,
            weight_decay: self.weight_decay,
            momentum: Some(self.momentum),
            schedule: self.schedule,
            patience: self.patience,
            seed: Some(self.seed),
            device: Some(self.device),
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

impl OutputArgs {
    /// Where the run goes.
    #[must_use]
    pub fn placement(&self) -> Placement {
        Placement { runs: self.runs.clone(), name: self.name.clone(), overwrite: self.overwrite }
    }
}

fn parse_f64(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if v.is_finite() { Ok(v) } else { Err(format!("{s} is not finite")) }
}

pub(crate) fn fraction(s: &str) -> Result<f64, String> {
    let v = parse_f64(s)?;
    if (0.0..1.0).contains(&v) { Ok(v) } else { Err(format!("{v} is not in [0, 1)")) }
}

pub(crate) fn positive_fraction(s: &str) -> Result<f64, String> {
    let v = parse_f64(s)?;
    if v > 0.0 && v <= 1.0 { Ok(v) } else { Err(format!("{v} is not in (0, 1]")) }
}

pub(crate) fn positive(s: &str) -> Result<f64, String> {
    let v = parse_f64(s)?;
    if v > 0.0 { Ok(v) } else { Err(format!("{v} must be greater than 0")) }
}

pub(crate) fn non_negative(s: &str) -> Result<f64, String> {
    let v = parse_f64(s)?;
    if v >= 0.0 { Ok(v) } else { Err(format!("{v} must not be negative")) }
}

/// Comma-separated counts (`16,32,64`), shown the same way as defaults in `--help`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts(pub Vec<usize>);

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

impl FromStr for Counts {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        s.split(',')
            .map(|w| w.trim().parse::<usize>().map_err(|e| format!("{w:?} is not a count: {e}")))
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

/// Three channel counts, `8,16,32`: the conv autoencoder's `--widths`, within the int8 runtime's
/// limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Widths(pub [usize; 3]);

impl fmt::Display for Widths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c] = self.0;
        write!(f, "{a},{b},{c}")
    }
}

impl FromStr for Widths {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let v = Counts::from_str(s)?.0;
        // The int8 runtime's limits: at most 32,768 terms per output (conv2 reads 4x4xC1 values,
        // conv3 3x3xC2) and 4,096 values per vector (the flattened 3x3xC3).
        match v[..] {
            [a, b, c] if (1..=2048).contains(&a) && (1..=3640).contains(&b) && (1..=455).contains(&c) => {
                Ok(Self([a, b, c]))
            }
            _ => Err(format!(
                "{s:?}: give three positive channel counts, e.g. 8,16,32 (at most 2048, 3640 and 455, what the int8 \
                 runtime can run)"
            )),
        }
    }
}
