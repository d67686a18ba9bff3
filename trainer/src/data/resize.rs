//! Bringing images to the square size a model takes: a centre crop to a square (so nothing is
//! stretched), then a resize with a triangle (bilinear) filter, channel by channel.

use image::GrayImage;
use image::imageops::{self, FilterType};

use super::dataset::ImageSet;

/// One channel-major image of `channels x height x width` bytes, centre-cropped to a square and
/// resized to `side x side`.
///
/// # Panics
/// When `pixels` does not hold `channels * height * width` bytes.
#[must_use]
pub fn square(pixels: &[u8], channels: usize, height: usize, width: usize, side: usize) -> Vec<u8> {
    assert_eq!(pixels.len(), channels * height * width, "image size");
    if height == side && width == side {
        return pixels.to_vec();
    }
    let crop = height.min(width);
    let (top, left) = ((height - crop) / 2, (width - crop) / 2);
    let mut out = Vec::with_capacity(channels * side * side);
    for plane in pixels.chunks_exact(height * width) {
        let cropped = GrayImage::from_fn(crop as u32, crop as u32, |x, y| {
            image::Luma([plane[(top + y as usize) * width + left + x as usize]])
        });
        let resized = if crop == side {
            cropped
        } else {
            imageops::resize(&cropped, side as u32, side as u32, FilterType::Triangle)
        };
        out.extend_from_slice(resized.as_raw());
    }
    out
}

impl ImageSet {
    /// The same images centre-cropped to squares and resized to `side x side`.
    #[must_use]
    pub fn resized(&self, side: usize) -> Self {
        if self.height == side && self.width == side {
            return self.clone();
        }
        let mut pixels = Vec::with_capacity(self.len() * self.channels * side * side);
        for i in 0..self.len() {
            pixels.extend(square(self.image(i), self.channels, self.height, self.width, side));
        }
        Self { pixels, labels: self.labels.clone(), channels: self.channels, height: side, width: side }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_size_is_untouched_and_a_flat_image_stays_flat() {
        let img: Vec<u8> = (0..2 * 4 * 4).map(|i| i as u8).collect();
        assert_eq!(square(&img, 2, 4, 4, 4), img);
        let flat = [vec![10u8; 8 * 6], vec![200u8; 8 * 6]].concat();
        let out = square(&flat, 2, 8, 6, 3);
        assert_eq!(out.len(), 2 * 9);
        assert!(out[..9].iter().all(|&v| v == 10) && out[9..].iter().all(|&v| v == 200), "{out:?}");
    }

    #[test]
    fn crops_the_centre_of_a_wide_image() {
        // 2 rows x 6 columns: the centre square is columns 2..4.
        let img = [0, 0, 7, 9, 0, 0, 0, 0, 11, 13, 0, 0];
        assert_eq!(square(&img, 1, 2, 6, 2), vec![7, 9, 11, 13]);
    }
}
