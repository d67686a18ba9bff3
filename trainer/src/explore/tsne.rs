//! t-SNE of codes through the `bhtsne` crate (FIt-SNE: the FFT-interpolated repulsion, linear in
//! the number of points), with openTSNE's defaults: PCA initialisation scaled to a standard
//! deviation of 1e-4, perplexity 30, learning rate max(n / 12 / 4, 50). Trustworthiness
//! (Venna and Kaski) checks an embedding against the codes.

use super::pca::Pca;

/// t-SNE settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TsneOptions {
    /// Perplexity (lowered for small sets, which need `n > 3 * perplexity`).
    pub perplexity: f32,
    /// Optimisation iterations.
    pub epochs: usize,
}

impl Default for TsneOptions {
    fn default() -> Self {
        Self { perplexity: 30.0, epochs: 750 }
    }
}

/// A 2-D embedding of `rows` (`dim` values each), two values per row.
///
/// # Errors
/// With fewer than 8 rows, or rows that are not finite.
pub fn tsne(rows: &[f32], dim: usize, opts: TsneOptions) -> anyhow::Result<Vec<f32>> {
    let n = rows.len() / dim.max(1);
    anyhow::ensure!(n >= 8, "t-SNE needs at least 8 codes, got {n}");
    anyhow::ensure!(rows.iter().all(|v| v.is_finite()), "t-SNE: the codes hold a non-finite value");
    // The crate asserts n - 1 >= 3 * perplexity; keep inside that.
    let perplexity = opts.perplexity.min(((n - 1) as f32 / 3.0 - 1.0).max(1.0));
    let pca = Pca::fit(rows, dim);
    let mut init: Vec<f32> = pca.project(rows, 2).into_iter().map(|v| v as f32).collect();
    if pca.components.len() < 2 {
        init = (0..n).flat_map(|i| [i as f32, 0.0]).collect();
    }
    let sd = {
        let m = init.iter().step_by(2).sum::<f32>() / n as f32;
        (init.iter().step_by(2).map(|x| (x - m).powi(2)).sum::<f32>() / n as f32).sqrt().max(f32::MIN_POSITIVE)
    };
    init.iter_mut().for_each(|v| *v *= 1e-4 / sd);
    let samples: Vec<&[f32]> = rows.chunks(dim).collect();
    let mut t: bhtsne::tSNE<'_, f32, &[f32]> = bhtsne::tSNE::new(&samples);
    t.perplexity(perplexity)
        .epochs(opts.epochs)
        .initial_embedding(init)
        .fit_sne(|a, b| a.iter().zip(b.iter()).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt());
    Ok(t.embedding())
}

/// Indices of the `k` nearest neighbours of each row (Euclidean), nearest first, itself excluded.
fn neighbours(rows: &[f32], dim: usize, k: usize) -> Vec<Vec<usize>> {
    let n = rows.len() / dim;
    (0..n)
        .map(|i| {
            let a = &rows[i * dim..(i + 1) * dim];
            let mut d: Vec<(f32, usize)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (a.iter().zip(&rows[j * dim..(j + 1) * dim]).map(|(x, y)| (x - y) * (x - y)).sum(), j))
                .collect();
            d.sort_by(|x, y| x.0.total_cmp(&y.0));
            let mut v: Vec<usize> = d.into_iter().map(|(_, j)| j).collect();
            v.truncate(k);
            v
        })
        .collect()
}

/// Trustworthiness of `embedded` (2 values per row) for `rows` with `k` neighbours: 1 when every
/// point's embedded neighbours are also its neighbours among the codes, lower for each intruder
/// (weighted by how far it really is). Quadratic in the rows: for checks on a few thousand.
#[must_use]
pub fn trustworthiness(rows: &[f32], dim: usize, embedded: &[f32], k: usize) -> f64 {
    let n = rows.len() / dim;
    let rank = neighbours(rows, dim, usize::MAX);
    let near = neighbours(embedded, 2, k);
    let mut penalty = 0f64;
    for i in 0..n {
        let mut r = vec![0usize; n];
        for (pos, &j) in rank[i].iter().enumerate() {
            r[j] = pos + 1;
        }
        for &j in &near[i] {
            if r[j] > k {
                penalty += (r[j] - k) as f64;
            }
        }
    }
    let (n, k) = (n as f64, k as f64);
    1.0 - 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)) * penalty
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::rng::SplitMix64;

    /// Three clusters in 10 dimensions: t-SNE keeps neighbourhoods (trustworthiness) and each
    /// point's embedded neighbour is of its own cluster.
    #[test]
    fn keeps_clusters_and_neighbourhoods() {
        let mut rng = SplitMix64::new(9);
        let (n, dim) = (300, 10);
        let labels: Vec<usize> = (0..n).map(|i| i % 3).collect();
        let rows: Vec<f32> = labels
            .iter()
            .flat_map(|&c| (0..dim).map(|d| (if d == c { 8.0 } else { 0.0 }) + rng.normal()).collect::<Vec<_>>())
            .map(|v| v as f32)
            .collect();
        let e = tsne(&rows, dim, TsneOptions { perplexity: 30.0, epochs: 500 }).unwrap();
        assert_eq!(e.len(), 2 * n);
        let t = trustworthiness(&rows, dim, &e, 10);
        assert!(t > 0.85, "trustworthiness {t}");
        let nn = neighbours(&e, 2, 1);
        let same = (0..n).filter(|&i| labels[nn[i][0]] == labels[i]).count();
        assert!(same as f64 > 0.97 * n as f64, "{same} of {n}");
        // A random embedding is far less trustworthy.
        let random: Vec<f32> = (0..2 * n).map(|_| rng.normal() as f32).collect();
        assert!(trustworthiness(&rows, dim, &random, 10) < t - 0.1);
        assert!(tsne(&rows[..dim * 5], dim, TsneOptions::default()).is_err());
    }
}
