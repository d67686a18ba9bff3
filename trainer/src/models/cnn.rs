//! A plain CNN classifier trained from scratch: the "homework 1" baseline that seed 002 compares
//! its fine-tuned encoder against.
//!
//! Two blocks of (conv 3x3, batch norm, ReLU) x 2 and 2x2 max pooling, with `width` and
//! `2 * width` channels, then a 256-unit hidden layer with dropout.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::conv_ae::SIDE;

/// Options of the CNN baseline.
#[derive(Config, Debug)]
pub struct CnnConfig {
    /// Channels of the first block (the second has twice as many).
    #[config(default = 32)]
    pub width: usize,
    /// Dropout before the hidden and the output layer.
    #[config(default = 0.3)]
    pub dropout: f64,
    /// Classes.
    #[config(default = 10)]
    pub classes: usize,
}

/// The network.
#[derive(Module, Debug)]
pub struct Cnn {
    pub convs: Vec<Conv2d>,
    pub norms: Vec<BatchNorm>,
    pub pool: MaxPool2d,
    pub fc1: Linear,
    pub fc2: Linear,
    pub dropout: Dropout,
}

impl CnnConfig {
    /// Builds the model on `device`.
    #[must_use]
    pub fn init(&self, device: &Device) -> Cnn {
        let w = self.width;
        let chans = [(1, w), (w, w), (w, 2 * w), (2 * w, 2 * w)];
        Cnn {
            convs: chans
                .iter()
                .map(|&(i, o)| {
                    Conv2dConfig::new([i, o], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(device)
                })
                .collect(),
            norms: chans.iter().map(|&(_, o)| BatchNormConfig::new(o).init(device)).collect(),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc1: LinearConfig::new(2 * w * (SIDE / 4) * (SIDE / 4), 256).init(device),
            fc2: LinearConfig::new(256, self.classes).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

impl Cnn {
    /// `[B, 784]` images in [0, 1] to `[B, classes]` logits.
    pub fn forward(&self, images: Tensor<2>) -> Tensor<2> {
        let [b, _] = images.dims();
        let mut x = images.reshape([b, 1, SIDE, SIDE]);
        for (i, (conv, norm)) in self.convs.iter().zip(&self.norms).enumerate() {
            x = relu(norm.forward(conv.forward(x)));
            if i % 2 == 1 {
                x = self.pool.forward(x);
            }
        }
        let [_, c, h, w] = x.dims();
        let x = self.dropout.forward(x.reshape([b, c * h * w]));
        let x = self.dropout.forward(relu(self.fc1.forward(x)));
        self.fc2.forward(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let device = Device::flex();
        let m = CnnConfig::new().with_width(4).init(&device);
        assert_eq!(m.forward(Tensor::<2>::zeros([3, 784], &device)).dims(), [3, 10]);
    }
}
