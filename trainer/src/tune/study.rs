//! A worker of a study: claims trials from the storage, trains each as an ordinary run directory
//! (`<study>/trials/trial-NNNN/`), reports the objective after every epoch for the pruner, beats
//! while it trains, records how each trial ended, and rewrites the study's files. Any number of
//! workers (processes, machines) may run one study together; running the command again continues
//! it.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;

use super::objective::{check_validation, objective};
use super::outputs::{Written, best, write_all};
use super::pruner::{Median, Pruner, PrunerKind};
use super::sampler::{self, Sampler, SamplerKind};
use super::space::{Params, SearchSpace, apply, describe};
use super::storage::{self, ClaimRules, Storage, StudyInfo};
use super::trial::{TrialEnd, TrialRecord, TrialState, Worker};
use crate::config::RunConfig;
use crate::data::Dataset;
use crate::fit::{Column, Control, EpochEnd, EpochObserver, FitError};
use crate::train::{Placement, TrainOptions, start_run};

/// Everything a worker needs.
#[derive(Debug, Clone)]
pub struct TuneConfig {
    /// The study's name.
    pub name: String,
    /// The study's folder: `trials/`, `trials.csv`, `best.toml`, `figures/`.
    pub dir: PathBuf,
    /// The storage: a SQLite file path or a `postgres://` URL.
    pub storage: String,
    /// The configuration every trial starts from (its data, epochs, ...).
    pub base: RunConfig,
    /// What varies.
    pub space: SearchSpace,
    /// How parameters are proposed.
    pub sampler: SamplerKind,
    /// Another study's parameters to run in order instead of sampling.
    pub replay: Option<Vec<Params>>,
    /// How trials are stopped early.
    pub pruner: PrunerKind,
    /// The median pruner's settings.
    pub median: Median,
    /// Trials to end in all (complete, pruned, failed), over every worker.
    pub trials: u32,
    /// The sampler's seed.
    pub seed: u64,
    /// A running trial whose worker is silent this long (seconds) is failed and run again.
    pub stale_after: f64,
    /// Seconds between heartbeats.
    pub heartbeat_every: f64,
    /// Progress bars and per-epoch lines on stderr.
    pub progress: bool,
}

impl TuneConfig {
    /// The default storage of a study folder: `study.sqlite` in it.
    #[must_use]
    pub fn default_storage(dir: &std::path::Path) -> String {
        dir.join("study.sqlite").display().to_string()
    }
}

/// What a worker saw when the study had nothing left for it.
#[derive(Debug, Clone)]
pub struct TuneReport {
    /// Every trial of the study.
    pub trials: Vec<TrialRecord>,
    /// The objective.
    pub objective: Column,
    /// Whether larger is better.
    pub maximise: bool,
    /// Trials this worker ran.
    pub ran: usize,
    /// The study's files.
    pub written: Written,
}

impl TuneReport {
    /// The best complete trial.
    #[must_use]
    pub fn best(&self) -> Option<&TrialRecord> {
        best(&self.trials, self.maximise)
    }
}

/// Beats for one trial from its own connection until dropped.
struct Heartbeat {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl Heartbeat {
    fn start(location: &str, study: i64, number: u32, every: f64) -> anyhow::Result<Self> {
        let mut storage = storage::open(location)?;
        let (tx, rx) = mpsc::channel::<()>();
        let every = Duration::from_secs_f64(every.max(0.05));
        let handle = std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                // A missed beat is retried at the next one; only a long silence fails the trial.
                let _ = storage.heartbeat(study, number);
            }
        });
        Ok(Self { stop: Some(tx), handle: Some(handle) })
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Reports the objective after every epoch and asks the pruner.
struct TrialObserver<'a> {
    storage: &'a mut dyn Storage,
    study: i64,
    number: u32,
    column: Column,
    maximise: bool,
    pruner: &'a dyn Pruner,
    last: Option<f64>,
    pruned: Option<String>,
}

impl EpochObserver for TrialObserver<'_> {
    fn epoch_end(&mut self, end: &EpochEnd<'_>) -> anyhow::Result<Control> {
        let row = end.row();
        let Some(value) = end.history.value(row, self.column) else { return Ok(Control::Continue) };
        self.last = Some(value);
        let epoch = row.epoch as u32;
        self.storage.report(self.study, self.number, epoch, value)?;
        let trials = self.storage.trials(self.study)?;
        match self.pruner.prune(self.number, epoch, value, &trials, self.maximise) {
            Some(why) => {
                self.pruned = Some(why.clone());
                Ok(Control::Stop(format!("pruned: {why}")))
            }
            None => Ok(Control::Continue),
        }
    }
}

