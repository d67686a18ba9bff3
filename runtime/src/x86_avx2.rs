//! Dot products with AVX2 for the interleaved weight groups (`format::packed_at`), chosen at run
//! time on x86-64 CPUs that have AVX2 but not AVX-512 VNNI (`crate::dispatch`).
//!
//! One activation word and the four rows' words for it are 16 bytes of weights: widened to
//! sixteen i16 lanes (lane `4r + t` is row `r`, byte `t`) against the activation word's four
//! values repeated four times, `vpmaddwd` adds the products in pairs into eight i32 lanes, two per
//! row. Every product and pair sum is exact (|255 x 128| x 2 < 2^31), so the results are the
//! portable kernels' bits. The single rows (fewer than four channels) use the portable loop,
//! which LLVM vectorises with AVX2 by itself.
//!
//! Convolutions and transposed convolutions mostly go through `crate::x86_direct` instead (both
//! x86 builds try it first); these steps serve the linear layers and the shapes it does not take.
//! The layers call this build's own group steps (`kernel_set!(.., own_groups)`): `emit_groups`
//! widens a pixel's patch once for all its groups and requantizes four channels at a time in
//! registers (`store4`), and `quad_px` computes four pixels of a transposed-convolution class
//! with fewer than four output channels straight from the input. `quantize_plane` quantizes a one-channel
//! input eight values at a time. Each gives the portable kernels' bits
//! (`crate::check_kernel_builds` and the unit test below).
#![allow(unsafe_code)]

use crate::kernels::{OutRange, add4, cell_words};

use crate::format::REQUANT_LEN;
use core::arch::x86_64::{
    __m128i, __m256i, _CMP_ORD_Q, _mm_add_epi32, _mm_cvtepi8_epi16, _mm_cvtepu8_epi16, _mm_cvtsi32_si128,
    _mm_cvtsi128_si32, _mm_loadl_epi64, _mm_loadu_si128, _mm_max_epi32, _mm_min_epi32, _mm_packs_epi16,
    _mm_packs_epi32, _mm_packus_epi16, _mm_set1_epi32, _mm_setr_epi32, _mm_storeu_si128, _mm_unpacklo_epi32,
    _mm_unpacklo_epi64, _mm256_add_epi32, _mm256_add_ps, _mm256_and_ps, _mm256_and_si256, _mm256_broadcastq_epi64,
    _mm256_broadcastsi128_si256, _mm256_castps_si256, _mm256_castsi256_si128, _mm256_cmp_ps, _mm256_cvtepi8_epi16,
    _mm256_cvtepi32_epi64, _mm256_cvtepu8_epi16, _mm256_cvttps_epi32, _mm256_div_ps, _mm256_extracti128_si256,
    _mm256_hadd_epi32, _mm256_loadu_ps, _mm256_loadu_si256, _mm256_madd_epi16, _mm256_max_epi32, _mm256_max_ps,
    _mm256_min_epi32, _mm256_min_ps, _mm256_mul_epi32, _mm256_or_ps, _mm256_packs_epi16, _mm256_packs_epi32,
    _mm256_packus_epi16, _mm256_permutevar8x32_epi32, _mm256_set1_epi32, _mm256_set1_epi64x, _mm256_set1_ps,
    _mm256_setr_epi32, _mm256_setzero_si256, _mm256_srai_epi32, _mm256_srav_epi32, _mm256_storeu_si256,
    _mm256_sub_epi32,
};
use core::mem::MaybeUninit;

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
    rows4(acc)
}

/// The four sums of a `vpmaddwd` accumulator whose lanes `(2r, 2r + 1)` hold row `r`.
#[inline]
#[target_feature(enable = "avx2")]
fn rows4(acc: __m256i) -> [i32; 4] {
    let mut out = [0i32; 4];
    // SAFETY: a 16-byte unaligned store into a 16-byte array.
    unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), row_sums(acc)) };
    out
}

/// `rows4` in one register: pairs added within each half leave rows 0, 1 low and 2, 3 high.
#[inline]
#[target_feature(enable = "avx2")]
fn row_sums(acc: __m256i) -> __m128i {
    let pairs = _mm256_hadd_epi32(acc, acc);
    _mm_unpacklo_epi64(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256::<1>(pairs))
}

