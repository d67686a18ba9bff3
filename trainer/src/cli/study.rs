//! `bottleneck study NAME`: training set-ups compared in one figure.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::args::{DataArgs, Defaults, OutputArgs, TrainArgs};
use crate::jobs::study::{GdStudy, default_lr, epoch_series, gd_vs_sgd, write_comparison};
use crate::models::conv_ae::ConvAeConfig;
use crate::models::toy::ToyArch;
use crate::plot::lines::Chart;
use crate::run_dir::{ModelSpec, RunDir};
use crate::train::Optimizer;

#[derive(Debug, Args)]
pub struct StudyCmd {
    #[command(subcommand)]
    study: Study,
}

#[derive(Debug, Subcommand)]
enum Study {
    /// The conv autoencoder trained with each optimizer (same seed and data); test MSE per epoch
    /// of all of them in one figure (seed 002: Adam against SGD). Each optimizer gets a learning
    /// rate that suits it (--lr sets one for all): 1e-3 adaptive, 1e-2 with momentum, 5e-2 SGD.
    Optimizers(OptimizersArgs),
    /// Seed 003 h: full-batch gradient descent against mini-batch and stochastic gradient descent
    /// on the toy set, the loss plotted against the number of examples seen.
    GdVsSgd(GdArgs),
}

#[derive(Debug, Args)]
struct OptimizersArgs {
    /// Optimizers to compare (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "adam,sgd")]
    optimizers: Vec<Optimizer>,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    train: TrainArgs,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(Debug, Args)]
struct GdArgs {
    /// Toy architecture.
    #[arg(long, value_enum, default_value = "small")]
    arch: ToyArch,
    /// Points in the training set.
    #[arg(long, default_value_t = 100)]
    points: usize,
    /// Passes over the points (each contender sees points x epochs examples).
    #[arg(long, default_value_t = 200)]
    epochs: usize,
    /// Learning rate of plain SGD, the same for every batch size.
    #[arg(long, default_value_t = 0.01, value_parser = super::args::positive)]
    lr: f64,
    /// Batch sizes to compare (the number of points is full-batch gradient descent).
    #[arg(long, value_delimiter = ',', default_value = "100,10,1")]
    batches: Vec<usize>,
    /// Seed of the points and the initial weights.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Folder for the study (default runs/study-gd-vs-sgd).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// No progress lines.
    #[arg(long, short)]
    quiet: bool,
}

impl StudyCmd {
    pub fn run(self) -> anyhow::Result<()> {
        match self.study {
            Study::Optimizers(a) => {
                let png = optimizers(&a.optimizers, &a.data, &a.train, &a.out)?;
                println!("figure: {}", png.display());
            }
            Study::GdVsSgd(a) => {
                anyhow::ensure!(a.batches.iter().all(|&b| b > 0), "--batches must be positive");
                let dir = a.out.unwrap_or_else(|| PathBuf::from("runs/study-gd-vs-sgd"));
                let study = GdStudy {
                    arch: a.arch,
                    points: a.points,
                    epochs: a.epochs,
                    lr: a.lr,
                    batches: a.batches,
                    seed: a.seed,
                };
                let png = gd_vs_sgd(&dir, &study, !a.quiet)?;
                println!("figure: {}", png.display());
            }
        }
        Ok(())
    }
}

/// Trains the conv autoencoder once per optimizer into `<runs>/<name>/<optimizer>/` and draws the
/// comparison; returns the figure's path.
pub(crate) fn optimizers(
    list: &[Optimizer],
    data: &DataArgs,
    train: &TrainArgs,
    out: &OutputArgs,
) -> anyhow::Result<PathBuf> {
    let ds = super::data::load(data)?;
    let root = out.runs.join(out.name.as_deref().unwrap_or("study-optimizers"));
    let mut series = Vec::new();
    for &opt in list {
        let mut args = train.clone();
        args.optimizer = Some(opt);
        args.lr = Some(train.lr.unwrap_or_else(|| default_lr(opt)));
        let lr = args.lr.unwrap_or_default();
        let config = super::train::image_config(
            ModelSpec::ConvAe(ConvAeConfig::new()),
            data,
            args.resolve(Defaults::IMAGES),
            &ds,
        );
        let stage = OutputArgs { runs: root.clone(), name: Some(opt.to_string()), overwrite: true, quiet: out.quiet };
        let run: RunDir = super::train::train_new(&config, Some(&ds), &stage)?;
        let history = crate::train::History::from_csv(&std::fs::read_to_string(run.metrics_path())?)?;
        series.push(epoch_series(&format!("{opt} (lr {lr})"), &history, "test_mse"));
    }
    let chart = Chart {
        title: "Conv autoencoder: test MSE per epoch by optimizer",
        x_label: "epoch",
        y_label: "test mse",
        log_y: true,
    };
    write_comparison(&root, "optimizers", &chart, &series)
}
