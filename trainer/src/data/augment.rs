//! Data augmentation and noise, seeded per example so that results do not depend on batching.

use super::ImageShape;
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

/// One of SimCLR's two augmented views (`view` 0 or 1) of a channel-major image of `side x side`
/// planes with values in [0, 1]: a random crop of `min_area` (a share, e.g. 0.4) to 100% of the
/// area resized back
/// (bilinear), a left-right mirror with probability 1/2, brightness (+-0.2) and contrast
/// (x0.6..1.4) jitter, and Gaussian noise (std 0.05) with probability 1/2; clamped to [0, 1].
/// Seeded per (image, epoch, view), so results do not depend on batching.
#[must_use]
pub fn simclr_view(
    img: &[f32],
    shape: ImageShape,
    seed: u64,
    epoch: usize,
    index: usize,
    view: usize,
    min_area: f32,
) -> Vec<f32> {
    let ImageShape { channels, side } = shape;
    let mut r = example_rng(seed, "simclr", epoch, 2 * index + view);
    let unit = |r: &mut SplitMix64| (r.next_u64() >> 11) as f32 / (1u64 << 53) as f32;
    let min_area = min_area.clamp(0.0, 1.0);
    let area = min_area + (1.0 - min_area) * unit(&mut r);
    let crop = ((side as f32 * area.sqrt()).round() as usize).clamp(1, side);
    let (top, left) = (r.below(side - crop + 1), r.below(side - crop + 1));
    let flip = r.next_u64() & 1 == 1;
    let brightness = 0.4 * unit(&mut r) - 0.2;
    let contrast = 0.6 + 0.8 * unit(&mut r);
    let noisy = r.next_u64() & 1 == 1;
    let plane = side * side;
    let scale = crop as f32 / side as f32;
    let mut out = vec![0f32; img.len()];
    for c in 0..channels {
        let src = &img[c * plane..(c + 1) * plane];
        let at = |y: usize, x: usize| src[(top + y.min(crop - 1)) * side + left + x.min(crop - 1)];
        for y in 0..side {
            // Pixel centres of the output mapped into the crop.
            let fy = ((y as f32 + 0.5) * scale - 0.5).max(0.0);
            let (y0, wy) = (fy as usize, fy.fract());
            for x in 0..side {
                let fx = ((x as f32 + 0.5) * scale - 0.5).max(0.0);
                let (x0, wx) = (fx as usize, fx.fract());
                let top_row = at(y0, x0) * (1.0 - wx) + at(y0, x0 + 1) * wx;
                let bottom_row = at(y0 + 1, x0) * (1.0 - wx) + at(y0 + 1, x0 + 1) * wx;
                let ox = if flip { side - 1 - x } else { x };
                out[c * plane + y * side + ox] = top_row * (1.0 - wy) + bottom_row * wy;
            }
        }
    }
    let mean = out.iter().sum::<f32>() / out.len().max(1) as f32;
    for v in &mut out {
        *v = (mean + (*v - mean) * contrast + brightness).clamp(0.0, 1.0);
    }
    if noisy {
        for v in &mut out {
            *v = (*v + (0.05 * r.normal()) as f32).clamp(0.0, 1.0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simclr_views_are_seeded_in_range_and_differ() {
        let img: Vec<f32> = (0..2 * 8 * 8).map(|i| (i % 13) as f32 / 12.0).collect();
        let a = simclr_view(&img, ImageShape { channels: 2, side: 8 }, 5, 1, 3, 0, 0.4);
        assert_eq!(a, simclr_view(&img, ImageShape { channels: 2, side: 8 }, 5, 1, 3, 0, 0.4), "same seed, same view");
        assert_ne!(a, simclr_view(&img, ImageShape { channels: 2, side: 8 }, 5, 1, 3, 1, 0.4), "the two views differ");
        assert_ne!(a, simclr_view(&img, ImageShape { channels: 2, side: 8 }, 5, 2, 3, 0, 0.4), "each epoch differs");
        assert!(a.len() == img.len() && a.iter().all(|v| (0.0..=1.0).contains(v)));
        // A flat image stays flat through crop, resize and mirror (only its level moves).
        let flat = vec![0.5f32; 64];
        for view in 0..2 {
            let v = simclr_view(&flat, ImageShape { channels: 1, side: 8 }, 9, 0, 0, view, 0.4);
            let mean = v.iter().sum::<f32>() / 64.0;
            let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / 64.0).sqrt();
            assert!(std < 0.1, "{v:?}");
        }
    }

    #[test]
    fn the_smallest_crop_is_honoured() {
        // One bright corner pixel on an 8x8 image: a full-area crop always keeps it (bright after
        // any jitter), while crops down to 5% of the area often leave it out.
        let mut img = vec![0f32; 64];
        img[0] = 1.0;
        let brightest = |min_area: f32, i: usize| {
            simclr_view(&img, ImageShape { channels: 1, side: 8 }, 3, 0, i, 0, min_area)
                .into_iter()
                .fold(0f32, f32::max)
        };
        assert!((0..40).all(|i| brightest(1.0, i) > 0.3), "a full crop lost the pixel");
        assert!((0..40).any(|i| brightest(0.05, i) < 0.3), "small crops always kept the corner");
    }

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
