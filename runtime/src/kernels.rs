//! Portable integer kernels: convolution, transposed convolution and linear layers with i8 weights,
//! u8 or i8 activations, i32 accumulation and fixed-point requantization.
//!
//! Every weighted layer is computed as dot products: for each output pixel the inputs its output
//! reads are gathered into a contiguous patch (zeros for padding), and each output channel is the
//! dot product of the patch with that channel's weight row. Long contiguous dot products of bytes
//! are what compilers vectorise best on every target. A transposed convolution with stride `s` is
//! split into `s x s` classes of output pixels by `(o + padding) mod s`: all pixels of a class read
//! the same kernel taps, so each class is an ordinary convolution with its own weight block.
//!
//! Activations are stored channel-last (`[h][w][c]`). Everything here is integer arithmetic with a
//! fixed evaluation order, so results are identical on every target.

use crate::Error;
use crate::format::{LayerKind, LayerRecord, REQUANT_LEN, class_taps, packed_at, padded_terms};

/// The tables of one weighted layer, already bounds-checked by `Model::parse`.
pub(crate) struct Weights<'a> {
    /// i8 weights, one row per output channel (per class for transposed convolutions).
    pub w: &'a [u8],
    /// `out_c` i32 biases.
    pub bias: &'a [u8],
    /// `out_c` (multiplier, shift) pairs.
    pub requant: &'a [u8],
}

/// The values a layer's output bytes may take.
#[derive(Clone, Copy)]
pub(crate) struct OutRange {
    pub lo: i32,
    pub hi: i32,
    /// Stored as i8 (otherwise u8).
    pub signed: bool,
    /// Every channel's shift exceeds 32 (the usual case), so the AVX2 build requantizes with
    /// [`requantize`]'s high-word path lane-wise; known per layer, not per output. Only x86-64
    /// reads it (elsewhere it stays false and costs nothing).
    #[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
    pub high_shifts: bool,
}

impl OutRange {
    /// Signed bytes span -127..=127 and unsigned ones 0..=255; a fused ReLU clamps at 0.
    /// `high_shifts` is left false (see [`OutRange::with_shifts`]).
    pub(crate) fn of(rec: &LayerRecord) -> Self {
        let signed = rec.signed_out();
        let lo = if rec.relu() || !signed { 0 } else { -127 };
        Self { lo, hi: if signed { 127 } else { 255 }, signed, high_shifts: false }
    }

    /// `high_shifts` from the layer's requantization table (for the AVX2 build, its only reader).
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    pub(crate) fn with_shifts(self, requant: &[u8]) -> Self {
        let high_shifts = requant.as_chunks::<REQUANT_LEN>().0.iter().all(|r| requant_params(r).1 > 32);
        Self { high_shifts, ..self }
    }
}

/// Rounds `acc * mult / 2^shift` to nearest (ties toward +infinity) and clamps to the output range.
///
/// `shift` is in `1..=62` and `mult` in `0..2^31` (checked at parse), so the i64 product and the
/// rounding term cannot overflow.
///
/// Shifts above 32 (the usual case: `mult` is in `[2^30, 2^31)` and layers scale down) take the
/// high word of the product only: `floor((p + 2^(shift-1)) / 2^shift)` equals
/// `floor((p_hi + 2^(shift-33)) / 2^(shift-32))` where `p_hi = floor(p / 2^32)`, because the low
/// word adds less than one to an integer numerator (`requantize_high_word_path_equals_the_64_bit_rounding`). On 32-bit cores this is a multiply, an add and
/// a shift instead of 64-bit arithmetic, and the same value on every target.
#[inline]
pub(crate) fn requantize(acc: i32, mult: i32, shift: u32, lo: i32, hi: i32) -> i32 {
    let prod = i64::from(acc) * i64::from(mult);
    if shift > 32 {
        // |prod| <= 2^62, so p_hi is within +-2^30. floor((p_hi + 2^(s-1)) / 2^s) equals
        // floor((floor(p_hi / 2^(s-1)) + 1) / 2): with p_hi = q 2^(s-1) + r, both are
        // floor((q + 1) / 2), as r / 2^s < 1/2. Two shifts and an add, no rounding constant.
        let p_hi = (prod >> 32) as i32;
        return (((p_hi >> (shift - 33)) + 1) >> 1).clamp(lo, hi);
    }
    let rounded = (prod + (1i64 << (shift - 1))) >> shift;
    rounded.clamp(i64::from(lo), i64::from(hi)) as i32
}

