//! The shape of a pretrained autoencoder, as a classifier built on it needs it.

use std::path::Path;

use crate::config::ModelSpec;
use crate::models::conv_ae::EncoderShape;
use crate::run_dir::RunDir;

/// Code size and encoder shape of the autoencoder run `path`, from its `config.toml` (what a
/// classifier built on it must have).
///
/// # Errors
/// When `path` is not a conv-ae or denoising-ae run.
pub fn pretrained_shape(path: &Path) -> anyhow::Result<(usize, EncoderShape)> {
    let config = RunDir::open(path)?.read_config()?;
    match &config.model {
        ModelSpec::ConvAe(c) => Ok((c.latent, c.encoder_shape())),
        ModelSpec::DenoisingAe(d) => Ok((d.network.latent, d.network.encoder_shape())),
        ModelSpec::Simclr(c) => Ok((c.latent, c.encoder_shape())),
        other => anyhow::bail!(
            "{} holds a {} run; --pretrained needs a conv-ae, denoising-ae or simclr run",
            path.display(),
            other.kind()
        ),
    }
}
