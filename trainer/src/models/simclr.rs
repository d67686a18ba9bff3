//! A SimCLR encoder (Chen et al., 2020): the conv autoencoder's encoder, trained without labels to
//! map two augmented views of an image close together and views of other images apart, through a
//! projection head that is dropped afterwards. Its encoder starts a classifier like an
//! autoencoder's (`bottleneck train classifier --pretrained RUN`).

use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;

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
    /// Batch normalisation in the projection head, before its ReLU (as in Chen et al.); `None`
    /// (runs written before it existed) is without.
    pub head_batch_norm: Option<bool>,
    /// Smallest random crop of a view, as a share of the image's area; `None` (runs written
    /// before it was an option) is [`SimclrConfig::DEFAULT_MIN_CROP`].
    pub min_crop: Option<f64>,
    /// The images it takes; `None` is Fashion-MNIST's 28x28 grey.
    pub input: Option<ImageShape>,
}

/// Encoder and projection head.
#[derive(Module, Debug)]
pub struct Simclr {
    pub encoder: ConvEncoder,
    pub proj1: Linear,
    /// `None` in runs without `head_batch_norm` (and in those written before it existed).
    pub proj_bn: Option<BatchNorm>,
    pub proj2: Linear,
}

impl SimclrConfig {
    /// The smallest crop when none is given: 40% of the area.
    pub const DEFAULT_MIN_CROP: f64 = 0.4;

    /// The smallest crop of a view, as a share of the area.
    #[must_use]
    pub fn min_crop(&self) -> f64 {
        self.min_crop.unwrap_or(Self::DEFAULT_MIN_CROP)
    }

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
            proj_bn: (self.head_batch_norm == Some(true)).then(|| BatchNormConfig::new(self.projection).init(device)),
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
        let g = match &self.proj_bn {
            Some(bn) => relu(bn.forward(linear(&self.proj1, h, Activation::None))),
            None => linear(&self.proj1, h, Activation::Relu),
        };
        linear(&self.proj2, g, Activation::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let device = Device::flex();
        let input = ImageShape { channels: 3, side: 16 };
        for head_bn in [false, true] {
            let c = SimclrConfig::new().with_latent(5).with_projection(7).with_head_batch_norm(Some(head_bn));
            let m = c.with_input(Some(input)).init(&device);
            assert_eq!(m.project(Tensor::<2>::zeros([4, input.len()], &device)).dims(), [4, 7]);
        }
        let m = SimclrConfig::new().with_latent(5).with_projection(7).with_input(Some(input)).init(&device);
        assert_eq!((m.latent(), m.encoder.channels()), (5, 3));
    }
}