/// Longest patch (bytes) that `emit_groups` widens on the stack; longer ones (no layer of the
/// bundled models) go group by group through `dot4`.
const WIDE_MAX: usize = 2048;

/// Writes the output bytes of the interleaved groups of four rows in `rows` (one group per
/// element of `outs`) against `patch`. The patch is widened to i16 once for every group (each
/// word's four values one 64-bit lane, broadcast from memory), and up to four groups at a time
/// share each broadcast, with an accumulator each: per activation word and group a widening load
/// and a `vpmaddwd`, where `dot4` widens the word again for every group. Then four channels at a
/// time are requantized (`store4`).
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn emit_groups<const SIGNED: bool>(
    patch: &[u8],
    rows: &[u8],
    outs: &mut [[u8; 4]],
    biases: &[[[u8; 4]; 4]],
    requants: &[[[u8; REQUANT_LEN]; 4]],
    range: OutRange,
) {
    let kp = patch.len() / 4 * 4;
    let len = 4 * kp;
    let groups = outs.len().min(biases.len()).min(requants.len());
    if kp == 0 || kp > WIDE_MAX || rows.len() < len * groups {
        let params = outs.iter_mut().zip(biases).zip(requants);
        for (((dst, b), r), group) in params.zip(rows.chunks_exact(len.max(1))) {
            let [s0, s1, s2, s3] = dot4::<SIGNED>([0; 4], patch, group);
            store4(dst, _mm_setr_epi32(s0, s1, s2, s3), b, r, range);
        }
        return;
    }
    // Not zeroed: a memset of the whole buffer on every output pixel cost more than the dots.
    let mut wide = [MaybeUninit::<u64>::uninit(); WIDE_MAX / 4];
    let wide = widen::<SIGNED>(patch.get(..kp).unwrap_or_default(), &mut wide);
    let mut g = 0;
    while g < groups {
        let n = match groups - g {
            1 => 1,
            2 | 3 => 2,
            _ => 4,
        };
        // SAFETY: groups g .. g + n are bytes g * len .. (g + n) * len of `rows`, which holds
        // `groups` groups (checked above), and `wide` has len / 16 words.
        let sums: [__m128i; 4] = unsafe {
            let at = rows.as_ptr().add(g * len);
            match n {
                4 => groups_dot::<4>(wide, at, len),
                2 => {
                    let [a, b] = groups_dot::<2>(wide, at, len);
                    [a, b, a, b]
                }
                _ => {
                    let [a] = groups_dot::<1>(wide, at, len);
                    [a, a, a, a]
                }
            }
        };
        let (Some(o), Some(b), Some(r)) = (outs.get_mut(g..g + n), biases.get(g..g + n), requants.get(g..g + n)) else {
            return;
        };
        for (((o, b), r), s) in o.iter_mut().zip(b).zip(r).zip(sums) {
            store4(o, s, b, r, range);
        }
        g += n;
    }
}

/// The taps of a transposed-convolution class as `quad_px` reads them: `nky x nkx` cells of `ic`
/// bytes in an input `iw` pixels wide.
#[derive(Clone, Copy)]
pub(crate) struct Taps {
    pub nky: usize,
    pub nkx: usize,
    pub iw: usize,
    pub ic: usize,
}

