//! Dot products with WebAssembly's 128-bit SIMD for the interleaved weight groups
//! (`format::packed_at`): the kernels of a module built with `-C target-feature=+simd128`
//! (`bottleneck validate --targets wasm-simd128`), which every current browser and Node run.
//!
//! An activation word splatted over a vector and widened gives its four values twice in eight
//! i16 lanes; the 16 weight bytes that go with it, widened in two halves, are rows 0-1 and 2-3;
//! `i32x4.dot_i16x8_s` adds the products in pairs, two lanes per row. Every product and pair sum
//! is exact (|255 x 128| x 2 < 2^31), so the results are the portable kernels' bits.
#![allow(unsafe_code)]

use crate::kernels::{add4, cell_words};

use core::arch::wasm32::{
    i16x8_extend_high_i8x16, i16x8_extend_low_i8x16, i32x4_add, i32x4_dot_i16x8, i32x4_extract_lane, i64x2_splat,
    u16x8_extend_high_u8x16, u16x8_extend_low_u8x16, u32x4_splat, v128, v128_load,
};

/// Transposed convolutions gather a patch, as on the other vector builds.
pub(crate) const IN_PLACE_BELOW_FOUR: bool = false;

/// Dot product of activations `x` (u8 or i8) with i8 weights `w` over their common length: the
/// plain loop, which LLVM vectorises with simd128.
#[inline]
pub(crate) fn dot<const SIGNED: bool>(x: &[u8], w: &[u8]) -> i32 {
    x.iter().zip(w).fold(0i32, |acc, (&a, &b)| {
        let a = if SIGNED { i32::from(a as i8) } else { i32::from(a) };
        acc + a * i32::from(b as i8)
    })
}

/// `acc` plus four dot products of `x` (whole words) with an interleaved group of four rows,
/// `4 x x.len()` bytes: two `i32x4.dot_i16x8_s` per activation word.
#[inline]
pub(crate) fn dot4<const SIGNED: bool>(acc: [i32; 4], x: &[u8], group: &[u8]) -> [i32; 4] {
    let steps = x.as_chunks::<4>().0.iter().zip(group.as_chunks::<16>().0);
    add4(acc, dot4_steps::<SIGNED, true>(steps.map(|(xw, gw)| (*xw, *gw))))
}

/// `acc` plus one weight row against four pixels' cells side by side (pixel `p`'s at
/// `p x w.len()`): `dot4` with the operands' signedness swapped (the products are the same).
#[inline]
pub(crate) fn dot4_px<const SIGNED: bool>(acc: [i32; 4], w: &[u8], cells: &[u8]) -> [i32; 4] {
    add4(acc, dot4_steps::<true, SIGNED>(cell_words(w, cells)))
}

/// Four sums over steps of (a word, 16 interleaved bytes): byte `4r + t` of the 16 is row (or
/// pixel) `r`, byte `t`, multiplied by byte `t` of the word.
#[inline]
fn dot4_steps<const X_SIGNED: bool, const G_SIGNED: bool>(
    steps: impl Iterator<Item = ([u8; 4], [u8; 16])>,
) -> [i32; 4] {
    let (mut rows01, mut rows23): (v128, v128) = (i64x2_splat(0), i64x2_splat(0));
    for (xw, gw) in steps {
        let word = u32x4_splat(u32::from_le_bytes(xw));
        let values = if X_SIGNED { i16x8_extend_low_i8x16(word) } else { u16x8_extend_low_u8x16(word) };
        // SAFETY: `gw` is a 16-byte array; the load reads exactly those bytes (wasm loads need
        // no alignment).
        let g = unsafe { v128_load(gw.as_ptr().cast()) };
        let (lo, hi) = if G_SIGNED {
            (i16x8_extend_low_i8x16(g), i16x8_extend_high_i8x16(g))
        } else {
            (u16x8_extend_low_u8x16(g), u16x8_extend_high_u8x16(g))
        };
        rows01 = i32x4_add(rows01, i32x4_dot_i16x8(values, lo));
        rows23 = i32x4_add(rows23, i32x4_dot_i16x8(values, hi));
    }
    [
        i32x4_extract_lane::<0>(rows01) + i32x4_extract_lane::<1>(rows01),
        i32x4_extract_lane::<2>(rows01) + i32x4_extract_lane::<3>(rows01),
        i32x4_extract_lane::<0>(rows23) + i32x4_extract_lane::<1>(rows23),
        i32x4_extract_lane::<2>(rows23) + i32x4_extract_lane::<3>(rows23),
    ]
}
