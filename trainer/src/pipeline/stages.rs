//! The parts of the pipeline, in the order they run.

use std::fmt;

/// The parts of the pipeline, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Stage {
    /// Convolutional autoencoder, exported to int8, ONNX and safetensors, and validated.
    ConvAe,
    /// Classifiers on its encoder (fine-tuned, frozen, from scratch), one fine-tuned from a
    /// SimCLR encoder of the same shape, and the CNN baseline; the fine-tuned one on the
    /// autoencoder exported with it and validated.
    Classifiers,
    /// Convolutional VAE, with samples from N(0, I); exported and validated.
    Vae,
    /// Denoising autoencoders: the convolutional one, and the fully-connected one of seed 001
    /// (noisy / denoised / original drawn every 10 epochs).
    Denoising,
    /// Fully-connected autoencoder.
    FcAe,
    /// Autoencoder and VAE with a 2-D code.
    Latent2d,
    /// The toy autoencoders with a 1-D code on 2-D points.
    Toy,
    /// Comparisons: the six optimizers and dropout x weight decay x batch norm on the conv
    /// autoencoder (grid studies); gradient descent against stochastic gradient descent on the toy
    /// set.
    Studies,
    /// A short hyperparameter search of the conv autoencoder (TPE with the median pruner).
    Tune,
    /// The fine-tuned classifier cross-validated over 3 folds.
    Cv,
    /// Codes by PCA and t-SNE, interpolations, per-class tables of every image model; then
    /// report.html.
    Report,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Self; 11] = [
        Self::ConvAe,
        Self::Classifiers,
        Self::Vae,
        Self::Denoising,
        Self::FcAe,
        Self::Latent2d,
        Self::Toy,
        Self::Studies,
        Self::Tune,
        Self::Cv,
        Self::Report,
    ];
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}