/// Copies `src` into `dst` (equal lengths): the short runs of an im2col gather, whose lengths are
/// a kernel row or a pixel's channels, as fixed-size moves where the length is a common one (a
/// call to `memcpy` costs more than the copy on a microcontroller).
#[inline(always)]
pub(crate) fn copy_run(dst: &mut [u8], src: &[u8]) {
    macro_rules! fixed {
        ($($n:literal),*) => {
            match dst.len() {
                $($n => {
                    if let (Ok(d), Ok(s)) = (<&mut [u8; $n]>::try_from(&mut *dst), <&[u8; $n]>::try_from(src)) {
                        d.copy_from_slice(s);
                        return;
                    }
                })*
                _ => {}
            }
        };
    }
    fixed!(2, 3, 4, 8, 16, 32, 48);
    // Zipped rather than `copy_from_slice`, whose length check's panic formats its message (the
    // lengths are equal; a copy of the shorter is the same code without it).
    debug_assert_eq!(dst.len(), src.len());
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// Zeroes `dst`, a short run of a patch (the part of a receptive field on the padding): common
/// lengths as fixed-size stores, since a call to `memset` costs more than the stores. Not
/// inlined: one copy keeps the firmware within its flash budget.
#[inline(never)]
pub(crate) fn zero_run(dst: &mut [u8]) {
    macro_rules! fixed {
        ($($n:literal),*) => {
            match dst.len() {
                $($n => {
                    if let Ok(d) = <&mut [u8; $n]>::try_from(&mut *dst) {
                        *d = [0; $n];
                        return;
                    }
                })*
                _ => {}
            }
        };
    }
    fixed!(1, 2, 3, 4, 8, 16, 32);
    dst.fill(0);
}

/// Extra bits of resolution of [`linear_fine`]: its outputs come in steps of
/// `out_scale / 2^FINE_BITS` instead of `out_scale`.
pub const FINE_BITS: u32 = 8;

/// A `Linear` layer whose outputs stay integers of finer resolution instead of bytes: each
/// channel's `bias + dot(x, row)` rescaled by its (multiplier, shift) to steps of
/// `out_scale / 2^FINE_BITS`, rounded like [`requantize`], ReLU applied when fused, saturated to
/// i32. The classifier's last layer runs this way so that near-ties between logits are not
/// decided by an 8-bit output step. Integer arithmetic only: the same on every target.
pub(crate) fn linear_fine(
    rec: &LayerRecord,
    tables: &Weights<'_>,
    input: &[u8],
    in_signed: bool,
    mut out: impl FnMut(usize, i32),
) -> Result<(), Error> {
    let err = Error::BadShape { layer: 0 };
    let (ic, oc) = (usize::from(rec.input.c), usize::from(rec.output.c));
    let x = input.get(..ic).ok_or(err)?;
    let kp = padded_terms(ic);
    let params = tables.bias.as_chunks::<4>().0.iter().zip(tables.requant.as_chunks::<REQUANT_LEN>().0);
    for (j, (bias, requant)) in params.enumerate().take(oc) {
        // Channel j's row word by word: every fourth word of its group's block (packed_at), or
        // consecutive words of a plain row.
        let (base, stride) = if j < oc / 4 * 4 { (packed_at(oc, kp, j, 0), 16) } else { (j * kp, 4) };
        let mut acc = 0i32;
        for (w_index, xw) in x.chunks(4).enumerate() {
            let at = base + w_index * stride;
            let row = tables.w.get(at..at + xw.len()).unwrap_or_default();
            for (&a, &b) in xw.iter().zip(row) {
                let a = if in_signed { i32::from(a as i8) } else { i32::from(a) };
                acc += a * i32::from(b as i8);
            }
        }
        let (mult, shift) = requant_params(requant);
        let mult = i128::from(mult);
        // shift is in 1..=62 (checked at parse); with the finer step it may drop to 0 or below.
        let prod = i128::from(i32::from_le_bytes(*bias) + acc) * mult;
        let v = match shift.checked_sub(FINE_BITS) {
            Some(0) => prod,
            Some(s) => (prod + (1i128 << (s - 1))) >> s,
            None => prod << (FINE_BITS - shift),
        };
        let v = if rec.relu() { v.max(0) } else { v };
        out(j, v.clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32);
    }
    Ok(())
}

/// One output byte: `acc` plus the channel's bias, requantized with its (multiplier, shift) and
/// stored as i8 or u8. Always inlined: on the Cortex-M4 (opt-level "s") a call per output
/// byte cost 5% of encode's instructions.
#[inline(always)]
pub(crate) fn requantize_byte(acc: i32, bias: &[u8; 4], requant: &[u8; REQUANT_LEN], range: OutRange) -> u8 {
    let (mult, shift) = requant_params(requant);
    let q = requantize(i32::from_le_bytes(*bias) + acc, mult, shift, range.lo, range.hi);
    if range.signed { (q as i8) as u8 } else { q as u8 }
}

/// A channel's (multiplier, shift) from its requantization record.
#[inline]
pub(crate) fn requant_params(r: &[u8; REQUANT_LEN]) -> (i32, u32) {
    // One 8-byte value, split: compilers load it as two words (the byte-wise form above was
    // assembled byte by byte on the Cortex-M4).
    let v = u64::from_le_bytes(*r);
    (v as u32 as i32, (v >> 32) as u32)
}

/// Bytes of patch a layer needs: [`PAIRED_PATCHES`] receptive fields padded to whole words (the
/// largest class's for a transposed convolution), or a linear layer's input when its length is not
/// whole words (otherwise the input is read where it is).
pub(crate) fn patch_len(rec: &LayerRecord) -> usize {
    let (kh, kw, ic) = (usize::from(rec.kernel.0), usize::from(rec.kernel.1), usize::from(rec.input.c));
    let s = usize::from(rec.stride).max(1);
    match rec.kind {
        LayerKind::Conv2d => PAIRED_PATCHES * padded_terms(kh * kw * ic),
        LayerKind::ConvTranspose2d => PAIRED_PATCHES * padded_terms(kh.div_ceil(s) * kw.div_ceil(s) * ic),
        LayerKind::Linear if !ic.is_multiple_of(4) => padded_terms(ic),
        _ => 0,
    }
}

impl LayerRecord {
    /// Multiply-accumulates the kernels do for this layer: every tap of every output, the taps
    /// that fall on padding included (a transposed convolution's output reads only the taps of
    /// its residue class). 0 for layers without weights.
    #[must_use]
    pub fn macs(&self) -> u64 {
        let (ic, oc) = (u64::from(self.input.c), u64::from(self.output.c));
        let (kh, kw) = (usize::from(self.kernel.0), usize::from(self.kernel.1));
        let (s, p) = (usize::from(self.stride).max(1), usize::from(self.padding));
        let outputs = u64::from(self.output.h) * u64::from(self.output.w);
        match self.kind {
            LayerKind::Linear => ic * oc,
            LayerKind::Conv2d => outputs * (kh * kw) as u64 * ic * oc,
            LayerKind::DepthwiseConv2d => outputs * (kh * kw) as u64 * oc,
            LayerKind::ConvTranspose2d => {
                let taps = |n: u16, k: usize| -> u64 {
                    (0..usize::from(n)).map(|o| class_taps(k, s, (o + p) % s) as u64).sum()
                };
                taps(self.output.h, kh) * taps(self.output.w, kw) * ic * oc
            }
            _ => 0,
        }
    }
}

pub(crate) use crate::kernel_set::{as_signed, by_groups, by_pairs, kernel_set};

/// Patches of a layer's receptive field that the kernels' working memory holds: two gathered
/// side by side and, after them, their widened pair (four patches' bytes) for a build that
/// computes two output pixels at a time (`by_pairs`). [`patch_len`] sizes every build's so.
pub(crate) const PAIRED_PATCHES: usize = 6;

/// Lane-wise sum of two sets of four sums (the vector builds' `dot4` and `dot4_px` add their
/// result to the running sums they are given).
#[cfg(any(all(feature = "std", target_arch = "x86_64"), all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline]
pub(crate) fn add4(a: [i32; 4], b: [i32; 4]) -> [i32; 4] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]]
}

