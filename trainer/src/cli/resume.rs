//! `bottleneck resume RUN_DIR`: continue a killed or finished run.

use std::path::PathBuf;

use clap::Args;

use crate::config::DataSpec;
use crate::pipeline::describe_outcome;
use crate::run_dir::RunDir;
use crate::train::{TrainOptions, train_run};

#[derive(Debug, Args)]
pub struct ResumeCmd {
    /// The run directory to continue.
    run: PathBuf,
    /// Train up to this many epochs in total (default: the run's own setting).
    #[arg(long)]
    epochs: Option<usize>,
    /// Folder holding the IDX files (default: the folder recorded in the run's config.toml).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// No progress bars or per-epoch lines.
    #[arg(long, short)]
    quiet: bool,
}

impl ResumeCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let run = RunDir::open(&self.run)?;
        let mut config = run.read_config()?;
        if let Some(e) = self.epochs {
            config.train.epochs = e;
            run.write_config(&config)?;
        }
        let ds = match &config.data {
            DataSpec::Images(d) => Some(d.load(self.data.as_deref(), &run.config_path())?),
            DataSpec::ToyRectangle(_) => None,
        };
        let opts = TrainOptions { progress: !self.quiet, resume: true, ..TrainOptions::default() };
        let outcome = train_run(&run, &config, ds.as_ref(), opts)?;
        println!("{}", describe_outcome(&run, &outcome));
        Ok(())
    }
}
