//! 2-D convolution on NCHW `f32` slices, forward and both gradients, as im2col / col2im around
//! one matrix product per group of images, parallel over the batch.
//!
//! Why by hand: burn-flex 0.22 converts NCHW to channels-last on every call and has no backward
//! kernels (the input gradient runs as a transposed convolution, the weight gradient as a
//! convolution over copied, permuted tensors). Here nothing changes layout: the weight `[out, in,
//! kh, kw]` is already the `[out, in*kh*kw]` matrix that multiplies the im2col columns.
//!
//! A transposed convolution is the input gradient of the convolution that maps its output back
//! to its input (burn's `[in, out, kh, kw]` weight is that convolution's weight), so the same
//! three kernels serve both (see the `ops` module).

use rayon::prelude::*;

use super::gemm::{View, matmul};
use super::lanes;

/// Parts a batch is split into for sums over it (weight and bias gradients): fixed, so that the
/// result does not depend on how many threads there are or which finishes first.
const PARTS: usize = 8;

/// Geometry of a convolution with one group and no dilation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    pub batch: usize,
    pub in_channels: usize,
    pub in_size: [usize; 2],
    pub out_channels: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub out_size: [usize; 2],
}

impl ConvShape {
    /// The shape of a convolution; `None` when the kernel does not fit the padded input or a
    /// stride is 0.
    #[must_use]
    pub fn new(
        batch: usize,
        [in_channels, out_channels]: [usize; 2],
        in_size: [usize; 2],
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> Option<Self> {
        let side = |i: usize| {
            let padded = in_size[i] + 2 * padding[i];
            (stride[i] > 0 && kernel[i] > 0 && padded >= kernel[i]).then(|| (padded - kernel[i]) / stride[i] + 1)
        };
        Some(Self {
            batch,
            in_channels,
            in_size,
            out_channels,
            kernel,
            stride,
            padding,
            out_size: [side(0)?, side(1)?],
        })
    }

    /// Rows of the im2col matrix: `in_channels * kh * kw`.
    #[must_use]
    pub fn patch_len(&self) -> usize {
        self.in_channels * self.kernel[0] * self.kernel[1]
    }

    /// Pixels of one output channel.
    #[must_use]
    pub fn out_pixels(&self) -> usize {
        self.out_size[0] * self.out_size[1]
    }

    /// Pixels of one input channel.
    #[must_use]
    pub fn in_pixels(&self) -> usize {
        self.in_size[0] * self.in_size[1]
    }

    /// Values of one input image.
    #[must_use]
    pub fn in_len(&self) -> usize {
        self.in_channels * self.in_pixels()
    }

    /// Values of one output image.
    #[must_use]
    pub fn out_len(&self) -> usize {
        self.out_channels * self.out_pixels()
    }

    /// For stride 1 and padding below the kernel: the convolution from this one's output back to
    /// its input whose forward pass is this one's input gradient.
    fn full_correlation(&self) -> Option<Self> {
        if self.stride != [1, 1] || (0..2).any(|i| self.padding[i] >= self.kernel[i]) {
            return None;
        }
        let padding = [self.kernel[0] - 1 - self.padding[0], self.kernel[1] - 1 - self.padding[1]];
        let full =
            Self::new(self.batch, [self.out_channels, self.in_channels], self.out_size, self.kernel, [1, 1], padding)?;
        (full.out_size == self.in_size).then_some(full)
    }

    /// Images per matrix product: enough columns to keep the product's kernels busy, few enough
    /// that the columns stay in cache.
    fn group(&self) -> usize {
        const COLUMNS: usize = 512;
        const CACHE_FLOATS: usize = 64 * 1024;
        let p = self.out_pixels().max(1);
        let by_columns = COLUMNS.div_ceil(p);
        let by_cache = (CACHE_FLOATS / (self.patch_len() * p).max(1)).max(1);
        by_columns.min(by_cache).clamp(1, self.batch.max(1))
    }
}

/// Where the lines of one tap lie in a padded plane: line `y` of `len` values starts at `start +
/// y * step` and reads every `stride`-th value.
#[derive(Clone, Copy)]
struct Lines {
    start: usize,
    step: usize,
    len: usize,
    stride: usize,
}

/// Calls `lines!(W, S)` with constant `W` (values per line) and `S` (stride) for the widths and
/// strides of the project's models, so that each line is moved by a few vector instructions
/// instead of a `memcpy` call (lines of 7 to 28 values made the calls cost more than the copy);
/// `lines!(len, stride)` with run-time values otherwise.
macro_rules! by_width {
    ($l:expr, $lines:ident) => {
        match ($l.len, $l.stride) {
            (28, 1) => $lines!(28, 1),
            (14, 1) => $lines!(14, 1),
            (7, 1) => $lines!(7, 1),
            (14, 2) => $lines!(14, 2),
            (7, 2) => $lines!(7, 2),
            (3, 2) => $lines!(3, 2),
            (len, stride) => $lines!(len, stride),
        }
    };
}

/// Writes the lines `l` of `src` into `dst`, back to back, each value through `op`.
fn gather(dst: &mut [f32], src: &[f32], l: Lines, op: impl Fn(&mut f32, f32) + Copy) {
    #[inline(always)]
    fn each(dst: &mut [f32], src: &[f32], l: Lines, len: usize, stride: usize, op: impl Fn(&mut f32, f32)) {
        for (y, line) in dst.chunks_exact_mut(len).enumerate() {
            let from = &src[l.start + y * l.step..][..(len - 1) * stride + 1];
            for (i, d) in line.iter_mut().enumerate() {
                op(d, from[i * stride]);
            }
        }
    }
    macro_rules! lines {
        ($w:expr, $s:expr) => {
            each(dst, src, l, $w, $s, op)
        };
    }
    by_width!(l, lines);
}

/// Writes `src`, lines back to back, into the lines `l` of `dst`, each value through `op`.
fn scatter(dst: &mut [f32], src: &[f32], l: Lines, op: impl Fn(&mut f32, f32) + Copy) {
    #[inline(always)]
    fn each(dst: &mut [f32], src: &[f32], l: Lines, len: usize, stride: usize, op: impl Fn(&mut f32, f32)) {
        for (y, line) in src.chunks_exact(len).enumerate() {
            let to = &mut dst[l.start + y * l.step..][..(len - 1) * stride + 1];
            for (i, v) in line.iter().enumerate() {
                op(&mut to[i * stride], *v);
            }
        }
    }
    macro_rules! lines {
        ($w:expr, $s:expr) => {
            each(dst, src, l, $w, $s, op)
        };
    }
    by_width!(l, lines);
}

/// One input plane with its zero border, so that every tap reads inside it: no range checks in
/// the inner loops. `im2col` relies on the border being zero, `col2im` clears it all; a worker's
/// scratch serves one of them per call.
struct Padded {
    data: Vec<f32>,
    width: usize,
}

impl Padded {
    fn new(s: &ConvShape) -> Self {
        let [ph, pw] = [s.in_size[0] + 2 * s.padding[0], s.in_size[1] + 2 * s.padding[1]];
        Self { data: vec![0.0; ph * pw], width: pw }
    }