/// The words of one weight row `w` beside the four pixels' words that go with each, taken from
/// four cells side by side in `cells` (pixel `p`'s at `p x w.len()`) and laid out as a group's 16
/// bytes (pixel `p`'s word at `4p`): what the vector builds' `dot4` step multiplies, with the
/// operands' roles swapped.
#[cfg(any(all(feature = "std", target_arch = "x86_64"), all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline]
pub(crate) fn cell_words<'a>(w: &'a [u8], cells: &'a [u8]) -> impl Iterator<Item = ([u8; 4], [u8; 16])> + 'a {
    let n = w.len() / 4 * 4;
    let px = move |p: usize| cells.get(p * n..(p + 1) * n).unwrap_or_default().as_chunks::<4>().0;
    let words = w.as_chunks::<4>().0.iter().zip(px(0)).zip(px(1)).zip(px(2)).zip(px(3));
    words.map(|((((ww, x0), x1), x2), x3)| (*ww, [*x0, *x1, *x2, *x3].as_flattened().try_into().unwrap_or([0; 16])))
}

/// The kernels compiled for the target's baseline features (with simd128 dot products in a
/// WebAssembly module built with that feature).
pub(crate) mod portable {
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    crate::kernels::kernel_set!();
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    crate::kernels::kernel_set!(dots = crate::wasm_simd128);
}

