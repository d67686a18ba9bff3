//! Sums over slices that vectorise: sixteen partial sums side by side instead of one running sum,
//! whose every addition waits for the one before (a float sum in order cannot be reordered by
//! the compiler).

/// Partial sums kept side by side.
const LANES: usize = 16;

/// `sum(f(a[i], b[i]))` in f32 over [`LANES`] lanes, returned as f64.
pub fn lane_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f64 {
    lane_sum3(a, b, b, |x, y, _| f(x, y))
}

/// `sum(f(a[i], b[i], c[i]))` in f32 over [`LANES`] lanes, returned as f64.
pub fn lane_sum3(a: &[f32], b: &[f32], c: &[f32], f: impl Fn(f32, f32, f32) -> f32) -> f64 {
    let mut acc = [0.0_f32; LANES];
    let (ca, cb, cc) = (a.chunks_exact(LANES), b.chunks_exact(LANES), c.chunks_exact(LANES));
    let rest = ca.remainder().iter().zip(cb.remainder().iter().zip(cc.remainder()));
    let tail: f32 = rest.map(|(x, (y, z))| f(*x, *y, *z)).sum();
    for (xa, (xb, xc)) in ca.zip(cb.zip(cc)) {
        for k in 0..LANES {
            acc[k] += f(xa[k], xb[k], xc[k]);
        }
    }
    f64::from(acc.iter().sum::<f32>() + tail)
}

/// The sum of `xs` over [`LANES`] lanes.
pub fn sum(xs: &[f32]) -> f32 {
    lane_sum(xs, xs, |x, _| x) as f32
}

#[cfg(test)]
mod tests {
    #[test]
    fn sums_match_plain_sums() {
        for n in [0, 1, 15, 16, 17, 100, 1000] {
            let xs: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let want: f64 = xs.iter().map(|&x| f64::from(x)).sum();
            assert!((f64::from(super::sum(&xs)) - want).abs() < 1e-4, "{n} values");
            let dot = super::lane_sum(&xs, &xs, |a, b| a * b);
            let want: f64 = xs.iter().map(|&x| f64::from(x * x)).sum();
            assert!((dot - want).abs() < 1e-4, "{n} values, products");
            let cube = super::lane_sum3(&xs, &xs, &xs, |a, b, c| a * b * c);
            let want: f64 = xs.iter().map(|&x| f64::from(x * x * x)).sum();
            assert!((cube - want).abs() < 1e-4, "{n} values, triple products");
        }
    }
}
