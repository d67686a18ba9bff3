//! `bottleneck train KIND`: one model into a run directory.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::args::{DataArgs, Defaults, OutputArgs, TrainArgs};
use crate::data::Dataset;
use crate::jobs::prepare::prepare;
use crate::jobs::train::train;
use crate::models::classifier::{ClassifierConfig, Mode};
use crate::models::cnn::CnnConfig;
use crate::models::conv_ae::{self, ConvAeConfig, EncoderShape};
use crate::models::fc_ae::FcAeConfig;
use crate::models::toy::{ToyAeConfig, ToyArch};
use crate::models::vae::{ConvVaeConfig, Reconstruction};
use crate::run_dir::{
    ClassifierSpec, CnnSpec, DataSpec, DenoisingSpec, ImageData, ModelSpec, RUN_FORMAT, RunConfig, RunDir, ToyData,
    ToySpec, TrainSpec,
};
use crate::train::{Optimizer, Schedule};

#[derive(Debug, Args)]
pub struct TrainCmd {
    #[command(subcommand)]
    model: ModelCmd,
}

#[derive(Debug, Subcommand)]
enum ModelCmd {
    /// The convolutional autoencoder of seed 002 (3 convolutions + 2 linear layers, mirrored
    /// decoder, sigmoid output; MSE on pixels in [0, 1]). Defaults: 10 epochs, batch 256, Adam
    /// 1e-3, weight decay 1e-5.
    ConvAe(ConvAeArgs),
    /// The fully-connected autoencoder of seed 001 (784-128-64-32-16-8 / 8-8-32-64-128-784, ReLU,
    /// tanh output, inputs in [-1, 1]). Defaults: 50 epochs, batch 128, Adam 1e-3, weight decay 1e-5.
    FcAe(FcAeArgs),
    /// The conv autoencoder trained to remove Gaussian noise: noisy input, clean target (D4, M3).
    /// Defaults as conv-ae, noise std 0.3.
    DenoisingAe(DenoisingArgs),
    /// The convolutional VAE: mean and log-variance heads, reparameterisation, reconstruction +
    /// beta * KL. Defaults: 10 epochs, batch 256, Adam 1e-3, no weight decay.
    ConvVae(VaeArgs),
    /// The seed-002 encoder with an MLP head: fine-tuned from a trained autoencoder, frozen on it
    /// (linear probe), or the same network from scratch. Records epochs and seconds to reach
    /// --target-accuracy in summary.toml. Defaults: 10 epochs, batch 256, Adam 1e-3, weight decay 1e-5.
    Classifier(ClassifierArgs),
    /// A plain CNN from scratch (the seed-002 comparison baseline): three blocks of 3x3
    /// convolutions (one with 16 channels, two with 32, two with 64) with batch norm, max pooling,
    /// a 512-unit hidden layer, dropout 0.1, mirror augmentation and label smoothing 0.1.
    /// Defaults: 13 epochs, batch 128, Adam 2e-3 with cosine decay.
    Cnn(CnnArgs),
    /// A toy autoencoder of seed 003 with a 1-D bottleneck on points of [-2, 2] x [-1, 1], with
    /// its embedding and decoder-curve figures. Defaults: 2000 epochs of full-batch Adam 1e-2.
    ToyAe(ToyArgs),
}

