//! Per-epoch checkpoints that survive a crash at any instant (T5).
//!
//! Each checkpoint (every epoch, or every `FitOptions::report_every` epochs for runs of many short
//! epochs) writes a complete folder `checkpoints/epoch-NNNN/` (model, optimizer state,
//! metrics so far), then atomically replaces the one-line file `checkpoints/LATEST` naming it, then
//! deletes older folders. A crash before `LATEST` is replaced leaves the previous checkpoint in
//! charge; a crash after it leaves the new one. At most one checkpoint interval of work is lost.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;

use super::history::History;
use crate::files::{LATEST, METRICS, MODEL, OPTIMIZER};
use crate::util::atomic_write_bytes;

/// A saved training state.
#[derive(Debug)]
pub struct Saved {
    /// Epochs completed.
    pub epoch: usize,
    /// The model weights.
    pub model: ModuleRecord,
    /// The optimizer state, as burn serialises it.
    pub optimizer: Bytes,
    /// Metrics up to `epoch`.
    pub history: History,
}

/// Writes and reads the checkpoints of one run directory.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    dir: PathBuf,
}

impl Checkpoints {
    /// Checkpoints kept under `dir` (usually `RUN/checkpoints`).
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The folder holding the checkpoints.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Saves the state after `epoch` epochs.
    ///
    /// # Errors
    /// Any I/O or serialisation error, naming the file.
    pub fn save<M: Module>(
        &self,
        epoch: usize,
        model: &M,
        optim: &ModuleOptimizer,
        history: &History,
    ) -> anyhow::Result<()> {
        let name = format!("epoch-{epoch:04}");
        let folder = self.dir.join(&name);
        fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
        let model_bytes = model.clone().into_record().into_bytes().map_err(|e| anyhow::anyhow!("{e}"))?;
        atomic_write_bytes(&folder.join(MODEL), &model_bytes)
            .with_context(|| format!("writing {}", folder.join(MODEL).display()))?;
        let optim_bytes = optim.into_bytes().map_err(|e| anyhow::anyhow!("serialising the optimizer state: {e}"))?;
        atomic_write_bytes(&folder.join(OPTIMIZER), &optim_bytes)
            .with_context(|| format!("writing {}", folder.join(OPTIMIZER).display()))?;
        atomic_write_bytes(&folder.join(METRICS), history.to_csv().as_bytes())
            .with_context(|| format!("writing {}", folder.join(METRICS).display()))?;
        atomic_write_bytes(&self.dir.join(LATEST), format!("{name}\n").as_bytes())
            .with_context(|| format!("writing {}", self.dir.join(LATEST).display()))?;
        // Older checkpoints are no longer needed; failing to delete one is harmless.
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let n = e.file_name();
                let n = n.to_string_lossy();
                if n.starts_with("epoch-") && n != name {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
        Ok(())
    }

    /// Loads the latest complete checkpoint, if any.
    ///
    /// # Errors
    /// When `LATEST` names a folder whose files are missing or corrupt.
    pub fn load_latest(&self) -> anyhow::Result<Option<Saved>> {
        let latest = self.dir.join(LATEST);
        let Ok(name) = fs::read_to_string(&latest) else { return Ok(None) };
        let name = name.trim();
        let epoch: usize = name
            .strip_prefix("epoch-")
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("{}: expected `epoch-NNNN`, found {name:?}", latest.display()))?;
        let folder = self.dir.join(name);
        let read = |f: &str| fs::read(folder.join(f)).with_context(|| format!("reading {}", folder.join(f).display()));
        let model = ModuleRecord::from_bytes(Bytes::from_bytes_vec(read(MODEL)?))
            .map_err(|e| anyhow::anyhow!("{}: corrupt checkpoint: {e}", folder.join(MODEL).display()))?;
        let optimizer = Bytes::from_bytes_vec(read(OPTIMIZER)?);
        let text = String::from_utf8(read(METRICS)?).context("metrics are not UTF-8")?;
        let history = History::from_csv(&text).with_context(|| format!("{}", folder.join(METRICS).display()))?;
        if history.rows.len() != epoch {
            bail!(
                "{}: holds {} epochs of metrics, expected {epoch}",
                folder.join(METRICS).display(),
                history.rows.len()
            );
        }
        Ok(Some(Saved { epoch, model, optimizer, history }))
    }
}
