//! Dot products with AVX2 for the interleaved weight groups (`format::packed_at`), chosen at run
//! time on x86-64 CPUs that have AVX2 but not AVX-512 VNNI (`crate::dispatch`).
//!
//! One activation word and the four rows' words for it are 16 bytes of weights: widened to
//! sixteen i16 lanes (lane `4r + t` is row `r`, byte `t`) against the activation word's four
//! values repeated four times, `vpmaddwd` adds the products in pairs into eight i32 lanes, two per
//! row. Every product and pair sum is exact (|255 x 128| x 2 < 2^31), so the results are the
//! portable kernels' bits. The single rows (fewer than four channels) use the portable loop,
//! which LLVM vectorises with AVX2 by itself.
#![allow(unsafe_code)]

use crate::kernels::{add4, cell_words};

use core::arch::x86_64::{
    __m256i, _mm_cvtepi8_epi16, _mm_cvtepu8_epi16, _mm_cvtsi32_si128, _mm_loadu_si128, _mm_storeu_si128,
    _mm256_add_epi32, _mm256_broadcastq_epi64, _mm256_castsi256_si128, _mm256_cvtepi8_epi16, _mm256_cvtepu8_epi16,
    _mm256_extracti128_si256, _mm256_hadd_epi32, _mm256_madd_epi16, _mm256_setzero_si256,
};

/// Transposed convolutions gather a patch: the vector dot product is faster than short ones in
/// place.
pub(crate) const IN_PLACE_BELOW_FOUR: bool = false;

/// Dot product of activations `x` (u8 or i8) with i8 weights `w` over their common length: the
/// plain loop, vectorised by LLVM for AVX2.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn dot<const SIGNED: bool>(x: &[u8], w: &[u8]) -> i32 {
    x.iter().zip(w).fold(0i32, |acc, (&a, &b)| {
        let a = if SIGNED { i32::from(a as i8) } else { i32::from(a) };
        acc + a * i32::from(b as i8)
    })
}

/// `acc` plus four dot products of `x` (whole words) with an interleaved group of four rows,
/// `4 x x.len()` bytes: one `vpmaddwd` per activation word.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn dot4<const SIGNED: bool>(acc: [i32; 4], x: &[u8], group: &[u8]) -> [i32; 4] {
    let steps = x.as_chunks::<4>().0.iter().zip(group.as_chunks::<16>().0);
    add4(acc, dot4_steps::<SIGNED, true>(steps.map(|(xw, gw)| (*xw, *gw))))
}

/// `acc` plus one weight row `w` (i8, whole words) against four pixels' cells side by side in
/// `cells` (u8 or i8 activations, pixel `p`'s at `p x w.len()`): the products are `dot4`'s with
/// the operands' signedness swapped, the four pixels' words taking the place of a group's.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn dot4_px<const SIGNED: bool>(acc: [i32; 4], w: &[u8], cells: &[u8]) -> [i32; 4] {
    add4(acc, dot4_steps::<true, SIGNED>(cell_words(w, cells)))
}

/// Four sums over steps of (a word, 16 interleaved bytes): lane `4r + t` of the 16 is row (or
/// pixel) `r`, byte `t`, multiplied by byte `t` of the word.
#[inline]
#[target_feature(enable = "avx2")]
fn dot4_steps<const X_SIGNED: bool, const G_SIGNED: bool>(
    steps: impl Iterator<Item = ([u8; 4], [u8; 16])>,
) -> [i32; 4] {
    let mut acc: __m256i = _mm256_setzero_si256();
    for (xw, gw) in steps {
        let word = _mm_cvtsi32_si128(i32::from_le_bytes(xw));
        let values = if X_SIGNED { _mm_cvtepi8_epi16(word) } else { _mm_cvtepu8_epi16(word) };
        // The word's four i16 values are the low 64 bits: repeated over all four quarters.
        let spread = _mm256_broadcastq_epi64(values);
        // SAFETY: `gw` is a 16-byte array; the load reads exactly those bytes (unaligned).
        let g = unsafe { _mm_loadu_si128(gw.as_ptr().cast()) };
        let w = if G_SIGNED { _mm256_cvtepi8_epi16(g) } else { _mm256_cvtepu8_epi16(g) };
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(spread, w));
    }
    // Lanes (2r, 2r + 1) hold row r: pairs added within each half give rows 0, 1 (low half) and
    // 2, 3 (high half).
    let pairs = _mm256_hadd_epi32(acc, acc);
    let mut lo = [0i32; 4];
    let mut hi = [0i32; 4];
    // SAFETY: 16-byte unaligned stores into 16-byte arrays.
    unsafe {
        _mm_storeu_si128(lo.as_mut_ptr().cast(), _mm256_castsi256_si128(pairs));
        _mm_storeu_si128(hi.as_mut_ptr().cast(), _mm256_extracti128_si256::<1>(pairs));
    }
    [lo[0], lo[1], hi[0], hi[1]]
}
