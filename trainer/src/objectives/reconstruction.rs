//! Mean squared reconstruction error, optionally from noisy inputs (denoising).

use burn::prelude::*;
use burn::tensor::Distribution;

use crate::data::ImageSet;
use crate::data::batch::{InputRange, image_tensor};
use crate::models::Autoencoder;
use crate::train::{Objective, Split};

/// Reconstruct the clean image from the (possibly noisy) input; metric `mse`.
#[derive(Debug)]
pub struct Reconstruction<'a, M> {
    /// Images trained on.
    pub train: &'a ImageSet,
    /// Validation images (may be empty).
    pub valid: &'a ImageSet,
    /// Test images.
    pub test: &'a ImageSet,
    /// Pixel mapping the model expects.
    pub range: InputRange,
    /// Standard deviation of Gaussian noise added to training inputs (0 for a plain autoencoder).
    pub noise_std: f64,
    /// The model type.
    pub model: std::marker::PhantomData<M>,
}

impl<'a, M> Reconstruction<'a, M> {
    /// The set behind `split`.
    #[must_use]
    pub fn set(&self, split: Split) -> &'a ImageSet {
        match split {
            Split::Train => self.train,
            Split::Valid => self.valid,
            Split::Test => self.test,
        }
    }
}

impl<M: Autoencoder> Objective for Reconstruction<'_, M> {
    type Model = M;

    fn metrics(&self) -> Vec<&'static str> {
        vec!["mse"]
    }

    fn len(&self, split: Split) -> usize {
        self.set(split).len()
    }

    fn losses(&self, model: &M, split: Split, indices: &[usize], device: &Device, _epoch: usize) -> Vec<Tensor<1>> {
        let clean = image_tensor(self.set(split), indices, self.range, device);
        let input = if self.noise_std > 0.0 {
            let (lo, hi) = self.range.bounds();
            let noise = clean.random_like(Distribution::Normal(0.0, self.noise_std));
            (clean.clone() + noise).clamp(lo, hi)
        } else {
            clean.clone()
        };
        let out = model.decode(model.encode(input));
        vec![(out - clean).square().mean()]
    }
}
