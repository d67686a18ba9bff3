//! Batch normalisation in training (batch statistics) on NCHW `f32` slices, forward and
//! backward, each channel's values read as whole contiguous planes; optionally through the ReLU
//! that follows every batch norm of the models, in the same passes.
//!
//! Why by hand: burn 0.22's default `batch_norm_train` and its backward take the statistics
//! after swapping the batch and channel axes, which flex pays for with a transposing copy of the
//! activation (about 15% of a CNN epoch here).

use rayon::prelude::*;

use super::lanes::lane_sum;
use super::lanes::lane_sum3;

/// Per-channel sums of `f(channel, plane)` over the planes (`pixels` values each) of
/// `[batch, channels, pixels]`; each channel's planes in order, so the result is deterministic.
pub(super) fn per_channel(
    len: usize,
    channels: usize,
    pixels: usize,
    f: impl Fn(usize, std::ops::Range<usize>) -> f64 + Sync,
) -> Vec<f64> {
    per_channel_pairs(len, channels, pixels, |c, r| [f(c, r), 0.0]).into_iter().map(|[s, _]| s).collect()
}

/// [`per_channel`] for two sums at once.
pub(super) fn per_channel_pairs(
    len: usize,
    channels: usize,
    pixels: usize,
    f: impl Fn(usize, std::ops::Range<usize>) -> [f64; 2] + Sync,
) -> Vec<[f64; 2]> {
    let planes = len / pixels;
    (0..channels)
        .into_par_iter()
        .map(|c| {
            (c..planes).step_by(channels).fold([0.0, 0.0], |[a, b], plane| {
                let [x, y] = f(c, plane * pixels..(plane + 1) * pixels);
                [a + x, b + y]
            })
        })
        .collect()
}

pub(super) fn check(x: usize, channels: usize, pixels: usize) {
    assert!(
        channels > 0 && pixels > 0 && x.is_multiple_of(channels * pixels),
        "batch norm: {x} values are not whole [{channels}, {pixels}] images"
    );
}

/// Each channel's batch mean and biased variance of `x` (`[batch, channels, pixels]`).
pub(super) fn statistics(x: &[f32], channels: usize, pixels: usize) -> (Vec<f32>, Vec<f32>) {
    let count = (x.len() / channels) as f64;
    let mean: Vec<f32> = per_channel(x.len(), channels, pixels, |_, r| lane_sum(&x[r.clone()], &x[r], |v, _| v))
        .iter()
        .map(|s| (s / count) as f32)
        .collect();
    let var = per_channel(x.len(), channels, pixels, |c, r| {
        let m = mean[c];
        lane_sum(&x[r.clone()], &x[r], |v, _| (v - m) * (v - m))
    })
    .iter()
    .map(|s| (s / count) as f32)
    .collect();
    (mean, var)
}

/// Channel `c`'s output as `x * scale + shift`, from the statistics as [`statistics`] returns
/// them: the same two numbers wherever they are computed, so that a backward pass that
/// recomputes an output gets the forward's bits.
pub(super) fn scale_shift(c: usize, gamma: &[f32], beta: &[f32], stats: Statistics<'_>) -> (f32, f32) {
    let scale = f64::from(gamma[c]) / (f64::from(stats.var[c]) + stats.epsilon).sqrt();
    (scale as f32, (f64::from(beta[c]) - f64::from(stats.mean[c]) * scale) as f32)
}

/// The normalised, scaled and shifted `x` (`[batch, channels, pixels]`), through a ReLU when
/// `relu`, and the batch mean and biased variance of each channel.
///
/// # Panics
/// When the lengths disagree.
#[must_use]
pub fn forward(
    x: &[f32],
    channels: usize,
    pixels: usize,
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
    relu: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    check(x.len(), channels, pixels);
    assert!(gamma.len() == channels && beta.len() == channels, "batch norm: gamma and beta need {channels} values");
    let (mean, var) = statistics(x, channels, pixels);
    let stats = Statistics { mean: &mean, var: &var, epsilon };
    let mut out = vec![0.0; x.len()];
    out.par_chunks_mut(pixels).zip(x.par_chunks(pixels)).enumerate().for_each(|(plane, (o, xs))| {
        let (scale, shift) = scale_shift(plane % channels, gamma, beta, stats);
        if relu {
            o.iter_mut().zip(xs).for_each(|(o, x)| *o = (x * scale + shift).max(0.0));
        } else {
            o.iter_mut().zip(xs).for_each(|(o, x)| *o = x * scale + shift);
        }
    });
    (out, mean, var)
}

/// What [`forward`] normalised with: each channel's mean and biased variance, and epsilon.
#[derive(Debug, Clone, Copy)]
pub struct Statistics<'a> {
    pub mean: &'a [f32],
    pub var: &'a [f32],
    pub epsilon: f64,
}

