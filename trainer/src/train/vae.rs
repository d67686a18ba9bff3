//! The convolutional VAE: ELBO training, samples from N(0, I), and its figures.

use burn::prelude::*;

use super::job::Job;
use super::options::Outcome;
use crate::data::batch::InputRange;
use crate::figures::{self, ReconstructionSnapshots};
use crate::fit::{EpochObserver, Metric};
use crate::inference::gaussian_codes;
use crate::models::vae::ConvVaeConfig;
use crate::objectives::{Elbo, Sets};

/// Trains the VAE of `c` and draws its figures.
pub(crate) fn train(
    job: &mut Job<'_, '_>,
    c: &ConvVaeConfig,
    s: Sets<'_>,
    classes: &[String],
) -> anyhow::Result<Outcome> {
    let seed = job.config.train.seed;
    let objective = Elbo { sets: s, beta: c.beta, reconstruction: c.reconstruction };
    let model = c.init(&job.autodiff());
    let picks = figures::one_per_class(s.test, classes.len());
    let mut snapshots = job
        .snapshot_every
        .map(|every| ReconstructionSnapshots::new(job.run, s.test.subset(&picks), InputRange::Unit, every));
    let f = job.fit_with(&objective, model, snapshots.as_mut().map(|s| s as &mut dyn EpochObserver))?;
    let (run, device) = (job.run, &job.device);
    figures::curves(run, &f.history, Metric::Loss, "VAE loss per image (reconstruction + beta KL)", "loss.png", false)?;
    figures::curves(run, &f.history, Metric::Kl, "KL divergence per image", "kl.png", false)?;
    figures::curves(run, &f.history, Metric::Mse, "Reconstruction MSE per pixel (posterior means)", "mse.png", true)?;
    let m = f.model.valid();
    figures::reconstructions(run, &m, s.test, &picks, InputRange::Unit, device)?;
    let codes = gaussian_codes(64, c.latent, None, seed);
    let shape = s.test.shape()?;
    figures::samples(
        run,
        &m,
        shape,
        &codes,
        InputRange::Unit,
        "New samples: codes drawn from N(0, I), decoded",
        device,
    )?;
    if c.latent == 2 {
        figures::latent_2d(run, &m, s.test, classes, InputRange::Unit, device)?;
    }
    Ok(Outcome { history: f.history, stopped: f.stopped })
}
