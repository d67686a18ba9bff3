//! Model definitions, one file per architecture.

pub mod conv_ae;
pub mod export;

use burn::prelude::*;

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