    /// The interior's lines, one per input row.
    fn interior(&self, s: &ConvShape) -> Lines {
        Lines { start: s.padding[0] * self.width + s.padding[1], step: self.width, len: s.in_size[1], stride: 1 }
    }

    /// Copies `plane` into the interior (the border stays zero).
    fn load(&mut self, s: &ConvShape, plane: &[f32]) {
        let l = self.interior(s);
        scatter(&mut self.data, plane, l, |d, v| *d = v);
    }

    /// Adds the interior to `plane`.
    fn add_interior_to(&self, s: &ConvShape, plane: &mut [f32]) {
        gather(plane, &self.data, self.interior(s), |d, v| *d += v);
    }

    /// The lines tap `(ky, kx)` reads, one per output row.
    fn lines(&self, s: &ConvShape, ky: usize, kx: usize) -> Lines {
        Lines { start: ky * self.width + kx, step: s.stride[0] * self.width, len: s.out_size[1], stride: s.stride[1] }
    }
}

/// Writes the im2col columns of `images` (`n` images) into `cols`, `[patch_len, n * out_pixels]`.
fn im2col(s: &ConvShape, images: &[f32], n: usize, cols: &mut [f32], pad: &mut Padded) {
    let (p, width) = (s.out_pixels(), n * s.out_pixels());
    let [kh, kw] = s.kernel;
    for g in 0..n {
        for c in 0..s.in_channels {
            pad.load(s, &images[(g * s.in_channels + c) * s.in_pixels()..][..s.in_pixels()]);
            for ky in 0..kh {
                for kx in 0..kw {
                    let out = &mut cols[((c * kh + ky) * kw + kx) * width + g * p..][..p];
                    gather(out, &pad.data, pad.lines(s, ky, kx), |d, v| *d = v);
                }
            }
        }
    }
}

/// Adds the im2col columns `cols` (`[patch_len, n * out_pixels]`) back into `images`, which the
/// caller has set (to zero, or to a bias).
fn col2im(s: &ConvShape, cols: &[f32], n: usize, images: &mut [f32], pad: &mut Padded) {
    let (p, width) = (s.out_pixels(), n * s.out_pixels());
    let [kh, kw] = s.kernel;
    for g in 0..n {
        for c in 0..s.in_channels {
            pad.data.fill(0.0);
            for ky in 0..kh {
                for kx in 0..kw {
                    let part = &cols[((c * kh + ky) * kw + kx) * width + g * p..][..p];
                    let lines = pad.lines(s, ky, kx);
                    scatter(&mut pad.data, part, lines, |d, v| *d += v);
                }
            }
            pad.add_interior_to(s, &mut images[(g * s.in_channels + c) * s.in_pixels()..][..s.in_pixels()]);
        }
    }
}

/// Copies `n` NCHW images of `channels x pixels` into `[channels, n * pixels]`.
fn gather_channels(images: &[f32], n: usize, channels: usize, pixels: usize, out: &mut [f32]) {
    for c in 0..channels {
        for g in 0..n {
            out[(c * n + g) * pixels..][..pixels].copy_from_slice(&images[(g * channels + c) * pixels..][..pixels]);
        }
    }
}

/// The reverse of [`gather_channels`], adding `bias[c]` to every value of channel `c`.
fn scatter_channels(rows: &[f32], n: usize, channels: usize, pixels: usize, bias: Option<&[f32]>, images: &mut [f32]) {
    for c in 0..channels {
        let b = bias.map_or(0.0, |b| b[c]);
        for g in 0..n {
            let dst = &mut images[(g * channels + c) * pixels..][..pixels];
            for (d, v) in dst.iter_mut().zip(&rows[(c * n + g) * pixels..][..pixels]) {
                *d = v + b;
            }
        }
    }
}

/// Scratch buffers of one worker.
struct Scratch {
    cols: Vec<f32>,
    rows: Vec<f32>,
    pad: Padded,
}

impl Scratch {
    fn new(s: &ConvShape) -> Self {
        Self { cols: Vec::new(), rows: Vec::new(), pad: Padded::new(s) }
    }

