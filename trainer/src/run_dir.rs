//! The run directory: one trained model with everything needed to reproduce and inspect it.
//!
//! ```text
//! runs/<name>/
//!   config.toml        the resolved configuration (format version 1, see docs/run-directory.md)
//!   metrics.csv        one row per epoch
//!   model.bpk          the final weights, burn's burnpack format
//!   checkpoints/       the latest per-epoch checkpoint, for --resume
//!   figures/           loss.png, reconstructions.png, ...
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};

use crate::data::DatasetKind;
use crate::device::Backend;
use crate::models::classifier::{ClassifierConfig, Mode};
use crate::models::cnn::CnnConfig;
use crate::models::conv_ae::ConvAeConfig;
use crate::models::fc_ae::FcAeConfig;
use crate::models::toy::ToyAeConfig;
use crate::models::vae::ConvVaeConfig;
use crate::train::OptimConfig;
use crate::util::atomic_write_bytes;

/// Version of the run-directory layout and `config.toml` schema.
pub const RUN_FORMAT: u32 = 1;

/// Which model, with its options.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModelSpec {
    /// The convolutional autoencoder of seed 002.
    ConvAe(ConvAeConfig),
    /// The fully-connected autoencoder of seed 001.
    FcAe(FcAeConfig),
    /// The convolutional autoencoder trained to remove Gaussian noise.
    DenoisingAe(DenoisingSpec),
    /// The convolutional VAE.
    ConvVae(ConvVaeConfig),
    /// The seed-002 encoder with an MLP head.
    Classifier(ClassifierSpec),
    /// The CNN baseline, from scratch.
    Cnn(CnnSpec),
    /// A toy autoencoder of seed 003 on 2-D points.
    ToyAe(ToySpec),
    /// A model brought in from ONNX files by `bottleneck import` (not trained here).
    Imported(ImportedSpec),
}

/// The denoising autoencoder: a conv autoencoder and the noise it learns to remove.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DenoisingSpec {
    /// The network.
    pub network: ConvAeConfig,
    /// Standard deviation of the Gaussian noise added to inputs (pixels in [0, 1]).
    pub noise_std: f64,
}

/// A classifier run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassifierSpec {
    /// The network.
    pub network: ClassifierConfig,
    /// Fine-tuned, frozen or from scratch.
    pub mode: Mode,
    /// The autoencoder run whose encoder starts the classifier (not for `scratch`).
    pub pretrained: Option<PathBuf>,
    /// Accuracy whose first crossing is recorded (epochs and seconds to reach it).
    pub target_accuracy: f64,
    /// Shift and mirror training images.
    pub augment: bool,
    /// Largest shift of the augmentation, in pixels (0: mirror only).
    #[serde(default = "two_pixels")]
    pub shift: usize,
    /// Label smoothing of the training loss (0: plain cross-entropy).
    #[serde(default)]
    pub label_smoothing: f64,
}

/// The augmentation's shift in run directories written before it was an option.
fn two_pixels() -> usize {
    2
}

/// The CNN baseline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CnnSpec {
    /// The network.
    pub network: CnnConfig,
    /// Accuracy whose first crossing is recorded.
    pub target_accuracy: f64,
    /// Shift and mirror training images.
    pub augment: bool,
    /// Largest shift of the augmentation, in pixels (0: mirror only).
    #[serde(default = "two_pixels")]
    pub shift: usize,
    /// Label smoothing of the training loss (0: plain cross-entropy).
    #[serde(default)]
    pub label_smoothing: f64,
}

/// A toy autoencoder run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToySpec {
    /// The network.
    pub network: ToyAeConfig,
    /// After training, freeze the decoder and train a fresh encoder (seed 003 f, g).
    pub retrain_encoder: bool,
}

/// Where an imported model's ONNX files are, relative to the run directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportedSpec {
    /// The encoder, or a whole autoencoder when `decoder` is absent.
    pub autoencoder: PathBuf,
    /// A separate decoder file.
    pub decoder: Option<PathBuf>,
    /// A classifier file (image to logits).
    pub classifier: Option<PathBuf>,
    /// Whether the model takes images in [-1, 1] (otherwise [0, 1]).
    pub symmetric_input: bool,
}

impl ModelSpec {
    /// The kind's name (`conv-ae`, ...), used for run names.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ConvAe(_) => "conv-ae",
            Self::FcAe(_) => "fc-ae",
            Self::DenoisingAe(_) => "denoising-ae",
            Self::ConvVae(_) => "conv-vae",
            Self::Classifier(c) => match c.mode {
                Mode::Finetune => "classifier-finetune",
                Mode::Frozen => "classifier-frozen",
                Mode::Scratch => "classifier-scratch",
            },
            Self::Cnn(_) => "cnn",
            Self::ToyAe(_) => "toy-ae",
            Self::Imported(_) => "imported",
        }
    }
}

/// Training settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainSpec {
    /// Epochs in total.
    pub epochs: usize,
    /// Examples per step.
    pub batch_size: usize,
    /// Optimizer, learning rate, schedule, weight decay.
    #[serde(flatten)]
    pub optim: OptimConfig,
    /// Early-stopping patience in epochs (needs a validation split).
    pub patience: Option<usize>,
    /// Seed of weights, data order, split and noise.
    pub seed: u64,
    /// Backend.
    pub device: Backend,
}

