//! Trained models loaded back from their run directories, and what they compute: outputs on
//! images, code statistics, sampled codes.

pub mod imported;
pub mod latent_stats;
pub mod loaded;
pub mod outputs;
pub mod pretrained;
pub mod sampling;

pub use latent_stats::latent_stats;
pub use loaded::{LoadedModel, load_conv_ae, load_encoder};
pub use outputs::FloatOutputs;
pub use pretrained::pretrained_shape;
pub use sampling::gaussian_codes;