/// The output bytes of four neighbouring pixels of a transposed-convolution class for one
/// channel, as the portable loop in `crate::kernels::kernel_set` computes them. Cells of 8 bytes (the seed decoder's last
/// layer) or of whole 16-byte blocks are read straight from the input, 16 bytes at a time against
/// the tap's weights widened once: with 8-byte cells each block is two pixels (lanes 0-3 and
/// 4-7), with 16-byte blocks each is one pixel's. The four sums are reduced once after all taps
/// and requantized together. Other cell sizes go through `dot4_px`.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn quad_px<const SIGNED: bool>(
    row: &[u8],
    input: &[u8],
    base: usize,
    taps: Taps,
    bias: &[u8; 4],
    requant: &[u8; REQUANT_LEN],
    range: OutRange,
) -> Option<[u8; 4]> {
    let Taps { nky, nkx, iw, ic } = taps;
    // Every cell the taps read: tap (nky - 1, nkx - 1) is the lowest, pixel 3 of tap (0, 0) ends
    // highest. Checked once, so the loops below read without further checks.
    let lowest = base.checked_sub(((nky.max(1) - 1) * iw + nkx.max(1) - 1) * ic)?;
    let end = base.checked_add(4 * ic)?;
    if lowest > end || end > input.len() || row.len() < nky * nkx * ic {
        return None;
    }
    let widen = |v: __m128i| if SIGNED { _mm256_cvtepi8_epi16(v) } else { _mm256_cvtepu8_epi16(v) };
    let sums = if ic == 8 {
        // Accumulators: pixels 0 and 1, then 2 and 3, four lanes each.
        let (mut a01, mut a23) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        for kyi in 0..nky {
            for kxi in 0..nkx {
                let (t, at) = (kyi * nkx + kxi, base - (kyi * iw + kxi) * ic);
                // SAFETY: tap t's weights are row[8t..8t + 8] (row.len() >= nky * nkx * 8), and
                // the cells are input[at..at + 32], within lowest..end <= input.len().
                unsafe {
                    let w = _mm_cvtepi8_epi16(_mm_loadl_epi64(row.as_ptr().add(8 * t).cast()));
                    let w = _mm256_broadcastsi128_si256(w);
                    let x01 = widen(_mm_loadu_si128(input.as_ptr().add(at).cast()));
                    let x23 = widen(_mm_loadu_si128(input.as_ptr().add(at + 16).cast()));
                    a01 = _mm256_add_epi32(a01, _mm256_madd_epi16(x01, w));
                    a23 = _mm256_add_epi32(a23, _mm256_madd_epi16(x23, w));
                }
            }
        }
        // [p0 p0 p2 p2 | p1 p1 p3 p3] pairs, then [p0 p2 p0 p2 | p1 p3 p1 p3].
        let h = _mm256_hadd_epi32(a01, a23);
        let h = _mm256_hadd_epi32(h, h);
        _mm_unpacklo_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256::<1>(h))
    } else if ic.is_multiple_of(16) {
        let mut acc = [_mm256_setzero_si256(); 4];
        for kyi in 0..nky {
            for kxi in 0..nkx {
                let (t, at) = (kyi * nkx + kxi, base - (kyi * iw + kxi) * ic);
                for b in (0..ic).step_by(16) {
                    // SAFETY: as above, with 16-byte blocks inside each ic-byte cell and weight run.
                    unsafe {
                        let w = _mm256_cvtepi8_epi16(_mm_loadu_si128(row.as_ptr().add(t * ic + b).cast()));
                        for (p, a) in acc.iter_mut().enumerate() {
                            let x = widen(_mm_loadu_si128(input.as_ptr().add(at + p * ic + b).cast()));
                            *a = _mm256_add_epi32(*a, _mm256_madd_epi16(x, w));
                        }
                    }
                }
            }
        }
        // Each pixel's eight lanes summed: [p0 p1 | p0 p1] pairs and so on down to one each.
        let h01 = _mm256_hadd_epi32(acc[0], acc[1]);
        let h23 = _mm256_hadd_epi32(acc[2], acc[3]);
        let h = _mm256_hadd_epi32(h01, h23);
        _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256::<1>(h))
    } else {
        let mut acc = [0i32; 4];
        let mut cells = row.chunks_exact(ic.max(1));
        for kyi in 0..nky {
            for (kxi, w) in (0..nkx).zip(cells.by_ref()) {
                let at = base - (kyi * iw + kxi) * ic;
                acc = dot4_px::<SIGNED>(acc, w, input.get(at..at + 4 * ic)?);
            }
        }
        _mm_setr_epi32(acc[0], acc[1], acc[2], acc[3])
    };
    let mut out = [0u8; 4];
    store4(&mut out, sums, &[*bias; 4], &[*requant; 4], range);
    Some(out)
}

