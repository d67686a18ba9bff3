//! Batch norm (batch statistics), ReLU and 2x2 max pooling every 2 as one operation on NCHW
//! `f32` slices, forward and backward: the CNN's block ending.
//!
//! Why fused: apart, the three write and reread the full-size activation several times (the
//! normalised output, the pooling's input, a mostly-zero gradient as large as the input, and the
//! batch norm's three passes over it); in a CNN step that traffic cost more than the arithmetic.
//! Fused, the forward writes only the pooled output and each window's winner (a byte), and the
//! backward reads the pooled gradient and the winners instead of a full-size gradient. Results are
//! those of [`super::batch_norm`] with its ReLU followed by [`super::max_pool`] (ties and NaNs
//! included), up to the order of the floating-point sums.

use rayon::prelude::*;

use super::batch_norm::{InputGrad, Statistics, check, parameter_grads, per_channel_pairs, scale_shift, statistics};
use super::max_pool::first_max;

/// Values per parallel task: whole planes, enough that a task outweighs handing it out.
const VALUES_PER_TASK: usize = 16 * 1024;

/// Planes of `x` `[batch, channels, h, w]` and the pooled side.
fn shape(x: usize, channels: usize, [h, w]: [usize; 2]) -> [usize; 2] {
    assert!(h >= 2 && w >= 2, "batch norm + pooling: a {h}x{w} image has no 2x2 window");
    check(x, channels, h * w);
    [h / 2, w / 2]
}

/// The winner code of a window whose maximum is not positive: no gradient passes the ReLU.
pub const NO_WINNER: u8 = 4;

/// One window's four outputs (ReLU'd) from its four inputs, in scan order.
#[inline(always)]
fn outputs(x: [f32; 4], scale: f32, shift: f32) -> [f32; 4] {
    x.map(|v| (v * scale + shift).max(0.0))
}

/// Index in its plane (`iw` wide) of value `code` (0 to 3, scan order) of window `(oy, ox)`.
#[inline(always)]
fn winner_at(code: u8, oy: usize, ox: usize, iw: usize) -> usize {
    (2 * oy + usize::from(code >> 1)) * iw + 2 * ox + usize::from(code & 1)
}

/// Calls `f(g, i)` for each window of a plane (`ow` windows per line, `iw` values per line) that
/// has a winner: the window's gradient `g` and its winner's index `i` in the plane.
#[inline(always)]
fn each_winner(g: &[f32], codes: &[u8], [ow, iw]: [usize; 2], mut f: impl FnMut(f32, usize)) {
    for (oy, (gs, cs)) in g.chunks_exact(ow).zip(codes.chunks_exact(ow)).enumerate() {
        for (ox, (&g, &code)) in gs.iter().zip(cs).enumerate() {
            assert!(code <= NO_WINNER, "batch norm + pooling: winner code {code}");
            if code != NO_WINNER {
                f(g, winner_at(code, oy, ox, iw));
            }
        }
    }
}

/// `max_pool_2x2(relu(batch_norm(x)))` for `x` `[batch, channels, h, w]`; each window's winner
/// (its index 0 to 3 in scan order, [`NO_WINNER`] when the maximum is 0); each channel's batch
/// mean and biased variance.
///
/// # Panics
/// When the lengths disagree, or a side is below 2.
#[must_use]
pub fn forward(
    x: &[f32],
    channels: usize,
    size: [usize; 2],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
) -> (Vec<f32>, Vec<u8>, Vec<f32>, Vec<f32>) {
    let [oh, ow] = shape(x.len(), channels, size);
    assert!(gamma.len() == channels && beta.len() == channels, "batch norm: gamma and beta need {channels} values");
    let (pixels, iw) = (size[0] * size[1], size[1]);
    let (mean, var) = statistics(x, channels, pixels);
    let stats = Statistics { mean: &mean, var: &var, epsilon };
    let per_task = VALUES_PER_TASK.div_ceil(pixels).max(1);
    let pooled = x.len() / pixels * oh * ow;
    let (mut out, mut winners) = (vec![0.0; pooled], vec![0_u8; pooled]);
    let outs = out.par_chunks_mut(per_task * oh * ow).zip(winners.par_chunks_mut(per_task * oh * ow));
    outs.zip(x.par_chunks(per_task * pixels)).enumerate().for_each(|(task, ((out, codes), xs))| {
        let each = out.chunks_exact_mut(oh * ow).zip(codes.chunks_exact_mut(oh * ow)).zip(xs.chunks_exact(pixels));
        for (i, ((out, codes), plane)) in each.enumerate() {
            let (scale, shift) = scale_shift((task * per_task + i) % channels, gamma, beta, stats);
            let lines = out.chunks_exact_mut(ow).zip(codes.chunks_exact_mut(ow));
            for (oy, (line, codes)) in lines.enumerate() {
                let (r0, r1) = (&plane[2 * oy * iw..][..2 * ow], &plane[(2 * oy + 1) * iw..][..2 * ow]);
                let windows = r0.chunks_exact(2).zip(r1.chunks_exact(2));
                for ((o, code), (t, b)) in line.iter_mut().zip(codes.iter_mut()).zip(windows) {
                    let (wins, max) = first_max(outputs([t[0], t[1], b[0], b[1]], scale, shift));
                    let index = u8::from(wins[1]) + 2 * u8::from(wins[2]) + 3 * u8::from(wins[3]);
                    *o = max;
                    *code = if max > 0.0 { index } else { NO_WINNER };
                }
            }
        }
    });
    (out, winners, mean, var)
}

