//! Mean squared reconstruction error, optionally from noisy inputs (denoising).

use std::marker::PhantomData;

use burn::prelude::*;
use burn::tensor::Distribution;

use super::sets::Sets;
use crate::data::ImageSet;
use crate::data::augment::add_noise;
use crate::data::batch::{InputRange, image_tensor, image_values};
use crate::fit::{Metric, Objective, Probe, Split};
use crate::models::Autoencoder;

/// Reconstruct the clean image from the (possibly noisy) input; metric `mse`.
#[derive(Debug)]
pub struct Reconstruction<'a, M> {
    /// The images.
    pub sets: Sets<'a>,
    /// Pixel mapping the model expects.
    pub range: InputRange,
    /// Standard deviation of Gaussian noise added to inputs (0 for a plain autoencoder).
    pub noise_std: f64,
    /// Seed of the evaluation noise.
    pub seed: u64,
    /// The model type.
    pub model: PhantomData<M>,
}

/// Noisy inputs of `indices` of `set`: the same noise for an example every time it is evaluated.
#[must_use]
pub fn noisy_values(set: &ImageSet, indices: &[usize], range: InputRange, std: f64, seed: u64) -> Vec<f32> {
    let n = set.image_len();
    let (lo, hi) = range.bounds();
    let mut v = image_values(set, indices, range);
    for (chunk, &i) in v.chunks_mut(n).zip(indices) {
        add_noise(chunk, std, lo, hi, seed, i);
    }
    v
}

impl<M: Autoencoder> Objective for Reconstruction<'_, M> {
    type Model = M;

    fn metrics(&self) -> Vec<Metric> {
        vec![Metric::Mse]
    }

    fn probe<'m>(&self, model: &'m M) -> Option<&'m dyn Probe> {
        Some(model)
    }

    fn len(&self, split: Split) -> usize {
        self.sets.get(split).len()
    }

    fn losses(&self, model: &M, split: Split, indices: &[usize], device: &Device, _epoch: usize) -> Vec<Tensor<1>> {
        let set = self.sets.get(split);
        let clean = image_tensor(set, indices, self.range, device);
        let input = if self.noise_std <= 0.0 {
            clean.clone()
        } else if split == Split::Train {
            // Fresh noise every step, drawn on the device.
            let (lo, hi) = self.range.bounds();
            (clean.clone() + clean.random_like(Distribution::Normal(0.0, self.noise_std))).clamp(lo, hi)
        } else {
            // Fixed noise, so that evaluation losses compare across epochs.
            let v = noisy_values(set, indices, self.range, self.noise_std, self.seed);
            Tensor::from_data(TensorData::new(v, [indices.len(), set.image_len()]), device)
        };
        let out = model.decode(model.encode(input));
        vec![(out - clean).square().mean()]
    }
}
