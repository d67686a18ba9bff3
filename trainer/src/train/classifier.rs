//! Classifiers: the encoder + MLP (fine-tuned, frozen, from scratch) and the CNN baseline;
//! cross-entropy training, accuracy curves and the learning-speed summary.

use std::marker::PhantomData;

use anyhow::Context as _;
use burn::prelude::*;

use super::job::Job;
use super::options::Outcome;
use super::speed::learning_speed;
use crate::config::ClassifierSpec;
use crate::figures;
use crate::fit::Metric;
use crate::inference::load_encoder;
use crate::models::classifier::Mode;
use crate::models::conv_ae::ConvEncoder;
use crate::objectives::classification::Classify;
use crate::objectives::{Classification, Sets};

/// The encoder of a classifier: the pretrained autoencoder's (or SimCLR encoder's), or `None`
/// from scratch.
pub(crate) fn pretrained_encoder(c: &ClassifierSpec, device: &Device) -> anyhow::Result<Option<ConvEncoder>> {
    if c.mode == Mode::Scratch {
        return Ok(None);
    }
    let path = c.pretrained.as_ref().context("fine-tuned and frozen classifiers need --pretrained RUN_DIR")?;
    let encoder = load_encoder(path, device)?;
    let latent = encoder.fc2.weight.dims()[1];
    anyhow::ensure!(
        latent == c.network.latent,
        "{} has a code of {latent} values but the classifier expects {}",
        path.display(),
        c.network.latent
    );
    if let Some(want) = &c.network.encoder {
        let has = encoder.shape();
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
    let input = c.network.input.unwrap_or_default();
    let [_, _, w3] = encoder.shape().widths;
    let code = crate::models::conv_ae::sides(input.side)[2];
    let (channels, features) = (encoder.channels(), encoder.fc1.weight.dims()[0]);
    anyhow::ensure!(
        channels == input.channels && features == w3 * code * code,
        "{} was trained on other images ({channels} channels, {features} features after its convolutions) \
         than this classifier's data ({input}: {} channels, {} features); pretrain on the same dataset and \
         --image-size",
        path.display(),
        input.channels,
        w3 * code * code
    );
    Ok(Some(encoder))
}

/// Trains a classifier (encoder + MLP or CNN) and writes its curves and `summary.toml`.
pub(crate) fn train<M: Classify>(
    job: &mut Job<'_, '_>,
    sets: Sets<'_>,
    augment: Option<usize>,
    label_smoothing: f64,
    model: M,
    target: f64,
) -> anyhow::Result<Outcome> {
    let seed = job.config.train.seed;
    let objective = Classification { sets, augment, seed, label_smoothing, model: PhantomData };
    let f = job.fit(&objective, model)?;
    figures::curves(job.run, &f.history, Metric::Accuracy, "Accuracy", "accuracy.png", false)?;
    let title = if label_smoothing > 0.0 {
        format!("Cross-entropy loss (training: with label smoothing {label_smoothing}; valid and test: plain)")
    } else {
        "Cross-entropy loss".to_string()
    };
    figures::curves(job.run, &f.history, Metric::Loss, &title, "loss.png", true)?;
    job.run.write_summary(&learning_speed(&f.history, target))?;
    Ok(Outcome { history: f.history, stopped: f.stopped })
}
