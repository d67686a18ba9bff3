//! Dropout masks from a counter-based hash: value `i` of a mask depends only on the seed and `i`,
//! so masks are the same whatever the threads do, and any number of values is drawn in parallel.
//!
//! Why by hand: burn 0.22's dropout draws its Bernoulli mask one value at a time through a
//! ChaCha generator and a distribution sampler on one thread; in a CNN step that cost more than
//! the hidden layer it drops out of.

use rayon::prelude::*;

/// Values per parallel task.
const VALUES_PER_TASK: usize = 16 * 1024;

/// SplitMix64's output function (Steele, Lea and Flood, 2014): a bijection of `u64` whose output
/// bits all depend on every input bit.
#[inline(always)]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A dropout mask of `len` values: each `1 / keep` with probability `keep`, else 0; the draws
/// are the two 32-bit halves of SplitMix64 at `seed + k * golden ratio` for pair `k`.
///
/// # Panics
/// When `keep` is not in (0, 1].
#[must_use]
pub fn mask(len: usize, keep: f64, seed: u64) -> Vec<f32> {
    assert!(keep > 0.0 && keep <= 1.0, "dropout: keep probability {keep} is not in (0, 1]");
    // A draw `r` (32 bits) keeps its value when r < keep * 2^32.
    let threshold = (keep * 4_294_967_296.0) as u64;
    let scale = (1.0 / keep) as f32;
    let mut out = vec![0.0_f32; len];
    out.par_chunks_mut(VALUES_PER_TASK).enumerate().for_each(|(task, chunk)| {
        let first_pair = (task * VALUES_PER_TASK / 2) as u64;
        for (k, pair) in chunk.chunks_mut(2).enumerate() {
            let r = mix(seed.wrapping_add((first_pair + k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)));
            for (v, draw) in pair.iter_mut().zip([r >> 32, r & 0xffff_ffff]) {
                *v = if draw < threshold { scale } else { 0.0 };
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_the_asked_share_and_repeat_from_their_seed() {
        let n = 200_000;
        for keep in [0.9, 0.5, 0.1] {
            let m = mask(n, keep, 42);
            let kept = m.iter().filter(|&&v| v != 0.0).count() as f64 / n as f64;
            // Four standard deviations of a binomial share.
            let sd = (keep * (1.0 - keep) / n as f64).sqrt();
            assert!((kept - keep).abs() < 4.0 * sd, "keep {keep}: kept {kept}");
            assert!(m.iter().all(|&v| v == 0.0 || v == (1.0 / keep) as f32));
            assert_eq!(m, mask(n, keep, 42), "the same seed");
            assert_ne!(m, mask(n, keep, 43), "another seed");
            // Neighbours are independent: P(both kept) = keep^2.
            let both = m.chunks_exact(2).filter(|p| p[0] != 0.0 && p[1] != 0.0).count() as f64 / (n / 2) as f64;
            let sd2 = (keep * keep * (1.0 - keep * keep) / (n / 2) as f64).sqrt();
            assert!((both - keep * keep).abs() < 4.0 * sd2, "keep {keep}: pairs kept {both}");
        }
        // A prefix of a longer mask is the shorter mask: values depend on their index only.
        assert_eq!(mask(40_000, 0.5, 7)[..33_333], mask(33_333, 0.5, 7)[..]);
        assert!(mask(10, 1.0, 0).iter().all(|&v| v == 1.0));
    }
}
