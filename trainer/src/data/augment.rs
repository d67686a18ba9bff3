//! Data augmentation and noise, seeded per example so that results do not depend on batching.

use super::rng::SplitMix64;

/// A generator for example `index` of a stream (`epoch` mixes in so each epoch differs).
fn example_rng(seed: u64, stream: &str, epoch: usize, index: usize) -> SplitMix64 {
    let mut r = SplitMix64::derive(seed, stream);
    let base = r.next_u64();
    SplitMix64::new(
        base ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (index as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9),
    )
}

/// Shifts a channel-major image of `side x side` planes by up to `max_shift` pixels in each
/// direction (zeros enter) and mirrors it left-right with probability 1/2, in place; every
/// channel moves alike.
pub fn shift_and_flip(img: &mut [f32], side: usize, max_shift: usize, seed: u64, epoch: usize, index: usize) {
    let mut r = example_rng(seed, "augment", epoch, index);
    let span = 2 * max_shift + 1;
    let dy = r.below(span) as isize - max_shift as isize;
    let dx = r.below(span) as isize - max_shift as isize;
    let flip = r.next_u64() & 1 == 1;
    for plane in img.chunks_exact_mut(side * side) {
        shift_plane(plane, side, dy, dx, flip);
    }
}

fn shift_plane(img: &mut [f32], side: usize, dy: isize, dx: isize, flip: bool) {
    let src = img.to_vec();
    for y in 0..side {
        for x in 0..side {
            let sy = y as isize - dy;
            let sx0 = x as isize - dx;
            let sx = if flip { side as isize - 1 - sx0 } else { sx0 };
            img[y * side + x] = if (0..side as isize).contains(&sy) && (0..side as isize).contains(&sx) {
                src[sy as usize * side + sx as usize]
            } else {
                0.0
            };
        }
    }
}

/// Adds Gaussian noise of `std` to `values` and clamps to `[lo, hi]`; the noise depends only on
/// `(seed, index)`, so an evaluation set gets the same noise every epoch.
pub fn add_noise(values: &mut [f32], std: f64, lo: f32, hi: f32, seed: u64, index: usize) {
    let mut r = example_rng(seed, "noise", 0, index);
    for v in values {
        *v = (*v + (std * r.normal()) as f32).clamp(lo, hi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_and_flip_keeps_mass_inside_and_is_seeded() {
        let mut img = vec![0f32; 16];
        img[5] = 1.0; // (1, 1) in a 4x4 image
        let mut a = img.clone();
        shift_and_flip(&mut a, 4, 1, 7, 0, 3);
        let mut b = img.clone();
        shift_and_flip(&mut b, 4, 1, 7, 0, 3);
        assert_eq!(a, b);
        assert!((a.iter().sum::<f32>() - 1.0).abs() < 1e-6, "a 1-pixel shift keeps an interior pixel");
        let mut c = img.clone();
        shift_and_flip(&mut c, 4, 0, 7, 0, 3);
        assert!(c == img || c[6] == 1.0, "no shift: identity or mirror");
    }

    #[test]
    fn noise_is_per_example_and_clamped() {
        let mut a = vec![0.5f32; 100];
        add_noise(&mut a, 0.3, 0.0, 1.0, 1, 4);
        let mut b = vec![0.5f32; 100];
        add_noise(&mut b, 0.3, 0.0, 1.0, 1, 4);
        assert_eq!(a, b);
        assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(a.iter().any(|&v| (v - 0.5).abs() > 0.1));
    }
}
