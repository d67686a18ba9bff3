//! The one training loop every model shares: batches, optimizer steps, per-epoch evaluation,
//! progress, divergence detection, checkpoints, early stopping and epoch observers.

use std::time::Instant;

use anyhow::Context as _;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};

use super::checkpoint::{Checkpoints, Saved};
use super::history::{History, Row};
use super::metrics::{Column, Metric, Split};
use super::objective::{Objective, columns, evaluate};
use super::observer::{Control, EpochEnd, EpochObserver};
use super::optim::OptimConfig;
use crate::data::rng::SplitMix64;

/// How to train.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// Epochs in total (a resumed run continues up to this).
    pub epochs: usize,
    /// Examples per optimizer step.
    pub batch_size: usize,
    /// Examples per evaluation batch.
    pub eval_batch_size: usize,
    /// Seed of the data order.
    pub seed: u64,
    /// Optimizer and schedule.
    pub optim: OptimConfig,
    /// Stop when the validation loss has not improved for this many epochs (needs a validation
    /// split).
    pub patience: Option<usize>,
    /// Whether to show a progress bar and per-epoch lines on stderr.
    pub progress: bool,
    /// Prefix of progress lines (e.g. the model name).
    pub label: String,
}

impl FitOptions {
    /// Every how many epochs to print a line and save a checkpoint: every epoch for ordinary runs,
    /// about 20 times in all for runs of many short epochs (the toy models' 2000 full-batch steps).
    #[must_use]
    pub fn report_every(&self) -> usize {
        (self.epochs / 20).max(1)
    }
}

/// Why training stopped early with an error.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error(
        "training diverged: {metric} became {value} at epoch {epoch}, batch {batch} (learning rate \
         {lr:e}); lower --lr or change --optimizer. {kept}"
    )]
    Diverged { metric: Metric, value: f32, epoch: usize, batch: usize, lr: f64, kept: String },
}

/// Why training ended before its last epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Early stopping: the validation loss stopped improving for `patience` epochs.
    Patience,
    /// An epoch observer asked (e.g. a pruner), with its reason.
    Observer(String),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Patience => f.write_str("stopped early: validation loss stopped improving"),
            Self::Observer(why) => write!(f, "stopped: {why}"),
        }
    }
}

/// The result of [`fit`].
#[derive(Debug)]
pub struct Fitted<M> {
    /// The trained model (on the autodiff device).
    pub model: M,
    /// Metrics per epoch.
    pub history: History,
    /// Why training ended before its last epoch, if it did.
    pub stopped: Option<Stop>,
}

/// Where a fit keeps its state and who watches it.
#[derive(Debug, Default)]
pub struct FitHooks<'a> {
    /// Save a checkpoint after every reported epoch here.
    pub checkpoints: Option<&'a Checkpoints>,
    /// Continue from this saved state.
    pub resume: Option<Saved>,
    /// Called after every epoch; may stop training.
    pub observer: Option<&'a mut dyn EpochObserver>,
}

