//! Which model a run trains, with its options: one spec per kind, and its defaults.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::defaults::ModelKind;
use crate::data::ImageShape;
use crate::models::classifier::{ClassifierConfig, Mode};
use crate::models::cnn::CnnConfig;
use crate::models::conv_ae;
use crate::models::conv_ae::ConvAeConfig;
use crate::models::fc_ae::FcAeConfig;
use crate::models::simclr::SimclrConfig;
use crate::models::toy::ToyAeConfig;
use crate::models::vae::ConvVaeConfig;

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
    /// A SimCLR contrastive encoder (no labels); a classifier starts from its encoder.
    Simclr(SimclrConfig),
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
    /// The kind of model (`None` for an imported one, which is not trained here).
    #[must_use]
    pub fn model_kind(&self) -> Option<ModelKind> {
        Some(match self {
            Self::ConvAe(_) => ModelKind::ConvAe,
            Self::FcAe(_) => ModelKind::FcAe,
            Self::DenoisingAe(_) => ModelKind::DenoisingAe,
            Self::ConvVae(_) => ModelKind::ConvVae,
            Self::Classifier(_) => ModelKind::Classifier,
            Self::Cnn(_) => ModelKind::Cnn,
            Self::Simclr(_) => ModelKind::Simclr,
            Self::ToyAe(_) => ModelKind::ToyAe,
            Self::Imported(_) => return None,
        })
    }

    /// The kind's name (`conv-ae`, `classifier-finetune`, ...), used for default run names.
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
            Self::Simclr(_) => "simclr",
            Self::ToyAe(_) => "toy-ae",
            Self::Imported(_) => "imported",
        }
    }
}

impl DenoisingSpec {
    /// Standard deviation of the noise unless asked otherwise.
    pub const DEFAULT_NOISE: f64 = 0.3;
}

impl ClassifierSpec {
    /// The accuracy whose first crossing is recorded unless asked otherwise.
    pub const DEFAULT_TARGET: f64 = 0.9;
    /// The augmentation's largest shift unless asked otherwise.
    pub const DEFAULT_SHIFT: usize = 2;

    /// A classifier with the default head, trained in `mode` (from `pretrained`, an autoencoder
    /// run, unless `scratch`).
    #[must_use]
    pub fn new(mode: Mode, pretrained: Option<PathBuf>) -> Self {
        Self {
            network: ClassifierConfig::new(),
            mode,
            pretrained: if mode == Mode::Scratch { None } else { pretrained },
            target_accuracy: Self::DEFAULT_TARGET,
            augment: false,
            shift: Self::DEFAULT_SHIFT,
            label_smoothing: 0.0,
        }
    }
}

impl CnnSpec {
    /// The recipe of docs/BENCHMARKS.md: accuracy target 93.5%, mirror augmentation without
    /// shifts, label smoothing 0.1.
    #[must_use]
    pub fn recipe() -> Self {
        Self { network: CnnConfig::new(), target_accuracy: 0.935, augment: true, shift: 0, label_smoothing: 0.1 }
    }

    /// Convolutions per block from a command line's list: one count for every block, or one per
    /// block.
    ///
    /// # Errors
    /// When `widths` is not 1 to 4 positive counts, or `convs` does not fit them.
    pub fn blocks(widths: &[usize], convs: &[usize]) -> anyhow::Result<Vec<usize>> {
        anyhow::ensure!(
            !widths.is_empty() && widths.len() <= 4 && widths.iter().all(|&w| w > 0),
            "--widths takes 1 to 4 positive channel counts (each block halves the image)"
        );
        let convs = match convs {
            [n] => vec![*n; widths.len()],
            _ => convs.to_vec(),
        };
        anyhow::ensure!(
            convs.len() == widths.len() && convs.iter().all(|n| (1..=3).contains(n)),
            "--convs-per-block takes one count from 1 to 3, or one per block of --widths ({} blocks), got {:?}",
            widths.len(),
            convs
        );
        Ok(convs)
    }
}

impl ModelSpec {
    /// Sets the images the model takes and the classes it tells apart (from the data it trains
    /// on); imported and toy models keep theirs.
    pub fn fit_to(&mut self, input: ImageShape, classes: usize) {
        match self {
            Self::ConvAe(c) => c.input = Some(input),
            Self::DenoisingAe(d) => d.network.input = Some(input),
            Self::FcAe(c) => c.input = Some(input),
            Self::ConvVae(c) => c.input = Some(input),
            Self::Simclr(c) => c.input = Some(input),
            Self::Classifier(c) => (c.network.input, c.network.classes) = (Some(input), classes),
            Self::Cnn(c) => (c.network.input, c.network.classes) = (Some(input), classes),
            Self::ToyAe(_) | Self::Imported(_) => {}
        }
    }

    /// Checks that the model can take `input` images.
    ///
    /// # Errors
    /// For images too small for its convolutions, naming the smallest side that works.
    pub fn check_input(&self, input: ImageShape) -> anyhow::Result<()> {
        let convolutional = matches!(
            self,
            Self::ConvAe(_) | Self::DenoisingAe(_) | Self::ConvVae(_) | Self::Classifier(_) | Self::Simclr(_)
        );
        anyhow::ensure!(
            !convolutional || input.side >= conv_ae::MIN_SIDE,
            "{} takes images of at least {min}x{min} pixels (its three stride-2 convolutions), these are \
             {input}; pass --image-size {min} or more",
            self.kind(),
            min = conv_ae::MIN_SIDE
        );
        if let Self::Cnn(c) = self {
            let need = 1 << c.network.widths.len();
            anyhow::ensure!(
                input.side >= need,
                "cnn with {} blocks halves the image {} times and needs at least {need}x{need} pixels, these \
                 are {input}; pass --image-size {need} or more, or fewer --widths",
                c.network.widths.len(),
                c.network.widths.len()
            );
        }
        anyhow::ensure!(input.channels > 0 && input.side > 0, "images of {input} hold no pixel");
        Ok(())
    }

    /// The default model of `kind` (a classifier: fine-tuned, with no pretrained run set yet).
    #[must_use]
    pub fn default_for(kind: ModelKind) -> Self {
        match kind {
            ModelKind::ConvAe => Self::ConvAe(ConvAeConfig::new()),
            ModelKind::FcAe => Self::FcAe(FcAeConfig::new()),
            ModelKind::DenoisingAe => Self::DenoisingAe(DenoisingSpec {
                network: ConvAeConfig::new(),
                noise_std: DenoisingSpec::DEFAULT_NOISE,
            }),
            ModelKind::ConvVae => Self::ConvVae(ConvVaeConfig::new()),
            ModelKind::Classifier => Self::Classifier(ClassifierSpec::new(Mode::Finetune, None)),
            ModelKind::Cnn => Self::Cnn(CnnSpec::recipe()),
            ModelKind::Simclr => Self::Simclr(SimclrConfig::new()),
            ModelKind::ToyAe => Self::ToyAe(ToySpec { network: ToyAeConfig::new(), retrain_encoder: false }),
        }
    }
}
