//! Trials as a study stores them, and who runs them.

use std::fmt;

use anyhow::bail;

use super::space::Params;

/// Where a trial is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrialState {
    /// Parameters set, waiting for a worker (a crashed trial's re-run).
    Waiting,
    /// A worker is training it.
    Running,
    /// Trained to the end.
    Complete,
    /// Stopped early by the pruner.
    Pruned,
    /// Failed: diverged, errored, or its worker stopped beating.
    Failed,
}

impl TrialState {
    /// The name stored and printed.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Running => "running",
            Self::Complete => "complete",
            Self::Pruned => "pruned",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored name.
    ///
    /// # Errors
    /// For an unknown name (a storage written by something else).
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        Ok(match s {
            "waiting" => Self::Waiting,
            "running" => Self::Running,
            "complete" => Self::Complete,
            "pruned" => Self::Pruned,
            "failed" => Self::Failed,
            other => bail!("unknown trial state {other:?}"),
        })
    }
}

impl fmt::Display for TrialState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One trial.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialRecord {
    /// 0-based, unique in the study.
    pub number: u32,
    /// Its state.
    pub state: TrialState,
    /// Its parameters.
    pub params: Params,
    /// The objective: the last validation value (also for a pruned trial).
    pub value: Option<f64>,
    /// The objective after each epoch, `(epoch, value)`.
    pub intermediate: Vec<(u32, f64)>,
    /// Epochs trained.
    pub epochs: u32,
    /// Training seconds.
    pub seconds: f64,
    /// The worker that claimed it last (`host:pid`).
    pub worker: String,
    /// When that worker last said it was alive (Unix seconds).
    pub heartbeat: f64,
    /// Why it failed, or was pruned.
    pub note: String,
    /// The trial whose parameters it runs again, after that one's worker died.
    pub retry_of: Option<u32>,
    /// Its point of a grid search.
    pub grid: Option<u32>,
}

impl TrialRecord {
    /// A trial of `params` in `state`, with nothing recorded yet.
    #[must_use]
    pub fn new(number: u32, state: TrialState, params: Params) -> Self {
        Self {
            number,
            state,
            params,
            value: None,
            intermediate: Vec::new(),
            epochs: 0,
            seconds: 0.0,
            worker: String::new(),
            heartbeat: 0.0,
            note: String::new(),
            retry_of: None,
            grid: None,
        }
    }

    /// Whether it ended (complete, pruned, or failed and not re-run).
    #[must_use]
    pub fn ended(&self, all: &[TrialRecord]) -> bool {
        match self.state {
            TrialState::Complete | TrialState::Pruned => true,
            TrialState::Failed => !all.iter().any(|t| t.retry_of == Some(self.number)),
            TrialState::Waiting | TrialState::Running => false,
        }
    }
}

/// How a trial ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialEnd {
    /// Complete, pruned or failed.
    pub state: TrialState,
    /// The objective, when there is one.
    pub value: Option<f64>,
    /// Epochs trained.
    pub epochs: u32,
    /// Training seconds.
    pub seconds: f64,
    /// Why it failed or was pruned.
    pub note: String,
}

/// A worker: this process, named `host:pid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    /// The machine's name.
    pub host: String,
    /// The process.
    pub pid: u32,
}

impl Worker {
    /// This process.
    #[must_use]
    pub fn this() -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map_or_else(|| "localhost".to_string(), |h| h.trim().to_string());
        Self { host, pid: std::process::id() }
    }

    /// Parses `host:pid`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let (host, pid) = s.rsplit_once(':')?;
        Some(Self { host: host.into(), pid: pid.parse().ok()? })
    }

    /// Whether this worker, on this machine, is a process that no longer exists. (`false` when
    /// that cannot be told: another machine, or no `/proc`; the heartbeat decides then.)
    #[must_use]
    pub fn is_gone(&self, here: &Worker) -> bool {
        self.host == here.host
            && std::path::Path::new("/proc/self").exists()
            && !std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

impl fmt::Display for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.pid)
    }
}

/// Seconds since the Unix epoch.
#[must_use]
pub fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
