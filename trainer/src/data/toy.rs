//! The toy set of seed 003: points drawn uniformly from the rectangle [-2, 2] x [-1, 1].

use super::rng::SplitMix64;

/// `n` points uniform in [-2, 2] x [-1, 1], as `[x, y]` pairs, reproducible from `seed`.
#[must_use]
pub fn rectangle(n: usize, seed: u64) -> Vec<[f32; 2]> {
    let mut rng = SplitMix64::derive(seed, "toy-rectangle");
    (0..n).map(|_| [rng.uniform(-2.0, 2.0) as f32, rng.uniform(-1.0, 1.0) as f32]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_fill_the_rectangle() {
        let pts = rectangle(4000, 5);
        assert_eq!(pts, rectangle(4000, 5));
        assert!(pts.iter().all(|p| (-2.0..2.0).contains(&p[0]) && (-1.0..1.0).contains(&p[1])));
        // Every quadrant gets about a quarter of the points.
        let q = pts.iter().filter(|p| p[0] > 0.0 && p[1] > 0.0).count();
        assert!((900..1100).contains(&q), "{q}");
        let xmax = pts.iter().map(|p| p[0]).fold(f32::MIN, f32::max);
        assert!(xmax > 1.95, "{xmax}");
    }
}
