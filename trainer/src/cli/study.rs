//! `bottleneck study NAME`: training set-ups compared in one figure.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::args::{DataArgs, OutputArgs, TrainArgs};
use crate::fit::Optimizer;
use crate::models::toy::ToyArch;
use crate::studies::{GdStudy, gd_vs_sgd, optimizers};

#[derive(Debug, Args)]
pub struct StudyCmd {
    #[command(subcommand)]
    study: Study,
}

#[derive(Debug, Subcommand)]
enum Study {
    /// The conv autoencoder trained with each optimizer (same seed and data); test MSE per epoch
    /// of all of them in one figure. Each optimizer gets a learning rate that suits it (--lr sets
    /// one for all): 1e-3 adaptive, 1e-2 with momentum, 5e-2 plain SGD.
    Optimizers(OptimizersArgs),
    /// Full-batch gradient descent against mini-batch and stochastic gradient descent on the toy
    /// set, the loss plotted against the number of examples seen.
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
    #[arg(long, value_enum, default_value_t = GdStudy::default().arch)]
    arch: ToyArch,
    /// Points in the training set.
    #[arg(long, default_value_t = GdStudy::default().points)]
    points: usize,
    /// Passes over the points (each contender sees points x epochs examples).
    #[arg(long, default_value_t = GdStudy::default().epochs)]
    epochs: usize,
    /// Learning rate of plain SGD, the same for every batch size.
    #[arg(long, default_value_t = GdStudy::default().lr, value_parser = super::args::positive)]
    lr: f64,
    /// Batch sizes to compare (the number of points is full-batch gradient descent).
    #[arg(long, value_delimiter = ',', default_value = "100,10,1")]
    batches: Vec<usize>,
    /// Seed of the points and the initial weights.
    #[arg(long, default_value_t = GdStudy::default().seed)]
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
                let selection = a.data.selection();
                let ds = selection.load()?;
                let dir = a.out.runs.join(a.out.name.as_deref().unwrap_or("study-optimizers"));
                let png = optimizers(&a.optimizers, &ds, &selection, &a.train.overrides(), &dir, !a.out.quiet)?;
                println!("figure: {}", png.display());
            }
            Study::GdVsSgd(a) => {
                anyhow::ensure!(a.points > 0, "--points must be positive");
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
