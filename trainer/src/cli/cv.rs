//! `bottleneck cv KIND` / `bottleneck cv --config FILE`: k-fold cross-validation.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::train::{ModelCmd, from_file};
use crate::cv::{CvConfig, cross_validate};

/// Cross-validate a configuration: the training images in K stratified folds, each fold in turn
/// the validation set of a run (RUNS/NAME/fold-1, ...); the validation metric per fold, its mean
/// and standard deviation in cv.md, cv.csv and figures/cv.png. Give a KIND with its options (its
/// --name names the folder under --runs, default `cv-KIND`, replaced when it exists), or --config
/// (a study's best.toml, or a run's config.toml).
#[derive(Debug, Args)]
pub struct CvCmd {
    /// Folds.
    #[arg(long, global = true, default_value_t = 5, value_parser = clap::value_parser!(u64).range(2..=100))]
    folds: u64,
    /// The configuration to cross-validate (instead of a KIND).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// With --config: train this many epochs instead of the file's.
    #[arg(long, requires = "config")]
    epochs: Option<usize>,
    /// With --config: the folder that holds run directories (a KIND takes its own --runs).
    #[arg(long, value_name = "DIR", default_value = "runs", requires = "config")]
    runs: PathBuf,
    /// With --config: no progress bars or per-epoch lines.
    #[arg(long, short, requires = "config")]
    quiet: bool,
    #[command(subcommand)]
    model: Option<ModelCmd>,
}

impl CvCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let (config, data, runs, name, quiet) = match (self.model, &self.config) {
            (Some(_), Some(_)) => anyhow::bail!("give either --config FILE or a model kind, not both"),
            (Some(m), None) => {
                let r = m.resolve()?;
                (r.config, r.data, r.out.runs, r.out.name, r.out.quiet)
            }
            (None, Some(path)) => {
                let (config, data) = from_file(path, self.epochs)?;
                (config, data, self.runs, None, self.quiet)
            }
            (None, None) => anyhow::bail!("give a model kind (`bottleneck help cv`) or --config FILE"),
        };
        let data = data.context("cross-validation needs image data; toy models have none")?;
        let name = name.unwrap_or_else(|| format!("cv-{}", config.model.kind()));
        let cfg = CvConfig { base: config, folds: self.folds as usize, dir: runs.join(name), progress: !quiet };
        let report = cross_validate(&cfg, &data, &mut |line| println!("{line}"))?;
        println!(
            "{}-fold cross-validation: {} {:.4} ± {:.4} (mean ± standard deviation)",
            report.folds.len(),
            report.column,
            report.mean,
            report.std
        );
        for f in &report.files {
            println!("  {}", f.display());
        }
        Ok(())
    }
}