    fn sized(&mut self, cols: usize, rows: usize) -> (&mut [f32], &mut [f32], &mut Padded) {
        self.cols.resize(cols, 0.0);
        self.rows.resize(rows, 0.0);
        (&mut self.cols, &mut self.rows, &mut self.pad)
    }
}

fn check_len(what: &str, got: usize, want: usize) {
    assert_eq!(got, want, "convolution: {what} has {got} values, the shape needs {want}");
}

/// `y = conv(x, weight) + bias`: `x` `[batch, in, ih, iw]`, `weight` `[out, in, kh, kw]`, `y`
/// `[batch, out, oh, ow]`.
///
/// # Panics
/// When a slice's length disagrees with `s`.
pub fn forward(s: &ConvShape, x: &[f32], weight: &[f32], bias: Option<&[f32]>, y: &mut [f32]) {
    check_len("the input", x.len(), s.batch * s.in_len());
    check_len("the weight", weight.len(), s.out_channels * s.patch_len());
    check_len("the output", y.len(), s.batch * s.out_len());
    if let Some(b) = bias {
        check_len("the bias", b.len(), s.out_channels);
    }
    let (g, k, p) = (s.group(), s.patch_len(), s.out_pixels());
    let w = View::rows(weight, s.out_channels, k);
    x.par_chunks(g * s.in_len()).zip(y.par_chunks_mut(g * s.out_len())).for_each_init(
        || Scratch::new(s),
        |scratch, (xs, ys)| {
            let n = xs.len() / s.in_len();
            let (cols, rows, pad) = scratch.sized(k * n * p, s.out_channels * n * p);
            im2col(s, xs, n, cols, pad);
            matmul(rows, n * p, w, View::rows(cols, k, n * p), false);
            scatter_channels(rows, n, s.out_channels, p, bias, ys);
        },
    );
}

/// The gradient of [`forward`] with respect to its input: `dx` `[batch, in, ih, iw]` from `dy`
/// `[batch, out, oh, ow]`. With `bias` (`[in]`), `dx` starts from it: that is a transposed
/// convolution with a bias.
///
/// # Panics
/// When a slice's length disagrees with `s`.
pub fn backward_input(s: &ConvShape, dy: &[f32], weight: &[f32], bias: Option<&[f32]>, dx: &mut [f32]) {
    check_len("the output gradient", dy.len(), s.batch * s.out_len());
    check_len("the weight", weight.len(), s.out_channels * s.patch_len());
    check_len("the input gradient", dx.len(), s.batch * s.in_len());
    if let Some(b) = bias {
        check_len("the bias", b.len(), s.in_channels);
    }
    if let Some(full) = s.full_correlation() {
        // Stride 1: the input gradient is itself a convolution (of dy, padded by k - 1 - p, with
        // the kernel flipped and its channel axes swapped): a gather and a product, no scatter.
        let [kh, kw] = s.kernel;
        let mut flipped = vec![0.0; weight.len()];
        for o in 0..s.out_channels {
            for c in 0..s.in_channels {
                for ky in 0..kh {
                    for kx in 0..kw {
                        flipped[((c * s.out_channels + o) * kh + kh - 1 - ky) * kw + kw - 1 - kx] =
                            weight[((o * s.in_channels + c) * kh + ky) * kw + kx];
                    }
                }
            }
        }
        return forward(&full, dy, &flipped, bias, dx);
    }
    let (g, k, p) = (s.group(), s.patch_len(), s.out_pixels());
    let wt = View::rows(weight, s.out_channels, k).t();
    dy.par_chunks(g * s.out_len()).zip(dx.par_chunks_mut(g * s.in_len())).for_each_init(
        || Scratch::new(s),
        |scratch, (dys, dxs)| {
            let n = dys.len() / s.out_len();
            let (cols, rows, pad) = scratch.sized(k * n * p, s.out_channels * n * p);
            gather_channels(dys, n, s.out_channels, p, rows);
            matmul(cols, n * p, wt, View::rows(rows, s.out_channels, n * p), false);
            match bias {
                Some(b) => {
                    for (image, plane) in dxs.chunks_exact_mut(s.in_pixels()).enumerate() {
                        plane.fill(b[image % s.in_channels]);
                    }
                }
                None => dxs.fill(0.0),
            }
            col2im(s, cols, n, dxs, pad);
        },
    );
}

/// The gradient of [`forward`] with respect to its weight, `dw` `[out, in, kh, kw]`, and, when
/// asked, to its bias, `db` `[out]` (the sums of `dy` per channel).
///
/// # Panics
/// When a slice's length disagrees with `s`.
pub fn backward_weight(s: &ConvShape, x: &[f32], dy: &[f32], dw: &mut [f32], db: Option<&mut [f32]>) {
    check_len("the input", x.len(), s.batch * s.in_len());
    check_len("the output gradient", dy.len(), s.batch * s.out_len());
    check_len("the weight gradient", dw.len(), s.out_channels * s.patch_len());
    let (g, k, p) = (s.group(), s.patch_len(), s.out_pixels());
    // A fixed split of the batch, summed in order: the same bits whatever the threads do.
    let part = s.batch.div_ceil(PARTS).max(1);
    let partial: Vec<(Vec<f32>, Vec<f32>)> = x
        .par_chunks(part * s.in_len())
        .zip(dy.par_chunks(part * s.out_len()))
        .map(|(xs, dys)| {
            let mut scratch = Scratch::new(s);
            let (mut w_acc, mut b_acc) = (vec![0.0_f32; dw.len()], vec![0.0_f32; s.out_channels]);
            for (xs, dys) in xs.chunks(g * s.in_len()).zip(dys.chunks(g * s.out_len())) {
                let n = xs.len() / s.in_len();
                let (cols, rows, pad) = scratch.sized(k * n * p, s.out_channels * n * p);
                im2col(s, xs, n, cols, pad);
                gather_channels(dys, n, s.out_channels, p, rows);
                let dyv = View::rows(rows, s.out_channels, n * p);
                matmul(&mut w_acc, k, dyv, View::rows(cols, k, n * p).t(), true);
                for (acc, row) in b_acc.iter_mut().zip(rows.chunks_exact(n * p)) {
                    *acc += lanes::sum(row);
                }
            }
            (w_acc, b_acc)
        })
        .collect();
    let (mut w_sum, mut b_sum) = (vec![0.0_f32; dw.len()], vec![0.0_f32; s.out_channels]);
    for (w, b) in &partial {
        w_sum.iter_mut().zip(w).for_each(|(a, b)| *a += b);
        b_sum.iter_mut().zip(b).for_each(|(a, b)| *a += b);
    }
    dw.copy_from_slice(&w_sum);
    if let Some(db) = db {
        db.copy_from_slice(&b_sum);
    }
}

/// Sums of `t` (`[batch, channels, pixels]`) per channel: a bias gradient.
///
/// # Panics
/// When `t` is not a whole number of images.
#[must_use]
pub fn channel_sums(t: &[f32], channels: usize, pixels: usize) -> Vec<f32> {
    let image = channels * pixels;
    assert!(image > 0 && t.len().is_multiple_of(image), "channel_sums: {} values are not whole images", t.len());
    let part = (t.len() / image).div_ceil(PARTS).max(1) * image;
    let partial: Vec<Vec<f32>> = t
        .par_chunks(part)
        .map(|part| {
            let mut sums = vec![0.0_f32; channels];
            for (i, plane) in part.chunks_exact(pixels).enumerate() {
                sums[i % channels] += lanes::sum(plane);
            }
            sums
        })
        .collect();
    partial.iter().fold(vec![0.0; channels], |mut a, b| {
        a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        a
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1].
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state as f32 / u32::MAX as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// The definition, one multiply-add at a time: visits every (image, out, oy, ox, in, ky, kx)
    /// and calls `f(x_index, w_index, y_index)` for taps inside the image.
    fn taps(s: &ConvShape, mut f: impl FnMut(usize, usize, usize)) {
        let [kh, kw] = s.kernel;
        for b in 0..s.batch {
            for o in 0..s.out_channels {
                for oy in 0..s.out_size[0] {
                    for ox in 0..s.out_size[1] {
                        let yi = ((b * s.out_channels + o) * s.out_size[0] + oy) * s.out_size[1] + ox;
                        for c in 0..s.in_channels {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let iy = (oy * s.stride[0] + ky) as isize - s.padding[0] as isize;
                                    let ix = (ox * s.stride[1] + kx) as isize - s.padding[1] as isize;
                                    if iy < 0 || ix < 0 || iy >= s.in_size[0] as isize || ix >= s.in_size[1] as isize {
                                        continue;
                                    }
                                    let xi = ((b * s.in_channels + c) * s.in_size[0] + iy as usize) * s.in_size[1]
                                        + ix as usize;
                                    let wi = ((o * s.in_channels + c) * kh + ky) * kw + kx;
                                    f(xi, wi, yi);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn close(got: &[f32], want: &[f32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: lengths");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{what}[{i}]: {g} against {w}");
        }
    }

    /// Shapes of the project's models (28x28 stride-2 encoders, their mirrors, the CNN's 3x3
    /// convolutions) and odd ones: rectangular, stride 3, a kernel as large as the input, batch 1.
    fn shapes() -> Vec<ConvShape> {
        let c = |b, io, i, k, st, p| ConvShape::new(b, io, i, k, st, p).unwrap();
        vec![
            c(5, [1, 8], [28, 28], [4, 4], [2, 2], [1, 1]),
            c(3, [8, 16], [14, 14], [4, 4], [2, 2], [1, 1]),
            c(4, [16, 32], [7, 7], [3, 3], [2, 2], [0, 0]),
            c(3, [3, 6], [9, 9], [3, 3], [1, 1], [1, 1]),
            c(2, [2, 3], [7, 10], [2, 3], [3, 1], [0, 2]),
            c(1, [4, 2], [5, 5], [5, 5], [1, 1], [0, 0]),
            c(70, [2, 2], [3, 3], [3, 3], [1, 1], [1, 1]),
        ]
    }

    #[test]
    fn forward_matches_the_definition() {
        for (i, s) in shapes().iter().enumerate() {
            let x = values(s.batch * s.in_len(), 1 + i as u32);
            let w = values(s.out_channels * s.patch_len(), 100 + i as u32);
            let b = values(s.out_channels, 200 + i as u32);
            let mut want: Vec<f32> =
                (0..s.batch * s.out_len()).map(|j| b[(j / s.out_pixels()) % s.out_channels]).collect();
            taps(s, |xi, wi, yi| want[yi] += x[xi] * w[wi]);
            let mut got = vec![f32::NAN; want.len()];
            forward(s, &x, &w, Some(&b), &mut got);
            close(&got, &want, &format!("forward {s:?}"));
        }
    }

    #[test]
    fn gradients_match_the_definition() {
        for (i, s) in shapes().iter().enumerate() {
            let x = values(s.batch * s.in_len(), 1 + i as u32);
            let w = values(s.out_channels * s.patch_len(), 100 + i as u32);
            let dy = values(s.batch * s.out_len(), 300 + i as u32);
            let bias = values(s.in_channels, 400 + i as u32);
            let (mut dx, mut dw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
            taps(s, |xi, wi, yi| {
                dx[xi] += dy[yi] * w[wi];
                dw[wi] += dy[yi] * x[xi];
            });
            let db: Vec<f32> = (0..s.out_channels)
                .map(|o| {
                    (0..s.batch)
                        .map(|b| dy[(b * s.out_channels + o) * s.out_pixels()..][..s.out_pixels()].iter().sum::<f32>())
                        .sum()
                })
                .collect();

            let mut got = vec![f32::NAN; dx.len()];
            backward_input(s, &dy, &w, None, &mut got);
            close(&got, &dx, &format!("input gradient {s:?}"));
            backward_input(s, &dy, &w, Some(&bias), &mut got);
            let with_bias: Vec<f32> =
                dx.iter().enumerate().map(|(j, v)| v + bias[(j / s.in_pixels()) % s.in_channels]).collect();
            close(&got, &with_bias, &format!("input gradient plus bias {s:?}"));

            let (mut got_w, mut got_b) = (vec![f32::NAN; dw.len()], vec![f32::NAN; db.len()]);
            backward_weight(s, &x, &dy, &mut got_w, Some(&mut got_b));
            close(&got_w, &dw, &format!("weight gradient {s:?}"));
            close(&got_b, &db, &format!("bias gradient {s:?}"));
            close(&channel_sums(&dy, s.out_channels, s.out_pixels()), &db, &format!("channel sums {s:?}"));
        }
    }

    #[test]
    fn impossible_shapes_are_none() {
        assert!(ConvShape::new(1, [1, 1], [2, 2], [3, 3], [1, 1], [0, 0]).is_none());
        assert!(ConvShape::new(1, [1, 1], [4, 4], [3, 3], [0, 1], [0, 0]).is_none());
        assert_eq!(ConvShape::new(1, [1, 1], [2, 2], [3, 3], [1, 1], [1, 1]).unwrap().out_size, [2, 2]);
    }

    #[test]
    #[should_panic(expected = "the weight has 3 values")]
    fn a_wrong_length_names_the_operand() {
        let s = ConvShape::new(1, [1, 1], [3, 3], [2, 2], [1, 1], [0, 0]).unwrap();
        forward(&s, &[0.0; 9], &[0.0; 3], None, &mut [0.0; 4]);
    }
}
