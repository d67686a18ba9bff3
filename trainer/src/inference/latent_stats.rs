//! Per-dimension statistics of codes, for sampling a plain autoencoder.

use bottleneck_export::LatentStats;

/// Per-dimension mean and standard deviation of `codes` (`latent` values per row).
#[must_use]
pub fn latent_stats(codes: &[f32], latent: usize) -> LatentStats {
    let n = (codes.len() / latent.max(1)).max(1) as f64;
    let mut mean = vec![0f64; latent];
    for row in codes.chunks(latent) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0f64; latent];
    for row in codes.chunks(latent) {
        for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (f64::from(v) - m).powi(2);
        }
    }
    LatentStats {
        mean: mean.iter().map(|&m| m as f32).collect(),
        std: var.iter().map(|&s| (s / n).sqrt() as f32).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_std_per_dimension() {
        let s = latent_stats(&[1.0, 10.0, 3.0, 10.0], 2);
        assert_eq!(s.mean, vec![2.0, 10.0]);
        assert_eq!(s.std, vec![1.0, 0.0]);
    }
}
