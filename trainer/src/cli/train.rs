//! `bottleneck train KIND`: one model into a run directory.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::args::{Counts, DataArgs, OutputArgs, TrainArgs, Widths};
use crate::config::{
    ClassifierSpec, CnnSpec, DataSpec, DenoisingSpec, ModelKind, ModelSpec, RunConfig, ToyData, ToySpec, TrainSpec,
};
use crate::data::Dataset;
use crate::inference::pretrained_shape;
use crate::models::classifier::{ClassifierConfig, Mode};
use crate::models::cnn::CnnConfig;
use crate::models::conv_ae::{self, ConvAeConfig, EncoderShape};
use crate::models::fc_ae::FcAeConfig;
use crate::models::simclr::SimclrConfig;
use crate::models::toy::{ToyAeConfig, ToyArch};
use crate::models::vae::{ConvVaeConfig, Reconstruction};
use crate::pipeline::describe_outcome;
use crate::train::{TrainOptions, start_run};

/// Train a model KIND with its options, or the configuration in a file (`--config`).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TrainCmd {
    /// Train the configuration in FILE, a run's config.toml or a study's best.toml, instead of a
    /// KIND (its data are loaded from the folder it names).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// With --config: train this many epochs instead of the file's.
    #[arg(long, requires = "config")]
    epochs: Option<usize>,
    #[command(flatten)]
    out: OutputArgs,
    #[command(subcommand)]
    model: Option<ModelCmd>,
}

/// A model kind and its options, as `train`, `tune` and `cv` take them.
#[derive(Debug, Subcommand)]
pub(crate) enum ModelCmd {
    /// The convolutional autoencoder: three convolutions and two linear layers, a mirrored decoder
    /// ending in a sigmoid; MSE on pixels in [0, 1].
    ConvAe(ConvAeArgs),
    /// The fully-connected autoencoder 784-128-64-32-16-8 / 8-8-32-64-128-784 (ReLU, tanh output,
    /// inputs in [-1, 1]).
    FcAe(FcAeArgs),
    /// The conv autoencoder trained to remove Gaussian noise: noisy input, clean target.
    DenoisingAe(DenoisingArgs),
    /// The convolutional VAE: mean and log-variance heads, reparameterisation, reconstruction +
    /// beta * KL; samples decoded from N(0, I).
    ConvVae(VaeArgs),
    /// The conv autoencoder's encoder with an MLP head: fine-tuned from a trained autoencoder,
    /// frozen on it (a probe), or the same network from scratch. Records epochs and seconds to
    /// reach --target-accuracy in summary.toml.
    Classifier(ClassifierArgs),
    /// A plain CNN from scratch (the baseline the classifiers are compared with): blocks of 3x3
    /// convolutions with batch norm and ReLU, each block ending in max pooling, a hidden layer
    /// with dropout, mirror augmentation and label smoothing.
    Cnn(CnnArgs),
    /// A SimCLR encoder, trained without labels: two augmented views of each image (random crop
    /// and resize, mirror, brightness and contrast jitter, noise) pulled together and other images
    /// pushed apart by the NT-Xent loss on a projection head. A classifier starts from its encoder
    /// (`train classifier --pretrained RUN`).
    Simclr(SimclrArgs),
    /// A toy autoencoder with a 1-D code on 2-D points of [-2, 2] x [-1, 1], with its embedding
    /// and decoder-curve figures.
    ToyAe(ToyArgs),
}

