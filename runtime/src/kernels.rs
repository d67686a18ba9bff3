//! Portable integer kernels: convolution, transposed convolution and linear layers with i8 weights,
//! u8 or i8 activations, i32 accumulation and fixed-point requantization.
//!
//! Activations are stored channel-last (`[h][w][c]`) so that, for one output pixel, each input tap
//! contributes `x * w[tap][c][..]` to a contiguous run of output channels: the inner loop is a
//! broadcast multiply-add over output channels, which compilers vectorise on every target.
//! Everything here is integer arithmetic with a fixed evaluation order, so results are identical
//! on every target.

use crate::Error;
use crate::format::{LayerKind, LayerRecord, REQUANT_LEN, read_i32};

/// Output channels accumulated at once: bounds the stack to `4 * BLOCK` bytes.
const BLOCK: usize = 64;

/// The tables of one weighted layer, already bounds-checked by `Model::parse`.
pub(crate) struct Weights<'a> {
    /// `[kh][kw][in_c][out_c]` i8 weights.
    pub w: &'a [u8],
    /// `out_c` i32 biases.
    pub bias: &'a [u8],
    /// `out_c` (multiplier, shift) pairs.
    pub requant: &'a [u8],
}

/// Rounds `acc * mult / 2^shift` to nearest (ties toward +infinity) and clamps to the output range.
///
/// `shift` is in `1..=62` and `mult` in `0..2^31` (checked at parse), so the i64 product and the
/// rounding term cannot overflow.
#[inline]
pub(crate) fn requantize(acc: i32, mult: i32, shift: u32, lo: i32, hi: i32) -> i32 {
    let prod = i64::from(acc) * i64::from(mult);
    let rounded = (prod + (1i64 << (shift - 1))) >> shift;
    rounded.clamp(i64::from(lo), i64::from(hi)) as i32
}

#[inline]
fn byte_value<const SIGNED: bool>(b: u8) -> i32 {
    if SIGNED { i32::from(b as i8) } else { i32::from(b) }
}

/// Runs one weighted layer (`Conv2d`, `ConvTranspose2d` or `Linear`) from `input` to `output`.
pub(crate) fn weighted(
    rec: &LayerRecord,
    tables: &Weights<'_>,
    input: &[u8],
    in_signed: bool,
    output: &mut [u8],
) -> Result<(), Error> {
    if in_signed {
        weighted_impl::<true>(rec, tables, input, output)
    } else {
        weighted_impl::<false>(rec, tables, input, output)
    }
}

fn weighted_impl<const SIGNED: bool>(
    rec: &LayerRecord,
    tables: &Weights<'_>,
    input: &[u8],
    output: &mut [u8],
) -> Result<(), Error> {
    let err = Error::BadShape { layer: 0 };
    let (ic, ih, iw) = (usize::from(rec.input.c), usize::from(rec.input.h), usize::from(rec.input.w));
    let (oc, oh, ow) = (usize::from(rec.output.c), usize::from(rec.output.h), usize::from(rec.output.w));
    let (kh, kw) = (usize::from(rec.kernel.0), usize::from(rec.kernel.1));
    let (stride, pad) = (usize::from(rec.stride), usize::from(rec.padding));
    let transposed = rec.kind == LayerKind::ConvTranspose2d;
    let (lo, hi) = if rec.signed_out() { (-127, 127) } else { (0, 255) };
    let mut acc = [0i32; BLOCK];

    for oy in 0..oh {
        for ox in 0..ow {
            let out_pixel = output.get_mut((oy * ow + ox) * oc..(oy * ow + ox + 1) * oc).ok_or(err)?;
            let mut ob = 0;
            while ob < oc {
                let bn = BLOCK.min(oc - ob);
                let acc = acc.get_mut(..bn).ok_or(err)?;
                for (o, a) in acc.iter_mut().enumerate() {
                    *a = read_i32(tables.bias, (ob + o) * 4).ok_or(err)?;
                }
                for ky in 0..kh {
                    // Input row feeding output row `oy` through kernel row `ky`, if any.
                    let Some(iy) = source_index(oy, ky, stride, pad, ih, transposed) else { continue };
                    for kx in 0..kw {
                        let Some(ix) = source_index(ox, kx, stride, pad, iw, transposed) else { continue };
                        let x = input.get((iy * iw + ix) * ic..(iy * iw + ix + 1) * ic).ok_or(err)?;
                        let tap = (ky * kw + kx) * ic * oc;
                        for (c, &xb) in x.iter().enumerate() {
                            let xv = byte_value::<SIGNED>(xb);
                            if xv == 0 {
                                continue; // post-ReLU activations are often zero
                            }
                            let row = tables.w.get(tap + c * oc + ob..tap + c * oc + ob + bn).ok_or(err)?;
                            for (a, &wb) in acc.iter_mut().zip(row) {
                                *a += xv * i32::from(wb as i8);
                            }
                        }
                    }
                }
                let outs = out_pixel.get_mut(ob..ob + bn).ok_or(err)?;
                for (o, (dst, &a)) in outs.iter_mut().zip(acc.iter()).enumerate() {
                    let at = (ob + o) * REQUANT_LEN;
                    let mult = read_i32(tables.requant, at).ok_or(err)?;
                    let shift = read_i32(tables.requant, at + 4).ok_or(err)? as u32;
                    let q = requantize(a, mult, shift, lo, hi);
                    *dst = if rec.signed_out() { (q as i8) as u8 } else { q as u8 };
                }
                ob += bn;
            }
        }
    }
    Ok(())
}