/// Runs one worker of the study until it has nothing left to do.
///
/// # Errors
/// When the storage cannot be opened or the study exists with another set-up, the base
/// configuration cannot be tuned (no validation split, a toy model), or a trial fails for a reason
/// other than divergence (recorded first).
pub fn tune(cfg: &TuneConfig, data: &Dataset, say: &mut dyn FnMut(&str)) -> anyhow::Result<TuneReport> {
    let kind = cfg.base.model.model_kind().context("an imported model is not trained here, so it cannot be tuned")?;
    let column = objective(kind)?;
    check_validation(&cfg.base)?;
    let maximise = column.metric.maximise();
    // Fail now, not at trial 11, on a space that does not fit the configuration.
    if let Some(p) = cfg.space.grid().ok().and_then(|g| g.into_iter().next()) {
        apply(&cfg.base, &p)?;
    }
    std::fs::create_dir_all(&cfg.dir).with_context(|| format!("creating {}", cfg.dir.display()))?;
    let mut storage = storage::open(&cfg.storage)?;
    let info =
        StudyInfo { kind: kind.name().into(), objective: column.to_string(), maximise, space: cfg.space.to_toml() };
    let study = storage.open_study(&cfg.name, &info)?;
    let sampler: Box<dyn Sampler> = match &cfg.replay {
        Some(p) => sampler::replay(p.clone()),
        None => sampler::make(cfg.sampler, cfg.seed, maximise),
    };
    let pruner = super::pruner::make(cfg.pruner, cfg.median);
    let me = Worker::this();
    let rules = ClaimRules { budget: cfg.trials, stale_after: cfg.stale_after };
    let mut ran = 0;
    loop {
        let space = &cfg.space;
        let claimed = storage.claim(study, &me, &rules, &mut |trials, number| sampler.sample(space, trials, number))?;
        let Some(trial) = claimed else { break };
        let retry = trial.retry_of.map_or_else(String::new, |n| format!(" (re-run of trial {n})"));
        say(&format!("trial {}{retry}: {}", trial.number, describe(&trial.params)));
        let end = run_trial(cfg, data, &mut *storage, study, &trial, column, maximise, &*pruner);
        let (end, error) = match end {
            Ok(end) => (end, None),
            Err(e) => {
                let diverged = e.chain().any(|c| c.downcast_ref::<FitError>().is_some());
                let end = TrialEnd {
                    state: TrialState::Failed,
                    value: None,
                    epochs: 0,
                    seconds: 0.0,
                    note: format!("{e:#}"),
                };
                (end, (!diverged).then_some(e))
            }
        };
        storage.finish(study, trial.number, &end)?;
        ran += 1;
        let value = end.value.map_or_else(|| "-".to_string(), |v| format!("{v:.5}"));
        say(&format!(
            "trial {} {}: {column} {value} after {} epochs{}",
            trial.number,
            end.state,
            end.epochs,
            if end.note.is_empty() { String::new() } else { format!(" ({})", end.note) }
        ));
        let trials = storage.trials(study)?;
        write_all(&cfg.dir, &cfg.name, &cfg.base, &cfg.space, &trials, column, maximise)?;
        if let Some(e) = error {
            return Err(e.context(format!("trial {} of study {}", trial.number, cfg.name)));
        }
    }
    let trials = storage.trials(study)?;
    let written = write_all(&cfg.dir, &cfg.name, &cfg.base, &cfg.space, &trials, column, maximise)?;
    Ok(TuneReport { trials, objective: column, maximise, ran, written })
}

/// Trains one trial; its end, or the error that stopped it.
#[allow(clippy::too_many_arguments)]
fn run_trial(
    cfg: &TuneConfig,
    data: &Dataset,
    storage: &mut dyn Storage,
    study: i64,
    trial: &TrialRecord,
    column: Column,
    maximise: bool,
    pruner: &dyn Pruner,
) -> anyhow::Result<TrialEnd> {
    let config = apply(&cfg.base, &trial.params)?;
    let _beat = Heartbeat::start(&cfg.storage, study, trial.number, cfg.heartbeat_every)?;
    let mut observer =
        TrialObserver { storage, study, number: trial.number, column, maximise, pruner, last: None, pruned: None };
    let place =
        Placement { runs: cfg.dir.join("trials"), name: Some(format!("trial-{:04}", trial.number)), overwrite: false };
    let opts = TrainOptions { progress: cfg.progress, observer: Some(&mut observer), ..TrainOptions::default() };
    let (_, outcome) = start_run(&place, &config, Some(data), opts)?;
    let (state, note) = match observer.pruned.take() {
        Some(why) => (TrialState::Pruned, why),
        None => (TrialState::Complete, outcome.stopped.map(|s| s.to_string()).unwrap_or_default()),
    };
    Ok(TrialEnd {
        state,
        value: observer.last,
        epochs: outcome.history.rows.len() as u32,
        seconds: outcome.history.total_seconds(),
        note,
    })
}

/// The parameters of another study's trials, in order (for `--replay`).
///
/// # Errors
/// When the storage or the study cannot be read.
pub fn replay_params(location: &str, name: &str, info: &StudyInfo) -> anyhow::Result<Vec<Params>> {
    let mut s = storage::open(location)?;
    let id = s.open_study(name, info)?;
    Ok(s.trials(id)?.into_iter().filter(|t| t.retry_of.is_none()).map(|t| t.params).collect())
}
