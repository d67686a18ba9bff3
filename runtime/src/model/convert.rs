//! Conversions at the edges of a model: f32 values and 8-bit pixels to quantized bytes, and bytes
//! back to values, between `[c][h][w]` and the runtime's channel-last order.

use crate::format::Shape;

#[inline]
pub(super) fn value(b: u8, signed: bool) -> i32 {
    if signed { i32::from(b as i8) } else { i32::from(b) }
}

/// Nearest step of `scale` (halves away from zero), clamped to the byte range. NaN becomes 0.
///
/// One IEEE division, one addition and a truncating conversion: the same bits on every target, and
/// far cheaper than a software `roundf`.
#[inline]
pub(super) fn quantize(x: f32, signed: bool, scale: f32) -> u8 {
    let v = x / scale;
    let q = if v >= 0.0 { (v + 0.5) as i32 } else { (v - 0.5) as i32 }; // `as` saturates, NaN -> 0
    if signed { q.clamp(-127, 127) as i8 as u8 } else { q.clamp(0, 255) as u8 }
}

/// Writes `f` of each value of a `[c][h][w]` image into `dst` in channel-last order.
pub(super) fn to_channel_last<T: Copy>(planes: &[T], shape: Shape, dst: &mut [u8], f: impl Fn(T) -> u8) {
    let (c, hw) = (usize::from(shape.c), usize::from(shape.h) * usize::from(shape.w));
    for (ch, plane) in planes.chunks_exact(hw.max(1)).enumerate() {
        for (p, &x) in plane.iter().enumerate() {
            if let Some(q) = dst.get_mut(p * c + ch) {
                *q = f(x);
            }
        }
    }
}

/// Quantizes a `[c][h][w]` image into channel-last bytes.
pub(super) fn quantize_image(pixels: &[f32], shape: Shape, signed: bool, scale: f32, dst: &mut [u8]) {
    if shape.c == 1 {
        // One plane is already channel-last: a plain loop (the strided one took 23 instructions
        // a pixel on the Cortex-M4, this one 18), eight values at a time on x86 with AVX2.
        let done = crate::dispatch::quantize_plane(pixels, signed, scale, dst);
        let rest = dst.get_mut(done..).unwrap_or_default().iter_mut().zip(pixels.get(done..).unwrap_or_default());
        for (q, &x) in rest {
            *q = quantize(x, signed, scale);
        }
        return;
    }
    to_channel_last(pixels, shape, dst, |x| quantize(x, signed, scale));
}

/// Not inlined: one copy serves the code and the image (flash on the Cortex-M4).
#[inline(never)]
pub(super) fn dequantize(q: &[u8], signed: bool, scale: f32, out: &mut [f32]) {
    for (o, &b) in out.iter_mut().zip(q) {
        *o = value(b, signed) as f32 * scale;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-channel image takes the fastest build's plane loop (eight values at a time on x86
    /// with AVX2): each byte must be the scalar `quantize`'s.
    #[test]
    fn a_plane_quantizes_as_the_scalar_rounding_does() {
        let step = 1.0 / 255.0;
        // Ties (k + 1/2 steps, both signs), zeros of both signs, the range's ends and beyond,
        // infinities and NaN, then a sweep; 8 lanes per vector and a tail of 3.
        let edges = [0.0, -0.0, 0.5 * step, -0.5 * step, 1.5 * step, -1.5 * step, 254.5 * step, 1.0];
        let more = [f32::INFINITY, f32::NEG_INFINITY, f32::NAN, -f32::NAN, 1e30, -1e30, 127.5 * step, -127.5 * step];
        let mut x = [0f32; 2019];
        for (i, v) in x.iter_mut().enumerate() {
            *v = match i {
                0..8 => edges[i],
                8..16 => more[i - 8],
                _ => (i as f32 - 1000.0) * 0.37 * step,
            };
        }
        let shape = Shape { c: 1, h: 1, w: x.len() as u16 };
        for signed in [false, true] {
            for scale in [step, 0.013, 3.0] {
                let mut got = [0u8; 2019];
                quantize_image(&x, shape, signed, scale, &mut got);
                for (i, (&g, &v)) in got.iter().zip(&x).enumerate() {
                    assert_eq!(g, quantize(v, signed, scale), "value {i} ({v}), signed {signed}, scale {scale}");
                }
            }
        }
    }
}
