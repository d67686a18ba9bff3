//! The convolutional autoencoder of seed 002 (tables 1 and 2): three convolutions and two linear
//! layers, and a mirrored decoder ending in a sigmoid.

use bottleneck_export::{Layer, Network};
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid};

use super::export;
use crate::kernels::{Activation, batch_norm_relu, conv_transpose2d, conv2d, dropout, linear};

/// Shape of the image the convolutional models take.
pub const SIDE: usize = 28;
/// Values per image.
pub const PIXELS: usize = SIDE * SIDE;
/// Channels of the three convolutions in seed 002's tables 1 and 2.
pub const SEED_WIDTHS: [usize; 3] = [8, 16, 32];
/// Side of the third convolution's output (28 -> 14 -> 7 -> 3).
const CODE_SIDE: usize = 3;

/// The encoder: `[B, 784]` images in [0, 1] to `[B, out]` codes.
///
/// | layer | output (seed widths) | kernel | stride | padding | activation |
/// |---|---|---|---|---|---|
/// | conv1 | 8x14x14 | 4 | 2 | 1 | (batch norm), ReLU |
/// | conv2 | 16x7x7 | 4 | 2 | 1 | (batch norm), ReLU |
/// | conv3 | 32x3x3 | 3 | 2 | 0 | none (as seed 002's table 1) |
/// | fc1 | 64 | | | | ReLU, dropout |
/// | fc2 | out | | | | dropout |
#[derive(Module, Debug)]
pub struct ConvEncoder {
    pub conv1: Conv2d,
    pub bn1: Option<BatchNorm>,
    pub conv2: Conv2d,
    pub bn2: Option<BatchNorm>,
    pub conv3: Conv2d,
    pub fc1: Linear,
    pub fc2: Linear,
    pub dropout: Dropout,
}

/// The decoder: `[B, latent]` codes to `[B, 784]` images in [0, 1]; the mirror of the encoder.
#[derive(Module, Debug)]
pub struct ConvDecoder {
    pub fc1: Linear,
    pub fc2: Linear,
    pub deconv1: ConvTranspose2d,
    pub bn1: Option<BatchNorm>,
    pub deconv2: ConvTranspose2d,
    pub bn2: Option<BatchNorm>,
    pub deconv3: ConvTranspose2d,
    pub dropout: Dropout,
}

/// Options of the convolutional autoencoder.
#[derive(Config, Debug)]
pub struct ConvAeConfig {
    /// Code size `d`.
    #[config(default = 16)]
    pub latent: usize,
    /// Dropout after each linear layer (`dr` in seed 002).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Batch normalisation after the first two (transposed) convolutions of each half.
    #[config(default = false)]
    pub batch_norm: bool,
    /// Channels of the three convolutions (the decoder mirrors them); `None` is seed 002's 8, 16,
    /// 32 (and what run directories written before this option hold).
    pub widths: Option<[usize; 3]>,
}

/// The convolutions of a [`ConvEncoder`]: what a classifier needs to rebuild one.
#[derive(Config, Debug, PartialEq, Eq)]
pub struct EncoderShape {
    /// Channels of the three convolutions.
    pub widths: [usize; 3],
    /// Batch normalisation after the first two.
    pub batch_norm: bool,
}

impl EncoderShape {
    /// Seed 002's encoder: 8, 16, 32 channels, no batch norm.
    pub const SEED: Self = Self { widths: SEED_WIDTHS, batch_norm: false };
}

/// Encoder and decoder.
#[derive(Module, Debug)]
pub struct ConvAe {
    pub encoder: ConvEncoder,
    pub decoder: ConvDecoder,
}

impl ConvAeConfig {
    /// Channels of the three convolutions.
    #[must_use]
    pub fn widths(&self) -> [usize; 3] {
        self.widths.unwrap_or(SEED_WIDTHS)
    }

    /// The shape of its encoder.
    #[must_use]
    pub fn encoder_shape(&self) -> EncoderShape {
        EncoderShape { widths: self.widths(), batch_norm: self.batch_norm }
    }

