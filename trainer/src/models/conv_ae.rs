//! The convolutional autoencoder of seed 002 (tables 1 and 2): three convolutions and two linear
//! layers, and a mirrored decoder ending in a sigmoid.

use bottleneck_export::{Layer, Network};
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid};

use super::export;
use crate::data::ImageShape;
use crate::kernels::{Activation, batch_norm_relu, conv_transpose2d, conv2d, dropout, linear};

/// Channels of the three convolutions in seed 002's tables 1 and 2.
pub const SEED_WIDTHS: [usize; 3] = [8, 16, 32];
/// The smallest image side the three convolutions take (12 -> 6 -> 3 -> 1).
pub const MIN_SIDE: usize = 12;

/// Sides of the image after each of the encoder's three convolutions (28 -> 14 -> 7 -> 3 for
/// Fashion-MNIST, 32 -> 16 -> 8 -> 3 for CIFAR-10); the decoder mirrors them.
#[must_use]
pub fn sides(side: usize) -> [usize; 3] {
    let out = |n: usize, k: usize, p: usize| (n + 2 * p).saturating_sub(k) / 2 + 1;
    let s1 = out(side, 4, 1);
    let s2 = out(s1, 4, 1);
    [s1, s2, out(s2, 3, 0)]
}

/// The integer square root of a perfect square (sides recovered from tensor sizes).
fn side_of(values: usize) -> usize {
    let s = (values as f64).sqrt().round() as usize;
    debug_assert_eq!(s * s, values, "not a square");
    s
}

/// The encoder: `[B, c*s*s]` images in [0, 1] to `[B, out]` codes. Sizes below are for the
/// 28x28 grey images of Fashion-MNIST; others follow [`sides`].
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

/// The decoder: `[B, latent]` codes to `[B, c*s*s]` images in [0, 1]; the mirror of the encoder
/// (transposed convolutions with the output padding that brings back each encoder size).
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
    /// The images it takes; `None` is Fashion-MNIST's 28x28 grey (runs written before the shape
    /// was recorded).
    pub input: Option<ImageShape>,
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
        let input = self.input.unwrap_or_default();
        ConvAe {
            encoder: encoder(self.latent, self.dropout, self.batch_norm, self.widths(), input, device),
            decoder: decoder(self.latent, self.dropout, self.batch_norm, self.widths(), input, device),
        }
    }
}

/// The seed-002 encoder of `input` images with `out` outputs (the code size; twice it for a VAE's
/// mean and log-variance) and convolutions of `widths` channels.
#[must_use]
pub fn encoder(
    out: usize,
    dropout: f64,
    batch_norm: bool,
    widths: [usize; 3],
    input: ImageShape,
    device: &Device,
) -> ConvEncoder {
    let [w1, w2, w3] = widths;
    let code = sides(input.side)[2];
    let bn = |c| batch_norm.then(|| BatchNormConfig::new(c).init(device));
    let conv = |cin, cout, k, p| {
        Conv2dConfig::new([cin, cout], [k, k])
            .with_stride([2, 2])
            .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
            .init(device)
    };
    ConvEncoder {
        conv1: conv(input.channels, w1, 4, 1),
        bn1: bn(w1),
        conv2: conv(w1, w2, 4, 1),
        bn2: bn(w2),
        conv3: conv(w2, w3, 3, 0),
        fc1: LinearConfig::new(w3 * code * code, 64).init(device),
        fc2: LinearConfig::new(64, out).init(device),
        dropout: DropoutConfig::new(dropout).init(),
    }
}

