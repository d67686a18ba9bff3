//! 2-D max pooling (no padding, no dilation) on NCHW `f32` slices, forward and backward.
//!
//! Why by hand: burn-flex 0.22 pools through a general path with an index tensor and scatters
//! its gradient one value at a time; in a CNN epoch that was the largest cost after the
//! convolutions. Here the backward pass finds each window's maximum again from the input
//! (the first one in scan order, as burn does) instead of keeping indices.

use rayon::prelude::*;

/// Shape of a pooling: planes of `in_size` pixels, windows of `kernel` every `stride`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolShape {
    pub planes: usize,
    pub in_size: [usize; 2],
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
}

impl PoolShape {
    /// The output side: `(in - kernel) / stride + 1`; `None` when the kernel does not fit or a
    /// stride is 0.
    #[must_use]
    pub fn out_size(&self) -> Option<[usize; 2]> {
        let side = |i: usize| {
            (self.stride[i] > 0 && self.kernel[i] > 0 && self.in_size[i] >= self.kernel[i])
                .then(|| (self.in_size[i] - self.kernel[i]) / self.stride[i] + 1)
        };
        Some([side(0)?, side(1)?])
    }

    /// 2x2 windows every 2 pixels: the CNN's pooling, with its own loops.
    fn is_2x2(&self) -> bool {
        self.kernel == [2, 2] && self.stride == [2, 2]
    }
}

/// Input values per parallel task: whole planes, enough of them that a task outweighs rayon's
/// cost of handing it out.
const PLANES_PER_TASK: usize = 16 * 1024;

/// Whether `x`, later in scan order, replaces `best` as a window's maximum: when larger, or when a
/// NaN (as in burn, so that the pooling does not hide a NaN) and `best` is not.
#[inline(always)]
fn beats(x: f32, best: f32) -> bool {
    (x > best) | (x.is_nan() & !best.is_nan())
}

/// Which of four values (in scan order) is the first maximum, a NaN winning as in [`argmax`],
/// as one flag per value, and that value. Flags and selects rather than an index and branches:
/// which value wins is a coin toss the CPU cannot predict, and flags let the loops vectorise.
#[inline(always)]
pub(super) fn first_max([a, b, c, d]: [f32; 4]) -> ([bool; 4], f32) {
    let b_wins = beats(b, a);
    let ab = if b_wins { b } else { a };
    let c_wins = beats(c, ab);
    let abc = if c_wins { c } else { ab };
    let d_wins = beats(d, abc);
    let max = if d_wins { d } else { abc };
    let (later_c, later_b) = (!d_wins, !c_wins & !d_wins);
    ([!b_wins & later_b, b_wins & later_b, c_wins & later_c, d_wins], max)
}

/// Index within its plane of the first maximum of the window at `(oy, ox)`.
fn argmax(s: &PoolShape, plane: &[f32], oy: usize, ox: usize) -> usize {
    let iw = s.in_size[1];
    let mut best = (oy * s.stride[0]) * iw + ox * s.stride[1];
    for ky in 0..s.kernel[0] {
        let row = (oy * s.stride[0] + ky) * iw + ox * s.stride[1];
        for i in row..row + s.kernel[1] {
            if beats(plane[i], plane[best]) {
                best = i;
            }
        }
    }
    best
}

fn planes(s: &PoolShape, x: usize) -> [usize; 2] {
    let out = s.out_size().unwrap_or_else(|| panic!("max pool: a {:?} window does not fit {:?}", s.kernel, s.in_size));
    assert_eq!(
        x,
        s.planes * s.in_size[0] * s.in_size[1],
        "max pool: {x} values do not make {} planes of {:?}",
        s.planes,
        s.in_size
    );
    out
}

/// The maximum of each window.
///
/// # Panics
/// When the lengths disagree with `s`.
#[must_use]
pub fn forward(s: &PoolShape, x: &[f32]) -> Vec<f32> {
    let [oh, ow] = planes(s, x.len());
    let in_plane = s.in_size[0] * s.in_size[1];
    let mut y = vec![0.0; s.planes * oh * ow];
    let per_task = PLANES_PER_TASK.div_ceil(in_plane).max(1);
    y.par_chunks_mut(per_task * oh * ow).zip(x.par_chunks(per_task * in_plane)).for_each(|(out, planes)| {
        for (out, plane) in out.chunks_exact_mut(oh * ow).zip(planes.chunks_exact(in_plane)) {
            if s.is_2x2() { pool_2x2(s, plane, out) } else { pool_any(s, plane, out) }
        }
    });
    y
}

fn pool_any(s: &PoolShape, plane: &[f32], out: &mut [f32]) {
    let [_, ow] = s.out_size().expect("the caller checked the shape");
    for (oy, line) in out.chunks_exact_mut(ow).enumerate() {
        for (ox, o) in line.iter_mut().enumerate() {
            *o = plane[argmax(s, plane, oy, ox)];
        }
    }
}

fn pool_2x2(s: &PoolShape, plane: &[f32], out: &mut [f32]) {
    let (iw, ow) = (s.in_size[1], s.in_size[1] / 2);
    for (oy, line) in out.chunks_exact_mut(ow).enumerate() {
        let (r0, r1) = (&plane[2 * oy * iw..][..2 * ow], &plane[(2 * oy + 1) * iw..][..2 * ow]);
        for ((o, t), b) in line.iter_mut().zip(r0.chunks_exact(2)).zip(r1.chunks_exact(2)) {
            *o = first_max([t[0], t[1], b[0], b[1]]).1;
        }
    }
}

