//! Principal component analysis of codes: the covariance matrix's eigenvectors by the cyclic
//! Jacobi method (exact for the small dimensions of codes; no linear-algebra dependency needed).

/// A fitted PCA.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// Mean of each input dimension.
    pub mean: Vec<f64>,
    /// Components, largest variance first, each a unit vector of the input's dimension.
    pub components: Vec<Vec<f64>>,
    /// Variance along each component.
    pub variance: Vec<f64>,
}

impl Pca {
    /// Fits `rows` (`dim` values each).
    #[must_use]
    // Index loops mirror the matrix formulas.
    #[allow(clippy::needless_range_loop)]
    pub fn fit(rows: &[f32], dim: usize) -> Self {
        let n = (rows.len() / dim.max(1)).max(1);
        let mut mean = vec![0f64; dim];
        for r in rows.chunks(dim) {
            for (m, &v) in mean.iter_mut().zip(r) {
                *m += f64::from(v) / n as f64;
            }
        }
        let mut cov = vec![vec![0f64; dim]; dim];
        for r in rows.chunks(dim) {
            for i in 0..dim {
                let a = f64::from(r[i]) - mean[i];
                for j in i..dim {
                    cov[i][j] += a * (f64::from(r[j]) - mean[j]);
                }
            }
        }
        let denom = (n.max(2) - 1) as f64;
        for i in 0..dim {
            for j in i..dim {
                cov[i][j] /= denom;
                cov[j][i] = cov[i][j];
            }
        }
        let (values, vectors) = jacobi(cov);
        let mut order: Vec<usize> = (0..dim).collect();
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
        Self {
            mean,
            components: order.iter().map(|&k| (0..dim).map(|i| vectors[i][k]).collect()).collect(),
            variance: order.iter().map(|&k| values[k].max(0.0)).collect(),
        }
    }

    /// Share of the total variance each component explains.
    #[must_use]
    pub fn explained_ratio(&self) -> Vec<f64> {
        let total: f64 = self.variance.iter().sum();
        self.variance.iter().map(|v| if total > 0.0 { v / total } else { 0.0 }).collect()
    }

    /// The first `k` coordinates of each row.
    #[must_use]
    pub fn project(&self, rows: &[f32], k: usize) -> Vec<f64> {
        let dim = self.mean.len();
        let mut out = Vec::with_capacity(rows.len() / dim.max(1) * k);
        for r in rows.chunks(dim) {
            for c in self.components.iter().take(k) {
                out.push(r.iter().zip(&self.mean).zip(c).map(|((&x, m), w)| (f64::from(x) - m) * w).sum());
            }
        }
        out
    }
}

/// Eigenvalues and eigenvectors (columns) of a symmetric matrix.
#[allow(clippy::needless_range_loop)]
fn jacobi(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect()).collect();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        let scale: f64 = (0..n).map(|i| a[i][i] * a[i][i]).sum::<f64>().max(f64::MIN_POSITIVE);
        if off <= 1e-22 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in &mut v {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i][i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::rng::SplitMix64;

    /// Points stretched along a known direction: the first component finds it and explains what
    /// the construction says.
    #[test]
    fn finds_a_known_direction_and_its_variance() {
        let mut rng = SplitMix64::new(4);
        let dir = [0.6f64, 0.8, 0.0];
        let rows: Vec<f32> = (0..4000)
            .flat_map(|_| {
                let (a, b, c) = (3.0 * rng.normal(), 0.5 * rng.normal(), 0.1 * rng.normal());
                // a along dir, b along (-0.8, 0.6, 0), c along z
                [(a * dir[0] - b * 0.8) as f32 + 1.0, (a * dir[1] + b * 0.6) as f32 - 2.0, c as f32]
            })
            .collect();
        let p = Pca::fit(&rows, 3);
        let cos = p.components[0].iter().zip(dir).map(|(x, y)| x * y).sum::<f64>().abs();
        assert!(cos > 0.999, "{:?}", p.components[0]);
        assert!((p.variance[0] - 9.0).abs() < 0.5 && (p.variance[1] - 0.25).abs() < 0.03, "{:?}", p.variance);
        let r = p.explained_ratio();
        assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-9 && r[0] > 0.95);
        assert!((p.mean[0] - 1.0).abs() < 0.2 && (p.mean[1] + 2.0).abs() < 0.2);
        // Projections are centred and as spread as the variances say.
        let proj = p.project(&rows, 2);
        let m0 = proj.iter().step_by(2).sum::<f64>() / 4000.0;
        assert!(m0.abs() < 1e-9, "{m0}");
    }
}
