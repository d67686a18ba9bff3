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
    __m512i, _mm512_dpbusd_epi32, _mm512_maskz_loadu_epi8, _mm512_reduce_add_epi32, _mm512_set1_epi8,
    _mm512_setzero_si512, _mm512_xor_si512,
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

/// Four dot products sharing `x`: each 64-byte block of activations is loaded once.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub(crate) fn dot4<const SIGNED: bool>(x: &[u8], w: [&[u8]; 4]) -> [i32; 4] {
    let n = w.iter().fold(x.len(), |n, row| n.min(row.len()));
    let ones = _mm512_set1_epi8(1);
    let mut acc = [_mm512_setzero_si512(); 4];
    let mut wsum = [_mm512_setzero_si512(); 4];
    let mut i = 0;
    while i < n {
        let m = mask(n - i);
        // SAFETY: i < n <= x.len(), and `m` selects min(64, n - i) bytes.
        let xv = unsigned::<SIGNED>(unsafe { load(x, i, m) });
        for ((a, s), row) in acc.iter_mut().zip(&mut wsum).zip(w) {
            // SAFETY: i < n <= row.len(), same mask.
            let wv = unsafe { load(row, i, m) };
            *a = _mm512_dpbusd_epi32(*a, xv, wv);
            if SIGNED {
                *s = _mm512_dpbusd_epi32(*s, ones, wv);
            }
        }
        i += 64;
    }
    let mut out = [0i32; 4];
    for ((o, a), s) in out.iter_mut().zip(acc).zip(wsum) {
        let sum = _mm512_reduce_add_epi32(a);
        *o = if SIGNED { sum - 128 * _mm512_reduce_add_epi32(s) } else { sum };
    }
    out
}
