//! `bottleneck report RUNS_DIR`: the homework report from a pipeline's runs.

use std::path::PathBuf;

use clap::Args;

use crate::report::build;

/// Write RUNS_DIR/report.html: one self-contained file (images embedded) with introduction,
/// method (architecture tables, hyperparameters, the search space), results (every figure and
/// table with captions), a conclusion of measured comparisons and an appendix with the PyTorch
/// code. Print it from a browser to A4 (six pages before the appendix). `bottleneck run` writes it
/// at its end; run `bottleneck explore` on runs first for their PCA, t-SNE and per-class tables.
#[derive(Debug, Args)]
pub struct ReportCmd {
    /// The folder of the pipeline's runs.
    #[arg(default_value = "runs/pipeline")]
    runs: PathBuf,
}

impl ReportCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let b = build(&self.runs)?;
        println!("{} ({} figures, {} tables)", b.path.display(), b.figures, b.tables);
        for c in &b.conclusions {
            println!("  {c}");
        }
        Ok(())
    }
}
