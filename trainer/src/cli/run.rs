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
    /// Epochs of every model but the toy ones (which take 2000 full-batch steps). Default on a
    /// full dataset: 10 for the conv, denoising and variational autoencoders, 5 for the 2-D ones,
    /// 50 for the fully-connected one and its denoising twin, 10 for the classifiers (on a wider
    /// autoencoder trained 5), 4 for the CNN, 3 per trial for the studies (on 12,000 images), 5
    /// per fold of the 3-fold cross-validation: 39 minutes on 2 CPU cores (docs/BENCHMARKS.md).
    /// On a small dataset such as the bundled sample: 20 for all but the fully-connected ones.
    #[arg(long)]
    epochs: Option<usize>,
    /// Fewer epochs on 12,000 training images (3 per autoencoder, 3 per classifier, 2 for the
    /// CNN, 6 TPE trials): the whole report in under 10 minutes on 2 CPU cores, at lower quality.
    /// No effect on a small dataset.
    #[arg(long)]
    quick: bool,
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
            quick: self.quick,
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