/// A depthwise convolution: output `(oy, ox, c)` is channel `c`'s `kh x kw` taps (weights
/// `[ky][kx][c]`) over input `(oy * s + ky - p, ox * s + kx - p, c)`, taps on the padding left
/// out, then requantized like any weighted layer. Few terms per output (9 for a 3x3 kernel), so a
/// plain loop: the same integer sums on every target.
pub(crate) fn depthwise(
    rec: &LayerRecord,
    tables: &Weights<'_>,
    input: &[u8],
    in_signed: bool,
    output: &mut [u8],
) -> Result<(), Error> {
    let err = Error::BadShape { layer: 0 };
    let (c_n, ih, iw) = (usize::from(rec.input.c), usize::from(rec.input.h), usize::from(rec.input.w));
    let (oh, ow) = (usize::from(rec.output.h), usize::from(rec.output.w));
    let (kh, kw) = (usize::from(rec.kernel.0), usize::from(rec.kernel.1));
    let (s, pad) = (usize::from(rec.stride), usize::from(rec.padding));
    let OutRange { lo, hi, signed, .. } = OutRange::of(rec);
    let biases = tables.bias.as_chunks::<4>().0;
    let requants = tables.requant.as_chunks::<REQUANT_LEN>().0;
    let value = |b: u8| if in_signed { i32::from(b as i8) } else { i32::from(b) };
    for oy in 0..oh {
        for ox in 0..ow {
            for (c, (bias, requant)) in biases.iter().zip(requants).enumerate().take(c_n) {
                let mut acc = 0i32;
                for ky in 0..kh {
                    let Some(iy) = (oy * s + ky).checked_sub(pad).filter(|&v| v < ih) else { continue };
                    for kx in 0..kw {
                        let Some(ix) = (ox * s + kx).checked_sub(pad).filter(|&v| v < iw) else { continue };
                        let x = *input.get((iy * iw + ix) * c_n + c).ok_or(err)?;
                        let w = *tables.w.get((ky * kw + kx) * c_n + c).ok_or(err)?;
                        acc += value(x) * i32::from(w as i8);
                    }
                }
                let (mult, shift) = requant_params(requant);
                let q = requantize(i32::from_le_bytes(*bias) + acc, mult, shift, lo, hi);
                *output.get_mut((oy * ow + ox) * c_n + c).ok_or(err)? = if signed { (q as i8) as u8 } else { q as u8 };
            }
        }
    }
    Ok(())
}

/// Max or average pooling of a channel-last tensor, in place: output `(oy, ox, c)` is stored at
/// `(oy * ow + ox) * c_n + c`, at or before every input it reads (`(iy * iw + ix) * c_n + c` with
/// `iy >= oy`, `ix >= ox`, `iw >= ow`), and outputs are written in increasing order, so no input
/// is overwritten before it is read. The average of `n` values `v` is `floor((2 sum + n) / 2n)`:
/// the nearest integer, ties toward +infinity (as requantization rounds), within the input's
/// byte range, so the scale and signedness carry over.
pub(crate) fn pool(rec: &LayerRecord, data: &mut [u8], signed: bool) -> Result<(), Error> {
    if rec.kind == LayerKind::MaxPool2d {
        return max_pool(rec, data, signed);
    }
    let err = Error::BadShape { layer: 0 };
    let (c_n, iw) = (usize::from(rec.input.c), usize::from(rec.input.w));
    let (oh, ow) = (usize::from(rec.output.h), usize::from(rec.output.w));
    let (kh, kw, s) = (usize::from(rec.kernel.0), usize::from(rec.kernel.1), usize::from(rec.stride));
    let n = (kh * kw) as i32;
    let value = |b: u8| if signed { i32::from(b as i8) } else { i32::from(b) };
    for oy in 0..oh {
        for ox in 0..ow {
            for c in 0..c_n {
                let mut sum = 0;
                for ky in 0..kh {
                    for kx in 0..kw {
                        let at = ((oy * s + ky) * iw + ox * s + kx) * c_n + c;
                        sum += value(*data.get(at).ok_or(err)?);
                    }
                }
                *data.get_mut((oy * ow + ox) * c_n + c).ok_or(err)? = (2 * sum + n).div_euclid(2 * n) as u8;
            }
        }
    }
    Ok(())
}

