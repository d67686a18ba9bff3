//! The toy autoencoders of seed 003 on 2-D points, with a 1-D bottleneck:
//! `small` {20, 10, 1, 10, 20, 2}, `large` {50, 50, 50, 1, 50, 50, 50, 2}, and `linear` {1, 2},
//! which without non-linearities can only learn a line through the data: PCA's first component.
//!
//! Hidden layers use ReLU; the code and the output are linear (no activation), so the code can take
//! any value along the learned curve and outputs can reach the whole plane.

use std::fmt;

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

/// Which of seed 003's architectures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ToyArch {
    /// {20, 10, 1, 10, 20, 2}
    Small,
    /// {50, 50, 50, 1, 50, 50, 50, 2}
    Large,
    /// {1, 2}, no non-linearity: equivalent to PCA.
    Linear,
}

impl ToyArch {
    /// Layer widths after the 2-D input: encoder then decoder.
    #[must_use]
    pub fn widths(self) -> (&'static [usize], &'static [usize]) {
        match self {
            Self::Small => (&[20, 10, 1], &[10, 20, 2]),
            Self::Large => (&[50, 50, 50, 1], &[50, 50, 50, 2]),
            Self::Linear => (&[1], &[2]),
        }
    }

    /// The name on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Large => "large",
            Self::Linear => "linear",
        }
    }
}

impl fmt::Display for ToyArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Options of a toy autoencoder run.
#[derive(Config, Debug)]
pub struct ToyAeConfig {
    /// Architecture.
    #[config(default = "ToyArch::Small")]
    pub arch: ToyArch,
}

/// Encoder and decoder as stacks of linear layers.
#[derive(Module, Debug)]
pub struct ToyAe {
    pub encoder: Vec<Linear>,
    pub decoder: Vec<Linear>,
}

fn stack(input: usize, widths: &[usize], device: &Device) -> Vec<Linear> {
    let mut prev = input;
    widths
        .iter()
        .map(|&w| {
            let l = LinearConfig::new(prev, w).init(device);
            prev = w;
            l
        })
        .collect()
}

/// Linear layers with ReLU between them (none after the last).
fn chain(layers: &[Linear], x: Tensor<2>) -> Tensor<2> {
    let last = layers.len().saturating_sub(1);
    layers.iter().enumerate().fold(x, |h, (i, l)| if i == last { l.forward(h) } else { relu(l.forward(h)) })
}

impl ToyAeConfig {
    /// Builds the model on `device`.
    #[must_use]
    pub fn init(&self, device: &Device) -> ToyAe {
        let (enc, dec) = self.arch.widths();
        ToyAe { encoder: stack(2, enc, device), decoder: stack(1, dec, device) }
    }
}

impl ToyAe {
    /// `[B, 2]` points to `[B, 1]` codes.
    pub fn encode(&self, x: Tensor<2>) -> Tensor<2> {
        chain(&self.encoder, x)
    }

    /// `[B, 1]` codes to `[B, 2]` points.
    pub fn decode(&self, z: Tensor<2>) -> Tensor<2> {
        chain(&self.decoder, z)
    }
}
