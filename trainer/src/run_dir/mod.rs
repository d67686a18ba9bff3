//! The run directory: one trained model with everything needed to reproduce and inspect it
//! (layout and formats in `docs/run-directory.md`; file names in [`crate::files`]).
//!
//! ```text
//! runs/<name>/
//!   config.toml        the resolved configuration (format version 1)
//!   metrics.csv        one row per epoch
//!   model.bpk          the final weights, burn's burnpack format
//!   summary.toml       classifiers: epochs and seconds to the target accuracy
//!   checkpoints/       the latest per-epoch checkpoint, for `bottleneck resume`
//!   figures/           loss.png, reconstructions.png, ...
//!   export/            model.bnq, vectors.bin, *.onnx, model.safetensors, export.toml,
//!                      validation.toml
//! ```
//!
//! Creating a run directory claims it: the directory's creation is the claim (atomic in the file
//! system), so several processes starting runs in one folder never share a directory.

pub mod records;
pub mod summary;

use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::config::RunConfig;
use crate::files;
use crate::fit::History;
use crate::util::atomic_write_bytes;

pub use records::{ExportRecord, ValidationRecord};
pub use summary::LearningSpeed;

/// How many numbered names (`kind-2`, `kind-3`, ...) to try before giving up.
const MAX_NUMBERED: usize = 100_000;

/// A run directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    /// The directory.
    pub root: PathBuf,
}

impl RunDir {
    /// Creates and claims `parent/<name>`, or the first free one of `parent/<kind>`,
    /// `parent/<kind>-2`, ... when no name is given. With `overwrite`, an existing `<name>` is
    /// removed first.
    ///
    /// # Errors
    /// When `name` is taken (it holds a run, or another process claimed it first) and not
    /// `overwrite`, when `name` is not a plain folder name, or on an I/O error.
    pub fn create(parent: &Path, name: Option<&str>, kind: &str, overwrite: bool) -> anyhow::Result<Self> {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        let root = match name {
            Some(n) => {
                let mut parts = Path::new(n).components();
                anyhow::ensure!(
                    matches!((parts.next(), parts.next()), (Some(Component::Normal(_)), None)),
                    "run name {n:?} must be a plain folder name (no '/', '.' or '..'); use --runs for the parent folder"
                );
                let root = parent.join(n);
                if overwrite {
                    match fs::remove_dir_all(&root) {
                        Ok(()) => {}
                        Err(e) if e.kind() == ErrorKind::NotFound => {}
                        Err(e) => return Err(e).with_context(|| format!("removing {}", root.display())),
                    }
                }
                match fs::create_dir(&root) {
                    Ok(()) => root,
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                        if root.join(files::CONFIG).exists() {
                            bail!(
                                "{} already holds a run; pick another --name, pass --overwrite to replace it, \
                                 or continue it with `bottleneck resume {}`",
                                root.display(),
                                root.display()
                            );
                        }
                        bail!(
                            "{} already exists (another process claimed the name first, or a folder of that name \
                             is in the way); pick another --name or remove the folder",
                            root.display()
                        );
                    }
                    Err(e) => return Err(e).with_context(|| format!("creating {}", root.display())),
                }
            }
            None => Self::claim_numbered(parent, kind)?,
        };
        let figures = root.join(files::FIGURES);
        fs::create_dir(&figures).with_context(|| format!("creating {}", figures.display()))?;
        Ok(Self { root })
    }

    /// The first of `parent/<kind>`, `parent/<kind>-2`, ... that this process manages to create.
    fn claim_numbered(parent: &Path, kind: &str) -> anyhow::Result<PathBuf> {
        for i in 1..=MAX_NUMBERED {
            let root = if i == 1 { parent.join(kind) } else { parent.join(format!("{kind}-{i}")) };
            match fs::create_dir(&root) {
                Ok(()) => return Ok(root),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e).with_context(|| format!("creating {}", root.display())),
            }
        }
        bail!("{} holds {MAX_NUMBERED} runs named {kind}-N; choose a --name", parent.display())
    }

    /// An existing run directory.
    ///
    /// # Errors
    /// When `root` has no `config.toml`.
    pub fn open(root: &Path) -> anyhow::Result<Self> {
        anyhow::ensure!(
            root.join(files::CONFIG).is_file(),
            "{} is not a run directory (no {}); runs are made by `bottleneck train` or `bottleneck run`",
            root.display(),
            files::CONFIG
        );
        Ok(Self { root: root.into() })
    }

    /// `config.toml`.
    #[must_use]
    pub fn config_path(&self) -> PathBuf {
        self.root.join(files::CONFIG)
    }

    /// `metrics.csv`.
    #[must_use]
    pub fn metrics_path(&self) -> PathBuf {
        self.root.join(files::METRICS)
    }

    /// `model.bpk`, the final weights.
    #[must_use]
    pub fn model_path(&self) -> PathBuf {
        self.root.join(files::MODEL)
    }

    /// `summary.toml`.
    #[must_use]
    pub fn summary_path(&self) -> PathBuf {
        self.root.join(files::SUMMARY)
    }

    /// `checkpoints/`.
    #[must_use]
    pub fn checkpoints_dir(&self) -> PathBuf {
        self.root.join(files::CHECKPOINTS)
    }

    /// `figures/<name>`.
    #[must_use]
    pub fn figure(&self, name: &str) -> PathBuf {
        self.root.join(files::FIGURES).join(name)
    }

    /// `export/`.
    #[must_use]
    pub fn export_dir(&self) -> PathBuf {
        self.root.join(files::EXPORT)
    }

    /// `export/<name>`.
    #[must_use]
    pub fn export_file(&self, name: &str) -> PathBuf {
        self.export_dir().join(name)
    }

    /// Another file of the run, `<name>` (one of [`crate::files`]).
    #[must_use]
    pub fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Writes `config.toml`.
    ///
    /// # Errors
    /// On serialisation or I/O failure.
    pub fn write_config(&self, config: &RunConfig) -> anyhow::Result<()> {
        write(&self.config_path(), config.to_toml()?.as_bytes())
    }

    /// Reads `config.toml`.
    ///
    /// # Errors
    /// When the file is missing, malformed, of another format version, or holds values that
    /// cannot run.
    pub fn read_config(&self) -> anyhow::Result<RunConfig> {
        let path = self.config_path();
        let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        RunConfig::from_toml(&text, &path.display().to_string())
    }

    /// Writes `metrics.csv`.
    ///
    /// # Errors
    /// On I/O failure.
    pub fn write_metrics(&self, history: &History) -> anyhow::Result<()> {
        write(&self.metrics_path(), history.to_csv().as_bytes())
    }

    /// Reads `metrics.csv`.
    ///
    /// # Errors
    /// When the file is missing or malformed.
    pub fn read_metrics(&self) -> anyhow::Result<History> {
        read_metrics(&self.metrics_path())
    }

    /// Writes `model.bpk` (burn's record bytes).
    ///
    /// # Errors
    /// On I/O failure.
    pub fn write_model(&self, bytes: &[u8]) -> anyhow::Result<()> {
        write(&self.model_path(), bytes)
    }

    /// Writes `summary.toml`.
    ///
    /// # Errors
    /// On serialisation or I/O failure.
    pub fn write_summary(&self, speed: &LearningSpeed) -> anyhow::Result<()> {
        write(&self.summary_path(), speed.to_toml()?.as_bytes())
    }

    /// Reads `summary.toml` (classifier runs).
    ///
    /// # Errors
    /// When the file is missing or malformed.
    pub fn read_summary(&self) -> anyhow::Result<LearningSpeed> {
        let path = self.summary_path();
        let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        LearningSpeed::from_toml(&text, &path.display().to_string())
    }

    /// Writes `export/export.toml`.
    ///
    /// # Errors
    /// On serialisation or I/O failure.
    pub fn write_export_record(&self, record: &ExportRecord) -> anyhow::Result<()> {
        write(&self.export_file(files::EXPORT_RECORD), records::to_toml(record)?.as_bytes())
    }

    /// Reads `export/export.toml`.
    ///
    /// # Errors
    /// When the file is missing or malformed.
    pub fn read_export_record(&self) -> anyhow::Result<ExportRecord> {
        records::read(&self.export_file(files::EXPORT_RECORD))
    }

    /// Writes `export/validation.toml`.
    ///
    /// # Errors
    /// On serialisation or I/O failure.
    pub fn write_validation_record(&self, record: &ValidationRecord) -> anyhow::Result<()> {
        write(&self.export_file(files::VALIDATION_RECORD), records::to_toml(record)?.as_bytes())
    }

    /// Reads `export/validation.toml`.
    ///
    /// # Errors
    /// When the file is missing or malformed.
    pub fn read_validation_record(&self) -> anyhow::Result<ValidationRecord> {
        records::read(&self.export_file(files::VALIDATION_RECORD))
    }
}

