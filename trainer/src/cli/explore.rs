//! `bottleneck explore RUN_DIR`: the codes mapped by PCA and t-SNE, their linear probe,
//! interpolations, per-class tables, the architecture table.

use std::path::PathBuf;

use clap::Args;

use crate::config::DataSpec;
use crate::explore::{ExploreOptions, TsneOptions, explore};
use crate::run_dir::RunDir;

/// What a trained model learned: the codes of test images (explore/codes.csv) on their first two
/// principal components (figures/pca.png, pca-variance.png) and by t-SNE (figures/tsne.png),
/// coloured by class; a linear probe, the held-out accuracy of a linear classifier (softmax
/// regression) on the codes over 5 stratified folds (explore/summary.toml), the usual measure of
/// how much of the class a representation holds; decodings of the line between two test images' codes and of the square
/// between four (figures/interpolation.png, traversal.png); for classifiers, precision, recall
/// and F1 per class (explore/classification.md) and the confusion matrix (figures/confusion.png);
/// the architecture table (explore/architecture.md).
#[derive(Debug, Args)]
pub struct ExploreCmd {
    /// The run directory.
    run: PathBuf,
    /// Test images whose codes are mapped (a stratified subset).
    #[arg(long, default_value_t = 500, conflicts_with = "all")]
    codes: usize,
    /// Map the codes of every test image.
    #[arg(long)]
    all: bool,
    /// Skip t-SNE (PCA only).
    #[arg(long)]
    no_tsne: bool,
    /// t-SNE's perplexity (lowered for small sets).
    #[arg(long, default_value_t = TsneOptions::default().perplexity)]
    perplexity: f32,
    /// Folder holding the IDX files (default: the folder recorded in the run's config.toml).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

impl ExploreCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let run = RunDir::open(&self.run)?;
        let config = run.read_config()?;
        let data = match &config.data {
            DataSpec::Images(d) => Some(d.load(self.data.as_deref(), &run.config_path())?),
            DataSpec::ToyRectangle(_) => None,
        };
        let opts = ExploreOptions {
            codes: (!self.all).then_some(self.codes),
            tsne: TsneOptions { perplexity: self.perplexity, ..TsneOptions::default() },
            skip_tsne: self.no_tsne,
            ..ExploreOptions::default()
        };
        let e = explore(&run, &config, data.as_ref(), &opts)?;
        if e.codes > 0 {
            println!("codes: {} test images", e.codes);
        }
        if let Some(p) = e.pca_two {
            println!("PCA: the first two components explain {:.1}% of the codes' variance", 100.0 * p);
        }
        if let (Some(t), Some(s)) = (e.trustworthiness, e.tsne_seconds) {
            println!("t-SNE: {s:.1} s, trustworthiness {t:.3} (10 neighbours)");
        }
        if let Some(p) = e.linear_probe {
            println!("linear probe: {:.2}% held-out accuracy of a linear classifier on the codes (5 folds)", 100.0 * p);
        }
        if let Some(a) = e.accuracy {
            println!("test accuracy: {:.2}%", 100.0 * a);
        }
        for f in &e.files {
            println!("  {}", f.display());
        }
        Ok(())
    }
}