/// [`pool`]'s maximum, a pixel's channels at a time (up to 64, one run of bytes per tap): each
/// byte's top bit flipped for i8 values, which orders them as u8 (so the loops are byte-wise
/// maxima, which compilers vectorise), and flipped back on the way out. In place as [`pool`]:
/// a pixel's outputs are written after all its taps were read, and later pixels read nothing
/// before their own outputs.
fn max_pool(rec: &LayerRecord, data: &mut [u8], signed: bool) -> Result<(), Error> {
    let err = Error::BadShape { layer: 0 };
    let (c_n, iw) = (usize::from(rec.input.c), usize::from(rec.input.w));
    let (oh, ow) = (usize::from(rec.output.h), usize::from(rec.output.w));
    let (kh, kw, s) = (usize::from(rec.kernel.0), usize::from(rec.kernel.1), usize::from(rec.stride));
    let flip = if signed { 0x80 } else { 0 };
    let mut acc = [0u8; 64];
    for oy in 0..oh {
        for ox in 0..ow {
            let mut c0 = 0;
            while c0 < c_n {
                let n = (c_n - c0).min(acc.len());
                let acc = acc.get_mut(..n).ok_or(err)?;
                // 0 is the least value once flipped.
                acc.fill(0);
                for ky in 0..kh {
                    for kx in 0..kw {
                        let at = ((oy * s + ky) * iw + ox * s + kx) * c_n + c0;
                        let taps = data.get(at..at + n).ok_or(err)?;
                        for (a, &v) in acc.iter_mut().zip(taps) {
                            *a = (*a).max(v ^ flip);
                        }
                    }
                }
                let at = (oy * ow + ox) * c_n + c0;
                for (d, &a) in data.get_mut(at..at + n).ok_or(err)?.iter_mut().zip(acc.iter()) {
                    *d = a ^ flip;
                }
                c0 += n;
            }
        }
    }
    Ok(())
}

/// An `add` layer in place: each byte `a` of the chain and `b` of the kept tensor become
/// `clamp(floor((a x m_a + b x m_b + 2^(s-1)) / 2^s))` with the layer's two multipliers and common
/// shift (docs/runtime-format.md); |a x m_a + b x m_b| < 2^40, exact in i64 everywhere.
pub(crate) fn add(
    rec: &LayerRecord,
    requant: &[u8],
    data: &mut [u8],
    signed_a: bool,
    kept: &[u8],
    signed_b: bool,
) -> Result<(), Error> {
    let err = Error::BadShape { layer: 0 };
    let [ra, rb] = requant.as_chunks::<REQUANT_LEN>().0 else { return Err(err) };
    let ((ma, s), (mb, _)) = (requant_params(ra), requant_params(rb));
    let OutRange { lo, hi, signed, .. } = OutRange::of(rec);
    let value = |b: u8, signed: bool| i64::from(if signed { i32::from(b as i8) } else { i32::from(b) });
    if kept.len() < data.len() || !(1..=62).contains(&s) {
        return Err(err);
    }
    for (a, &b) in data.iter_mut().zip(kept) {
        let acc = value(*a, signed_a) * i64::from(ma) + value(b, signed_b) * i64::from(mb);
        let y = ((acc + (1i64 << (s - 1))) >> s).clamp(i64::from(lo), i64::from(hi));
        *a = if signed { (y as i8) as u8 } else { y as u8 };
    }
    Ok(())
}