/// Reads a `metrics.csv` at `path` (a run's, a checkpoint's, a toy run's retraining).
///
/// # Errors
/// When the file is missing or malformed; the error names it.
pub fn read_metrics(path: &Path) -> anyhow::Result<History> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    History::from_csv(&text).with_context(|| format!("{}", path.display()))
}

/// Writes `bytes` to `path` atomically, naming the file in errors.
fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    atomic_write_bytes(path, bytes).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_names_skip_taken_ones_and_named_ones_refuse() {
        let dir = tempfile::tempdir().unwrap();
        let a = RunDir::create(dir.path(), None, "conv-ae", false).unwrap();
        let b = RunDir::create(dir.path(), None, "conv-ae", false).unwrap();
        assert_eq!(a.root, dir.path().join("conv-ae"));
        assert_eq!(b.root, dir.path().join("conv-ae-2"));
        assert!(a.figure("x.png").parent().unwrap().is_dir());
        let err = RunDir::create(dir.path(), Some("conv-ae"), "conv-ae", false).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        std::fs::write(a.config_path(), "x").unwrap();
        let err = RunDir::create(dir.path(), Some("conv-ae"), "conv-ae", false).unwrap_err();
        assert!(err.to_string().contains("already holds a run"), "{err}");
        let again = RunDir::create(dir.path(), Some("conv-ae"), "conv-ae", true).unwrap();
        assert!(!again.config_path().exists());
        for bad in ["a/b", "..", ".", "/abs"] {
            assert!(RunDir::create(dir.path(), Some(bad), "k", false).is_err(), "{bad}");
        }
    }

    #[test]
    fn threads_racing_for_names_each_get_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let roots: Vec<PathBuf> = std::thread::scope(|s| {
            let handles: Vec<_> =
                (0..8).map(|_| s.spawn(|| RunDir::create(dir.path(), None, "toy-ae", false).unwrap().root)).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut unique = roots.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 8, "{roots:?}");
        let named: Vec<bool> = std::thread::scope(|s| {
            let handles: Vec<_> =
                (0..8).map(|_| s.spawn(|| RunDir::create(dir.path(), Some("one"), "toy-ae", false).is_ok())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(named.iter().filter(|&&ok| ok).count(), 1, "{named:?}");
    }
}