/// The seed-002 decoder from `latent` inputs to `output` images, mirroring an encoder of `widths`
/// channels.
#[must_use]
pub fn decoder(
    latent: usize,
    dropout: f64,
    batch_norm: bool,
    widths: [usize; 3],
    output: ImageShape,
    device: &Device,
) -> ConvDecoder {
    let [w1, w2, w3] = widths;
    let [s1, s2, s3] = sides(output.side);
    let bn = |c| batch_norm.then(|| BatchNormConfig::new(c).init(device));
    // Each transposed convolution gets the output padding (0 or 1) that restores the size its
    // encoder convolution rounded down from.
    let deconv = |cin, cout, k: usize, p: usize, from: usize, to: usize| {
        let base = (from - 1) * 2 + k - 2 * p;
        ConvTranspose2dConfig::new([cin, cout], [k, k])
            .with_stride([2, 2])
            .with_padding([p, p])
            .with_padding_out([to - base; 2])
            .init(device)
    };
    ConvDecoder {
        fc1: LinearConfig::new(latent, 64).init(device),
        fc2: LinearConfig::new(64, w3 * s3 * s3).init(device),
        deconv1: deconv(w3, w2, 3, 0, s3, s2),
        bn1: bn(w2),
        deconv2: deconv(w2, w1, 4, 1, s2, s1),
        bn2: bn(w1),
        deconv3: deconv(w1, output.channels, 4, 1, s1, output.side),
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

    /// Channels of the images it takes.
    #[must_use]
    pub fn channels(&self) -> usize {
        self.conv1.weight.dims()[1]
    }

    /// `[B, c*s*s]` -> `[B, out]`.
    pub fn forward(&self, images: Tensor<2>) -> Tensor<2> {
        let [batch, n] = images.dims();
        let channels = self.channels();
        let side = side_of(n / channels);
        let x = images.reshape([batch, channels, side, side]);
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

    /// Side of the codes' feature maps (3 for 28x28 images).
    fn code_side(&self) -> usize {
        side_of(self.fc2.weight.dims()[1] / self.channels())
    }

    /// `[B, latent]` -> `[B, c*s*s]` in (0, 1).
    pub fn forward(&self, codes: Tensor<2>) -> Tensor<2> {
        sigmoid(self.logits(codes))
    }

    /// The decoder before its sigmoid (for losses computed from logits).
    pub fn logits(&self, codes: Tensor<2>) -> Tensor<2> {
        let [batch, _] = codes.dims();
        let x = dropout(&self.dropout, linear(&self.fc1, codes, Activation::Relu));
        let x = dropout(&self.dropout, linear(&self.fc2, x, Activation::Relu));
        let code = self.code_side();
        let x = x.reshape([batch, self.channels(), code, code]);
        let x = norm_relu(&self.bn1, conv_transpose2d(&self.deconv1, x));
        let x = norm_relu(&self.bn2, conv_transpose2d(&self.deconv2, x));
        let x = conv_transpose2d(&self.deconv3, x);
        let [_, c, h, w] = x.dims();
        x.reshape([batch, c * h * w])
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
            Layer::Unflatten { channels: self.channels(), height: self.code_side(), width: self.code_side() },
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
    /// `[B, c*s*s]` images to `[B, c*s*s]` reconstructions.
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
        let x = Tensor::<2>::zeros([3, 784], &device);
        assert_eq!(model.encoder.forward(x.clone()).dims(), [3, 5]);
        let y = model.forward(x);
        assert_eq!(y.dims(), [3, 784]);
        let v: Vec<f32> = y.try_into_vec_as::<f32>().unwrap();
        assert!(v.iter().all(|p| (0.0..=1.0).contains(p)));
    }

    #[test]
    fn other_sides_and_colour_come_back_at_their_size() {
        assert_eq!(sides(28), [14, 7, 3]);
        assert_eq!(sides(32), [16, 8, 3]);
        assert_eq!(sides(MIN_SIDE), [6, 3, 1]);
        let device = Device::flex();
        for (channels, side) in [(3, 32), (1, 16), (3, 13), (1, MIN_SIDE)] {
            let input = ImageShape { channels, side };
            let model = ConvAeConfig::new().with_latent(4).with_input(Some(input)).init(&device);
            let y = model.forward(Tensor::<2>::zeros([2, input.len()], &device));
            assert_eq!(y.dims(), [2, input.len()], "{input}");
            assert_eq!(model.encoder.channels(), channels);
        }
    }
}