#[derive(Debug, Args)]
struct ConvAeArgs {
    /// Code size d.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    latent: u32,
    /// Dropout after each linear layer.
    #[arg(long, default_value_t = 0.0, value_parser = super::args::fraction)]
    dropout: f64,
    /// Batch normalisation after the first two (transposed) convolutions of each half.
    #[arg(long)]
    batch_norm: bool,
    /// Channels of the three convolutions (the decoder mirrors them). Seed 002's 8,16,32 fits the
    /// firmware's 256 KiB flash with a classifier; 32,64,128 makes a stronger encoder.
    #[arg(long, value_name = "C1,C2,C3", default_value = "8,16,32", value_parser = super::args::widths)]
    widths: [usize; 3],
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct FcAeArgs {
    /// Dropout after each hidden layer.
    #[arg(long, default_value_t = 0.0, value_parser = super::args::fraction)]
    dropout: f64,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct DenoisingArgs {
    /// Standard deviation of the Gaussian noise added to inputs (pixels in [0, 1]).
    #[arg(long, default_value_t = 0.3, value_parser = super::args::positive)]
    noise: f64,
    /// Code size d.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    latent: u32,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct VaeArgs {
    /// Code size.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=2048))]
    latent: u32,
    /// Weight of the KL term.
    #[arg(long, default_value_t = 1.0, value_parser = super::args::non_negative)]
    beta: f64,
    /// Reconstruction term.
    #[arg(long, value_enum, default_value = "bce")]
    reconstruction: Reconstruction,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct ClassifierArgs {
    /// Start from a trained autoencoder and train everything (finetune), only the head (frozen),
    /// or the same network from random weights (scratch).
    #[arg(long, value_enum, default_value = "finetune")]
    mode: Mode,
    /// The conv-ae (or denoising-ae) run whose encoder starts the classifier.
    #[arg(long, value_name = "RUN_DIR", required_if_eq_any([("mode", "finetune"), ("mode", "frozen")]))]
    pretrained: Option<PathBuf>,
    /// Code size (taken from --pretrained when given).
    #[arg(long, default_value_t = 16)]
    latent: usize,
    /// Units of the head's first hidden layer.
    #[arg(long, default_value_t = 64)]
    hidden1: usize,
    /// Units of the head's second hidden layer.
    #[arg(long, default_value_t = 64)]
    hidden2: usize,
    /// Dropout after each hidden layer of the head.
    #[arg(long, default_value_t = 0.0, value_parser = super::args::fraction)]
    head_dropout: f64,
    /// Accuracy whose first crossing (validation, else test) is recorded.
    #[arg(long, default_value_t = 0.9, value_parser = super::args::fraction)]
    target_accuracy: f64,
    /// Mirror training images and shift them by up to --shift pixels.
    #[arg(long)]
    augment: bool,
    /// Largest shift of --augment, in pixels (0: mirror only).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=8))]
    shift: u32,
    /// Label smoothing of the training loss: the target puts this much probability evenly on all
    /// classes (0: plain cross-entropy; test and validation losses are always plain).
    #[arg(long, default_value_t = 0.0, value_parser = super::args::fraction)]
    label_smoothing: f64,
    /// Encoder channels of a classifier trained from scratch (a pretrained one keeps its
    /// autoencoder's).
    #[arg(long, value_name = "C1,C2,C3", value_parser = super::args::widths)]
    widths: Option<[usize; 3]>,
    /// Batch normalisation in the encoder of a classifier trained from scratch.
    #[arg(long)]
    batch_norm: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct CnnArgs {
    /// Channels of each block (comma-separated); each block is 3x3 convolutions with batch norm
    /// and ReLU, then 2x2 max pooling.
    #[arg(long, value_delimiter = ',', default_value = "16,32,64")]
    widths: Vec<usize>,
    /// Convolutions per block, 1 to 3: one number for every block, or one per block
    /// (e.g. 1,2,2: the 28x28 block, the most expensive, gets a single convolution).
    #[arg(long, value_name = "N[,N...]", value_delimiter = ',', default_value = "1,2,2")]
    convs_per_block: Vec<usize>,
    /// Units of the hidden layer.
    #[arg(long, default_value_t = 512)]
    hidden: usize,
    /// Dropout before the hidden and the output layer.
    #[arg(long, default_value_t = 0.1, value_parser = super::args::fraction)]
    dropout: f64,
    /// Accuracy whose first crossing (validation, else test) is recorded.
    #[arg(long, default_value_t = 0.935, value_parser = super::args::fraction)]
    target_accuracy: f64,
    /// Train without mirror/shift augmentation.
    #[arg(long)]
    no_augment: bool,
    /// Largest shift of the augmentation, in pixels (0: mirror only).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=8))]
    shift: u32,
    /// Label smoothing of the training loss: the target puts this much probability evenly on all
    /// classes (0: plain cross-entropy; test and validation losses are always plain).
    #[arg(long, default_value_t = 0.1, value_parser = super::args::fraction)]
    label_smoothing: f64,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct ToyArgs {
    /// Architecture: small {20,10,1,10,20,2}, large {50,50,50,1,50,50,50,2}, linear (PCA).
    #[arg(long, value_enum, default_value = "small")]
    arch: ToyArch,
    /// Points trained on (seed 003 uses 100).
    #[arg(long, default_value_t = 100)]
    points: usize,
    /// Held-out points for the test loss.
    #[arg(long, default_value_t = 1000)]
    test_points: usize,
    /// After training, freeze the decoder, train a fresh encoder and draw arrows from each point
    /// to its new reconstruction (seed 003 f, g).
    #[arg(long)]
    retrain_encoder: bool,
    #[command(flatten)]
    train: TrainArgs,
    #[command(flatten)]
    out: OutputArgs,
}

/// What every image model takes.
#[derive(Debug, Args)]
struct Common {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    train: TrainArgs,
    #[command(flatten)]
    out: OutputArgs,
}

/// The run config of an image model from command-line arguments.
pub(crate) fn image_config(model: ModelSpec, data_args: &DataArgs, train: TrainSpec, ds: &Dataset) -> RunConfig {
    let p = prepare(ds, data_args.limit_train, data_args.limit_test, data_args.valid_fraction, train.seed);
    RunConfig {
        format: RUN_FORMAT,
        bottleneck_version: env!("CARGO_PKG_VERSION").to_string(),
        model,
        train,
        data: DataSpec::Images(ImageData {
            dataset: ds.kind,
            dir: ds.source.dir.clone(),
            valid_fraction: data_args.valid_fraction,
            limit_train: data_args.limit_train,
            limit_test: data_args.limit_test,
            train_images: p.train.len(),
            valid_images: p.valid.len(),
            test_images: p.test.len(),
        }),
    }
}

/// Creates the run directory, trains, and prints where everything went.
pub(crate) fn train_new(config: &RunConfig, ds: Option<&Dataset>, out: &OutputArgs) -> anyhow::Result<RunDir> {
    let run = RunDir::create(&out.runs, out.name.as_deref(), config.model.kind(), out.overwrite)?;
    run.write_config(config)?;
    if !out.quiet {
        match (&config.data, ds) {
            (DataSpec::Images(d), Some(ds)) => {
                eprintln!("data: {}", ds.source);
                eprintln!(
                    "images: {} of the dataset's {} training images ({} trained on, {} held out for validation), \
                     {} of its {} test images",
                    d.train_images + d.valid_images,
                    ds.train.len(),
                    d.train_images,
                    d.valid_images,
                    d.test_images,
                    ds.test.len(),
                );
            }
            (DataSpec::ToyRectangle(t), _) => {
                eprintln!("data: {} points uniform in [-2, 2] x [-1, 1] ({} held out)", t.points, t.test_points);
            }
            _ => {}
        }
        eprintln!(
            "training {} for {} epochs with {} (lr {}) on {}",
            config.model.kind(),
            config.train.epochs,
            config.train.optim.optimizer,
            config.train.optim.lr,
            config.train.device
        );
    }
    let outcome = train(config, ds, &run, !out.quiet, false)?;
    report(&run, &outcome.history, outcome.stopped_early);
    Ok(run)
}

/// Prints the final metrics and the run directory.
pub(crate) fn report(run: &RunDir, history: &crate::train::History, stopped_early: bool) {
    let mut line = format!("run directory: {}", run.root.display());
    if let Some(r) = history.rows.last() {
        for (c, v) in history.columns.iter().zip(&r.values) {
            if let (true, Some(v)) = (c.starts_with("test_"), v) {
                line.push_str(&format!("  {c} {v:.5}"));
            }
        }
        line.push_str(&format!("  ({} epochs, {:.1} s training)", r.epoch, history.total_seconds()));
    }
    if stopped_early {
        line.push_str("  [stopped early: validation loss stopped improving]");
    }
    println!("{line}");
}

impl Common {
    fn go(&self, model: ModelSpec, defaults: Defaults) -> anyhow::Result<RunDir> {
        let ds = super::data::load(&self.data)?;
        let config = image_config(model, &self.data, self.train.resolve(defaults), &ds);
        train_new(&config, Some(&ds), &self.out)
    }
}

impl TrainCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let images = Defaults::IMAGES;
        match self.model {
            ModelCmd::ConvAe(a) => {
                let net = ConvAeConfig::new()
                    .with_latent(a.latent as usize)
                    .with_dropout(a.dropout)
                    .with_batch_norm(a.batch_norm)
                    .with_widths((a.widths != conv_ae::SEED_WIDTHS).then_some(a.widths));
                a.common.go(ModelSpec::ConvAe(net), images)?;
            }
            ModelCmd::FcAe(a) => {
                let d = Defaults { epochs: 50, batch_size: 128, ..images };
                a.common.go(ModelSpec::FcAe(FcAeConfig::new().with_dropout(a.dropout)), d)?;
            }
            ModelCmd::DenoisingAe(a) => {
                let network = ConvAeConfig::new().with_latent(a.latent as usize);
                a.common.go(ModelSpec::DenoisingAe(DenoisingSpec { network, noise_std: a.noise }), images)?;
            }
            ModelCmd::ConvVae(a) => {
                let net = ConvVaeConfig::new()
                    .with_latent(a.latent as usize)
                    .with_beta(a.beta)
                    .with_reconstruction(a.reconstruction);
                a.common.go(ModelSpec::ConvVae(net), Defaults { weight_decay: 0.0, ..images })?;
            }
            ModelCmd::Classifier(a) => {
                let (latent, shape) = match (&a.pretrained, a.mode) {
                    (Some(p), Mode::Finetune | Mode::Frozen) => pretrained_shape(p)?,
                    _ => (
                        a.latent,
                        EncoderShape { widths: a.widths.unwrap_or(conv_ae::SEED_WIDTHS), batch_norm: a.batch_norm },
                    ),
                };
                let network = ClassifierConfig::new()
                    .with_latent(latent)
                    .with_hidden1(a.hidden1)
                    .with_hidden2(a.hidden2)
                    .with_dropout(a.head_dropout)
                    .with_encoder(Some(shape));
                let pretrained = if a.mode == Mode::Scratch { None } else { a.pretrained.clone() };
                let spec = ClassifierSpec {
                    network,
                    mode: a.mode,
                    pretrained,
                    target_accuracy: a.target_accuracy,
                    augment: a.augment,
                    shift: a.shift as usize,
                    label_smoothing: a.label_smoothing,
                };
                a.common.go(ModelSpec::Classifier(spec), images)?;
            }
            ModelCmd::Cnn(a) => {
                anyhow::ensure!(
                    !a.widths.is_empty() && a.widths.len() <= 4 && a.widths.iter().all(|&w| w > 0),
                    "--widths takes 1 to 4 positive channel counts (each block halves the 28x28 image)"
                );
                let convs = match a.convs_per_block[..] {
                    [n] => vec![n; a.widths.len()],
                    _ => a.convs_per_block.clone(),
                };
                anyhow::ensure!(
                    convs.len() == a.widths.len() && convs.iter().all(|n| (1..=3).contains(n)),
                    "--convs-per-block takes one count from 1 to 3, or one per block of --widths ({} blocks), got {:?}",
                    a.widths.len(),
                    a.convs_per_block
                );
                let network = CnnConfig::new()
                    .with_widths(a.widths.clone())
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
                let d = Defaults { epochs: 13, batch_size: 128, lr: 2e-3, schedule: Schedule::Cosine, ..images };
                a.common.go(ModelSpec::Cnn(spec), d)?;
            }
            ModelCmd::ToyAe(a) => {
                let d = Defaults {
                    epochs: 2000,
                    batch_size: a.points as u32,
                    optimizer: Optimizer::Adam,
                    lr: 1e-2,
                    weight_decay: 0.0,
                    schedule: Schedule::Constant,
                };
                let config = RunConfig {
                    format: RUN_FORMAT,
                    bottleneck_version: env!("CARGO_PKG_VERSION").to_string(),
                    model: ModelSpec::ToyAe(ToySpec {
                        network: ToyAeConfig::new().with_arch(a.arch),
                        retrain_encoder: a.retrain_encoder,
                    }),
                    train: a.train.resolve(d),
                    data: DataSpec::ToyRectangle(ToyData { points: a.points, test_points: a.test_points }),
                };
                anyhow::ensure!(a.points > 0 && a.test_points > 0, "--points and --test-points must be positive");
                train_new(&config, None, &a.out)?;
            }
        }
        Ok(())
    }
}

/// The code size of a pretrained autoencoder run.
/// Code size and encoder shape of the autoencoder run `path`.
fn pretrained_shape(path: &std::path::Path) -> anyhow::Result<(usize, EncoderShape)> {
    let config = RunDir::open(path)?.read_config()?;
    match &config.model {
        ModelSpec::ConvAe(c) => Ok((c.latent, c.encoder_shape())),
        ModelSpec::DenoisingAe(d) => Ok((d.network.latent, d.network.encoder_shape())),
        other => anyhow::bail!(
            "{} holds a {} run; --pretrained needs a conv-ae or denoising-ae run",
            path.display(),
            other.kind()
        ),
    }
}
