//! A SimCLR encoder (Chen et al., 2020): the conv autoencoder's encoder, trained without labels to
//! map two augmented views of an image close together and views of other images apart, through a
//! projection head that is dropped afterwards. Its encoder starts a classifier like an
//! autoencoder's (`bottleneck train classifier --pretrained RUN`).

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

use super::conv_ae::{self, ConvEncoder, EncoderShape};
use crate::data::ImageShape;
use crate::kernels::{Activation, linear};

/// Options of the SimCLR encoder.
#[derive(Config, Debug)]
pub struct SimclrConfig {
    /// Code size: the encoder's output, which a classifier then reads.
    #[config(default = 16)]
    pub latent: usize,
    /// Units of the projection head's two layers (the loss is computed on its output).
    #[config(default = 64)]
    pub projection: usize,
    /// Temperature of the NT-Xent loss.
    #[config(default = 0.5)]
    pub temperature: f64,
    /// Channels of the three convolutions; `None` is seed 002's 8, 16, 32.
    pub widths: Option<[usize; 3]>,
    /// Batch normalisation after the first two convolutions.
    #[config(default = false)]
    pub batch_norm: bool,
    /// The images it takes; `None` is Fashion-MNIST's 28x28 grey.
    pub input: Option<ImageShape>,
}

/// Encoder and projection head.
#[derive(Module, Debug)]
pub struct Simclr {
    pub encoder: ConvEncoder,
    pub proj1: Linear,
    pub proj2: Linear,
}

impl SimclrConfig {
    /// The shape of its encoder.
    #[must_use]
    pub fn encoder_shape(&self) -> EncoderShape {
        EncoderShape { widths: self.widths.unwrap_or(conv_ae::SEED_WIDTHS), batch_norm: self.batch_norm }
    }

    /// Builds the model on `device`.
    #[must_use]
    pub fn init(&self, device: &Device) -> Simclr {
        let shape = self.encoder_shape();
        let input = self.input.unwrap_or_default();
        Simclr {
            encoder: conv_ae::encoder(self.latent, 0.0, shape.batch_norm, shape.widths, input, device),
            proj1: LinearConfig::new(self.latent, self.projection).init(device),
            proj2: LinearConfig::new(self.projection, self.projection).init(device),
        }
    }
}

impl Simclr {
    /// Code size.
    pub fn latent(&self) -> usize {
        self.proj1.weight.dims()[0]
    }

    /// `[B, c*s*s]` images to `[B, projection]` head outputs (the loss's input).
    pub fn project(&self, images: Tensor<2>) -> Tensor<2> {
        let h = self.encoder.forward(images);
        linear(&self.proj2, linear(&self.proj1, h, Activation::Relu), Activation::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let device = Device::flex();
        let input = ImageShape { channels: 3, side: 16 };
        let m = SimclrConfig::new().with_latent(5).with_projection(7).with_input(Some(input)).init(&device);
        assert_eq!(m.project(Tensor::<2>::zeros([4, input.len()], &device)).dims(), [4, 7]);
        assert_eq!((m.latent(), m.encoder.channels()), (5, 3));
    }
}