/// `x`'s bytes as i16, four to a 64-bit lane, written to the start of `buf` and returned as
/// initialised (`x` is whole words, at most `4 x buf.len()` bytes): 16 bytes per `vpmovzxbw` /
/// `vpmovsxbw`, the last words one at a time.
#[inline]
#[target_feature(enable = "avx2")]
fn widen<'a, const SIGNED: bool>(x: &[u8], buf: &'a mut [MaybeUninit<u64>]) -> &'a [u64] {
    let words = (x.len() / 4).min(buf.len());
    let x = x.get(..4 * words).unwrap_or_default();
    let (blocks, tail) = x.as_chunks::<16>();
    for (b, out) in blocks.iter().zip(buf.as_chunks_mut::<4>().0) {
        // SAFETY: a 16-byte load of a 16-byte array and a 32-byte store into four u64s.
        unsafe {
            let v = _mm_loadu_si128(b.as_ptr().cast());
            let w = if SIGNED { _mm256_cvtepi8_epi16(v) } else { _mm256_cvtepu8_epi16(v) };
            _mm256_storeu_si256(out.as_mut_ptr().cast(), w);
        }
    }
    let done = 4 * blocks.len();
    for (w, out) in tail.as_chunks::<4>().0.iter().zip(buf.get_mut(done..).unwrap_or_default()) {
        let v = w.map(|b| u64::from((if SIGNED { i16::from(b as i8) } else { i16::from(b) }) as u16));
        out.write(v[0] | v[1] << 16 | v[2] << 32 | v[3] << 48);
    }
    // SAFETY: the loops above wrote lanes 0..4 x blocks.len() and then the tail's words, which
    // make `words` lanes in all (words <= buf.len()); MaybeUninit<u64> has u64's layout.
    unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<u64>(), words) }
}

/// The sums of `N` consecutive groups (`len` bytes each, from `rows` on) against the widened
/// words, each group's four in one register.
///
/// # Safety
/// `rows` points at `N x len` readable bytes and `wide` has at most `len / 16` words.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn groups_dot<const N: usize>(wide: &[u64], rows: *const u8, len: usize) -> [__m128i; N] {
    let mut acc = [_mm256_setzero_si256(); N];
    let mut at = rows;
    for &x in wide {
        let x = _mm256_set1_epi64x(x as i64);
        for (i, a) in acc.iter_mut().enumerate() {
            // SAFETY: word j of group i is 16 bytes at i * len + 16j < N * len (the contract).
            let w = unsafe { _mm_loadu_si128(at.add(i * len).cast()) };
            *a = _mm256_add_epi32(*a, _mm256_madd_epi16(x, _mm256_cvtepi8_epi16(w)));
        }
        // SAFETY: at most `len / 16` steps of 16 bytes, within group 0's `len`.
        at = unsafe { at.add(16) };
    }
    acc.map(|a| row_sums(a))
}

/// Four channels' output bytes from their sums, requantized as `crate::kernels::requantize`
/// does: lane-wise when the layer's shifts all exceed 32 (its high-word path, the usual case): bias
/// added, one `vpmuldq` for the four 64-bit products, a variable shift of their high words, the
/// rounding step, the clamp and a pack to bytes. Otherwise one channel at a time.
#[inline]
#[target_feature(enable = "avx2")]
fn store4(dst: &mut [u8; 4], sums: __m128i, bias: &[[u8; 4]; 4], requant: &[[u8; REQUANT_LEN]; 4], range: OutRange) {
    if !range.high_shifts {
        let mut acc = [0i32; 4];
        // SAFETY: a 16-byte unaligned store into a 16-byte array.
        unsafe { _mm_storeu_si128(acc.as_mut_ptr().cast(), sums) };
        for (((d, a), b), r) in dst.iter_mut().zip(acc).zip(bias).zip(requant) {
            *d = crate::kernels::requantize_byte(a, b, r, range);
        }
        return;
    }
    *dst = requant4_high(sums, bias, requant, range);
}

