//! Training a model described by a run config into its run directory.

use std::marker::PhantomData;

use anyhow::Context as _;
use burn::module::{ModuleVisitor, Param};
use burn::prelude::*;
use serde::Serialize;

use super::figures;
use super::prepare::{Prepared, prepare};
use crate::data::Dataset;
use crate::data::batch::InputRange;
use crate::models::Autoencoder;
use crate::models::classifier::Mode;
use crate::models::conv_ae::ConvAe;
use crate::objectives::classification::Classify;
use crate::objectives::{Classification, Elbo, Reconstruction, Sets};
use crate::run_dir::{ClassifierSpec, ModelSpec, RunConfig, RunDir};
use crate::train::{Checkpoints, FitOptions, Fitted, History, Objective, fit};
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
pub fn force_init<M: Module>(model: &M) {
    struct Touch;
    impl ModuleVisitor for Touch {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let _ = param.val();
        }
    }
    model.visit(&mut Touch);
}

/// The data sets an image run selects.
///
/// # Errors
/// For a run that trains on the toy set.
pub fn prepared(config: &RunConfig, data: &Dataset) -> anyhow::Result<Prepared> {
    let d = config.data.images()?;
    Ok(prepare(data, d.limit_train, d.limit_test, d.valid_fraction, config.train.seed))
}

/// The error for trying to train (or resume) an imported model.
fn not_trainable(run: &RunDir) -> anyhow::Result<Outcome> {
    anyhow::bail!("{} holds an imported model, which is not trained here", run.root.display())
}

/// Settings shared by every kind of run.
struct Job<'a> {
    config: &'a RunConfig,
    run: &'a RunDir,
    device: Device,
    opts: FitOptions,
    checkpoints: Checkpoints,
    resume: bool,
}

impl Job<'_> {
    /// Fits `model` to `objective` with checkpoints, then writes `model.bpk` and `metrics.csv`.
    fn fit<O: Objective>(&self, objective: &O, model: O::Model) -> anyhow::Result<Fitted<O::Model>> {
        force_init(&model);
        let saved = if self.resume {
            let s = self.checkpoints.load_latest()?;
            anyhow::ensure!(s.is_some(), "{} has no checkpoint to resume from", self.checkpoints.dir().display());
            s
        } else {
            None
        };
        let fitted = fit(objective, model, &self.opts, &self.device, Some(&self.checkpoints), saved)?;
        let bytes = fitted
            .model
            .clone()
            .into_record()
            .into_bytes()
            .map_err(|e| anyhow::anyhow!("serialising the model: {e}"))?;
        atomic_write_bytes(&self.run.model_path(), &bytes)
            .with_context(|| format!("writing {}", self.run.model_path().display()))?;
        atomic_write_bytes(&self.run.metrics_path(), fitted.history.to_csv().as_bytes())
            .with_context(|| format!("writing {}", self.run.metrics_path().display()))?;
        Ok(fitted)
    }

    fn autodiff(&self) -> Device {
        self.device.clone().autodiff()
    }
}

