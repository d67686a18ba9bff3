//! A safe face for the `gemm` crate (the matrix product burn-flex itself calls), over slices
//! with strides, checked before the one unsafe call.

/// A read-only matrix view: element `(i, j)` is `data[i * row_stride + j * col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> View<'a> {
    /// A row-major `rows x cols` matrix.
    #[must_use]
    pub fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// The transpose of this view (no copy).
    #[must_use]
    pub fn t(self) -> Self {
        Self { rows: self.cols, cols: self.rows, row_stride: self.col_stride, col_stride: self.row_stride, ..self }
    }

    /// Whether every element it names lies inside `data`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride < self.data.len()
    }
}

/// `dst = a * b` (or `dst += a * b` when `accumulate`), `dst` row-major `a.rows x b.cols` with
/// rows `dst_stride` apart; single-threaded (callers parallelise over images).
///
/// # Panics
/// When the shapes disagree or a view reaches outside its slice.
pub fn matmul(dst: &mut [f32], dst_stride: usize, a: View<'_>, b: View<'_>, accumulate: bool) {
    product(dst, dst_stride, a, b, accumulate, gemm::Parallelism::None);
}

/// [`matmul`] on all of rayon's threads (gemm splits the output, never a sum, so the result
/// does not depend on the threads).
///
/// # Panics
/// As [`matmul`].
pub fn matmul_parallel(dst: &mut [f32], dst_stride: usize, a: View<'_>, b: View<'_>, accumulate: bool) {
    product(dst, dst_stride, a, b, accumulate, gemm::Parallelism::Rayon(0));
}

fn product(
    dst: &mut [f32],
    dst_stride: usize,
    a: View<'_>,
    b: View<'_>,
    accumulate: bool,
    parallelism: gemm::Parallelism,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "matmul: inner dimensions differ");
    assert!(a.in_bounds() && b.in_bounds(), "matmul: a view reaches outside its slice");
    if m == 0 || n == 0 {
        return;
    }
    assert!(n <= dst_stride && (m - 1) * dst_stride + n <= dst.len(), "matmul: destination too short");
    if k == 0 {
        if !accumulate {
            dst.chunks_mut(dst_stride).take(m).for_each(|row| row[..n].fill(0.0));
        }
        return;
    }
    let s = |x: usize| isize::try_from(x).expect("stride fits isize");
    // SAFETY: every index gemm forms, `i * rs + j * cs` for i < rows and j < cols, was checked to
    // lie inside its slice above; `dst` is borrowed mutably, so nothing else aliases it, and `a`
    // and `b` are shared borrows of other memory.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            s(dst_stride),
            accumulate,
            a.data.as_ptr(),
            s(a.col_stride),
            s(a.row_stride),
            b.data.as_ptr(),
            s(b.col_stride),
            s(b.row_stride),
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(a: View<'_>, b: View<'_>) -> Vec<f32> {
        let at = |v: &View<'_>, i: usize, j: usize| v.data[i * v.row_stride + j * v.col_stride];
        let mut out = vec![0.0; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                out[i * b.cols + j] = (0..a.cols).map(|t| at(&a, i, t) * at(&b, t, j)).sum();
            }
        }
        out
    }

    #[test]
    fn products_and_transposes_match_plain_loops() {
        let a: Vec<f32> = (0..35).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..35).map(|i| (i as f32 * 0.11).cos()).collect();
        let (va, vb) = (View::rows(&a, 5, 7), View::rows(&b, 7, 5));
        for (x, y) in [(va, vb), (vb.t(), va.t()), (va, va.t()), (vb.t(), vb)] {
            let want = plain(x, y);
            let mut got = vec![1.0; want.len()];
            matmul(&mut got, y.cols, x, y, false);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-5, "{g} vs {w}");
            }
            matmul(&mut got, y.cols, x, y, true);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - 2.0 * w).abs() < 1e-5, "{g} vs 2 * {w}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "outside")]
    fn a_view_past_its_slice_is_refused() {
        let a = [0.0; 4];
        let mut d = [0.0; 4];
        matmul(&mut d, 2, View::rows(&a, 2, 3), View::rows(&a, 3, 2), false);
    }
}
