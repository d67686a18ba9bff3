//! Model definitions, one file per architecture.

pub mod classifier;
pub mod cnn;
pub mod conv_ae;
pub mod export;
pub mod fc_ae;
pub mod simclr;
pub mod toy;
pub mod vae;

use burn::prelude::*;

use crate::fit::Probe;

/// A model with an encoder and a decoder over flattened images.
pub trait Autoencoder: Module {
    /// `[B, pixels]` inputs to `[B, latent]` codes (a VAE's posterior mean).
    fn encode(&self, images: Tensor<2>) -> Tensor<2>;
    /// `[B, latent]` codes to `[B, pixels]` reconstructions.
    fn decode(&self, codes: Tensor<2>) -> Tensor<2>;
    /// Code size.
    fn latent(&self) -> usize;
}

impl Autoencoder for conv_ae::ConvAe {
    fn encode(&self, images: Tensor<2>) -> Tensor<2> {
        self.encoder.forward(images)
    }
    fn decode(&self, codes: Tensor<2>) -> Tensor<2> {
        self.decoder.forward(codes)
    }
    fn latent(&self) -> usize {
        self.decoder.fc1.weight.val().dims()[0]
    }
}

impl Autoencoder for fc_ae::FcAe {
    fn encode(&self, images: Tensor<2>) -> Tensor<2> {
        fc_ae::FcAe::encode(self, images)
    }
    fn decode(&self, codes: Tensor<2>) -> Tensor<2> {
        fc_ae::FcAe::decode(self, codes)
    }
    fn latent(&self) -> usize {
        fc_ae::ENCODER[fc_ae::ENCODER.len() - 1]
    }
}

impl Autoencoder for vae::ConvVae {
    fn encode(&self, images: Tensor<2>) -> Tensor<2> {
        vae::ConvVae::encode(self, images)
    }
    fn decode(&self, codes: Tensor<2>) -> Tensor<2> {
        vae::ConvVae::decode(self, codes)
    }
    fn latent(&self) -> usize {
        vae::ConvVae::latent(self)
    }
}

/// An autoencoder lets epoch observers take reconstruction snapshots.
impl<M: Autoencoder> Probe for M {
    fn reconstruct(&self, images: Tensor<2>) -> Option<Tensor<2>> {
        Some(self.decode(self.encode(images)))
    }
}