/// Trains the model of `config`, writing checkpoints, `model.bpk`, `metrics.csv`, figures (and a
/// `summary.toml` for classifiers) into `run`. With `resume`, continues from the latest checkpoint.
/// `data` is required for image runs.
///
/// # Errors
/// Divergence, I/O failures, an unusable checkpoint or pretrained run, or missing data.
pub fn train(
    config: &RunConfig,
    data: Option<&Dataset>,
    run: &RunDir,
    progress: bool,
    resume: bool,
) -> anyhow::Result<Outcome> {
    if let ModelSpec::Imported(_) = config.model {
        return not_trainable(run);
    }
    let device = config.train.device.device()?;
    device.seed(config.train.seed);
    let job = Job {
        config,
        run,
        opts: FitOptions {
            epochs: config.train.epochs,
            batch_size: config.train.batch_size,
            eval_batch_size: 1000,
            seed: config.train.seed,
            optim: config.train.optim.clone(),
            patience: config.train.patience,
            progress,
            label: config.model.kind().to_string(),
        },
        device,
        checkpoints: Checkpoints::new(run.checkpoints_dir()),
        resume,
    };
    if let ModelSpec::ToyAe(spec) = &config.model {
        return super::toy::train(config, spec, run, &job.device, &job.opts, &job.checkpoints, resume);
    }
    let data = data.context("this run needs its image dataset")?;
    let sets = prepared(config, data)?;
    let s = Sets { train: &sets.train, valid: &sets.valid, test: &sets.test };
    let classes = data.classes();
    let seed = config.train.seed;
    let ad = job.autodiff();
    match &config.model {
        ModelSpec::ConvAe(c) => autoencoder(&job, c.init(&ad), s, InputRange::Unit, 0.0, classes),
        ModelSpec::FcAe(c) => autoencoder(&job, c.init(&ad), s, InputRange::Symmetric, 0.0, classes),
        ModelSpec::DenoisingAe(d) => autoencoder(&job, d.network.init(&ad), s, InputRange::Unit, d.noise_std, classes),
        ModelSpec::ConvVae(c) => {
            let objective = Elbo { sets: s, beta: c.beta, reconstruction: c.reconstruction };
            let f = job.fit(&objective, c.init(&ad))?;
            figures::curves(
                run,
                &f.history,
                "loss",
                "VAE loss per image (reconstruction + beta KL)",
                "loss.png",
                false,
            )?;
            figures::curves(run, &f.history, "kl", "KL divergence per image", "kl.png", false)?;
            figures::curves(run, &f.history, "mse", "Reconstruction MSE per pixel (posterior means)", "mse.png", true)?;
            let m = f.model.valid();
            figures::reconstructions(
                run,
                &m,
                &sets.test,
                &figures::one_per_class(&sets.test, classes.len()),
                InputRange::Unit,
                &job.device,
            )?;
            let codes = figures::gaussian_codes(64, c.latent, None, seed);
            figures::samples(
                run,
                &m,
                &codes,
                InputRange::Unit,
                "New samples: codes drawn from N(0, I), decoded",
                &job.device,
            )?;
            if c.latent == 2 {
                figures::latent_2d(run, &m, &sets.test, classes, InputRange::Unit, &job.device)?;
            }
            Ok(Outcome { history: f.history, stopped_early: f.stopped_early })
        }
        ModelSpec::Classifier(c) => {
            let encoder = pretrained_encoder(c, &ad)?;
            let mut model = c.network.init(encoder, &ad);
            if c.mode == Mode::Frozen {
                model.encoder = model.encoder.no_grad();
            }
            classification(&job, s, c.augment.then_some(c.shift), c.label_smoothing, model, c.target_accuracy)
        }
        ModelSpec::Cnn(c) => {
            let model = c.network.init(&ad);
            classification(&job, s, c.augment.then_some(c.shift), c.label_smoothing, model, c.target_accuracy)
        }
        ModelSpec::ToyAe(_) | ModelSpec::Imported(_) => not_trainable(run),
    }
}

/// Trains an autoencoder (plain or denoising) and draws its figures.
fn autoencoder<M: Autoencoder>(
    job: &Job<'_>,
    model: M,
    s: Sets<'_>,
    range: InputRange,
    noise_std: f64,
    classes: &[&str],
) -> anyhow::Result<Outcome> {
    let seed = job.config.train.seed;
    let objective = Reconstruction { sets: s, range, noise_std, seed, model: PhantomData };
    let f = job.fit(&objective, model)?;
    let (run, device) = (job.run, &job.device);
    figures::curves(run, &f.history, "mse", "Reconstruction loss (MSE per pixel)", "loss.png", true)?;
    let m = f.model.valid();
    let picks = figures::one_per_class(s.test, classes.len());
    figures::reconstructions(run, &m, s.test, &picks, range, device)?;
    if noise_std > 0.0 {
        figures::denoising(run, &m, s.test, &picks, noise_std, seed, device)?;
    }
    // New samples from a Gaussian fitted to the training codes.
    let idx: Vec<usize> = (0..s.train.len().min(5000)).collect();
    let codes = crate::data::batch::image_tensor(s.train, &idx, range, device);
    let z: Vec<f32> = m.encode(codes).try_into_vec_as::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let stats = super::trained::latent_stats(&z, m.latent());
    let sampled = figures::gaussian_codes(64, m.latent(), Some((&stats.mean, &stats.std)), seed);
    figures::samples(
        run,
        &m,
        &sampled,
        range,
        "New samples: codes from a Gaussian fitted to the training codes",
        device,
    )?;
    if m.latent() == 2 {
        figures::latent_2d(run, &m, s.test, classes, range, device)?;
    }
    Ok(Outcome { history: f.history, stopped_early: f.stopped_early })
}

/// The encoder of a classifier: the pretrained autoencoder's, or `None` from scratch.
fn pretrained_encoder(
    c: &ClassifierSpec,
    device: &Device,
) -> anyhow::Result<Option<crate::models::conv_ae::ConvEncoder>> {
    if c.mode == Mode::Scratch {
        return Ok(None);
    }
    let path = c.pretrained.as_ref().context("fine-tuned and frozen classifiers need --pretrained RUN_DIR")?;
    let ae = load_conv_ae(path, device)?;
    anyhow::ensure!(
        ae.latent() == c.network.latent,
        "{} has a code of {} values but the classifier expects {}",
        path.display(),
        ae.latent(),
        c.network.latent
    );
    if let Some(want) = &c.network.encoder {
        let has = ae.encoder.shape();
        anyhow::ensure!(
            has == *want,
            "{} has an encoder of {:?} channels{} but the classifier's config.toml expects {:?}{}",
            path.display(),
            has.widths,
            if has.batch_norm { " with batch norm" } else { "" },
            want.widths,
            if want.batch_norm { " with batch norm" } else { "" }
        );
    }
    Ok(Some(ae.encoder))
}

