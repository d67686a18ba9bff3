//! A plain CNN classifier trained from scratch: the "homework 1" baseline that seed 002 compares
//! its fine-tuned encoder against.
//!
//! Blocks of 3x3 convolutions, each with batch norm and ReLU (one or two per block), each block
//! followed by 2x2 max pooling; then a hidden layer with dropout and the output layer.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;

use crate::data::ImageShape;
use crate::kernels::{Activation, batch_norm_relu, batch_norm_relu_pool, conv2d, dropout, linear};

/// Options of the CNN baseline.
#[derive(Config, Debug)]
pub struct CnnConfig {
    /// Channels of each block; each block halves the image (28, 14, 7, 3 for Fashion-MNIST).
    #[config(default = "vec![16, 32, 64]")]
    pub widths: Vec<usize>,
    /// Two convolutions per block instead of one; what run directories written before `convs`
    /// existed say.
    #[config(default = false)]
    pub double: bool,
    /// Convolutions of each block (one entry per width); overrides `double` when present. One in
    /// the 28x28 block, where a second costs the most time (about 40% more per epoch here).
    #[config(default = "Some(vec![1, 2, 2])")]
    pub convs: Option<Vec<usize>>,
    /// Units of the hidden layer.
    #[config(default = 512)]
    pub hidden: usize,
    /// Dropout before the hidden and the output layer.
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Classes.
    #[config(default = 10)]
    pub classes: usize,
    /// The images it takes; `None` is Fashion-MNIST's 28x28 grey.
    pub input: Option<ImageShape>,
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
    /// Whether a pooling layer follows each convolution (the last of its block).
    #[module(skip)]
    pub pool_after: Vec<bool>,
}

impl CnnConfig {
    /// Builds the model on `device`.
    #[must_use]
    pub fn init(&self, device: &Device) -> Cnn {
        let mut chans = Vec::new();
        let mut pool_after = Vec::new();
        let input = self.input.unwrap_or_default();
        let mut prev = input.channels;
        for (block, &w) in self.widths.iter().enumerate() {
            let n = self.convs_in_block(block);
            for i in 0..n {
                chans.push((prev, w));
                pool_after.push(i + 1 == n);
                prev = w;
            }
        }
        let side = self.widths.iter().fold(input.side, |s, _| s / 2);
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
            pool_after,
        }
    }

    /// Convolutions of block `block` (at least one).
    #[must_use]
    pub fn convs_in_block(&self, block: usize) -> usize {
        let fallback = if self.double { 2 } else { 1 };
        self.convs.as_ref().and_then(|c| c.get(block).copied()).unwrap_or(fallback).max(1)
    }
}

impl Cnn {
    /// `[B, c*s*s]` images in [0, 1] to `[B, classes]` logits.
    pub fn forward(&self, images: Tensor<2>) -> Tensor<2> {
        let [b, n] = images.dims();
        let channels = self.convs[0].weight.dims()[1];
        let side = ((n / channels) as f64).sqrt().round() as usize;
        let mut x = images.reshape([b, channels, side, side]);
        for ((conv, norm), &pool) in self.convs.iter().zip(&self.norms).zip(&self.pool_after) {
            let y = conv2d(conv, x);
            x = if pool { batch_norm_relu_pool(norm, &self.pool, y) } else { batch_norm_relu(norm, y) };
        }
        let [_, c, h, w] = x.dims();
        let x = dropout(&self.dropout, x.reshape([b, c * h * w]));
        let x = dropout(&self.dropout, linear(&self.fc1, x, Activation::Relu));
        linear(&self.fc2, x, Activation::None)
    }
}

impl Cnn {
    /// The layers for export (dropout omitted): each convolution with its batch norm and ReLU,
    /// 2x2 max pooling after the last of a block, then flatten and the two linear layers.
    ///
    /// # Errors
    /// When weights cannot be read, or the pooling is not square.
    pub fn network(&self) -> anyhow::Result<bottleneck_export::Network> {
        use bottleneck_export::Layer;
        let [kh, kw] = self.pool.kernel_size;
        let [sh, sw] = self.pool.stride;
        anyhow::ensure!(
            kh == kw && sh == sw && matches!(self.pool.padding, burn::nn::PaddingConfig2d::Valid),
            "max pooling {kh}x{kw} stride {sh}x{sw} with padding cannot be exported (square windows, no padding)"
        );
        let mut layers = Vec::new();
        for ((conv, norm), &pool) in self.convs.iter().zip(&self.norms).zip(&self.pool_after) {
            layers.push(super::export::conv2d(conv)?);
            layers.push(super::export::batch_norm(norm)?);
            layers.push(Layer::Relu);
            if pool {
                layers.push(Layer::MaxPool2d { kernel: kh, stride: sh });
            }
        }
        layers.extend([
            Layer::Flatten,
            super::export::linear(&self.fc1)?,
            Layer::Relu,
            super::export::linear(&self.fc2)?,
        ]);
        Ok(bottleneck_export::Network { layers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let device = Device::flex();
        for double in [false, true] {
            let m = CnnConfig::new().with_widths(vec![4, 8, 8]).with_convs(None).with_double(double).init(&device);
            assert_eq!(m.convs.len(), if double { 6 } else { 3 });
            assert_eq!(m.forward(Tensor::<2>::zeros([3, 784], &device)).dims(), [3, 10]);
        }
        let m = CnnConfig::new().with_widths(vec![4, 8, 8]).with_convs(Some(vec![1, 2, 2])).init(&device);
        assert_eq!(m.convs.len(), 5);
        assert_eq!(m.pool_after, [true, false, true, false, true]);
        assert_eq!(m.forward(Tensor::<2>::zeros([3, 784], &device)).dims(), [3, 10]);
        let input = ImageShape { channels: 3, side: 32 };
        let m = CnnConfig::new().with_widths(vec![4, 8]).with_classes(7).with_input(Some(input)).init(&device);
        assert_eq!(m.forward(Tensor::<2>::zeros([2, 3 * 32 * 32], &device)).dims(), [2, 7]);
    }

    #[test]
    fn old_configs_without_convs_still_load() {
        for (double, convs) in [(false, 1), (true, 2)] {
            let text = format!("widths = [16, 32, 64]\ndouble = {double}\nhidden = 128\ndropout = 0.2\nclasses = 10\n");
            let old: CnnConfig = toml::from_str(&text).unwrap();
            assert_eq!((0..3).map(|b| old.convs_in_block(b)).collect::<Vec<_>>(), [convs; 3]);
            assert_eq!(old.init(&Device::flex()).convs.len(), 3 * convs);
        }
    }
}