/// [`store4`]'s lane-wise path (every shift above 32), small enough to inline where a step
/// requantizes in its loop.
#[inline]
#[target_feature(enable = "avx2")]
fn requant4_high(sums: __m128i, bias: &[[u8; 4]; 4], requant: &[[u8; REQUANT_LEN]; 4], range: OutRange) -> [u8; 4] {
    // SAFETY: unaligned loads of exactly the 16-byte `bias` and the 32-byte `requant` (four
    // records of a multiplier word and a shift word).
    let (bias, records) =
        unsafe { (_mm_loadu_si128(bias.as_ptr().cast()), _mm256_loadu_si256(requant.as_ptr().cast())) };
    // Signed 32 x 32 -> 64-bit products with the multipliers (the records' low words); the
    // products' high words and the shifts then sit in the odd 32-bit lanes.
    let prod = _mm256_mul_epi32(_mm256_cvtepi32_epi64(_mm_add_epi32(sums, bias)), records);
    let scaled = _mm256_srav_epi32(prod, _mm256_sub_epi32(records, _mm256_set1_epi32(33)));
    let rounded = _mm256_srai_epi32::<1>(_mm256_add_epi32(scaled, _mm256_set1_epi32(1)));
    let odd = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(rounded, _mm256_setr_epi32(1, 3, 5, 7, 1, 3, 5, 7)));
    let q = _mm_max_epi32(_mm_min_epi32(odd, _mm_set1_epi32(range.hi)), _mm_set1_epi32(range.lo));
    // In range, so the saturating packs keep every value: i32 -> i16 -> i8 or u8.
    let words = _mm_packs_epi32(q, q);
    let bytes = if range.signed { _mm_packs_epi16(words, words) } else { _mm_packus_epi16(words, words) };
    _mm_cvtsi128_si32(bytes).to_le_bytes()
}

/// `crate::model` quantization of one plane of f32 values to bytes, eight at a time: the same
/// IEEE division by `scale`, the half step away from zero added (`v + copysign(0.5, v)` is the
/// scalar `v + 0.5` or `v - 0.5`), truncation, NaN to 0 and the clamp to the byte range; so the
/// same bytes as the scalar loop. Returns how many values it wrote (whole blocks of eight); the
/// caller quantizes the rest.
#[target_feature(enable = "avx2")]
pub(crate) fn quantize_plane(pixels: &[f32], signed: bool, scale: f32, dst: &mut [u8]) -> usize {
    let (lo, hi) = if signed { (-127, 127) } else { (0, 255) };
    let (scale_v, sign, half) = (_mm256_set1_ps(scale), _mm256_set1_ps(-0.0), _mm256_set1_ps(0.5));
    // Far outside the byte range but well inside i32's, so that truncation cannot overflow.
    let (below, above) = (_mm256_set1_ps(-1000.0), _mm256_set1_ps(1000.0));
    let (lo_v, hi_v) = (_mm256_set1_epi32(lo), _mm256_set1_epi32(hi));
    let (blocks, _) = pixels.as_chunks::<8>();
    let (outs, _) = dst.as_chunks_mut::<8>();
    for (x, out) in blocks.iter().zip(outs.iter_mut()) {
        // SAFETY: a 32-byte unaligned load of an 8-value array.
        let v = _mm256_div_ps(unsafe { _mm256_loadu_ps(x.as_ptr()) }, scale_v);
        let r = _mm256_add_ps(v, _mm256_or_ps(_mm256_and_ps(v, sign), half));
        let r = _mm256_min_ps(_mm256_max_ps(r, below), above);
        let not_nan = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_ORD_Q>(v, v));
        let q = _mm256_and_si256(_mm256_cvttps_epi32(r), not_nan);
        let q = _mm256_max_epi32(_mm256_min_epi32(q, hi_v), lo_v);
        // In range, so the saturating packs keep every value: lanes 0-3 and 4-7 end up in the
        // low four bytes of each 128-bit half.
        let words = _mm256_packs_epi32(q, q);
        let bytes = if signed { _mm256_packs_epi16(words, words) } else { _mm256_packus_epi16(words, words) };
        let low = _mm_cvtsi128_si32(_mm256_castsi256_si128(bytes)).to_le_bytes();
        let high = _mm_cvtsi128_si32(_mm256_extracti128_si256::<1>(bytes)).to_le_bytes();
        *out = [low[0], low[1], low[2], low[3], high[0], high[1], high[2], high[3]];
    }
    8 * blocks.len().min(outs.len())
}
