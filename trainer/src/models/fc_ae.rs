//! The fully-connected autoencoder of seed 001, layer for layer: encoder 784-128-64-32-16-8 and
//! decoder 8-8-32-64-128-784, ReLU after every layer but the last, tanh output, inputs in [-1, 1].
//! Other images change only the first and last width (their values per image).

use bottleneck_export::{Layer, Network};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;

use super::export;
use crate::data::ImageShape;
use crate::kernels::{Activation, dropout, linear};

/// Encoder widths, input first.
pub const ENCODER: [usize; 6] = [784, 128, 64, 32, 16, 8];
/// Decoder widths, code first (seed 001's decoder starts with an 8-unit layer).
pub const DECODER: [usize; 6] = [8, 8, 32, 64, 128, 784];

/// Options of the fully-connected autoencoder (the layers are fixed by the seed).
#[derive(Config, Debug)]
pub struct FcAeConfig {
    /// Dropout after each hidden layer.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Standard deviation of the Gaussian noise added to the inputs in training, in the network's
    /// input units ([-1, 1]: 0.6 is 0.3 on [0, 1] pixels); above 0 the network learns to denoise
    /// (seed 001's question 3). `None` (and what run directories written before this option
    /// hold): a plain autoencoder.
    pub noise: Option<f64>,
    /// The images it takes; `None` is Fashion-MNIST's 28x28 grey.
    pub input: Option<ImageShape>,
}

/// The seed-001 network.
#[derive(Module, Debug)]
pub struct FcAe {
    pub encoder: Vec<Linear>,
    pub decoder: Vec<Linear>,
    pub dropout: Dropout,
    /// The images it takes and gives back.
    #[module(skip)]
    pub input: ImageShape,
}

fn stack(widths: &[usize], device: &Device) -> Vec<Linear> {
    widths.windows(2).map(|w| LinearConfig::new(w[0], w[1]).init(device)).collect()
}

impl FcAeConfig {
    /// Builds the model on `device`.
    #[must_use]
    pub fn init(&self, device: &Device) -> FcAe {
        let input = self.input.unwrap_or_default();
        let (mut enc, mut dec) = (ENCODER, DECODER);
        (enc[0], dec[5]) = (input.len(), input.len());
        FcAe {
            encoder: stack(&enc, device),
            decoder: stack(&dec, device),
            dropout: DropoutConfig::new(self.dropout).init(),
            input,
        }
    }
}

impl FcAe {
    /// `[B, c*s*s]` in [-1, 1] to `[B, 8]` codes (non-negative: the seed's encoder ends in ReLU).
    pub fn encode(&self, x: Tensor<2>) -> Tensor<2> {
        self.encoder.iter().fold(x, |h, l| dropout(&self.dropout, linear(l, h, Activation::Relu)))
    }

    /// `[B, 8]` codes to `[B, c*s*s]` in (-1, 1).
    pub fn decode(&self, z: Tensor<2>) -> Tensor<2> {
        let last = self.decoder.len() - 1;
        self.decoder.iter().enumerate().fold(z, |h, (i, l)| {
            if i == last {
                linear(l, h, Activation::Tanh)
            } else {
                dropout(&self.dropout, linear(l, h, Activation::Relu))
            }
        })
    }

    /// The encoder's layers for export.
    ///
    /// # Errors
    /// When weights cannot be read.
    pub fn encoder_network(&self) -> anyhow::Result<Network> {
        let mut layers = vec![Layer::Flatten];
        for l in &self.encoder {
            layers.push(export::linear(l)?);
            layers.push(Layer::Relu);
        }
        Ok(Network { layers })
    }

    /// The decoder's layers for export.
    ///
    /// # Errors
    /// When weights cannot be read.
    pub fn decoder_network(&self) -> anyhow::Result<Network> {
        let mut layers = Vec::new();
        for (i, l) in self.decoder.iter().enumerate() {
            layers.push(export::linear(l)?);
            layers.push(if i + 1 == self.decoder.len() { Layer::Tanh } else { Layer::Relu });
        }
        let ImageShape { channels, side } = self.input;
        layers.push(Layer::Unflatten { channels, height: side, width: side });
        Ok(Network { layers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_the_seed_001_ones() {
        let device = Device::flex();
        let m = FcAeConfig::new().init(&device);
        let dims: Vec<[usize; 2]> = m.encoder.iter().chain(&m.decoder).map(|l| l.weight.val().dims()).collect();
        assert_eq!(
            dims,
            [[784, 128], [128, 64], [64, 32], [32, 16], [16, 8], [8, 8], [8, 32], [32, 64], [64, 128], [128, 784]]
        );
        let y = m.decode(m.encode(Tensor::<2>::ones([2, 784], &device)));
        assert_eq!(y.dims(), [2, 784]);
    }
}
