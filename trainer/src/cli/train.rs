//! `bottleneck train KIND`: one model into a run directory.

use clap::{Args, Subcommand};

use super::args::{DataArgs, OutputArgs, TrainArgs};
use crate::jobs::prepare::prepare;
use crate::jobs::train::train;
use crate::models::conv_ae::ConvAeConfig;
use crate::run_dir::{DataSpec, ModelSpec, RUN_FORMAT, RunConfig, RunDir, TrainSpec};
use crate::train::OptimConfig;

#[derive(Debug, Args)]
pub struct TrainCmd {
    #[command(subcommand)]
    model: ModelCmd,
}

#[derive(Debug, Subcommand)]
enum ModelCmd {
    /// The convolutional autoencoder of seed 002 (3 convolutions + 2 linear layers, mirrored
    /// decoder, sigmoid output; MSE loss on pixels in [0, 1]).
    ConvAe(ConvAeArgs),
}

#[derive(Debug, Args)]
struct ConvAeArgs {
    /// Code size d.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    latent: u32,
    /// Dropout after each linear layer.
    #[arg(long, default_value_t = 0.0)]
    dropout: f64,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    train: TrainArgs,
    #[command(flatten)]
    out: OutputArgs,
}

/// Builds the run config from command-line arguments.
pub(crate) fn run_config(
    model: ModelSpec,
    data_args: &DataArgs,
    train_args: &TrainArgs,
    ds: &crate::data::Dataset,
) -> RunConfig {
    let p = prepare(ds, data_args.limit_train, data_args.limit_test, data_args.valid_fraction, train_args.seed);
    RunConfig {
        format: RUN_FORMAT,
        bottleneck_version: env!("CARGO_PKG_VERSION").to_string(),
        model,
        train: TrainSpec {
            epochs: train_args.epochs,
            batch_size: train_args.batch_size as usize,
            optim: OptimConfig {
                optimizer: train_args.optimizer,
                lr: train_args.lr,
                weight_decay: train_args.weight_decay,
                momentum: train_args.momentum,
                schedule: train_args.schedule,
            },
            patience: train_args.patience,
            seed: train_args.seed,
            device: train_args.device,
        },
        data: DataSpec {
            dataset: ds.kind,
            dir: ds.source.dir.clone(),
            valid_fraction: data_args.valid_fraction,
            limit_train: data_args.limit_train,
            limit_test: data_args.limit_test,
            train_images: p.train.len(),
            valid_images: p.valid.len(),
            test_images: p.test.len(),
        },
    }
}

/// Creates the run directory, trains, and prints where everything went.
pub(crate) fn train_new(config: &RunConfig, ds: &crate::data::Dataset, out: &OutputArgs) -> anyhow::Result<RunDir> {
    let run = RunDir::create(&out.runs, out.name.as_deref(), config.model.kind(), out.overwrite)?;
    run.write_config(config)?;
    if !out.quiet {
        eprintln!("data: {}", ds.source);
        eprintln!(
            "images: {} of the dataset's {} training images ({} trained on, {} held out for validation), \
             {} of its {} test images",
            config.data.train_images + config.data.valid_images,
            ds.train.len(),
            config.data.train_images,
            config.data.valid_images,
            config.data.test_images,
            ds.test.len(),
        );
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
    let last = history.rows.last();
    let mut line = format!("run directory: {}", run.root.display());
    if let Some(r) = last {
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

impl TrainCmd {
    pub fn run(self) -> anyhow::Result<()> {
        match self.model {
            ModelCmd::ConvAe(a) => {
                anyhow::ensure!((0.0..1.0).contains(&a.dropout), "--dropout must be in [0, 1), got {}", a.dropout);
                let ds = super::data::load(&a.data)?;
                let spec =
                    ModelSpec::ConvAe(ConvAeConfig::new().with_latent(a.latent as usize).with_dropout(a.dropout));
                let config = run_config(spec, &a.data, &a.train, &ds);
                train_new(&config, &ds, &a.out).map(|_| ())
            }
        }
    }
}