/// Softmax over `data` in place: with `m` the largest value, each value `x` becomes
/// `floor((t(m - x) x 255 + sum / 2) / sum)`, where `t(d)` is entry `d` of the table (u16, `exp`
/// of `-d` input steps in units of 1/65535) and `sum` the sum of the entries of every value. All
/// integer: the same bytes on every target. `sum` is at most 4,096 x 65,535 < 2^28, so nothing
/// overflows u32.
pub(crate) fn softmax(table: &[u8], data: &mut [u8], signed: bool) -> Result<(), Error> {
    let err = Error::OutOfBounds { layer: 0 };
    let entries = table.as_chunks::<2>().0;
    let value = |b: u8| if signed { i32::from(b as i8) } else { i32::from(b) };
    let m = data.iter().map(|&b| value(b)).max().ok_or(err)?;
    let t = |b: u8| -> Result<u32, Error> {
        let d = usize::try_from(m - value(b)).map_err(|_| err)?;
        entries.get(d).map(|e| u32::from(u16::from_le_bytes(*e))).ok_or(err)
    };
    let mut sum = 0u32;
    for &b in data.iter() {
        sum += t(b)?;
    }
    // The largest value's entry is 65,535 (checked at parse), so sum > 0.
    let sum = sum.max(1);
    for b in data.iter_mut() {
        *b = ((t(*b)? * 255 + sum / 2) / sum) as u8;
    }
    Ok(())
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
    use super::portable::dot;
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

    /// The high-word path for shifts above 32 gives the exact 64-bit rounding, everywhere in
    /// the ranges parse accepts (the extremes included).
    #[test]
    fn requantize_high_word_path_equals_the_64_bit_rounding() {
        let exact = |acc: i32, mult: i32, shift: u32, lo: i32, hi: i32| -> i32 {
            let p = i128::from(acc) * i128::from(mult);
            ((p + (1i128 << (shift - 1))) >> shift).clamp(i128::from(lo), i128::from(hi)) as i32
        };
        let mut r = crate::Rng::new(11);
        let edges = [i32::MIN, i32::MIN + 1, -(1 << 24), -1, 0, 1, 1 << 24, i32::MAX];
        for i in 0..200_000u32 {
            let acc = if i % 7 == 0 {
                edges[(i / 7) as usize % edges.len()]
            } else {
                r.next_u32() as i32 >> (r.next_u32() % 31)
            };
            let mult = if i % 11 == 0 { i32::MAX } else { (1 << 30) + (r.next_u32() >> 2) as i32 };
            let shift = 1 + r.next_u32() % 62;
            // Wide bounds too, so that the rounding itself (not the clamp) is compared.
            let (lo, hi) = match i % 3 {
                0 => (-127, 127),
                1 => (0, 255),
                _ => (i32::MIN, i32::MAX),
            };
            assert_eq!(
                requantize(acc, mult, shift, lo, hi),
                exact(acc, mult, shift, lo, hi),
                "{acc} * {mult} >> {shift}"
            );
        }
    }

    #[test]
    fn fine_linear_outputs_refine_the_byte_outputs() {
        use crate::format::{LAYER_SIGNED, Shape};
        const IC: usize = 37;
        const OC: usize = 10;
        let (ic, oc) = (IC, OC);
        let mut r = crate::Rng::new(5);
        // Packed rows of 40 bytes (37 padded to whole words); the padding is 0.
        let mut w = [0u8; 40 * OC];
        for o in 0..OC {
            for t in 0..IC {
                w[crate::format::packed_at(OC, 40, o, t)] = r.next_u32() as u8;
            }
        }
        let (mut bias, mut requant) = ([0u8; 4 * OC], [0u8; REQUANT_LEN * OC]);
        for j in 0..OC {
            let b = (r.next_u32() % 2000) as i32 - 1000;
            bias[4 * j..4 * j + 4].copy_from_slice(&b.to_le_bytes());
            // Shifts on both sides of FINE_BITS: large ones round, small ones shift left.
            let shift: u32 = if j < 2 { 1 + j as u32 } else { 36 + (j as u32 % 5) };
            let mult = (1i32 << 30) + (r.next_u32() >> 2) as i32;
            requant[8 * j..8 * j + 4].copy_from_slice(&mult.to_le_bytes());
            requant[8 * j + 4..8 * j + 8].copy_from_slice(&shift.to_le_bytes());
        }
        let rec = LayerRecord::shape_only(
            LayerKind::Linear,
            LAYER_SIGNED,
            (Shape { c: ic as u16, h: 1, w: 1 }, Shape { c: oc as u16, h: 1, w: 1 }),
            (1, 1, 0, 0),
        );
        let tables = Weights { w: &w, bias: &bias, requant: &requant };
        let mut x = [0u8; IC];
        x.iter_mut().for_each(|b| *b = r.next_u32() as u8);
        let mut bytes = [0u8; 10];
        portable::weighted(&rec, &tables, &x, true, &mut bytes, &mut [0u8; 40]).unwrap();
        let mut fine = [0i32; 10];
        linear_fine(&rec, &tables, &x, true, |j, v| fine[j] = v).unwrap();
        for j in 0..oc {
            let q = i32::from(bytes[j] as i8);
            if j < 2 {
                // Huge factors: the byte saturates and the fine value is far beyond it.
                assert!(q.abs() == 127 || q == 0, "channel {j}: {q}");
                assert!(fine[j].unsigned_abs() >= 127 << FINE_BITS || fine[j] == 0, "channel {j}: {}", fine[j]);
            } else if q.abs() < 127 {
                let exact = f64::from(fine[j]) / f64::from(1u32 << FINE_BITS);
                assert!((exact - f64::from(q)).abs() <= 0.5 + 1.0 / 512.0, "channel {j}: byte {q}, fine {exact}");
            }
        }
        assert!(fine.iter().any(|&v| v % (1 << FINE_BITS) != 0), "no extra resolution: {fine:?}");
    }

    /// Max and average pooling (in place; the maximum over channels in runs of up to 64, i8 by
    /// flipped bytes) against plain loops into a separate buffer: channel counts below, at and
    /// above a run, strides below, at and above the kernel, both byte types.
    #[test]
    fn pooling_matches_a_plain_loop() {
        use crate::format::Shape;
        for (c, ih, k, st) in
            [(1usize, 28usize, 2usize, 2usize), (16, 9, 3, 2), (64, 6, 2, 2), (70, 7, 3, 1), (5, 8, 2, 3)]
        {
            let oh = (ih - k) / st + 1;
            for (kind, signed) in
                [false, true].into_iter().flat_map(|s| [(LayerKind::MaxPool2d, s), (LayerKind::AvgPool2d, s)])
            {
                let (input, output) = (
                    Shape { c: c as u16, h: ih as u16, w: ih as u16 },
                    Shape { c: c as u16, h: oh as u16, w: oh as u16 },
                );
                let rec = LayerRecord::shape_only(kind, 0, (input, output), (k as u8, st as u8, 0, 0));
                let mut r = crate::Rng::new((c * 1000 + ih * 10 + k) as u64);
                let x: std::vec::Vec<u8> = (0..c * ih * ih).map(|_| r.next_u32() as u8).collect();
                let value = |b: u8| if signed { i32::from(b as i8) } else { i32::from(b) };
                let mut expected = std::vec![0u8; c * oh * oh];
                for oy in 0..oh {
                    for ox in 0..oh {
                        for ch in 0..c {
                            let taps = (0..k)
                                .flat_map(|ky| (0..k).map(move |kx| ((oy * st + ky) * ih + ox * st + kx) * c + ch));
                            let v: std::vec::Vec<i32> = taps.map(|at| value(x[at])).collect();
                            let q = if kind == LayerKind::MaxPool2d {
                                *v.iter().max().unwrap()
                            } else {
                                // The nearest integer to the mean, ties up.
                                let (sum, n) = (f64::from(v.iter().sum::<i32>()), v.len() as f64);
                                (sum / n + 0.5).floor() as i32
                            };
                            expected[(oy * oh + ox) * c + ch] = q as u8;
                        }
                    }
                }
                let mut data = x.clone();
                pool(&rec, &mut data, signed).unwrap();
                assert_eq!(
                    &data[..expected.len()],
                    &expected[..],
                    "{kind:?}, c {c}, {ih}x{ih}, k {k}, s {st}, signed {signed}"
                );
            }
        }
    }

    /// Transposed convolutions (plain and four pixels at a time, rows with and without padding,
    /// fewer and more than four channels) against the formula of docs/runtime-format.md computed
    /// with plain loops, reading each weight through `packed_at`: an absolute check, which
    /// `check_kernel_builds` (builds against each other) is not.
    #[test]
    fn transposed_convolution_matches_a_plain_loop() {
        use crate::format::{LAYER_RELU, LAYER_SIGNED, Shape};
        // (in c, h, w), out c, kernel, stride, padding
        for (ic, ih, oc, k, st, pad) in [
            (5usize, 4usize, 3usize, 3usize, 2usize, 0usize),
            (8, 14, 1, 4, 2, 1),
            (6, 5, 2, 4, 2, 1),
            (3, 5, 5, 3, 2, 1),
            // A kernel smaller than the stride: classes without taps.
            (4, 4, 2, 1, 2, 0),
        ] {
            let oh = (ih - 1) * st + k - 2 * pad;
            for signed in [false, true] {
                let rec = LayerRecord::shape_only(
                    LayerKind::ConvTranspose2d,
                    if signed { LAYER_SIGNED } else { LAYER_RELU },
                    (
                        Shape { c: ic as u16, h: ih as u16, w: ih as u16 },
                        Shape { c: oc as u16, h: oh as u16, w: oh as u16 },
                    ),
                    (k as u8, st as u8, pad as u8, 0),
                );
                let mut r = crate::Rng::new((ic * 100 + oc) as u64);
                // Random bytes everywhere, the rows' padding too: files hold zeros there, but the
                // kernels promise to multiply it by zero activations, and this checks they do.
                let mut w = [0u8; 4096];
                w.iter_mut().for_each(|v| *v = r.next_u32() as u8);
                let mut x = [0u8; 2048];
                x.iter_mut().for_each(|v| *v = r.next_u32() as u8);
                let (mut bias, mut requant) = ([0u8; 4 * 8], [0u8; REQUANT_LEN * 8]);
                for o in 0..oc {
                    bias[4 * o..4 * o + 4].copy_from_slice(&((r.next_u32() % 2000) as i32 - 1000).to_le_bytes());
                    requant[8 * o..8 * o + 4]
                        .copy_from_slice(&((1i32 << 30) + (r.next_u32() >> 2) as i32).to_le_bytes());
                    requant[8 * o + 4..8 * o + 8].copy_from_slice(&(40 + o as u32).to_le_bytes());
                }
                let tables = Weights { w: &w[..rec.weights_len()], bias: &bias[..4 * oc], requant: &requant[..8 * oc] };
                // Not zeros: an output byte the kernel leaves unwritten must not pass for a zero.
                let mut out = [0xAAu8; 4096];
                let mut patch = [0u8; 1024];
                let n_in = ic * ih * ih;
                portable::weighted(
                    &rec,
                    &tables,
                    &x[..n_in],
                    signed,
                    &mut out[..oc * oh * oh],
                    &mut patch[..patch_len(&rec)],
                )
                .unwrap();
                // The formula, output (oy, ox, o) from input ((oy + p - ky) / s, (ox + p - kx) / s).
                let value = |b: u8| if signed { i32::from(b as i8) } else { i32::from(b) };
                let weight = |o: usize, ky: usize, kx: usize, c: usize| -> i32 {
                    let (ry, rx) = (ky % st, kx % st);
                    let before: usize = (0..ry * st + rx).map(|b| oc * padded_terms(rec.block_terms(b).unwrap())).sum();
                    let terms = rec.block_terms(ry * st + rx).unwrap();
                    let t = ((ky / st) * class_taps(k, st, rx) + kx / st) * ic + c;
                    i32::from(w[before + packed_at(oc, padded_terms(terms), o, t)] as i8)
                };
                let range = OutRange::of(&rec);
                for oy in 0..oh {
                    for ox in 0..oh {
                        for o in 0..oc {
                            let mut acc = 0i32;
                            for ky in 0..k {
                                for kx in 0..k {
                                    let (ny, nx) = (oy + pad, ox + pad);
                                    if ny < ky || nx < kx || (ny - ky) % st != 0 || (nx - kx) % st != 0 {
                                        continue;
                                    }
                                    let (iy, ix) = ((ny - ky) / st, (nx - kx) / st);
                                    if iy >= ih || ix >= ih {
                                        continue;
                                    }
                                    for c in 0..ic {
                                        acc += weight(o, ky, kx, c) * value(x[(iy * ih + ix) * ic + c]);
                                    }
                                }
                            }
                            let b = i32::from_le_bytes(bias[4 * o..4 * o + 4].try_into().unwrap());
                            let (m, sh) = requant_params(requant[8 * o..8 * o + 8].try_into().unwrap());
                            let q = requantize(b + acc, m, sh, range.lo, range.hi);
                            let want = if range.signed { (q as i8) as u8 } else { q as u8 };
                            assert_eq!(
                                out[(oy * oh + ox) * oc + o],
                                want,
                                "{ic}->{oc} k{k} s{st} p{pad} ({oy},{ox},{o})"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn transposed_convolution_classes_partition_the_kernel() {
        for (k, s) in [(4usize, 2usize), (3, 2), (5, 3), (1, 2), (2, 3)] {
            let total: usize = (0..s).map(|r| class_taps(k, s, r)).sum();
            assert_eq!(total, k, "k {k} s {s}");
        }
        assert_eq!(class_taps(3, 2, 0), 2); // taps 0, 2
        assert_eq!(class_taps(3, 2, 1), 1); // tap 1
    }

    #[test]
    fn dot_reads_signed_and_unsigned_bytes() {
        let w = [0x80u8, 0x7f, 0xff]; // -128, 127, -1
        assert_eq!(dot::<false>(&[255, 1, 2], &w), -128 * 255 + 127 - 2);
        assert_eq!(dot::<true>(&[0xff, 1, 2], &w), 128 + 127 - 2);
    }

    #[test]
    fn dot_matches_a_plain_loop_at_every_length() {
        let xs: [u8; 100] = core::array::from_fn(|i| (i * 37 % 256) as u8);
        let ws: [u8; 100] = core::array::from_fn(|i| (i * 91 % 256) as u8);
        for n in 0..100usize {
            let (x, w) = (&xs[..n], &ws[..n]);
            let plain_u: i32 = x.iter().zip(w).map(|(&a, &b)| i32::from(a) * i32::from(b as i8)).sum();
            let plain_s: i32 = x.iter().zip(w).map(|(&a, &b)| i32::from(a as i8) * i32::from(b as i8)).sum();
            assert_eq!(dot::<false>(x, w), plain_u, "n {n}");
            assert_eq!(dot::<true>(x, w), plain_s, "n {n}");
        }
        // The extreme product: 255 * -128.
        assert_eq!(dot::<false>(&[255; 40], &[0x80; 40]), 40 * 255 * -128);
    }
}
