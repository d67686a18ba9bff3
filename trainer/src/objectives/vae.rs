//! The VAE objective: reconstruction + beta * KL, per image, both terms logged; plus the per-pixel
//! MSE of the mean code's reconstruction, comparable with the autoencoders'.

use burn::prelude::*;
use burn::tensor::activation::sigmoid;

use super::sets::Sets;
use crate::data::batch::{InputRange, image_tensor};
use crate::fit::{Metric, Objective, Probe, Split};
use crate::models::vae::{ConvVae, Reconstruction};

/// Negative ELBO of a convolutional VAE.
#[derive(Debug)]
pub struct Elbo<'a> {
    /// The images.
    pub sets: Sets<'a>,
    /// Weight of the KL term.
    pub beta: f64,
    /// Reconstruction term.
    pub reconstruction: Reconstruction,
}

impl Objective for Elbo<'_> {
    type Model = ConvVae;

    /// `loss` (recon + beta kl, per image), `recon` (per image), `kl` (per image), `mse` (per pixel).
    fn metrics(&self) -> Vec<Metric> {
        vec![Metric::Loss, Metric::Recon, Metric::Kl, Metric::Mse]
    }

    fn probe<'m>(&self, model: &'m ConvVae) -> Option<&'m dyn Probe> {
        Some(model)
    }

    fn len(&self, split: Split) -> usize {
        self.sets.get(split).len()
    }

    fn losses(
        &self,
        model: &ConvVae,
        split: Split,
        indices: &[usize],
        device: &Device,
        _epoch: usize,
    ) -> Vec<Tensor<1>> {
        let x = image_tensor(self.sets.get(split), indices, InputRange::Unit, device);
        // Training samples codes; evaluation decodes the posterior means (deterministic).
        let out = model.forward(x.clone(), split == Split::Train);
        let probs = sigmoid(out.logits.clone());
        let recon = match self.reconstruction {
            Reconstruction::Bce => crate::kernels::bce_with_logits_rows(out.logits, x.clone()).mean(),
            Reconstruction::Mse => (probs.clone() - x.clone()).square().sum_dim(1).mean(),
        };
        let kl = ((out.log_var.clone().exp() + out.mean.square() - out.log_var - 1.0).sum_dim(1) * 0.5).mean();
        let mse = (probs - x).square().mean();
        let loss = recon.clone() + kl.clone() * self.beta;
        vec![loss, recon, kl, mse]
    }
}
