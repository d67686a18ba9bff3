//! The convolutional VAE: the seed-002 encoder with mean and log-variance heads (one linear layer
//! of `2 * latent` outputs, split in halves), reparameterisation, and the seed-002 decoder.

use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::sigmoid;
use serde::{Deserialize, Serialize};

use super::conv_ae::{self, ConvDecoder, ConvEncoder};
use crate::data::ImageShape;

/// How the reconstruction term is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Reconstruction {
    /// Binary cross-entropy summed over pixels (pixels in [0, 1] as Bernoulli means).
    Bce,
    /// Squared error summed over pixels.
    Mse,
}

/// Options of the VAE.
#[derive(Config, Debug)]
pub struct ConvVaeConfig {
    /// Code size.
    #[config(default = 16)]
    pub latent: usize,
    /// Weight of the KL term (beta-VAE; 1 is the plain VAE).
    #[config(default = 1.0)]
    pub beta: f64,
    /// Reconstruction term.
    #[config(default = "Reconstruction::Bce")]
    pub reconstruction: Reconstruction,
    /// The images it takes; `None` is Fashion-MNIST's 28x28 grey.
    pub input: Option<ImageShape>,
}

/// Encoder (to mean and log-variance) and decoder.
#[derive(Module, Debug)]
pub struct ConvVae {
    pub encoder: ConvEncoder,
    pub decoder: ConvDecoder,
}

/// The pieces of a VAE forward pass.
#[derive(Debug)]
pub struct VaeOutput {
    /// Posterior means `[B, latent]`.
    pub mean: Tensor<2>,
    /// Posterior log-variances `[B, latent]`.
    pub log_var: Tensor<2>,
    /// Decoder logits (before the sigmoid) `[B, c*s*s]`.
    pub logits: Tensor<2>,
}

impl ConvVaeConfig {
    /// Builds the model on `device` (no dropout: seed 002 uses none in its VAE).
    #[must_use]
    pub fn init(&self, device: &Device) -> ConvVae {
        let input = self.input.unwrap_or_default();
        ConvVae {
            encoder: conv_ae::encoder(2 * self.latent, 0.0, false, conv_ae::SEED_WIDTHS, input, device),
            decoder: conv_ae::decoder(self.latent, 0.0, false, conv_ae::SEED_WIDTHS, input, device),
        }
    }
}

impl ConvVae {
    /// Code size.
    pub fn latent(&self) -> usize {
        self.decoder.fc1.weight.val().dims()[0]
    }

    /// `[B, c*s*s]` images to posterior means and log-variances.
    pub fn posterior(&self, images: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let l = self.latent();
        let h = self.encoder.forward(images);
        let [b, _] = h.dims();
        (h.clone().slice([0..b, 0..l]), h.slice([0..b, l..2 * l]))
    }

    /// A forward pass; with `sample`, codes are drawn by reparameterisation (z = mean + sigma * eps),
    /// otherwise the means are decoded.
    pub fn forward(&self, images: Tensor<2>, sample: bool) -> VaeOutput {
        let (mean, log_var) = self.posterior(images);
        let z = if sample {
            let eps = mean.random_like(Distribution::Normal(0.0, 1.0));
            mean.clone() + (log_var.clone() * 0.5).exp() * eps
        } else {
            mean.clone()
        };
        VaeOutput { logits: self.decoder.logits(z), mean, log_var }
    }

    /// Posterior means (the code).
    pub fn encode(&self, images: Tensor<2>) -> Tensor<2> {
        self.posterior(images).0
    }

    /// Codes to images in (0, 1).
    pub fn decode(&self, codes: Tensor<2>) -> Tensor<2> {
        sigmoid(self.decoder.logits(codes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_split_the_encoder_output() {
        let device = Device::flex();
        let m = ConvVaeConfig::new().with_latent(3).init(&device);
        let x = Tensor::<2>::zeros([2, 784], &device);
        let out = m.forward(x.clone(), true);
        assert_eq!(out.mean.dims(), [2, 3]);
        assert_eq!(out.log_var.dims(), [2, 3]);
        assert_eq!(out.logits.dims(), [2, 784]);
        // Without sampling the decoded code is the mean, deterministically.
        let a: Vec<f32> = m.forward(x.clone(), false).logits.try_into_vec_as().unwrap();
        let b: Vec<f32> = m.forward(x, false).logits.try_into_vec_as().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn colour_images_come_back_at_their_size() {
        let device = Device::flex();
        let input = ImageShape { channels: 3, side: 32 };
        let m = ConvVaeConfig::new().with_latent(2).with_input(Some(input)).init(&device);
        let out = m.forward(Tensor::<2>::zeros([2, input.len()], &device), true);
        assert_eq!((out.mean.dims(), out.logits.dims()), ([2, 2], [2, 3 * 32 * 32]));
    }
}