    /// Builds the model on `device` (weights are drawn on first use).
    #[must_use]
    pub fn init(&self, device: &Device) -> ConvAe {
        ConvAe {
            encoder: encoder(self.latent, self.dropout, self.batch_norm, self.widths(), device),
            decoder: decoder(self.latent, self.dropout, self.batch_norm, self.widths(), device),
        }
    }
}

/// The seed-002 encoder with `out` outputs (the code size; twice it for a VAE's mean and
/// log-variance) and convolutions of `widths` channels.
#[must_use]
pub fn encoder(out: usize, dropout: f64, batch_norm: bool, widths: [usize; 3], device: &Device) -> ConvEncoder {
    let [w1, w2, w3] = widths;
    let bn = |c| batch_norm.then(|| BatchNormConfig::new(c).init(device));
    let conv = |cin, cout, k, p| {
        Conv2dConfig::new([cin, cout], [k, k])
            .with_stride([2, 2])
            .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
            .init(device)
    };
    ConvEncoder {
        conv1: conv(1, w1, 4, 1),
        bn1: bn(w1),
        conv2: conv(w1, w2, 4, 1),
        bn2: bn(w2),
        conv3: conv(w2, w3, 3, 0),
        fc1: LinearConfig::new(w3 * CODE_SIDE * CODE_SIDE, 64).init(device),
        fc2: LinearConfig::new(64, out).init(device),
        dropout: DropoutConfig::new(dropout).init(),
    }
}

/// The seed-002 decoder from `latent` inputs, mirroring an encoder of `widths` channels.
#[must_use]
pub fn decoder(latent: usize, dropout: f64, batch_norm: bool, widths: [usize; 3], device: &Device) -> ConvDecoder {
    let [w1, w2, w3] = widths;
    let bn = |c| batch_norm.then(|| BatchNormConfig::new(c).init(device));
    let deconv = |cin, cout, k, p| {
        ConvTranspose2dConfig::new([cin, cout], [k, k]).with_stride([2, 2]).with_padding([p, p]).init(device)
    };
    ConvDecoder {
        fc1: LinearConfig::new(latent, 64).init(device),
        fc2: LinearConfig::new(64, w3 * CODE_SIDE * CODE_SIDE).init(device),
        deconv1: deconv(w3, w2, 3, 0),
        bn1: bn(w2),
        deconv2: deconv(w2, w1, 4, 1),
        bn2: bn(w1),
        deconv3: deconv(w1, 1, 4, 1),
        dropout: DropoutConfig::new(dropout).init(),
    }
}

/// Applies an optional batch norm, then a ReLU.
fn norm_relu(bn: &Option<BatchNorm>, x: Tensor<4>) -> Tensor<4> {
    match bn {
        Some(b) => batch_norm_relu(b, x),
        None => relu(x),
    }
}

/// Exports an optional batch norm.
fn norm_layer(bn: &Option<BatchNorm>, layers: &mut Vec<Layer>) -> anyhow::Result<()> {
    if let Some(b) = bn {
        layers.push(export::batch_norm(b)?);
    }
    Ok(())
}

impl ConvEncoder {
    /// Channels of the convolutions and whether batch norm follows them.
    #[must_use]
    pub fn shape(&self) -> EncoderShape {
        let out = |c: &Conv2d| c.weight.dims()[0];
        EncoderShape { widths: [out(&self.conv1), out(&self.conv2), out(&self.conv3)], batch_norm: self.bn1.is_some() }
    }

    /// `[B, 784]` -> `[B, out]`.
    pub fn forward(&self, images: Tensor<2>) -> Tensor<2> {
        let [batch, _] = images.dims();
        let x = images.reshape([batch, 1, SIDE, SIDE]);
        let x = norm_relu(&self.bn1, conv2d(&self.conv1, x));
        let x = norm_relu(&self.bn2, conv2d(&self.conv2, x));
        let x = conv2d(&self.conv3, x);
        let [_, c, h, w] = x.dims();
        let x = x.reshape([batch, c * h * w]);
        let x = dropout(&self.dropout, linear(&self.fc1, x, Activation::Relu));
        dropout(&self.dropout, linear(&self.fc2, x, Activation::None))
    }
}