/// Gradients of [`forward`] with respect to `x`, `gamma` and `beta`, from the gradient `dy` of
/// the pooled output, the winners and the statistics [`forward`] returned.
///
/// # Panics
/// When the lengths disagree, a side is below 2, or a winner code is above [`NO_WINNER`].
#[must_use]
pub fn backward(
    x: &[f32],
    dy: &[f32],
    winners: &[u8],
    channels: usize,
    size: [usize; 2],
    gamma: &[f32],
    stats: Statistics<'_>,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let [oh, ow] = shape(x.len(), channels, size);
    let (pixels, iw) = (size[0] * size[1], size[1]);
    let planes = x.len() / pixels;
    assert_eq!(dy.len(), planes * oh * ow, "batch norm + pooling: the output gradient has {} values", dy.len());
    assert_eq!(winners.len(), dy.len(), "batch norm + pooling: {} winners", winners.len());
    assert!(
        [gamma.len(), stats.mean.len(), stats.var.len()].iter().all(|&n| n == channels),
        "batch norm: {channels} channels"
    );
    // Per channel: the sums of g and of g * (x - mean), g the gradient reaching the batch norm's
    // output: the pooled gradient at each window's winner.
    let sums = per_channel_pairs(x.len(), channels, pixels, |c, r| {
        let plane = &x[r.clone()];
        let at = r.start / pixels * oh * ow;
        let m = stats.mean[c];
        let (mut sum_g, mut sum_gx) = (0.0_f32, 0.0_f32);
        each_winner(&dy[at..][..oh * ow], &winners[at..][..oh * ow], [ow, iw], |g, i| {
            sum_g += g;
            sum_gx += g * (plane[i] - m);
        });
        [f64::from(sum_g), f64::from(sum_gx)]
    });
    let count = x.len() / channels;
    let per_task = VALUES_PER_TASK.div_ceil(pixels).max(1);
    let mut dx = vec![0.0; x.len()];
    let inputs = x.par_chunks(per_task * pixels).zip(dy.par_chunks(per_task * oh * ow));
    let inputs = inputs.zip(winners.par_chunks(per_task * oh * ow));
    dx.par_chunks_mut(per_task * pixels).zip(inputs).enumerate().for_each(|(task, (ds, ((xs, gs), codes)))| {
        let each = ds.chunks_exact_mut(pixels).zip(xs.chunks_exact(pixels));
        let each = each.zip(gs.chunks_exact(oh * ow).zip(codes.chunks_exact(oh * ow)));
        for (i, ((d, plane), (g, codes))) in each.enumerate() {
            let c = (task * per_task + i) % channels;
            let InputGrad { a, b, e } = InputGrad::new(c, gamma, stats, sums[c], count);
            // Every value gets b * x + e (rows and columns outside the windows too); a window's
            // winner also gets a * g.
            d.iter_mut().zip(plane).for_each(|(d, x)| *d = b * x + e);
            each_winner(g, codes, [ow, iw], |g, i| d[i] += a * g);
        }
    });
    let (dgamma, dbeta) = parameter_grads(&sums, stats);
    (dx, dgamma, dbeta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{batch_norm, max_pool};

    /// The fused operation against batch norm + ReLU, then pooling, on odd sides and ties (equal
    /// values, all-negative windows).
    #[test]
    fn matches_batch_norm_relu_then_pooling() {
        for (n, c, [h, w]) in [(2, 3, [4, 4]), (3, 2, [7, 7]), (2, 1, [5, 6]), (1, 2, [2, 3])] {
            let pixels = h * w;
            let x: Vec<f32> = (0..n * c * pixels).map(|i| ((i * 7919) % 11) as f32 / 5.0 - 1.0).collect();
            let gamma: Vec<f32> = (0..c).map(|i| 0.5 + i as f32).collect();
            let beta: Vec<f32> = (0..c).map(|i| 0.1 * i as f32 - 0.2).collect();
            let s = max_pool::PoolShape { planes: n * c, in_size: [h, w], kernel: [2, 2], stride: [2, 2] };
            let (y, mean, var) = batch_norm::forward(&x, c, pixels, &gamma, &beta, 1e-5, true);
            let want = max_pool::forward(&s, &y);
            let (got, winners, gmean, gvar) = forward(&x, c, [h, w], &gamma, &beta, 1e-5);
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "{n}x{c}x{h}x{w}: outputs");
            assert_eq!((gmean.clone(), gvar.clone()), (mean.clone(), var.clone()));
            let g: Vec<f32> = (0..got.len()).map(|i| ((i * 31) % 7) as f32 - 3.0).collect();
            let stats = Statistics { mean: &mean, var: &var, epsilon: 1e-5 };
            let dy = max_pool::backward(&s, &y, &g);
            let (dx0, dgamma0, dbeta0) = batch_norm::backward(&x, &dy, c, pixels, &gamma, stats, Some(&y));
            let (dx, dgamma, dbeta) = backward(&x, &g, &winners, c, [h, w], &gamma, stats);
            for (what, a, b) in [("dx", &dx, &dx0), ("dgamma", &dgamma, &dgamma0), ("dbeta", &dbeta, &dbeta0)] {
                assert_eq!(a.len(), b.len());
                for (i, (u, v)) in a.iter().zip(b.iter()).enumerate() {
                    assert!((u - v).abs() <= 1e-5 * v.abs().max(1.0), "{n}x{c}x{h}x{w}: {what}[{i}] {u} against {v}");
                }
            }
        }
    }
}
