//! Dot products with AVX-512 VNNI (`vpdpbusd`): 64 activation bytes times 64 weight bytes per
//! instruction, each 32-bit lane accumulating four u8 x i8 products. Chosen at run time on CPUs
//! that have it (`crate::dispatch`).
//!
//! `vpdpbusd` takes its first operand unsigned. Unsigned activations go in as they are; signed
//! ones are shifted to `x + 128` (a flip of the top bit) and `128 x sum(w)` is taken off after,
//! with the weights' sum from a second `vpdpbusd` against ones. Both are exact integer sums,
//! within i32 for the lengths parse accepts, so the results are the portable kernels' bits.
//!
//! Rows shorter than 64 bytes, and the end of longer ones, are read with masked loads, which
//! touch only the bytes their mask selects: every unsafe block below loads from `p.add(i)` with a
//! mask that selects `min(64, n - i)` bytes, all inside a slice of length at least `n`.
#![allow(unsafe_code)]

use core::arch::x86_64::{
    __m512i, _mm_add_epi32, _mm_storeu_si128, _mm256_add_epi32, _mm256_castsi256_si128, _mm256_extracti128_si256,
    _mm512_castsi512_si256, _mm512_dpbusd_epi32, _mm512_extracti64x4_epi64, _mm512_maskz_loadu_epi8,
    _mm512_permutexvar_epi32, _mm512_reduce_add_epi32, _mm512_set_epi32, _mm512_set1_epi8, _mm512_setzero_si512,
    _mm512_xor_si512,
};

/// Transposed convolutions always gather a patch: a 64-byte masked load and a reduction per 8-byte
/// cell cost more than the gather (decode about 20% slower in place, `examples/time_entries`).
pub(crate) const IN_PLACE_BELOW_FOUR: bool = false;

/// The mask of the `left` (or 64) bytes from here to the end.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn mask(left: usize) -> u64 {
    if left >= 64 { u64::MAX } else { (1u64 << left) - 1 }
}

/// Loads the selected bytes of `s` from `i` on.
///
/// # Safety
/// `i < s.len()` and `m` selects at most `s.len() - i` bytes (the low ones).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn load(s: &[u8], i: usize, m: u64) -> __m512i {
    // SAFETY: the caller's contract; masked-off bytes are not accessed.
    unsafe { _mm512_maskz_loadu_epi8(m, s.as_ptr().add(i).cast()) }
}

/// The activations as `vpdpbusd` reads them: i8 values shifted by 128 into u8.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn unsigned<const SIGNED: bool>(x: __m512i) -> __m512i {
    if SIGNED { _mm512_xor_si512(x, _mm512_set1_epi8(i8::MIN)) } else { x }
}

/// Dot product of activations `x` (u8 or i8) with i8 weights `w` over their common length.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub(crate) fn dot<const SIGNED: bool>(x: &[u8], w: &[u8]) -> i32 {
    let n = x.len().min(w.len());
    let ones = _mm512_set1_epi8(1);
    let (mut acc, mut wsum) = (_mm512_setzero_si512(), _mm512_setzero_si512());
    let mut i = 0;
    while i < n {
        let m = mask(n - i);
        // SAFETY: i < n <= both lengths, and `m` selects min(64, n - i) bytes.
        let (xv, wv) = unsafe { (load(x, i, m), load(w, i, m)) };
        // Masked-off activation lanes may be 128 after the shift; their weights are 0.
        acc = _mm512_dpbusd_epi32(acc, unsigned::<SIGNED>(xv), wv);
        if SIGNED {
            wsum = _mm512_dpbusd_epi32(wsum, ones, wv);
        }
        i += 64;
    }
    let sum = _mm512_reduce_add_epi32(acc);
    if SIGNED { sum - 128 * _mm512_reduce_add_epi32(wsum) } else { sum }
}

/// `acc` plus four dot products of `x` (whole words) with an interleaved group of four rows
/// (`format::packed_at`). Each step takes four activation words (16 bytes) and the 64 group
/// bytes that go with them: the words are spread so that dword lane `4j + r` holds activation
/// word `j`, which the group has beside row `r`'s word `j`, and one `vpdpbusd` does all 64
/// multiply-accumulates. Each row's sum is its lanes `r, r + 4, ...` added at the end.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub(crate) fn dot4<const SIGNED: bool>(acc: [i32; 4], x: &[u8], group: &[u8]) -> [i32; 4] {
    crate::kernels::add4(acc, spread_dot4::<SIGNED>(x, group))
}

/// `acc` plus one weight row `w` against four pixels' cells side by side in `cells` (pixel `p`'s
/// at `p x w.len()`): a `dot` per pixel, each a masked load and a `vpdpbusd` (the cells of the
/// transposed convolutions that take this path are a few words).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub(crate) fn dot4_px<const SIGNED: bool>(acc: [i32; 4], w: &[u8], cells: &[u8]) -> [i32; 4] {
    let n = w.len();
    let cell = |p: usize| cells.get(p * n..(p + 1) * n).unwrap_or_default();
    [
        acc[0] + dot::<SIGNED>(cell(0), w),
        acc[1] + dot::<SIGNED>(cell(1), w),
        acc[2] + dot::<SIGNED>(cell(2), w),
        acc[3] + dot::<SIGNED>(cell(3), w),
    ]
}

/// The loop of `dot4`: the activation `words` spread over the lanes against 64 bytes of
/// `interleaved` weights per step. `vpdpbusd` takes the activations unsigned: signed ones are
/// shifted by 128 and `128 x` the weights' sum (a second `vpdpbusd` against ones) is taken off
/// after.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn spread_dot4<const SIGNED: bool>(words: &[u8], interleaved: &[u8]) -> [i32; 4] {
    let n = (words.len() / 4).min(interleaved.len() / 16) * 4;
    let ones = _mm512_set1_epi8(1);
    let spread = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    let (mut acc, mut wsum) = (_mm512_setzero_si512(), _mm512_setzero_si512());
    let mut i = 0;
    while i < n {
        let left = n - i;
        // SAFETY: i < n <= words.len() and the mask selects min(16, n - i) bytes of it; likewise
        // 4 * i < 4 * n <= interleaved.len() and min(64, 4 * (n - i)) bytes of it.
        let (sv, iv) = unsafe { (load(words, i, mask(left.min(16))), load(interleaved, 4 * i, mask(4 * left))) };
        let (activations, weights) = (_mm512_permutexvar_epi32(spread, sv), iv);
        // Masked-off activation lanes may be 128 after the shift; their weights are 0.
        acc = _mm512_dpbusd_epi32(acc, unsigned::<SIGNED>(activations), weights);
        if SIGNED {
            wsum = _mm512_dpbusd_epi32(wsum, ones, weights);
        }
        i += 16;
    }
    let rows = |v: __m512i| -> [i32; 4] {
        // Lanes 4j + r for j = 0..4 summed: halves, then quarters, leave the four rows.
        let half = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64::<1>(v));
        let quarter = _mm_add_epi32(_mm256_castsi256_si128(half), _mm256_extracti128_si256::<1>(half));
        let mut out = [0i32; 4];
        // SAFETY: a 16-byte unaligned store into a 16-byte array.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), quarter) };
        out
    };
    let sums = rows(acc);
    if !SIGNED {
        return sums;
    }
    let ws = rows(wsum);
    [sums[0] - 128 * ws[0], sums[1] - 128 * ws[1], sums[2] - 128 * ws[2], sums[3] - 128 * ws[3]]
}