/// Gradients of [`forward`] with respect to `x`, `gamma` and `beta`, given the output gradient
/// `dy` and the statistics [`forward`] returned; `relu_out` is the output when [`forward`] ran
/// with its ReLU (the gradient passes where it is positive).
///
/// # Panics
/// When the lengths disagree.
#[must_use]
pub fn backward(
    x: &[f32],
    dy: &[f32],
    channels: usize,
    pixels: usize,
    gamma: &[f32],
    stats: Statistics<'_>,
    relu_out: Option<&[f32]>,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    check(x.len(), channels, pixels);
    assert_eq!(x.len(), dy.len(), "batch norm: the output gradient has {} values, the input {}", dy.len(), x.len());
    assert!(
        gamma.len() == channels && stats.mean.len() == channels && stats.var.len() == channels,
        "batch norm: {channels} channels"
    );
    let shape = [channels, pixels];
    match relu_out {
        None => backward_through(x, dy, dy, |d, _| d, shape, gamma, stats),
        Some(y) => {
            assert_eq!(y.len(), x.len(), "batch norm: the ReLU output has {} values, the input {}", y.len(), x.len());
            backward_through(x, dy, y, |d, y| if y > 0.0 { d } else { 0.0 }, shape, gamma, stats)
        }
    }
}

/// [`backward`] with the gradient reaching the batch norm's output as `pass(dy, y)`.
fn backward_through(
    x: &[f32],
    dy: &[f32],
    y: &[f32],
    pass: impl Fn(f32, f32) -> f32 + Sync + Copy,
    [channels, pixels]: [usize; 2],
    gamma: &[f32],
    stats: Statistics<'_>,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let count = x.len() / channels;
    let sums = per_channel_pairs(x.len(), channels, pixels, |c, r| {
        let m = stats.mean[c];
        [
            lane_sum(&dy[r.clone()], &y[r.clone()], pass),
            lane_sum3(&dy[r.clone()], &y[r.clone()], &x[r], |d, y, v| pass(d, y) * (v - m)),
        ]
    });
    let mut dx = vec![0.0; x.len()];
    let inputs = x.par_chunks(pixels).zip(dy.par_chunks(pixels).zip(y.par_chunks(pixels)));
    dx.par_chunks_mut(pixels).zip(inputs).enumerate().for_each(|(plane, (d, (xs, (dys, ys))))| {
        let c = plane % channels;
        let InputGrad { a, b, e } = InputGrad::new(c, gamma, stats, sums[c], count);
        let each = d.iter_mut().zip(xs.iter().zip(dys.iter().zip(ys)));
        each.for_each(|(d, (x, (dy, y)))| *d = a * pass(*dy, *y) + b * x + e);
    });
    let (dgamma, dbeta) = parameter_grads(&sums, stats);
    (dx, dgamma, dbeta)
}

/// The input gradient of channel `c` as `a * g + b * x + e`, `g` the gradient reaching the batch
/// norm's output: `gamma * inv_std * (g - mean(g) - xhat * mean(g * xhat))`.
pub(super) struct InputGrad {
    pub a: f32,
    pub b: f32,
    pub e: f32,
}

impl InputGrad {
    /// From the channel's sums of `g` and of `g * (x - mean)` over its `count` values.
    pub(super) fn new(c: usize, gamma: &[f32], stats: Statistics<'_>, [sum_g, sum_gx]: [f64; 2], count: usize) -> Self {
        let inv_std = 1.0 / (f64::from(stats.var[c]) + stats.epsilon).sqrt();
        let k = f64::from(gamma[c]) * inv_std;
        let (m_g, m_gx) = (sum_g / count as f64, sum_gx * inv_std / count as f64);
        Self {
            a: k as f32,
            b: (-k * m_gx * inv_std) as f32,
            e: (-k * m_g + k * m_gx * inv_std * f64::from(stats.mean[c])) as f32,
        }
    }
}