/// The gradient with respect to `x`: each window's output gradient added to its maximum.
///
/// # Panics
/// When the lengths disagree with `s`.
#[must_use]
pub fn backward(s: &PoolShape, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let [oh, ow] = planes(s, x.len());
    assert_eq!(dy.len(), s.planes * oh * ow, "max pool: the output gradient has {} values", dy.len());
    let in_plane = s.in_size[0] * s.in_size[1];
    let mut dx = vec![0.0; x.len()];
    let per_task = PLANES_PER_TASK.div_ceil(in_plane).max(1);
    let inputs = x.par_chunks(per_task * in_plane).zip(dy.par_chunks(per_task * oh * ow));
    dx.par_chunks_mut(per_task * in_plane).zip(inputs).for_each(|(ds, (planes, gs))| {
        let each = ds.chunks_exact_mut(in_plane).zip(planes.chunks_exact(in_plane).zip(gs.chunks_exact(oh * ow)));
        for (d, (plane, g)) in each {
            if s.is_2x2() { grad_2x2(s, plane, g, d) } else { grad_any(s, plane, g, d) }
        }
    });
    dx
}

/// Adds each window's gradient `g` to its maximum in `d` (zero on entry).
fn grad_any(s: &PoolShape, plane: &[f32], g: &[f32], d: &mut [f32]) {
    let [_, ow] = s.out_size().expect("the caller checked the shape");
    for (oy, line) in g.chunks_exact(ow).enumerate() {
        for (ox, v) in line.iter().enumerate() {
            d[argmax(s, plane, oy, ox)] += v;
        }
    }
}

/// [`grad_any`] for 2x2 windows every 2, which do not overlap: each window's four input pixels
/// are written in full (its gradient at the maximum, zeros elsewhere), without branches.
fn grad_2x2(s: &PoolShape, plane: &[f32], g: &[f32], d: &mut [f32]) {
    let (iw, ow) = (s.in_size[1], s.in_size[1] / 2);
    for (oy, line) in g.chunks_exact(ow).enumerate() {
        let (r0, r1) = (&plane[2 * oy * iw..][..2 * ow], &plane[(2 * oy + 1) * iw..][..2 * ow]);
        let (top, bottom) = d[2 * oy * iw..].split_at_mut(iw);
        let (d0, d1) = (top[..2 * ow].chunks_exact_mut(2), bottom[..2 * ow].chunks_exact_mut(2));
        let windows = line.iter().zip(r0.chunks_exact(2).zip(r1.chunks_exact(2))).zip(d0.zip(d1));
        for ((&v, (t, b)), (dt, db)) in windows {
            let (wins, _) = first_max([t[0], t[1], b[0], b[1]]);
            let pick = |w: bool| if w { v } else { 0.0 };
            dt[0] = pick(wins[0]);
            dt[1] = pick(wins[1]);
            db[0] = pick(wins[2]);
            db[1] = pick(wins[3]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_gradients_by_hand() {
        // One 4x5 plane, 2x2 windows every 2: the last column is left out.
        let s = PoolShape { planes: 1, in_size: [4, 5], kernel: [2, 2], stride: [2, 2] };
        #[rustfmt::skip]
        let x = [
            1.0, 5.0, 2.0, 2.0, 9.0,
            3.0, 4.0, 2.0, 0.0, 9.0,
            -1.0, -2.0, 7.0, 8.0, 9.0,
            -3.0, -1.0, 8.0, 6.0, 9.0,
        ];
        assert_eq!(forward(&s, &x), vec![5.0, 2.0, -1.0, 8.0]);
        // Ties go to the first maximum in scan order (2.0 at index 2; 8.0 at index 13).
        let dx = backward(&s, &x, &[1.0, 2.0, 3.0, 4.0]);
        let mut want = [0.0; 20];
        want[1] = 1.0;
        want[2] = 2.0;
        want[10] = 3.0;
        want[13] = 4.0;
        assert_eq!(dx, want.to_vec());
        // Overlapping windows add up.
        let s = PoolShape { planes: 1, in_size: [1, 3], kernel: [1, 2], stride: [1, 1] };
        assert_eq!(backward(&s, &[0.0, 1.0, 0.0], &[1.0, 1.0]), vec![0.0, 2.0, 0.0]);
        assert!(PoolShape { planes: 1, in_size: [1, 3], kernel: [2, 2], stride: [1, 1] }.out_size().is_none());
    }

    /// The 2x2 loops against the general ones, on odd sides, ties and NaNs.
    #[test]
    fn the_2x2_path_matches_the_general_one() {
        for in_size in [[28, 28], [7, 7], [5, 8], [2, 3]] {
            let s = PoolShape { planes: 1, in_size, kernel: [2, 2], stride: [2, 2] };
            let [oh, ow] = s.out_size().unwrap();
            // Few distinct values, so that windows hold ties; a NaN in some.
            let plane: Vec<f32> = (0..in_size[0] * in_size[1])
                .map(|i| if i % 23 == 5 { f32::NAN } else { ((i * 7) % 5) as f32 })
                .collect();
            let g: Vec<f32> = (0..oh * ow).map(|i| i as f32 + 1.0).collect();
            let (mut fast, mut any) = (vec![0.0; oh * ow], vec![0.0; oh * ow]);
            pool_2x2(&s, &plane, &mut fast);
            pool_any(&s, &plane, &mut any);
            assert_eq!(format!("{fast:?}"), format!("{any:?}"), "{in_size:?}");
            let (mut fast, mut any) = (vec![0.0; plane.len()], vec![0.0; plane.len()]);
            grad_2x2(&s, &plane, &g, &mut fast);
            grad_any(&s, &plane, &g, &mut any);
            assert_eq!(fast, any, "{in_size:?}");
        }
    }
}
