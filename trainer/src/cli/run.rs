//! `bottleneck run`: the whole pipeline.

use clap::Args;

use super::args::{DataArgs, OutputArgs};
use crate::config::TrainSpec;
use crate::pipeline::{PipelineConfig, Stage, run_pipeline};

/// Trains every model of the homework into `runs/<name>/` (default `runs/pipeline/`, replaced on
/// each run): one run directory per model, each with its figures; the deployable ones with their
/// int8, ONNX and safetensors exports, validated against the float model.
#[derive(Debug, Args)]
pub struct RunCmd {
    /// Epochs for the image models (default: 5 on a full dataset, 20 on a small one such as the
    /// bundled sample; the CNN and classifiers use the same, the toy models 2000 full-batch steps).
    #[arg(long)]
    epochs: Option<usize>,
    /// Run only these stages (comma-separated; default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Stage>,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    out: OutputArgs,
    /// Seed of the whole pipeline.
    #[arg(long, default_value_t = TrainSpec::DEFAULT_SEED)]
    seed: u64,
}

impl RunCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let cfg = PipelineConfig {
            selection: self.data.selection(),
            epochs: self.epochs,
            only: self.only,
            runs: self.out.runs,
            name: self.out.name,
            overwrite: self.out.overwrite,
            seed: self.seed,
            progress: !self.out.quiet,
        };
        let report = run_pipeline(&cfg, &mut |line| println!("{line}"))?;
        println!();
        for line in &report.summary {
            println!("{line}");
        }
        println!("pipeline finished in {:.0} s: {}", report.seconds, report.root.display());
        Ok(())
    }
}
