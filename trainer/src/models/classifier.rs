//! Classifiers on Fashion-MNIST: the seed-002 encoder with an MLP head (table 3), trained from a
//! pretrained autoencoder's encoder (fine-tuned or frozen) or from scratch.

use std::fmt;

use bottleneck_export::{Layer, Network};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::conv_ae::{self, ConvEncoder, EncoderShape};
use super::export;
use crate::data::ImageShape;
use crate::kernels::{Activation, dropout, linear};

/// How the encoder starts and whether it learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Start from the pretrained encoder and train everything.
    Finetune,
    /// Start from the pretrained encoder and train only the head (a linear probe with an MLP).
    Frozen,
    /// The same network from random initialisation.
    Scratch,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Finetune => "finetune",
            Self::Frozen => "frozen",
            Self::Scratch => "scratch",
        })
    }
}

/// Options of the encoder + MLP classifier.
#[derive(Config, Debug)]
pub struct ClassifierConfig {
    /// Code size of the encoder (must match a pretrained autoencoder's).
    #[config(default = 16)]
    pub latent: usize,
    /// Units of the head's first hidden layer (`No1`).
    #[config(default = 64)]
    pub hidden1: usize,
    /// Units of the head's second hidden layer (`No2`).
    #[config(default = 64)]
    pub hidden2: usize,
    /// Dropout after each hidden layer of the head (`mlp_dr`).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Classes.
    #[config(default = 10)]
    pub classes: usize,
    /// The encoder's convolutions; `None` is seed 002's (8, 16, 32 channels, no batch norm).
    /// A fine-tuned or frozen classifier takes its pretrained autoencoder's.
    pub encoder: Option<EncoderShape>,
    /// The images it takes; `None` is Fashion-MNIST's 28x28 grey.
    pub input: Option<ImageShape>,
}

/// Encoder and MLP head.
#[derive(Module, Debug)]
pub struct Classifier {
    pub encoder: ConvEncoder,
    pub fc1: Linear,
    pub fc2: Linear,
    pub out: Linear,
    pub dropout: Dropout,
}

impl ClassifierConfig {
    /// Builds a classifier around `encoder` (a pretrained one, or `None` for a fresh one).
    #[must_use]
    pub fn init(&self, encoder: Option<ConvEncoder>, device: &Device) -> Classifier {
        Classifier {
            encoder: encoder.unwrap_or_else(|| {
                let (widths, bn) =
                    self.encoder.as_ref().map_or((conv_ae::SEED_WIDTHS, false), |e| (e.widths, e.batch_norm));
                conv_ae::encoder(self.latent, 0.0, bn, widths, self.input.unwrap_or_default(), device)
            }),
            fc1: LinearConfig::new(self.latent, self.hidden1).init(device),
            fc2: LinearConfig::new(self.hidden1, self.hidden2).init(device),
            out: LinearConfig::new(self.hidden2, self.classes).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

impl Classifier {
    /// `[B, c*s*s]` images in [0, 1] to `[B, classes]` logits.
    pub fn forward(&self, images: Tensor<2>) -> Tensor<2> {
        self.head(self.encoder.forward(images))
    }

    /// `[B, latent]` codes to logits.
    pub fn head(&self, codes: Tensor<2>) -> Tensor<2> {
        let h = dropout(&self.dropout, linear(&self.fc1, codes, Activation::Relu));
        let h = dropout(&self.dropout, linear(&self.fc2, h, Activation::Relu));
        linear(&self.out, h, Activation::None)
    }

    /// The head's layers for export (dropout omitted).
    ///
    /// # Errors
    /// When weights cannot be read.
    pub fn head_network(&self) -> anyhow::Result<Network> {
        Ok(Network {
            layers: vec![
                export::linear(&self.fc1)?,
                Layer::Relu,
                export::linear(&self.fc2)?,
                Layer::Relu,
                export::linear(&self.out)?,
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::optim::GradientsParams;

    use super::*;

    /// A fine-tuned classifier's encoder comes from a loaded record: it must still learn.
    #[test]
    fn a_loaded_encoder_receives_gradients() {
        let ad = Device::flex().autodiff();
        let trained = conv_ae::encoder(4, 0.0, false, conv_ae::SEED_WIDTHS, ImageShape::FASHION_MNIST, &ad);
        let loaded = conv_ae::encoder(4, 0.0, false, conv_ae::SEED_WIDTHS, ImageShape::FASHION_MNIST, &ad)
            .load_record(trained.into_record());
        let model = ClassifierConfig::new().with_latent(4).init(Some(loaded), &ad);
        let x = Tensor::<2>::ones([2, 784], &ad);
        let loss = model.forward(x).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let g = grads.get::<4>(model.encoder.conv1.weight.id);
        assert!(g.is_some(), "the encoder's first convolution got no gradient");
    }
}
