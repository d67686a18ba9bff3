//! What every kind of run shares: the device, fit options, checkpoints, the observer, and saving
//! the final weights and metrics.

use burn::prelude::*;

use super::options::TrainOptions;
use crate::config::RunConfig;
use crate::fit::{
    Checkpoints, EpochObserver, FitHooks, FitOptions, Fitted, History, Objective, Observers, fit, force_init,
};
use crate::run_dir::RunDir;

/// Settings shared by every kind of run.
pub(crate) struct Job<'a, 'o> {
    pub config: &'a RunConfig,
    pub run: &'a RunDir,
    /// The plain device (the training device is its autodiff).
    pub device: Device,
    pub opts: FitOptions,
    pub checkpoints: Checkpoints,
    pub resume: bool,
    pub observer: Option<&'o mut dyn EpochObserver>,
    /// Draw reconstructions every this many epochs (autoencoders).
    pub snapshot_every: Option<usize>,
}

impl<'a, 'o> Job<'a, 'o> {
    /// The job of `config` in `run`; seeds the device.
    pub fn new(config: &'a RunConfig, run: &'a RunDir, opts: TrainOptions<'o>) -> anyhow::Result<Self> {
        let device = config.train.device.device()?;
        device.seed(config.train.seed);
        Ok(Self {
            config,
            run,
            opts: FitOptions {
                epochs: config.train.epochs,
                batch_size: config.train.batch_size,
                eval_batch_size: 1000,
                seed: config.train.seed,
                optim: config.train.optim.clone(),
                patience: config.train.patience,
                progress: opts.progress,
                label: config.model.kind().to_string(),
            },
            device,
            checkpoints: Checkpoints::new(run.checkpoints_dir()),
            resume: opts.resume,
            observer: opts.observer,
            snapshot_every: opts.snapshot_every,
        })
    }

    /// The autodiff device models train on.
    pub fn autodiff(&self) -> Device {
        self.device.clone().autodiff()
    }

    /// Fits `model` to `objective` with checkpoints (resuming from the latest when asked) and the
    /// observer, then writes `model.bpk` and `metrics.csv`.
    pub fn fit<O: Objective>(&mut self, objective: &O, model: O::Model) -> anyhow::Result<Fitted<O::Model>> {
        self.fit_with(objective, model, None)
    }

    /// [`Job::fit`] with one more observer of the job's own (e.g. reconstruction snapshots).
    pub fn fit_with<O: Objective>(
        &mut self,
        objective: &O,
        model: O::Model,
        extra: Option<&mut dyn EpochObserver>,
    ) -> anyhow::Result<Fitted<O::Model>> {
        force_init(&model);
        let resume = if self.resume {
            let s = self.checkpoints.load_latest()?;
            anyhow::ensure!(s.is_some(), "{} has no checkpoint to resume from", self.checkpoints.dir().display());
            s
        } else {
            None
        };
        let mut observers = Observers::new();
        if let Some(o) = self.observer.as_deref_mut() {
            observers.push(o);
        }
        if let Some(o) = extra {
            observers.push(o);
        }
        let hooks = FitHooks { checkpoints: Some(&self.checkpoints), resume, observer: Some(&mut observers) };
        let fitted = fit(objective, model, &self.opts, &self.device, hooks)?;
        save(self.run, &fitted.model, &fitted.history)?;
        Ok(fitted)
    }
}

/// Writes the final weights (`model.bpk`) and the metrics of a run.
pub(crate) fn save<M: Module>(run: &RunDir, model: &M, history: &History) -> anyhow::Result<()> {
    let bytes = model.clone().into_record().into_bytes().map_err(|e| anyhow::anyhow!("serialising the model: {e}"))?;
    run.write_model(&bytes)?;
    run.write_metrics(history)
}
