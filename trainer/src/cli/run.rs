//! `bottleneck run`: the whole pipeline with a quick default configuration.

use clap::Args;

use super::args::{DataArgs, OutputArgs, TrainArgs};
use anyhow::Context as _;

use super::export::print_export;
use super::validate::print_validation;
use crate::jobs::export::{ExportOptions, export};
use crate::jobs::validate::validate;
use crate::models::conv_ae::ConvAeConfig;
use crate::run_dir::ModelSpec;

/// The pipeline's int8 checks: the same defaults as `bottleneck validate`.
const MIN_AGREEMENT: f64 = 0.995;
const MAX_MSE_RATIO: f64 = 1.05;

/// Trains the default models into `runs/<name>/` (default `runs/pipeline/`, replaced on each run):
/// `conv-ae/` is a run directory; its `export/` holds the int8 model and validation vectors.
#[derive(Debug, Args)]
pub struct RunCmd {
    /// Epochs (default: 5 on a full dataset, 20 on a small one such as the bundled sample).
    #[arg(long)]
    epochs: Option<usize>,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    out: OutputArgs,
    /// Seed of the whole pipeline.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

impl RunCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let ds = super::data::load(&self.data)?;
        let small = ds.train.len() < 20_000;
        let epochs = self.epochs.unwrap_or(if small { 20 } else { 5 });
        let root = self.out.runs.join(self.out.name.as_deref().unwrap_or("pipeline"));
        if root.exists() {
            anyhow::ensure!(
                self.out.overwrite || self.out.name.is_none(),
                "{} exists; pass --overwrite to replace it or choose another --name",
                root.display()
            );
            std::fs::remove_dir_all(&root).with_context(|| format!("removing the previous {}", root.display()))?;
        }
        let stage = |name: &str| OutputArgs {
            runs: root.clone(),
            name: Some(name.into()),
            overwrite: true,
            quiet: self.out.quiet,
        };
        let train = TrainArgs {
            epochs,
            batch_size: 256,
            optimizer: crate::train::Optimizer::Adam,
            lr: 1e-3,
            weight_decay: 1e-5,
            momentum: 0.9,
            schedule: crate::train::Schedule::Constant,
            patience: None,
            seed: self.seed,
            device: crate::device::Backend::Flex,
        };

        // 1. The convolutional autoencoder.
        let spec = ModelSpec::ConvAe(ConvAeConfig::new().with_latent(16));
        let config = super::train::run_config(spec, &self.data, &train, &ds);
        let run = super::train::train_new(&config, &ds, &stage("conv-ae"))?;

        // 2. Its int8 export, validated against the float model.
        let exported = export(&run, &config, &ds, &ExportOptions::default())?;
        print_export(&exported);
        let v = validate(&run, &config, Some(&ds))?;
        let failed = print_validation(&v, MIN_AGREEMENT, MAX_MSE_RATIO);
        anyhow::ensure!(failed.is_empty(), "int8 validation failed: {}", failed.join("; "));
        println!("pipeline finished: {}", root.display());
        Ok(())
    }
}
