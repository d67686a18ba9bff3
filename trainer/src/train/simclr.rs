//! SimCLR: contrastive training of an encoder, its loss curve and its codes of the test images.

use super::job::Job;
use super::options::Outcome;
use crate::figures;
use crate::fit::Metric;
use crate::models::simclr::SimclrConfig;
use crate::objectives::{Contrastive, Sets};

/// Trains the SimCLR encoder of `c` and draws its loss curve.
pub(crate) fn train(job: &mut Job<'_, '_>, c: &SimclrConfig, s: Sets<'_>) -> anyhow::Result<Outcome> {
    let objective =
        Contrastive { sets: s, temperature: c.temperature, seed: job.config.train.seed, min_crop: c.min_crop() };
    let model = c.init(&job.autodiff());
    let f = job.fit_with(&objective, model, None)?;
    let title = format!("SimCLR NT-Xent loss (temperature {}, two views per image)", c.temperature);
    figures::curves(job.run, &f.history, Metric::Loss, &title, "loss.png", false)?;
    Ok(Outcome { history: f.history, stopped: f.stopped })
}