/// Loads the conv autoencoder of a run directory (a `conv-ae` or `denoising-ae` run).
///
/// # Errors
/// When the directory is not such a finished run.
pub fn load_conv_ae(path: &std::path::Path, device: &Device) -> anyhow::Result<ConvAe> {
    let run = RunDir::open(path)?;
    let config = run.read_config()?;
    let net = match &config.model {
        ModelSpec::ConvAe(c) => c.clone(),
        ModelSpec::DenoisingAe(d) => d.network.clone(),
        other => {
            anyhow::bail!("{} holds a {} run; a conv-ae or denoising-ae run is needed", path.display(), other.kind())
        }
    };
    match super::trained::Trained::load(&run, &config, device)? {
        super::trained::Trained::ConvAe(m) => Ok(m),
        _ => anyhow::bail!("{}: not a convolutional autoencoder ({net:?})", path.display()),
    }
}

/// What a classifier run records about its learning speed (`summary.toml`).
#[derive(Debug, Clone, Serialize)]
pub struct LearningSpeed {
    /// The split whose accuracy is tracked: `valid` when there is one, else `test`.
    pub tracked_split: String,
    /// The accuracy to reach.
    pub target_accuracy: f64,
    /// First epoch at or above the target, if any.
    pub epochs_to_target: Option<usize>,
    /// Training seconds until then.
    pub seconds_to_target: Option<f64>,
    /// Last test accuracy.
    pub final_test_accuracy: Option<f64>,
    /// Best tracked accuracy.
    pub best_accuracy: Option<f64>,
    /// Epochs trained.
    pub epochs: usize,
    /// Total training seconds.
    pub total_seconds: f64,
}

/// Epochs and seconds to reach `target` on the tracked split.
#[must_use]
pub fn learning_speed(history: &History, target: f64) -> LearningSpeed {
    let split = if history.columns.iter().any(|c| c == "valid_accuracy") { "valid" } else { "test" };
    let series = history.series(&format!("{split}_accuracy"));
    let hit = series.iter().find(|(_, a)| *a >= target).map(|&(e, _)| e);
    let seconds = hit.map(|e| history.rows.iter().take_while(|r| r.epoch <= e).map(|r| r.seconds).sum());
    LearningSpeed {
        tracked_split: split.into(),
        target_accuracy: target,
        epochs_to_target: hit,
        seconds_to_target: seconds,
        final_test_accuracy: history.last("test_accuracy"),
        best_accuracy: series.iter().map(|&(_, a)| a).fold(None, |b: Option<f64>, a| Some(b.map_or(a, |b| b.max(a)))),
        epochs: history.rows.len(),
        total_seconds: history.total_seconds(),
    }
}

/// Trains a classifier and writes its figures and `summary.toml`.
/// Trains a classifier (encoder + MLP or CNN) and writes its curves and `summary.toml`.
fn classification<M: Classify>(
    job: &Job<'_>,
    sets: Sets<'_>,
    augment: Option<usize>,
    label_smoothing: f64,
    model: M,
    target: f64,
) -> anyhow::Result<Outcome> {
    // The CLI bounds it; a hand-edited config.toml read by `resume` must not reach burn's assert.
    anyhow::ensure!(
        (0.0..=1.0).contains(&label_smoothing),
        "{}: label_smoothing = {label_smoothing} is outside [0, 1]",
        job.run.config_path().display()
    );
    let seed = job.config.train.seed;
    let objective = Classification { sets, augment, seed, label_smoothing, model: PhantomData };
    let f = job.fit(&objective, model)?;
    figures::curves(job.run, &f.history, "accuracy", "Accuracy", "accuracy.png", false)?;
    figures::curves(job.run, &f.history, "loss", "Cross-entropy loss", "loss.png", true)?;
    let speed = learning_speed(&f.history, target);
    let text = toml::to_string_pretty(&speed).context("serialising the summary")?;
    let path = job.run.root.join("summary.toml");
    atomic_write_bytes(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    Ok(Outcome { history: f.history, stopped_early: f.stopped_early })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::history::Row;

    #[test]
    fn learning_speed_finds_the_first_crossing() {
        let mut h = History::new(vec!["train_accuracy".into(), "test_accuracy".into()]);
        for (e, (s, a)) in [(10.0, 0.80), (11.0, 0.90), (9.0, 0.93), (10.0, 0.92)].iter().enumerate() {
            h.rows.push(Row { epoch: e + 1, seconds: *s, lr: 1e-3, values: vec![Some(0.9), Some(*a)] });
        }
        let s = learning_speed(&h, 0.9);
        assert_eq!(s.tracked_split, "test");
        assert_eq!(s.epochs_to_target, Some(2));
        assert_eq!(s.seconds_to_target, Some(21.0));
        assert_eq!(s.best_accuracy, Some(0.93));
        assert_eq!(s.final_test_accuracy, Some(0.92));
        assert_eq!(learning_speed(&h, 0.99).epochs_to_target, None);
    }
}
