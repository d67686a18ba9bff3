//! `bottleneck run`: the whole pipeline with a quick default configuration.

use clap::Args;

use super::args::{DataArgs, OutputArgs, TrainArgs};
use crate::models::conv_ae::ConvAeConfig;
use crate::run_dir::ModelSpec;

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
    pub fn run(mut self) -> anyhow::Result<()> {
        let ds = super::data::load(&self.data)?;
        let small = ds.train.len() < 20_000;
        let epochs = self.epochs.unwrap_or(if small { 20 } else { 5 });
        if self.out.name.is_none() {
            self.out.name = Some("pipeline".into());
            self.out.overwrite = true;
        }
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
        let spec = ModelSpec::ConvAe(ConvAeConfig::new().with_latent(16));
        let config = super::train::run_config(spec, &self.data, &train, &ds);
        super::train::train_new(&config, &ds, &self.out)?;
        Ok(())
    }
}
