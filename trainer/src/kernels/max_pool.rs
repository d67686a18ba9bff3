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
}

/// Index within its plane of the first maximum of the window at `(oy, ox)`.
fn argmax(s: &PoolShape, plane: &[f32], oy: usize, ox: usize) -> usize {
    let iw = s.in_size[1];
    let mut best = (oy * s.stride[0]) * iw + ox * s.stride[1];
    for ky in 0..s.kernel[0] {
        let row = (oy * s.stride[0] + ky) * iw + ox * s.stride[1];
        for i in row..row + s.kernel[1] {
            // NaN wins, as in burn, so that a NaN is not hidden by the pooling.
            if plane[i] > plane[best] || (plane[i].is_nan() && !plane[best].is_nan()) {
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
    y.par_chunks_mut(oh * ow).zip(x.par_chunks(in_plane)).for_each(|(out, plane)| {
        for oy in 0..oh {
            for ox in 0..ow {
                out[oy * ow + ox] = plane[argmax(s, plane, oy, ox)];
            }
        }
    });
    y
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
    dx.par_chunks_mut(in_plane).zip(x.par_chunks(in_plane).zip(dy.par_chunks(oh * ow))).for_each(|(d, (plane, g))| {
        for oy in 0..oh {
            for ox in 0..ow {
                d[argmax(s, plane, oy, ox)] += g[oy * ow + ox];
            }
        }
    });
    dx
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
}
