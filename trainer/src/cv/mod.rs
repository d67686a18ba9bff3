//! `bottleneck cv`: k-fold cross-validation of a configuration. The training images are split into
//! k stratified folds; each fold in turn is the validation set of an ordinary run directory
//! (`<name>/fold-1`, ...). The metric is the kind's validation metric after the last epoch; the
//! folds' mean and standard deviation go to `cv.csv`, `cv.md` and `figures/cv.png`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::config::{DataSpec, FoldSpec, RunConfig};
use crate::data::Dataset;
use crate::fit::{Column, Split};
use crate::plot::bars::bars;
use crate::train::{Placement, TrainOptions, start_run};
use crate::tune::objective;
use crate::util::atomic_write_bytes;

/// What to cross-validate.
#[derive(Debug, Clone)]
pub struct CvConfig {
    /// The configuration each fold trains (its validation fraction is replaced by the folds).
    pub base: RunConfig,
    /// Folds (at least 2).
    pub folds: usize,
    /// The folder of the fold runs and results.
    pub dir: PathBuf,
    /// Progress bars and per-epoch lines on stderr.
    pub progress: bool,
}

/// One fold's result.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldResult {
    /// 1-based.
    pub fold: usize,
    /// The validation metric on the held-out fold.
    pub value: f64,
    /// The same metric on the test set (for reference; never used to choose).
    pub test: Option<f64>,
    /// The fold's run directory.
    pub run: PathBuf,
}

/// The cross-validation's results.
#[derive(Debug, Clone)]
pub struct CvReport {
    /// The metric.
    pub column: Column,
    /// Per fold.
    pub folds: Vec<FoldResult>,
    /// Mean over the folds.
    pub mean: f64,
    /// Standard deviation over the folds (n - 1 in the denominator).
    pub std: f64,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Mean and sample standard deviation.
#[must_use]
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 { values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (mean, var.sqrt())
}

/// Trains every fold and writes the results.
///
/// # Errors
/// When the configuration has no image data or a kind without a validation metric, a fold fails,
/// or a file cannot be written.
pub fn cross_validate(cfg: &CvConfig, data: &Dataset, say: &mut dyn FnMut(&str)) -> anyhow::Result<CvReport> {
    anyhow::ensure!(cfg.folds >= 2, "cross-validation needs at least 2 folds, got {}", cfg.folds);
    let kind = cfg.base.model.model_kind().context("an imported model is not trained here")?;
    let column = objective(kind)?;
    let DataSpec::Images(images) = &cfg.base.data else { anyhow::bail!("cross-validation needs image data") };
    let mut folds = Vec::new();
    for index in 0..cfg.folds {
        let mut image = images.clone();
        image.fold = Some(FoldSpec { k: cfg.folds, index });
        image.count(data, cfg.base.train.seed);
        let config = RunConfig { data: DataSpec::Images(image), ..cfg.base.clone() };
        let place = Placement::replacing(&cfg.dir, &format!("fold-{}", index + 1));
        let (run, outcome) =
            start_run(&place, &config, Some(data), TrainOptions { progress: cfg.progress, ..TrainOptions::default() })?;
        let value = outcome.history.last(column).with_context(|| format!("{}: no {column}", run.root.display()))?;
        let test = outcome.history.last(Column::new(Split::Test, column.metric));
        say(&format!("fold {}/{}: {column} {value:.5}", index + 1, cfg.folds));
        folds.push(FoldResult { fold: index + 1, value, test, run: run.root });
    }
    let (mean, std) = mean_std(&folds.iter().map(|f| f.value).collect::<Vec<_>>());
    let files = write(&cfg.dir, column, &folds, mean, std)?;
    Ok(CvReport { column, folds, mean, std, files })
}

fn write(dir: &Path, column: Column, folds: &[FoldResult], mean: f64, std: f64) -> anyhow::Result<Vec<PathBuf>> {
    let test = Column::new(Split::Test, column.metric);
    let mut csv = format!("fold,{column},{test},run\n");
    let mut md = format!("| fold | {column} (held-out fold) | {test} (reference) |\n|---|---|---|\n");
    for f in folds {
        let t = f.test.map_or_else(String::new, |t| format!("{t:.6}"));
        let _ = writeln!(csv, "{},{:.6},{t},{}", f.fold, f.value, f.run.display());
        let _ = writeln!(
            md,
            "| {} | {:.4} | {} |",
            f.fold,
            f.value,
            if t.is_empty() { "-".into() } else { format!("{:.4}", f.test.unwrap_or(0.0)) }
        );
    }
    let _ = writeln!(md, "| mean ± std | {mean:.4} ± {std:.4} | |");
    let mut files = Vec::new();
    for (name, text) in [("cv.csv", csv), ("cv.md", md)] {
        let p = dir.join(name);
        atomic_write_bytes(&p, text.as_bytes()).with_context(|| format!("writing {}", p.display()))?;
        files.push(p);
    }
    let p = dir.join("figures/cv.png");
    let labelled: Vec<(String, f64)> = folds.iter().map(|f| (format!("fold {}", f.fold), f.value)).collect();
    let title = format!("{}-fold cross-validation: {column} of each held-out fold", folds.len());
    bars(&p, &title, &column.to_string(), &labelled, mean, std)?;
    files.push(p);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0]);
        assert!((m - 2.0).abs() < 1e-12 && (s - 1.0).abs() < 1e-12);
        assert_eq!(mean_std(&[5.0]), (5.0, 0.0));
    }

    #[test]
    fn writes_the_table_and_the_figure() {
        let dir = tempfile::tempdir().unwrap();
        let folds: Vec<FoldResult> = (1..=3)
            .map(|i| FoldResult { fold: i, value: 0.9 + 0.01 * i as f64, test: Some(0.9), run: PathBuf::from("x") })
            .collect();
        let column = Column::new(Split::Valid, crate::fit::Metric::Accuracy);
        let files = write(dir.path(), column, &folds, 0.92, 0.01).unwrap();
        assert_eq!(files.len(), 3);
        let md = std::fs::read_to_string(dir.path().join("cv.md")).unwrap();
        assert!(md.contains("| mean ± std | 0.9200 ± 0.0100 |"), "{md}");
    }
}
