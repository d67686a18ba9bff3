//! Training a run: a [`RunConfig`] trained into a [`RunDir`], whatever the model kind, with its
//! checkpoints, metrics, figures and summaries. This is what `bottleneck train`, `resume`, `run`,
//! the studies and the tuner call.

mod autoencoder;
mod classifier;
mod job;
pub mod options;
mod simclr;
pub mod speed;
pub mod toy;
mod vae;

use anyhow::Context as _;
use burn::prelude::*;

use crate::config::{DataSpec, ModelSpec, RunConfig};
use crate::data::Dataset;
use crate::data::batch::InputRange;
use crate::models::classifier::Mode;
use crate::objectives::Sets;
use crate::run_dir::RunDir;

pub use options::{Outcome, Placement, TrainOptions};
pub use speed::learning_speed;

/// Lines that say what a new run is about to do (data source and sizes, kind, optimizer).
#[must_use]
pub fn describe_start(config: &RunConfig, data: Option<&Dataset>) -> Vec<String> {
    let mut lines = Vec::new();
    match (&config.data, data) {
        (DataSpec::Images(d), Some(ds)) => {
            lines.push(format!("data: {}", ds.source));
            lines.push(format!(
                "images: {} of the dataset's {} training images ({} trained on, {} held out for validation), {} of \
                 its {} test images",
                d.train_images + d.valid_images,
                ds.train.len(),
                d.train_images,
                d.valid_images,
                d.test_images,
                ds.test.len(),
            ));
        }
        (DataSpec::ToyRectangle(t), _) => {
            lines.push(format!("data: {} points uniform in [-2, 2] x [-1, 1] ({} held out)", t.points, t.test_points));
        }
        (DataSpec::Images(_), None) => {}
    }
    lines.push(format!(
        "training {} for {} epochs with {} (lr {}) on {}",
        config.model.kind(),
        config.train.epochs,
        config.train.optim.optimizer,
        config.train.optim.lr,
        config.train.device
    ));
    lines
}

/// Creates (claims) a run directory at `place`, writes `config.toml` and trains into it.
/// With `opts.progress`, says what it is about to do on stderr first.
///
/// # Errors
/// When the directory cannot be claimed, or as [`train_run`].
pub fn start_run(
    place: &Placement,
    config: &RunConfig,
    data: Option<&Dataset>,
    opts: TrainOptions<'_>,
) -> anyhow::Result<(RunDir, Outcome)> {
    config.check()?;
    let run = RunDir::create(&place.runs, place.name.as_deref(), config.model.kind(), place.overwrite)?;
    run.write_config(config)?;
    if opts.progress {
        for line in describe_start(config, data) {
            eprintln!("{line}");
        }
    }
    let outcome = train_run(&run, config, data, opts)?;
    Ok((run, outcome))
}

/// Trains the model of `config` into `run`: checkpoints, `model.bpk`, `metrics.csv`, figures
/// (and `summary.toml` for classifiers). With `opts.resume`, continues from the latest
/// checkpoint. `data` is required for image runs.
///
/// # Errors
/// Divergence, I/O failures, an unusable checkpoint or pretrained run, missing data, or an
/// imported model (not trained here).
pub fn train_run(
    run: &RunDir,
    config: &RunConfig,
    data: Option<&Dataset>,
    opts: TrainOptions<'_>,
) -> anyhow::Result<Outcome> {
    if let ModelSpec::Imported(_) = config.model {
        anyhow::bail!("{} holds an imported model, which is not trained here", run.root.display());
    }
    let mut job = job::Job::new(config, run, opts)?;
    if let ModelSpec::ToyAe(spec) = &config.model {
        return toy::train(&mut job, spec);
    }
    let data = data.context("this run needs its image dataset")?;
    let sets = config.data.images()?.prepare(data, config.train.seed);
    let s = Sets { train: &sets.train, valid: &sets.valid, test: &sets.test };
    let classes = data.classes();
    let ad = job.autodiff();
    match &config.model {
        ModelSpec::ConvAe(c) => autoencoder::train(&mut job, c.init(&ad), s, InputRange::Unit, 0.0, classes),
        ModelSpec::FcAe(c) => {
            autoencoder::train(&mut job, c.init(&ad), s, InputRange::Symmetric, c.noise.unwrap_or(0.0), classes)
        }
        ModelSpec::DenoisingAe(d) => {
            autoencoder::train(&mut job, d.network.init(&ad), s, InputRange::Unit, d.noise_std, classes)
        }
        ModelSpec::ConvVae(c) => vae::train(&mut job, c, s, classes),
        ModelSpec::Classifier(c) => {
            let encoder = classifier::pretrained_encoder(c, &ad)?;
            let mut model = c.network.init(encoder, &ad);
            if c.mode == Mode::Frozen {
                model.encoder = model.encoder.no_grad();
            }
            classifier::train(&mut job, s, c.augment.then_some(c.shift), c.label_smoothing, model, c.target_accuracy)
        }
        ModelSpec::Cnn(c) => {
            let model = c.network.init(&ad);
            classifier::train(&mut job, s, c.augment.then_some(c.shift), c.label_smoothing, model, c.target_accuracy)
        }
        ModelSpec::Simclr(c) => simclr::train(&mut job, c, s),
        ModelSpec::ToyAe(_) | ModelSpec::Imported(_) => anyhow::bail!("{} is not an image model", config.model.kind()),
    }
}
