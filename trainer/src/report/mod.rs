//! `bottleneck report RUNS_DIR`: one self-contained HTML file (`RUNS_DIR/report.html`, images
//! embedded) of the homework's report from a pipeline's run directories: introduction, method
//! (architecture tables, hyperparameters, the search space), results (every figure and table, with
//! captions), a conclusion whose sentences state measured comparisons only, and an appendix with
//! the PyTorch code. It prints on A4; everything before the appendix is sized for six pages.

mod html;
mod sections;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::util::atomic_write_bytes;
pub use html::Doc;

/// The report's file name in the runs folder.
pub const FILE: &str = "report.html";

/// What a report holds.
#[derive(Debug, Clone)]
pub struct Built {
    /// `report.html`.
    pub path: PathBuf,
    /// Figures embedded.
    pub figures: usize,
    /// Tables included.
    pub tables: usize,
    /// The conclusion's sentences.
    pub conclusions: Vec<String>,
}

/// Builds the report of the pipeline folder `root`.
///
/// # Errors
/// When `root` holds no run at all, or the file cannot be written.
pub fn build(root: &Path) -> anyhow::Result<Built> {
    anyhow::ensure!(root.is_dir(), "{} is not a folder (run `bottleneck run` first)", root.display());
    let mut doc = Doc::new("Unsupervised deep learning on Fashion-MNIST: autoencoders, fine-tuning and a VAE");
    let conclusions = sections::all(root, &mut doc)?;
    anyhow::ensure!(doc.figures > 0, "{} holds no figures to report (run `bottleneck run` first)", root.display());
    let path = root.join(FILE);
    let text = doc.finish();
    atomic_write_bytes(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    Ok(Built { path, figures: doc.figures, tables: doc.tables, conclusions })
}
