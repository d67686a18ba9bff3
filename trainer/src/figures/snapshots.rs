//! An epoch observer that draws the model's reconstructions of a few test images every N epochs
//! (`figures/reconstructions-epoch-NNNN.png`), to watch an autoencoder learn; for a denoising
//! autoencoder, noisy inputs, outputs and originals.

use burn::prelude::*;

use crate::data::ImageSet;
use crate::data::batch::{InputRange, image_tensor};
use crate::fit::{Control, EpochEnd, EpochObserver};
use crate::objectives::reconstruction::noisy_values;
use crate::run_dir::RunDir;
use crate::util::to_vec;

use super::images::{InputNoise, denoising_grid, reconstruction_grid};

/// Draws reconstructions every `every` epochs (and after the last one).
#[derive(Debug)]
pub struct ReconstructionSnapshots {
    run: RunDir,
    images: ImageSet,
    range: InputRange,
    every: usize,
    /// The noise of a denoising autoencoder's inputs.
    noise: Option<InputNoise>,
    /// Files written so far.
    pub written: Vec<std::path::PathBuf>,
}

impl ReconstructionSnapshots {
    /// Snapshots of `images` (model inputs in `range`) into `run`'s figures every `every` epochs.
    #[must_use]
    pub fn new(run: &RunDir, images: ImageSet, range: InputRange, every: usize) -> Self {
        Self { run: run.clone(), images, range, every: every.max(1), noise: None, written: Vec::new() }
    }

    /// Feeds noisy inputs (`noise`, the same at every snapshot) and draws noisy / output /
    /// original rows.
    #[must_use]
    pub fn with_noise(self, noise: InputNoise) -> Self {
        Self { noise: Some(noise), ..self }
    }

    /// The file of the snapshot after `epoch`.
    #[must_use]
    pub fn file_name(epoch: usize) -> String {
        format!("reconstructions-epoch-{epoch:04}.png")
    }
}

impl EpochObserver for ReconstructionSnapshots {
    fn epoch_end(&mut self, end: &EpochEnd<'_>) -> anyhow::Result<Control> {
        let epoch = end.row().epoch;
        if !epoch.is_multiple_of(self.every) && epoch != end.epochs {
            return Ok(Control::Continue);
        }
        let Some(probe) = end.probe else { return Ok(Control::Continue) };
        let idx: Vec<usize> = (0..self.images.len()).collect();
        let path = self.run.figure(&Self::file_name(epoch));
        if let Some(noise) = &self.noise {
            let noisy = noisy_values(&self.images, &idx, noise.range, noise.std, noise.seed);
            let x = Tensor::from_data(TensorData::new(noisy.clone(), [idx.len(), self.images.image_len()]), end.device);
            let Some(out) = probe.reconstruct(x) else { return Ok(Control::Continue) };
            let title = format!("Denoising after epoch {epoch}: noisy test images, outputs, originals");
            denoising_grid(&path, &title, &self.images, &idx, &noisy, &to_vec(out)?, noise)?;
        } else {
            let x = image_tensor(&self.images, &idx, self.range, end.device);
            let Some(out) = probe.reconstruct(x) else { return Ok(Control::Continue) };
            let title = format!("Test images (top) and their reconstructions (bottom) after epoch {epoch}");
            reconstruction_grid(&path, &title, &self.images, &idx, &to_vec(out)?, self.range)?;
        }
        self.written.push(path);
        Ok(Control::Continue)
    }
}
