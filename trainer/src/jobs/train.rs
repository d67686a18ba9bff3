//! Training a model described by a run config into its run directory.

use anyhow::Context as _;
use burn::module::{ModuleVisitor, Param};
use burn::prelude::*;

use super::figures;
use super::prepare::{Prepared, prepare};
use crate::data::Dataset;
use crate::data::batch::InputRange;
use crate::models::Autoencoder;
use crate::objectives::Reconstruction;
use crate::run_dir::{ModelSpec, RunConfig, RunDir};
use crate::train::{Checkpoints, FitOptions, History, fit};
use crate::util::atomic_write_bytes;

/// What a finished training job reports.
#[derive(Debug)]
pub struct Outcome {
    /// Metrics per epoch.
    pub history: History,
    /// Whether early stopping ended it.
    pub stopped_early: bool,
}

/// Draws every lazily initialised parameter now, so that initial weights depend only on the seed
/// and not on which random operation happens to run first.
fn force_init<M: Module>(model: &M) {
    struct Touch;
    impl ModuleVisitor for Touch {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let _ = param.val();
        }
    }
    model.visit(&mut Touch);
}

/// The data sets a config selects.
#[must_use]
pub fn prepared(config: &RunConfig, data: &Dataset) -> Prepared {
    let d = &config.data;
    prepare(data, d.limit_train, d.limit_test, d.valid_fraction, config.train.seed)
}

/// Trains the model of `config` on `data`, writing checkpoints, `model.bpk`, `metrics.csv` and the
/// figures into `run`. With `resume`, continues from the run's latest checkpoint.
///
/// # Errors
/// Divergence, I/O failures, or an unusable checkpoint.
pub fn train(
    config: &RunConfig,
    data: &Dataset,
    run: &RunDir,
    progress: bool,
    resume: bool,
) -> anyhow::Result<Outcome> {
    if let ModelSpec::Imported(_) = config.model {
        return not_trainable(run);
    }
    let sets = prepared(config, data);
    let device = config.train.device.device()?;
    device.seed(config.train.seed);
    let autodiff = device.clone().autodiff();
    let opts = FitOptions {
        epochs: config.train.epochs,
        batch_size: config.train.batch_size,
        eval_batch_size: 1000,
        seed: config.train.seed,
        optim: config.train.optim.clone(),
        patience: config.train.patience,
        progress,
        label: config.model.kind().to_string(),
    };
    let checkpoints = Checkpoints::new(run.checkpoints_dir());
    let saved = if resume {
        let s = checkpoints.load_latest()?;
        anyhow::ensure!(s.is_some(), "{} has no checkpoint to resume from", checkpoints.dir().display());
        s
    } else {
        None
    };
    match &config.model {
        ModelSpec::ConvAe(c) => {
            let model = c.init(&autodiff);
            force_init(&model);
            let objective = Reconstruction {
                train: &sets.train,
                valid: &sets.valid,
                test: &sets.test,
                range: InputRange::Unit,
                noise_std: 0.0,
                model: std::marker::PhantomData,
            };
            let fitted = fit(&objective, model, &opts, &device, Some(&checkpoints), saved)?;
            finish_autoencoder(
                run,
                &fitted.model,
                &fitted.history,
                &sets,
                data.classes().len(),
                InputRange::Unit,
                &device,
            )?;
            Ok(Outcome { history: fitted.history, stopped_early: fitted.stopped_early })
        }
        ModelSpec::Imported(_) => not_trainable(run),
    }
}

/// The error for trying to train (or resume) an imported model.
fn not_trainable(run: &RunDir) -> anyhow::Result<Outcome> {
    anyhow::bail!("{} holds an imported model, which is not trained here", run.root.display())
}

/// Saves the final weights, metrics and figures of an autoencoder run.
fn finish_autoencoder<M: Autoencoder>(
    run: &RunDir,
    model: &M,
    history: &History,
    sets: &Prepared,
    classes: usize,
    range: InputRange,
    device: &Device,
) -> anyhow::Result<()> {
    let bytes = model.clone().into_record().into_bytes().map_err(|e| anyhow::anyhow!("serialising the model: {e}"))?;
    atomic_write_bytes(&run.model_path(), &bytes).with_context(|| format!("writing {}", run.model_path().display()))?;
    atomic_write_bytes(&run.metrics_path(), history.to_csv().as_bytes())
        .with_context(|| format!("writing {}", run.metrics_path().display()))?;
    figures::loss_curves(run, history, "mse", "Reconstruction loss (MSE per pixel)", "loss.png")?;
    let eval = model.valid();
    let picks = figures::one_per_class(&sets.test, classes);
    figures::reconstructions(run, &eval, &sets.test, &picks, range, device)?;
    Ok(())
}