/// Trains `model` (already on the autodiff device `device.autodiff()`), resuming from
/// `hooks.resume` if given, saving a checkpoint after every epoch when `hooks.checkpoints` is given
/// and calling `hooks.observer` after every epoch.
///
/// # Errors
/// [`FitError::Diverged`] on a non-finite loss (the last checkpoint stays as it was), an I/O
/// error while checkpointing, or an observer's error.
pub fn fit<O: Objective>(
    objective: &O,
    mut model: O::Model,
    opts: &FitOptions,
    device: &Device,
    hooks: FitHooks<'_>,
) -> anyhow::Result<Fitted<O::Model>> {
    let FitHooks { checkpoints, resume, mut observer } = hooks;
    let train_device = device.clone().autodiff();
    let metrics = objective.metrics();
    let mut optim: ModuleOptimizer = opts.optim.build();
    let mut history = History::new(columns(objective));
    let mut start = 0;
    if let Some(saved) = resume {
        model = model.try_load_record(saved.model).map_err(|e| anyhow::anyhow!("loading the checkpoint: {e}"))?;
        optim = optim.from_bytes(saved.optimizer).map_err(|e| anyhow::anyhow!("loading the optimizer state: {e}"))?;
        start = saved.epoch;
        history = saved.history;
    }
    let n = objective.len(Split::Train);
    anyhow::ensure!(n > 0, "no training examples");
    let batch_size = opts.batch_size.clamp(1, n);
    let batches = n.div_ceil(batch_size);
    let total_steps = batches * opts.epochs;
    let (mut best_valid, mut since_best) = (f64::INFINITY, 0usize);
    for r in &history.rows {
        if let Some(v) = valid_loss(&history, r, metrics[0]) {
            if v < best_valid {
                best_valid = v;
                since_best = 0;
            } else {
                since_best += 1;
            }
        }
    }
    let mut stopped = None;

    for epoch in start..opts.epochs {
        if let Some(p) = opts.patience
            && objective.len(Split::Valid) > 0
            && since_best >= p
        {
            stopped = Some(Stop::Patience);
            break;
        }
        let mut order: Vec<usize> = (0..n).collect();
        SplitMix64::derive(opts.seed, &format!("order-{epoch}")).shuffle(&mut order);
        let bar = progress_bar(opts, epoch, batches);
        let started = Instant::now();
        let mut sums = vec![0.0f64; metrics.len()];
        let mut seen = 0usize;
        let mut lr = opts.optim.lr;
        for (b, idx) in order.chunks(batch_size).enumerate() {
            lr = opts.optim.lr_at(epoch * batches + b, total_steps, opts.epochs);
            let losses = objective.losses(&model, Split::Train, idx, &train_device, epoch);
            let values: Vec<f32> = losses.iter().map(|t| t.clone().into_scalar::<f32>()).collect();
            if let Some((&m, &v)) = metrics.iter().zip(&values).find(|(_, v)| !v.is_finite()) {
                bar.abandon();
                let kept = match checkpoints {
                    Some(c) if epoch > 0 => {
                        format!("The last good checkpoint (epoch {epoch}) is in {}.", c.dir().display())
                    }
                    _ => "No checkpoint was written.".to_string(),
                };
                return Err(FitError::Diverged { metric: m, value: v, epoch: epoch + 1, batch: b + 1, lr, kept }.into());
            }
            let grads = GradientsParams::from_grads(losses[0].backward(), &model);
            model = optim.step(lr, model, grads);
            for (s, v) in sums.iter_mut().zip(&values) {
                *s += f64::from(*v) * idx.len() as f64;
            }
            seen += idx.len();
            bar.inc(1);
            bar.set_message(format!("{} {:.5}", metrics[0], sums[0] / seen as f64));
        }
        let seconds = started.elapsed().as_secs_f64();
        bar.finish_and_clear();

        let eval_model = model.valid();
        let mut values: Vec<Option<f64>> = sums.iter().map(|s| Some(s / seen as f64)).collect();
        for split in [Split::Valid, Split::Test] {
            if objective.len(split) > 0 {
                values.extend(
                    evaluate(objective, &eval_model, split, device, opts.eval_batch_size).into_iter().map(Some),
                );
            }
        }
        let row = Row { epoch: epoch + 1, seconds, lr, values };
        let report = (epoch + 1) % opts.report_every() == 0 || epoch + 1 == opts.epochs;
        if opts.progress && report {
            eprintln!("{}", describe_row(&opts.label, opts.epochs, &history.columns, &row));
        }
        history.rows.push(row);
        if let Some(v) = history.rows.last().and_then(|r| valid_loss(&history, r, metrics[0])) {
            if v < best_valid {
                best_valid = v;
                since_best = 0;
            } else {
                since_best += 1;
            }
        }
        if let Some(c) = checkpoints.filter(|_| report) {
            c.save(epoch + 1, &model, &optim, &history).context("saving a checkpoint")?;
        }
        if let Some(o) = observer.as_deref_mut() {
            let end = EpochEnd { epochs: opts.epochs, history: &history, probe: objective.probe(&eval_model), device };
            if let Control::Stop(why) = o.epoch_end(&end)? {
                stopped = Some(Stop::Observer(why));
                break;
            }
        }
    }
    Ok(Fitted { model, history, stopped })
}

fn valid_loss(history: &History, row: &Row, metric: Metric) -> Option<f64> {
    history.value(row, Column::new(Split::Valid, metric))
}

fn progress_bar(opts: &FitOptions, epoch: usize, batches: usize) -> ProgressBar {
    // A bar per epoch only helps when epochs take a while.
    if !opts.progress || opts.report_every() > 1 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(batches as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} batches  {msg}  {elapsed}<{eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("{} epoch {}/{}", opts.label, epoch + 1, opts.epochs));
    bar
}

/// One line per epoch: `conv-ae epoch 3/10  train_mse 0.02134  test_mse 0.02051  9.2 s`.
#[must_use]
pub fn describe_row(label: &str, epochs: usize, columns: &[Column], row: &Row) -> String {
    let mut s = format!("{label} epoch {}/{epochs}", row.epoch);
    for (c, v) in columns.iter().zip(&row.values) {
        if let Some(v) = v {
            s.push_str(&format!("  {c} {v:.5}"));
        }
    }
    s.push_str(&format!("  {:.1} s", row.seconds));
    s
}