/// The gradients of gamma and beta from each channel's sums of `g` and of `g * (x - mean)`.
pub(super) fn parameter_grads(sums: &[[f64; 2]], stats: Statistics<'_>) -> (Vec<f32>, Vec<f32>) {
    let dgamma =
        sums.iter().zip(stats.var).map(|([_, gx], &v)| (gx / (f64::from(v) + stats.epsilon).sqrt()) as f32).collect();
    (dgamma, sums.iter().map(|[g, _]| *g as f32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 1.5
            })
            .collect()
    }

    /// The loss `sum(out * r)` at `x`, for finite differences.
    fn loss(x: &[f32], c: usize, p: usize, gamma: &[f32], beta: &[f32], r: &[f32], relu: bool) -> f64 {
        let (out, _, _) = forward(x, c, p, gamma, beta, 1e-5, relu);
        out.iter().zip(r).map(|(o, r)| f64::from(*o) * f64::from(*r)).sum()
    }

    #[test]
    fn statistics_and_output_match_the_definition() {
        let (n, c, p) = (3, 2, 5);
        let x = values(n * c * p, 1);
        let (gamma, beta) = (vec![1.5, -0.5], vec![0.25, 2.0]);
        let (out, mean, var) = forward(&x, c, p, &gamma, &beta, 1e-5, false);
        let (relu_out, _, _) = forward(&x, c, p, &gamma, &beta, 1e-5, true);
        assert_eq!(relu_out, out.iter().map(|v| v.max(0.0)).collect::<Vec<_>>());
        for ch in 0..c {
            let vals: Vec<f64> =
                (0..n).flat_map(|b| (0..p).map(move |i| (b * c + ch) * p + i)).map(|i| f64::from(x[i])).collect();
            let m = vals.iter().sum::<f64>() / vals.len() as f64;
            let v = vals.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / vals.len() as f64;
            assert!((f64::from(mean[ch]) - m).abs() < 1e-6 && (f64::from(var[ch]) - v).abs() < 1e-6);
            for b in 0..n {
                for i in 0..p {
                    let j = (b * c + ch) * p + i;
                    let want = (f64::from(x[j]) - m) / (v + 1e-5).sqrt() * f64::from(gamma[ch]) + f64::from(beta[ch]);
                    assert!((f64::from(out[j]) - want).abs() < 1e-5, "{} against {want}", out[j]);
                }
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let (n, c, p) = (4, 3, 6);
        let x = values(n * c * p, 2);
        let r = values(n * c * p, 3);
        let (gamma, beta) = (vec![0.7, 1.3, -0.4], vec![0.1, 0.0, -0.2]);
        let (_, mean, var) = forward(&x, c, p, &gamma, &beta, 1e-5, false);
        let stats = Statistics { mean: &mean, var: &var, epsilon: 1e-5 };
        let (dx, dgamma, dbeta) = backward(&x, &r, c, p, &gamma, stats, None);
        let h = 1e-2_f32;
        let numeric = |bump: &dyn Fn(f32) -> f64| (bump(h) - bump(-h)) / (2.0 * f64::from(h));
        for i in (0..x.len()).step_by(5) {
            let want = numeric(&|d| {
                let mut xs = x.clone();
                xs[i] += d;
                loss(&xs, c, p, &gamma, &beta, &r, false)
            });
            assert!((f64::from(dx[i]) - want).abs() < 2e-3 * (1.0 + want.abs()), "dx[{i}] {} against {want}", dx[i]);
        }
        for ch in 0..c {
            let g = numeric(&|d| {
                let mut gs = gamma.clone();
                gs[ch] += d;
                loss(&x, c, p, &gs, &beta, &r, false)
            });
            let b = numeric(&|d| {
                let mut bs = beta.clone();
                bs[ch] += d;
                loss(&x, c, p, &gamma, &bs, &r, false)
            });
            assert!((f64::from(dgamma[ch]) - g).abs() < 2e-3 * (1.0 + g.abs()), "dgamma {} against {g}", dgamma[ch]);
            assert!((f64::from(dbeta[ch]) - b).abs() < 2e-3 * (1.0 + b.abs()), "dbeta {} against {b}", dbeta[ch]);
        }
    }

    /// Through the ReLU, the gradients are those of the plain batch norm for the output gradient
    /// masked where the ReLU's output is zero (the chain rule; the plain ones are checked above).
    #[test]
    fn gradients_through_the_relu_are_the_masked_ones() {
        let (n, c, p) = (5, 4, 9);
        let x = values(n * c * p, 4);
        let r = values(n * c * p, 5);
        let (gamma, beta) = (vec![0.7, 1.3, -0.4, 1.0], vec![0.1, 0.0, -0.2, 0.5]);
        let (y, mean, var) = forward(&x, c, p, &gamma, &beta, 1e-5, true);
        assert!(y.contains(&0.0) && y.iter().any(|&v| v > 0.0), "the ReLU cuts some values, not all");
        let stats = Statistics { mean: &mean, var: &var, epsilon: 1e-5 };
        let masked: Vec<f32> = r.iter().zip(&y).map(|(d, y)| if *y > 0.0 { *d } else { 0.0 }).collect();
        let want = backward(&x, &masked, c, p, &gamma, stats, None);
        let got = backward(&x, &r, c, p, &gamma, stats, Some(&y));
        for (g, w) in [(&got.0, &want.0), (&got.1, &want.1), (&got.2, &want.2)] {
            for (a, b) in g.iter().zip(w.iter()) {
                assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} against {b}");
            }
        }
    }
}
