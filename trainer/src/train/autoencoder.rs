//! Plain and denoising autoencoders: reconstruction training and their figures.

use std::marker::PhantomData;

use super::job::Job;
use super::options::Outcome;
use crate::data::batch::{InputRange, image_tensor};
use crate::figures::{self, ReconstructionSnapshots};
use crate::fit::{EpochObserver, History, Metric, Row};
use crate::inference::{gaussian_codes, latent_stats};
use crate::models::Autoencoder;
use crate::objectives::{Reconstruction, Sets};
use crate::util::to_vec;

/// Trains an autoencoder (plain when `noise_std` is 0, else denoising) and draws its figures.
pub(crate) fn train<M: Autoencoder>(
    job: &mut Job<'_, '_>,
    model: M,
    s: Sets<'_>,
    range: InputRange,
    noise_std: f64,
    classes: &[String],
) -> anyhow::Result<Outcome> {
    let seed = job.config.train.seed;
    let objective = Reconstruction { sets: s, range, noise_std, seed, model: PhantomData };
    let picks = figures::one_per_class(s.test, classes.len());
    let noise = (noise_std > 0.0).then_some(figures::InputNoise { range, std: noise_std, seed });
    let mut snapshots = job.snapshot_every.map(|every| {
        let s = ReconstructionSnapshots::new(job.run, s.test.subset(&picks), range, every);
        if let Some(n) = noise { s.with_noise(n) } else { s }
    });
    let f = job.fit_with(&objective, model, snapshots.as_mut().map(|s| s as &mut dyn EpochObserver))?;
    let (run, device) = (job.run, &job.device);
    if range == InputRange::Symmetric {
        figures::curves(
            run,
            &f.history,
            Metric::Mse,
            "Reconstruction loss (MSE per pixel, pixels in [-1, 1])",
            "loss.png",
            true,
        )?;
        // The same on [0, 1] pixels (a quarter of it), comparable with the other autoencoders.
        let unit = History {
            rows: f
                .history
                .rows
                .iter()
                .map(|r| Row { values: r.values.iter().map(|v| v.map(|x| x / 4.0)).collect(), ..r.clone() })
                .collect(),
            ..f.history.clone()
        };
        figures::curves(
            run,
            &unit,
            Metric::Mse,
            "Reconstruction loss (MSE per pixel on [0, 1] pixels, = [-1, 1] MSE / 4)",
            "loss-unit.png",
            true,
        )?;
    } else {
        figures::curves(run, &f.history, Metric::Mse, "Reconstruction loss (MSE per pixel)", "loss.png", true)?;
    }
    let m = f.model.valid();
    figures::reconstructions(run, &m, s.test, &picks, range, device)?;
    if let Some(noise) = &noise {
        figures::denoising(run, &m, s.test, &picks, noise, device)?;
    }
    // New samples from a Gaussian fitted to the training codes.
    let idx: Vec<usize> = (0..s.train.len().min(5000)).collect();
    let codes = image_tensor(s.train, &idx, range, device);
    let z = to_vec(m.encode(codes))?;
    let stats = latent_stats(&z, m.latent());
    let sampled = gaussian_codes(64, m.latent(), Some((&stats.mean, &stats.std)), seed);
    figures::samples(
        run,
        &m,
        s.test.shape()?,
        &sampled,
        range,
        "New samples: codes from a Gaussian fitted to the training codes",
        device,
    )?;
    if m.latent() == 2 {
        figures::latent_2d(run, &m, s.test, classes, range, device)?;
    }
    Ok(Outcome { history: f.history, stopped: f.stopped })
}