/// The input index that output index `o` reads through kernel index `k`, or `None` when it falls
/// in the padding (convolution) or between strides (transposed convolution).
#[inline]
fn source_index(o: usize, k: usize, stride: usize, pad: usize, len: usize, transposed: bool) -> Option<usize> {
    let i = if transposed {
        // o = i * stride - pad + k  =>  i = (o + pad - k) / stride, when exact.
        let t = (o + pad).checked_sub(k)?;
        if t % stride != 0 {
            return None;
        }
        t / stride
    } else {
        // i = o * stride + k - pad
        (o * stride + k).checked_sub(pad)?
    };
    (i < len).then_some(i)
}

/// Applies a 256-entry lookup table in place.
pub(crate) fn lookup(lut: &[u8], data: &mut [u8]) -> Result<(), Error> {
    let table: &[u8; 256] = lut.try_into().map_err(|_| Error::OutOfBounds { layer: 0 })?;
    for b in data {
        // A u8 index into a 256-entry array is always in bounds.
        #[allow(clippy::indexing_slicing)]
        let mapped = table[usize::from(*b)];
        *b = mapped;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requantize_rounds_to_nearest_and_clamps() {
        // mult / 2^shift = 0.5
        assert_eq!(requantize(5, 1 << 30, 31, -127, 127), 3); // 2.5 -> 3
        assert_eq!(requantize(-5, 1 << 30, 31, -127, 127), -2); // -2.5 -> -2 (ties up)
        assert_eq!(requantize(7, 1 << 30, 31, -127, 127), 4); // 3.5 -> 4
        assert_eq!(requantize(1000, 1 << 30, 31, -127, 127), 127);
        assert_eq!(requantize(-1000, 1 << 30, 31, 0, 255), 0);
        assert_eq!(requantize(i32::MAX, i32::MAX, 1, -127, 127), 127);
    }

    #[test]
    fn source_index_matches_the_definitions() {
        // Convolution, stride 2, padding 1: output 0 reads inputs -1 (padding), 0, 1, 2.
        let got: [Option<usize>; 4] = core::array::from_fn(|k| source_index(0, k, 2, 1, 28, false));
        assert_eq!(got, [None, Some(0), Some(1), Some(2)]);
        // Transposed, stride 2, padding 1: output 2 = i*2 - 1 + k  =>  k=1: i=1, k=3: i=0.
        let got: [Option<usize>; 4] = core::array::from_fn(|k| source_index(2, k, 2, 1, 7, true));
        assert_eq!(got, [None, Some(1), None, Some(0)]);
    }
}