impl ConvDecoder {
    /// Channels of the first transposed convolution's input.
    fn channels(&self) -> usize {
        self.deconv1.weight.dims()[0]
    }

    /// `[B, latent]` -> `[B, 784]` in (0, 1).
    pub fn forward(&self, codes: Tensor<2>) -> Tensor<2> {
        sigmoid(self.logits(codes))
    }

    /// The decoder before its sigmoid (for losses computed from logits).
    pub fn logits(&self, codes: Tensor<2>) -> Tensor<2> {
        let [batch, _] = codes.dims();
        let x = dropout(&self.dropout, linear(&self.fc1, codes, Activation::Relu));
        let x = dropout(&self.dropout, linear(&self.fc2, x, Activation::Relu));
        let x = x.reshape([batch, self.channels(), CODE_SIDE, CODE_SIDE]);
        let x = norm_relu(&self.bn1, conv_transpose2d(&self.deconv1, x));
        let x = norm_relu(&self.bn2, conv_transpose2d(&self.deconv2, x));
        conv_transpose2d(&self.deconv3, x).reshape([batch, PIXELS])
    }
}

impl ConvEncoder {
    /// The layers for export (dropout omitted: export is for inference).
    ///
    /// # Errors
    /// When weights cannot be read.
    pub fn network(&self) -> anyhow::Result<Network> {
        let mut layers = vec![export::conv2d(&self.conv1)?];
        norm_layer(&self.bn1, &mut layers)?;
        layers.extend([Layer::Relu, export::conv2d(&self.conv2)?]);
        norm_layer(&self.bn2, &mut layers)?;
        layers.extend([
            Layer::Relu,
            export::conv2d(&self.conv3)?,
            Layer::Flatten,
            export::linear(&self.fc1)?,
            Layer::Relu,
            export::linear(&self.fc2)?,
        ]);
        Ok(Network { layers })
    }
}

impl ConvDecoder {
    /// The layers for export (dropout omitted).
    ///
    /// # Errors
    /// When weights cannot be read.
    pub fn network(&self) -> anyhow::Result<Network> {
        let mut layers = vec![
            export::linear(&self.fc1)?,
            Layer::Relu,
            export::linear(&self.fc2)?,
            Layer::Relu,
            Layer::Unflatten { channels: self.channels(), height: CODE_SIDE, width: CODE_SIDE },
            export::conv_transpose2d(&self.deconv1)?,
        ];
        norm_layer(&self.bn1, &mut layers)?;
        layers.extend([Layer::Relu, export::conv_transpose2d(&self.deconv2)?]);
        norm_layer(&self.bn2, &mut layers)?;
        layers.extend([Layer::Relu, export::conv_transpose2d(&self.deconv3)?, Layer::Sigmoid]);
        Ok(Network { layers })
    }
}

impl ConvAe {
    /// `[B, 784]` images to `[B, 784]` reconstructions.
    pub fn forward(&self, images: Tensor<2>) -> Tensor<2> {
        self.decoder.forward(self.encoder.forward(images))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_seed_tables() {
        let device = Device::flex();
        let model = ConvAeConfig::new().with_latent(5).init(&device);
        let x = Tensor::<2>::zeros([3, PIXELS], &device);
        assert_eq!(model.encoder.forward(x.clone()).dims(), [3, 5]);
        let y = model.forward(x);
        assert_eq!(y.dims(), [3, PIXELS]);
        let v: Vec<f32> = y.try_into_vec_as::<f32>().unwrap();
        assert!(v.iter().all(|p| (0.0..=1.0).contains(p)));
    }
}
