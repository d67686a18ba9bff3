//! Codes to decode into new images: from N(0, I) for a VAE, from a Gaussian fitted to the
//! training codes for a plain autoencoder.

use crate::data::rng::SplitMix64;

/// `count` codes drawn from N(mean, std) per dimension (N(0, I) when `stats` is `None`), seeded.
#[must_use]
pub fn gaussian_codes(count: usize, latent: usize, stats: Option<(&[f32], &[f32])>, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::derive(seed, "samples");
    (0..count * latent)
        .map(|k| {
            let z = rng.normal() as f32;
            match stats {
                Some((m, s)) => m[k % latent] + s[k % latent] * z,
                None => z,
            }
        })
        .collect()
}