/// What a run trains on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum DataSpec {
    /// An image dataset.
    Images(ImageData),
    /// Seed 003's points in [-2, 2] x [-1, 1].
    ToyRectangle(ToyData),
}

/// Points of the toy set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToyData {
    /// Points trained on (seed 003 uses 100).
    pub points: usize,
    /// Held-out points for the test loss.
    pub test_points: usize,
}

impl DataSpec {
    /// The image settings.
    ///
    /// # Errors
    /// For a run that trains on the toy set.
    pub fn images(&self) -> anyhow::Result<&ImageData> {
        match self {
            Self::Images(d) => Ok(d),
            Self::ToyRectangle(_) => bail!("this run trains on the toy point set, not images"),
        }
    }
}

/// Which images, and how many.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageData {
    /// Dataset name.
    pub dataset: DatasetKind,
    /// The folder the files came from (informative; `--data` on resume overrides it).
    pub dir: PathBuf,
    /// Share of the training split held out for validation.
    pub valid_fraction: f64,
    /// Use at most this many training images (before the validation split).
    pub limit_train: Option<usize>,
    /// Use at most this many test images.
    pub limit_test: Option<usize>,
    /// Images trained on.
    pub train_images: usize,
    /// Images held out for validation.
    pub valid_images: usize,
    /// Test images.
    pub test_images: usize,
}

/// Everything `config.toml` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunConfig {
    /// [`RUN_FORMAT`].
    pub format: u32,
    /// The version of bottleneck that wrote it.
    pub bottleneck_version: String,
    /// The model.
    pub model: ModelSpec,
    /// Training.
    pub train: TrainSpec,
    /// Data.
    pub data: DataSpec,
}

/// Paths inside a run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The directory.
    pub root: PathBuf,
}

impl RunDir {
    /// Creates `parent/<name>`, or `parent/<kind>`, `parent/<kind>-2`, ... when no name is given.
    ///
    /// # Errors
    /// When a named directory already holds a run (unless `overwrite`), or it cannot be created.
    pub fn create(parent: &Path, name: Option<&str>, kind: &str, overwrite: bool) -> anyhow::Result<Self> {
        let root = match name {
            Some(n) => {
                let root = parent.join(n);
                if root.join("config.toml").exists() {
                    if !overwrite {
                        bail!(
                            "{} already holds a run; pick another --name, pass --overwrite to replace it, \
                             or continue it with `bottleneck resume {}`",
                            root.display(),
                            root.display()
                        );
                    }
                    fs::remove_dir_all(&root).with_context(|| format!("removing {}", root.display()))?;
                }
                root
            }
            None => (1..)
                .map(|i| if i == 1 { parent.join(kind) } else { parent.join(format!("{kind}-{i}")) })
                .find(|p| !p.exists())
                .context("no free run name")?,
        };
        fs::create_dir_all(root.join("figures")).with_context(|| format!("creating {}", root.display()))?;
        Ok(Self { root })
    }

    /// An existing run directory.
    ///
    /// # Errors
    /// When `root` has no `config.toml`.
    pub fn open(root: &Path) -> anyhow::Result<Self> {
        anyhow::ensure!(
            root.join("config.toml").is_file(),
            "{} is not a run directory (no config.toml); runs are made by `bottleneck train` or `bottleneck run`",
            root.display()
        );
        Ok(Self { root: root.into() })
    }

    /// `config.toml`.
    #[must_use]
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// `metrics.csv`.
    #[must_use]
    pub fn metrics_path(&self) -> PathBuf {
        self.root.join("metrics.csv")
    }

    /// `model.bpk`, the final weights.
    #[must_use]
    pub fn model_path(&self) -> PathBuf {
        self.root.join("model.bpk")
    }

    /// `checkpoints/`.
    #[must_use]
    pub fn checkpoints_dir(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    /// `figures/<name>`.
    #[must_use]
    pub fn figure(&self, name: &str) -> PathBuf {
        self.root.join("figures").join(name)
    }

    /// Writes `config.toml`.
    ///
    /// # Errors
    /// On serialisation or I/O failure.
    pub fn write_config(&self, config: &RunConfig) -> anyhow::Result<()> {
        let text = toml::to_string_pretty(config).context("serialising the run config")?;
        let text = format!(
            "# Written by bottleneck {}; `bottleneck resume` reads it back.\n{text}",
            env!("CARGO_PKG_VERSION")
        );
        atomic_write_bytes(&self.config_path(), text.as_bytes())
            .with_context(|| format!("writing {}", self.config_path().display()))
    }

    /// Reads `config.toml`.
    ///
    /// # Errors
    /// When the file is missing, malformed, or of another format version.
    pub fn read_config(&self) -> anyhow::Result<RunConfig> {
        let path = self.config_path();
        let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let config: RunConfig =
            toml::from_str(&text).with_context(|| format!("{}: not a valid run config", path.display()))?;
        if config.format != RUN_FORMAT {
            bail!(
                "{}: run format {} is not supported (this bottleneck reads {RUN_FORMAT})",
                path.display(),
                config.format
            );
        }
        Ok(config)
    }
}