impl ModelCmd {
    pub(crate) fn kind(&self) -> ModelKind {
        match self {
            Self::ConvAe(_) => ModelKind::ConvAe,
            Self::FcAe(_) => ModelKind::FcAe,
            Self::DenoisingAe(_) => ModelKind::DenoisingAe,
            Self::ConvVae(_) => ModelKind::ConvVae,
            Self::Classifier(_) => ModelKind::Classifier,
            Self::Cnn(_) => ModelKind::Cnn,
            Self::Simclr(_) => ModelKind::Simclr,
            Self::ToyAe(_) => ModelKind::ToyAe,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ConvAeArgs {
    /// Code size d.
    #[arg(long, default_value_t = ConvAeConfig::new().latent as u32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    latent: u32,
    /// Dropout after each linear layer.
    #[arg(long, default_value_t = ConvAeConfig::new().dropout, value_parser = super::args::fraction)]
    dropout: f64,
    /// Batch normalisation after the first two (transposed) convolutions of each half.
    #[arg(long)]
    batch_norm: bool,
    /// Channels of the three convolutions (the decoder mirrors them). The default fits the
    /// firmware's 256 KiB flash with a classifier; 32,64,128 makes a stronger encoder.
    #[arg(long, value_name = "C1,C2,C3", default_value_t = Widths(conv_ae::SEED_WIDTHS))]
    widths: Widths,
    /// Draw the reconstructions of ten test images every N epochs
    /// (figures/reconstructions-epoch-NNNN.png).
    #[arg(long, value_name = "N")]
    snapshot_every: Option<usize>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct FcAeArgs {
    /// Dropout after each hidden layer.
    #[arg(long, default_value_t = FcAeConfig::new().dropout, value_parser = super::args::fraction)]
    dropout: f64,
    /// Train a denoising autoencoder: Gaussian noise of this standard deviation is added to the
    /// inputs, in the network's input units ([-1, 1]: 0.6 is 0.3 on [0, 1] pixels), and the clean
    /// image stays the target (figures/denoising.png; with --snapshot-every, noisy / denoised /
    /// original every N epochs). 0: a plain autoencoder.
    #[arg(long, default_value_t = 0.0, value_parser = super::args::non_negative)]
    noise: f64,
    /// Draw reconstructions every N epochs (figures/reconstructions-epoch-NNNN.png).
    #[arg(long, value_name = "N")]
    snapshot_every: Option<usize>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct DenoisingArgs {
    /// Standard deviation of the Gaussian noise added to inputs (pixels in [0, 1]).
    #[arg(long, default_value_t = DenoisingSpec::DEFAULT_NOISE, value_parser = super::args::positive)]
    noise: f64,
    /// Code size d.
    #[arg(long, default_value_t = ConvAeConfig::new().latent as u32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    latent: u32,
    /// Draw reconstructions every N epochs (figures/reconstructions-epoch-NNNN.png).
    #[arg(long, value_name = "N")]
    snapshot_every: Option<usize>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct VaeArgs {
    /// Code size.
    #[arg(long, default_value_t = ConvVaeConfig::new().latent as u32, value_parser = clap::value_parser!(u32).range(1..=2048))]
    latent: u32,
    /// Weight of the KL term (1: the plain VAE).
    #[arg(long, default_value_t = ConvVaeConfig::new().beta, value_parser = super::args::non_negative)]
    beta: f64,
    /// Reconstruction term.
    #[arg(long, value_enum, default_value_t = ConvVaeConfig::new().reconstruction)]
    reconstruction: Reconstruction,
    /// Draw reconstructions (posterior means) every N epochs.
    #[arg(long, value_name = "N")]
    snapshot_every: Option<usize>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct SimclrArgs {
    /// Code size: the encoder's output, which a classifier reads (--pretrained RUN).
    #[arg(long, default_value_t = SimclrConfig::new().latent as u32, value_parser = clap::value_parser!(u32).range(1..=2048))]
    latent: u32,
    /// Units of the projection head's two layers (dropped after training).
    #[arg(long, default_value_t = SimclrConfig::new().projection as u32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    projection: u32,
    /// Temperature of the NT-Xent loss.
    #[arg(long, default_value_t = SimclrConfig::new().temperature, value_parser = super::args::positive)]
    temperature: f64,
    /// Channels of the encoder's three convolutions.
    #[arg(long, value_name = "C1,C2,C3", default_value_t = Widths(conv_ae::SEED_WIDTHS))]
    widths: Widths,
    /// Batch normalisation after the first two convolutions.
    #[arg(long)]
    batch_norm: bool,
    /// Batch normalisation in the projection head, before its ReLU (SimCLR's original head).
    #[arg(long)]
    head_batch_norm: bool,
    /// Smallest random crop of a view, as a share of the image's area (the crop is then resized
    /// back to the full image).
    #[arg(long, value_name = "F", default_value_t = SimclrConfig::DEFAULT_MIN_CROP, value_parser = super::args::positive_fraction)]
    min_crop: f64,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct ClassifierArgs {
    /// Start from a trained autoencoder and train everything (finetune), only the head (frozen),
    /// or the same network from random weights (scratch).
    #[arg(long, value_enum, default_value_t = Mode::Finetune)]
    mode: Mode,
    /// The conv-ae, denoising-ae or simclr run whose encoder starts the classifier.
    #[arg(long, value_name = "RUN_DIR", required_if_eq_any([("mode", "finetune"), ("mode", "frozen")]))]
    pretrained: Option<PathBuf>,
    /// Code size (taken from --pretrained when given).
    #[arg(long, default_value_t = ClassifierConfig::new().latent)]
    latent: usize,
    /// Units of the head's first hidden layer.
    #[arg(long, default_value_t = ClassifierConfig::new().hidden1)]
    hidden1: usize,
    /// Units of the head's second hidden layer.
    #[arg(long, default_value_t = ClassifierConfig::new().hidden2)]
    hidden2: usize,
    /// Dropout after each hidden layer of the head.
    #[arg(long, default_value_t = ClassifierConfig::new().dropout, value_parser = super::args::fraction)]
    head_dropout: f64,
    /// Accuracy whose first crossing (validation, else test) is recorded.
    #[arg(long, default_value_t = ClassifierSpec::DEFAULT_TARGET, value_parser = super::args::fraction)]
    target_accuracy: f64,
    /// Mirror training images and shift them by up to --shift pixels.
    #[arg(long)]
    augment: bool,
    /// Largest shift of --augment, in pixels (0: mirror only).
    #[arg(long, default_value_t = ClassifierSpec::DEFAULT_SHIFT as u32, value_parser = clap::value_parser!(u32).range(0..=8))]
    shift: u32,
    /// Label smoothing of the training loss: the target puts this much probability evenly on all
    /// classes (0: plain cross-entropy; test and validation losses are always plain).
    #[arg(long, default_value_t = 0.0, value_parser = super::args::fraction)]
    label_smoothing: f64,
    /// Encoder channels of a classifier trained from scratch (a pretrained one keeps its
    /// autoencoder's).
    #[arg(long, value_name = "C1,C2,C3")]
    widths: Option<Widths>,
    /// Batch normalisation in the encoder of a classifier trained from scratch.
    #[arg(long)]
    batch_norm: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct CnnArgs {
    /// Channels of each block (comma-separated); each block is 3x3 convolutions with batch norm
    /// and ReLU, then 2x2 max pooling.
    #[arg(long, value_name = "C[,C...]", default_value_t = Counts(CnnConfig::new().widths))]
    widths: Counts,
    /// Convolutions per block, 1 to 3: one number for every block, or one per block
    /// (e.g. 1,2,2: the 28x28 block, the most expensive, gets a single convolution).
    #[arg(long, value_name = "N[,N...]", default_value_t = Counts(CnnConfig::new().convs.unwrap_or_default()))]
    convs_per_block: Counts,
    /// Units of the hidden layer.
    #[arg(long, default_value_t = CnnConfig::new().hidden)]
    hidden: usize,
    /// Dropout before the hidden and the output layer.
    #[arg(long, default_value_t = CnnConfig::new().dropout, value_parser = super::args::fraction)]
    dropout: f64,
    /// Accuracy whose first crossing (validation, else test) is recorded.
    #[arg(long, default_value_t = CnnSpec::recipe().target_accuracy, value_parser = super::args::fraction)]
    target_accuracy: f64,
    /// Train without mirror/shift augmentation.
    #[arg(long)]
    no_augment: bool,
    /// Largest shift of the augmentation, in pixels (0: mirror only).
    #[arg(long, default_value_t = CnnSpec::recipe().shift as u32, value_parser = clap::value_parser!(u32).range(0..=8))]
    shift: u32,
    /// Label smoothing of the training loss: the target puts this much probability evenly on all
    /// classes (0: plain cross-entropy; test and validation losses are always plain).
    #[arg(long, default_value_t = CnnSpec::recipe().label_smoothing, value_parser = super::args::fraction)]
    label_smoothing: f64,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct ToyArgs {
    /// Architecture: small {20,10,1,10,20,2}, large {50,50,50,1,50,50,50,2}, linear {1,2} (PCA).
    #[arg(long, value_enum, default_value_t = ToyAeConfig::new().arch)]
    arch: ToyArch,
    /// Points trained on.
    #[arg(long, default_value_t = ToyData::DEFAULT.points as u64, value_parser = clap::value_parser!(u64).range(1..))]
    points: u64,
    /// Held-out points for the test loss.
    #[arg(long, default_value_t = ToyData::DEFAULT.test_points as u64, value_parser = clap::value_parser!(u64).range(1..))]
    test_points: u64,
    /// After training, freeze the decoder, train a fresh encoder and draw arrows from each point
    /// to its new reconstruction.
    #[arg(long)]
    retrain_encoder: bool,
    #[command(flatten)]
    train: TrainArgs,
    #[command(flatten)]
    out: OutputArgs,
}

/// What every image model takes.
#[derive(Debug, Args)]
pub(crate) struct Common {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    train: TrainArgs,
    #[command(flatten)]
    out: OutputArgs,
}

/// A configuration built from a command line, with what training it needs.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// The configuration.
    pub config: RunConfig,
    /// Its images (`None` for the toy set).
    pub data: Option<Dataset>,
    /// Where its run goes.
    pub out: OutputArgs,
    /// Draw reconstructions every this many epochs.
    pub snapshot_every: Option<usize>,
}

impl Common {
    /// Loads the data and resolves the configuration.
    fn resolve(self, kind: ModelKind, model: ModelSpec, snapshot_every: Option<usize>) -> anyhow::Result<Resolved> {
        let selection = self.data.selection();
        let ds = selection.load()?;
        let train = TrainSpec::resolve(kind, &self.train.overrides(), 0);
        let data = DataSpec::Images(selection.spec(&ds, train.seed)?);
        Ok(Resolved { config: RunConfig::new(model, train, data), data: Some(ds), out: self.out, snapshot_every })
    }
}

impl ModelCmd {
    /// The configuration these flags describe, with its data loaded.
    pub(crate) fn resolve(self) -> anyhow::Result<Resolved> {
        let kind = self.kind();
        match self {
            ModelCmd::ConvAe(a) => {
                let w = a.widths.0;
                let net = ConvAeConfig::new()
                    .with_latent(a.latent as usize)
                    .with_dropout(a.dropout)
                    .with_batch_norm(a.batch_norm)
                    .with_widths((w != conv_ae::SEED_WIDTHS).then_some(w));
                a.common.resolve(kind, ModelSpec::ConvAe(net), a.snapshot_every)
            }
            ModelCmd::FcAe(a) => {
                let network = FcAeConfig::new().with_dropout(a.dropout).with_noise((a.noise > 0.0).then_some(a.noise));
                a.common.resolve(kind, ModelSpec::FcAe(network), a.snapshot_every)
            }
            ModelCmd::DenoisingAe(a) => {
                let network = ConvAeConfig::new().with_latent(a.latent as usize);
                let spec = DenoisingSpec { network, noise_std: a.noise };
                a.common.resolve(kind, ModelSpec::DenoisingAe(spec), a.snapshot_every)
            }
            ModelCmd::Simclr(a) => {
                let w = a.widths.0;
                let net = SimclrConfig::new()
                    .with_latent(a.latent as usize)
                    .with_projection(a.projection as usize)
                    .with_temperature(a.temperature)
                    .with_batch_norm(a.batch_norm)
                    .with_head_batch_norm(Some(a.head_batch_norm))
                    .with_min_crop(Some(a.min_crop))
                    .with_widths((w != conv_ae::SEED_WIDTHS).then_some(w));
                a.common.resolve(kind, ModelSpec::Simclr(net), None)
            }
            ModelCmd::ConvVae(a) => {
                let net = ConvVaeConfig::new()
                    .with_latent(a.latent as usize)
                    .with_beta(a.beta)
                    .with_reconstruction(a.reconstruction);
                a.common.resolve(kind, ModelSpec::ConvVae(net), a.snapshot_every)
            }
            ModelCmd::Classifier(a) => {
                let (latent, shape) = match (&a.pretrained, a.mode) {
                    (Some(p), Mode::Finetune | Mode::Frozen) => pretrained_shape(p)?,
                    _ => (
                        a.latent,
                        EncoderShape {
                            widths: a.widths.map_or(conv_ae::SEED_WIDTHS, |w| w.0),
                            batch_norm: a.batch_norm,
                        },
                    ),
                };
                let network = ClassifierConfig::new()
                    .with_latent(latent)
                    .with_hidden1(a.hidden1)
                    .with_hidden2(a.hidden2)
                    .with_dropout(a.head_dropout)
                    .with_encoder(Some(shape));
                let spec = ClassifierSpec {
                    network,
                    target_accuracy: a.target_accuracy,
                    augment: a.augment,
                    shift: a.shift as usize,
                    label_smoothing: a.label_smoothing,
                    ..ClassifierSpec::new(a.mode, a.pretrained.clone())
                };
                a.common.resolve(kind, ModelSpec::Classifier(spec), None)
            }
            ModelCmd::Cnn(a) => {
                let convs = CnnSpec::blocks(&a.widths.0, &a.convs_per_block.0)?;
                let network = CnnConfig::new()
                    .with_widths(a.widths.0.clone())
                    .with_double(convs.iter().all(|&n| n == 2))
                    .with_convs(Some(convs))
                    .with_hidden(a.hidden)
                    .with_dropout(a.dropout);
                let spec = CnnSpec {
                    network,
                    target_accuracy: a.target_accuracy,
                    augment: !a.no_augment,
                    shift: a.shift as usize,
                    label_smoothing: a.label_smoothing,
                };
                a.common.resolve(kind, ModelSpec::Cnn(spec), None)
            }
            ModelCmd::ToyAe(a) => {
                let data = ToyData { points: a.points as usize, test_points: a.test_points as usize };
                let model = ModelSpec::ToyAe(ToySpec {
                    network: ToyAeConfig::new().with_arch(a.arch),
                    retrain_encoder: a.retrain_encoder,
                });
                let train = TrainSpec::resolve(kind, &a.train.overrides(), data.points);
                let config = RunConfig::new(model, train, DataSpec::ToyRectangle(data));
                Ok(Resolved { config, data: None, out: a.out, snapshot_every: None })
            }
        }
    }
}

/// Reads a configuration file (`config.toml` or `best.toml`) and loads the data it names.
pub(crate) fn from_file(path: &std::path::Path, epochs: Option<usize>) -> anyhow::Result<(RunConfig, Option<Dataset>)> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let mut config = RunConfig::from_toml(&text, &path.display().to_string())?;
    if let Some(e) = epochs {
        config.train.epochs = e;
    }
    let data = match &config.data {
        DataSpec::Images(d) => Some(d.load(None, path)?),
        DataSpec::ToyRectangle(_) => None,
    };
    Ok((config, data))
}

impl TrainCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let r = match (self.model, &self.config) {
            (Some(m), _) => m.resolve()?,
            (None, Some(path)) => {
                let (config, data) = from_file(path, self.epochs)?;
                Resolved { config, data, out: self.out, snapshot_every: None }
            }
            (None, None) => anyhow::bail!("give a model kind (`bottleneck help train` lists them) or --config FILE"),
        };
        let opts = TrainOptions { progress: !r.out.quiet, snapshot_every: r.snapshot_every, ..TrainOptions::default() };
        let (run, outcome) = start_run(&r.out.placement(), &r.config, r.data.as_ref(), opts)?;
        println!("{}", describe_outcome(&run, &outcome));
        Ok(())
    }
}

/// Sets each train subcommand's training options to its kind's defaults, so that `--help` shows
/// them (`[default: ...]`) and they parse from the one table in [`ModelKind::train_defaults`].
pub(crate) fn with_kind_defaults(train: clap::Command) -> clap::Command {
    ModelKind::ALL.iter().fold(train, |cmd, &kind| {
        cmd.mut_subcommand(kind.name(), |sub| {
            let d = kind.train_defaults();
            let mut sub = sub
                .mut_arg("epochs", |a| a.default_value(d.epochs.to_string()))
                .mut_arg("optimizer", |a| a.default_value(d.optimizer.to_string()))
                .mut_arg("lr", |a| a.default_value(d.lr.to_string()))
                .mut_arg("weight_decay", |a| a.default_value(d.weight_decay.to_string()))
                .mut_arg("schedule", |a| a.default_value(d.schedule.to_string()))
                .after_help(format!("Training defaults of {kind}: {d}."));
            sub = match d.batch_size {
                Some(b) => sub.mut_arg("batch_size", |a| a.default_value(b.to_string())),
                None => sub.mut_arg("batch_size", |a| a.help("Examples per optimizer step [default: every point]")),
            };
            sub
        })
    })
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::super::Cli;
    use super::*;

    fn parse(args: &[&str]) -> TrainCmd {
        let cmd = super::super::command();
        let m = cmd.try_get_matches_from(args).unwrap();
        match Cli::from_arg_matches(&m).unwrap().command {
            super::super::Command::Train(t) => t,
            other => panic!("{other:?}"),
        }
    }

    fn model(t: TrainCmd) -> ModelCmd {
        t.model.expect("a model kind")
    }

    #[test]
    fn help_shows_each_kinds_defaults_from_the_table() {
        let mut cmd = super::super::command();
        let train = cmd.find_subcommand_mut("train").unwrap();
        let cnn = train.find_subcommand_mut("cnn").unwrap().render_long_help().to_string();
        assert!(cnn.contains("[default: 20]") && cnn.contains("[default: 0.002]") && cnn.contains("cosine"), "{cnn}");
        let fc = train.find_subcommand_mut("fc-ae").unwrap().render_long_help().to_string();
        assert!(fc.contains("[default: 50]") && fc.contains("[default: 128]"), "{fc}");
        let _ = Cli::command();
    }

    #[test]
    fn flags_left_unset_resolve_to_the_library_defaults() {
        for (args, kind) in [
            (vec!["b", "train", "cnn"], ModelKind::Cnn),
            (vec!["b", "train", "conv-vae"], ModelKind::ConvVae),
            (vec!["b", "train", "toy-ae"], ModelKind::ToyAe),
        ] {
            let t = model(parse(&args));
            let overrides = match &t {
                ModelCmd::Cnn(a) => a.common.train.overrides(),
                ModelCmd::ConvVae(a) => a.common.train.overrides(),
                ModelCmd::ToyAe(a) => a.train.overrides(),
                _ => unreachable!(),
            };
            let from_cli = TrainSpec::resolve(kind, &overrides, 100);
            let library = TrainSpec::resolve(kind, &crate::config::TrainOverrides::default(), 100);
            assert_eq!(format!("{from_cli:?}"), format!("{library:?}"), "{kind}");
        }
        let ModelCmd::Cnn(a) = model(parse(&["b", "train", "cnn"])) else { unreachable!() };
        let r = CnnSpec::recipe();
        assert_eq!(a.widths.0, r.network.widths);
        assert_eq!(Some(a.convs_per_block.0), r.network.convs);
        assert_eq!(
            (a.hidden, a.target_accuracy, a.label_smoothing),
            (r.network.hidden, r.target_accuracy, r.label_smoothing)
        );
    }
}
