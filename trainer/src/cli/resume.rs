//! `bottleneck resume RUN_DIR`: continue a killed or finished run.

use std::path::PathBuf;

use clap::Args;

use crate::data::source;
use crate::jobs::train::train;
use crate::run_dir::{DataSpec, RunDir};

#[derive(Debug, Args)]
pub struct ResumeCmd {
    /// The run directory to continue.
    run: PathBuf,
    /// Train up to this many epochs in total (default: the run's own setting).
    #[arg(long)]
    epochs: Option<usize>,
    /// Folder holding the IDX files (default: the folder the run used).
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
            DataSpec::Images(d) => {
                let dir = self.data.unwrap_or_else(|| d.dir.clone());
                Some(source::load(d.dataset, source::DataSource { origin: source::Origin::Flag, dir })?)
            }
            DataSpec::ToyRectangle(_) => None,
        };
        let outcome = train(&config, ds.as_ref(), &run, !self.quiet, true)?;
        super::train::report(&run, &outcome.history, outcome.stopped_early);
        Ok(())
    }
}
