//! The figures runs draw: metric curves, image grids (reconstructions, denoising, samples, 2-D
//! latent spaces), the toy study's plots, snapshots during training, and study comparisons.

pub mod comparison;
pub mod curves;
pub mod images;
pub mod snapshots;
pub mod toy;

pub use curves::{curves, epoch_series};
pub use images::{InputNoise, denoising, latent_2d, one_per_class, reconstruction_grid, reconstructions, samples};
pub use snapshots::ReconstructionSnapshots;
