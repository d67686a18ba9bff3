//! A plain CNN classifier trained from scratch: the "homework 1" baseline that seed 002 compares
//! its fine-tuned encoder against.
//!
//! Blocks of 3x3 convolution, batch norm and ReLU (two convolutions per block with `double`),
//! each followed by 2x2 max pooling; then a hidden layer with dropout and the output layer.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::conv_ae::SIDE;

/// Options of the CNN baseline.
#[derive(Config, Debug)]
pub struct CnnConfig {
    /// Channels of each block; each block halves the image (28, 14, 7, 3).
    #[config(default = "vec![16, 32, 64]")]
    pub widths: Vec<usize>,
    /// Two convolutions per block instead of one.
    #[config(default = true)]
    pub double: bool,
    /// Units of the hidden layer.
    #[config(default = 256)]
    pub hidden: usize,
    /// Dropout before the hidden and the output layer.
    #[config(default = 0.2)]
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
    /// Convolutions per block.
    pub per_block: usize,
}

impl CnnConfig {
    /// Builds the model on `device`.
    #[must_use]
    pub fn init(&self, device: &Device) -> Cnn {
        let per_block = if self.double { 2 } else { 1 };
        let mut chans = Vec::new();
        let mut prev = 1;
        for &w in &self.widths {
            for _ in 0..per_block {
                chans.push((prev, w));
                prev = w;
            }
        }
        let side = self.widths.iter().fold(SIDE, |s, _| s / 2);
        Cnn {
            convs: chans
                .iter()
                .map(|&(i, o)| {
                    Conv2dConfig::new([i, o], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(device)
                })
                .collect(),
            norms: chans.iter().map(|&(_, o)| BatchNormConfig::new(o).init(device)).collect(),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc1: LinearConfig::new(prev * side * side, self.hidden).init(device),
            fc2: LinearConfig::new(self.hidden, self.classes).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            per_block,
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
            if (i + 1) % self.per_block == 0 {
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
        for double in [false, true] {
            let m = CnnConfig::new().with_widths(vec![4, 8, 8]).with_double(double).init(&device);
            assert_eq!(m.convs.len(), if double { 6 } else { 3 });
            assert_eq!(m.forward(Tensor::<2>::zeros([3, 784], &device)).dims(), [3, 10]);
        }
    }
}
