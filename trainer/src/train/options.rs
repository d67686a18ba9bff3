//! What a training job is asked to do and what it reports.

use std::path::PathBuf;

use crate::fit::{EpochObserver, History, Stop};

/// How to run a training job.
#[derive(Default)]
pub struct TrainOptions<'a> {
    /// Progress bars and per-epoch lines on stderr.
    pub progress: bool,
    /// Continue from the run's latest checkpoint.
    pub resume: bool,
    /// Called after every epoch; may stop the run (a pruner) or take snapshots.
    pub observer: Option<&'a mut dyn EpochObserver>,
    /// Autoencoders: draw the reconstructions of one test image per class every this many epochs
    /// (`figures/reconstructions-epoch-NNNN.png`).
    pub snapshot_every: Option<usize>,
}

impl std::fmt::Debug for TrainOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainOptions")
            .field("progress", &self.progress)
            .field("resume", &self.resume)
            .field("observer", &self.observer.is_some())
            .field("snapshot_every", &self.snapshot_every)
            .finish()
    }
}

/// What a finished training job reports.
#[derive(Debug)]
pub struct Outcome {
    /// Metrics per epoch.
    pub history: History,
    /// Why training ended before its last epoch, if it did.
    pub stopped: Option<Stop>,
}

/// Where a new run directory goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The folder that holds run directories.
    pub runs: PathBuf,
    /// The run's name; `None`: the model kind, numbered if taken.
    pub name: Option<String>,
    /// Replace an existing run of the same name.
    pub overwrite: bool,
}

impl Placement {
    /// `runs/<name>`, replacing a previous run of that name.
    #[must_use]
    pub fn replacing(runs: impl Into<PathBuf>, name: &str) -> Self {
        Self { runs: runs.into(), name: Some(name.into()), overwrite: true }
    }
}
