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
                        *d = *s;
                        return;
                    }
                })*
                _ => {}
            }
        };
    }
    fixed!(2, 3, 4, 8, 16, 32, 48);
    dst.copy_from_slice(src);
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

/// The kernels proper, as a macro so that they can be compiled more than once: plainly (the
/// portable build) and with extra target features enabled (see `crate::dispatch`). `$feature` is
/// an optional `#[target_feature]` attribute put on every function, so that each build's
/// functions call each other within the same feature set.
///
/// `dot4` reads the 4-channel groups of `format::packed_at`: `x` is a patch of whole words (its
/// padding zero) and `group` the four rows' words interleaved, `4 x x.len()` bytes. `dot4_px` reads one
/// weight row's words against four pixels' cells lying side by side (`cells` is `4 x w.len()`
/// bytes: pixel `p`'s cell at `p x w.len()`), as the pixels of a transposed-convolution class do
/// in the input. Both add to the accumulators they are given, so that a pixel's sum can be taken
/// tap by tap.
///
/// `kernel_set!(dots = path::to::module)` takes `dot`, `dot4` and `dot4_px` from that module
/// instead of compiling the portable ones (the Cortex-M DSP and x86 builds, whose dot products
/// are instructions the compiler does not emit by itself), optionally with a feature attribute
/// too. `kernel_set!(dots = path::to::module, own_groups)` takes `dot`, `Taps`, `emit_groups` (a pixel's
/// groups of four channels, requantized) and `quad_px` (four pixels of a transposed-convolution
/// class with fewer than four channels) instead, for a build whose steps span more than one dot
/// product (x86 AVX2; see [`by_groups`]). `kernel_set!(dots = path::to::module, pairs)` takes
/// `dot`, `dot4` and `dot4_px` and also `widen_pair`, `emit_pair` and `requantize_four`, for a build that computes
/// two output pixels of a convolution at a time (the Cortex-M4 DSP build; see [`by_pairs`]).
macro_rules! kernel_set {
    ($(#[$feature:meta])?) => {
        $crate::kernels::kernel_set!(@dots $(#[$feature])?);
        $crate::kernels::kernel_set!(@layers inline single $(#[$feature])?);
    };
    (dots = $($dots:ident)::+, own_groups $(, #[$feature:meta])?) => {
        pub(crate) use $($dots)::+::{IN_PLACE_BELOW_FOUR, Taps, dot, emit_groups, quad_px};
        $crate::kernels::kernel_set!(@layers own single $(#[$feature])?);
    };
    (dots = $($dots:ident)::+, pairs $(, #[$feature:meta])?) => {
        pub(crate) use $($dots)::+::{IN_PLACE_BELOW_FOUR, dot, dot4, dot4_px, emit_pair, requantize_four, widen_pair};
        $crate::kernels::kernel_set!(@layers inline pairs $(#[$feature])?);
    };
    (dots = $($dots:ident)::+ $(, #[$feature:meta])?) => {
        pub(crate) use $($dots)::+::{IN_PLACE_BELOW_FOUR, dot, dot4, dot4_px};
        $crate::kernels::kernel_set!(@layers inline single $(#[$feature])?);
    };
    (@dots $(#[$feature:meta])?) => {
        /// Whether transposed convolutions with fewer than four output channels dot each tap's
        /// cell where it lies in the input (at the border, where four pixels do not fit) instead
        /// of gathering a patch (see the `dots` modules).
        const IN_PLACE_BELOW_FOUR: bool = true;

        /// An activation byte's value.
        #[inline]
        $(#[$feature])?
        fn value<const SIGNED: bool>(b: u8) -> i32 {
            if SIGNED { i32::from(b as i8) } else { i32::from(b) }
        }

        /// Dot product of activations `x` (u8 or i8) with i8 weights `w`. Lengths are at most
        /// `MAX_TERMS` (checked at parse), so the i32 sum cannot overflow.
        #[inline]
        $(#[$feature])?
        pub(crate) fn dot<const SIGNED: bool>(x: &[u8], w: &[u8]) -> i32 {
            x.iter().zip(w).fold(0i32, |acc, (&a, &b)| acc + value::<SIGNED>(a) * i32::from(b as i8))
        }

        /// `acc` plus four dot products of `x` (whole words) with an interleaved group of four
        /// rows: each activation word is widened once, and the four rows' words for it lie side
        /// by side.
        #[inline]
        $(#[$feature])?
        fn dot4<const SIGNED: bool>(mut acc: [i32; 4], x: &[u8], group: &[u8]) -> [i32; 4] {
            for (xw, gw) in x.as_chunks::<4>().0.iter().zip(group.as_chunks::<16>().0) {
                let xv = xw.map(|v| value::<SIGNED>(v));
                for (a, row) in acc.iter_mut().zip(gw.as_chunks::<4>().0) {
                    *a += xv.iter().zip(row).map(|(&x, &w)| x * i32::from(w as i8)).sum::<i32>();
                }
            }
            acc
        }

        /// `acc` plus one weight row `w` (whole words) against four pixels' cells side by side
        /// (pixel `p`'s at `p x w.len()` in `cells`): four dot products sharing the weights.
        #[inline]
        $(#[$feature])?
        fn dot4_px<const SIGNED: bool>(mut acc: [i32; 4], w: &[u8], cells: &[u8]) -> [i32; 4] {
            let n = w.len();
            for (p, a) in acc.iter_mut().enumerate() {
                *a += dot::<SIGNED>(cells.get(p * n..(p + 1) * n).unwrap_or_default(), w);
            }
            acc
        }
    };
    (@layers $groups:ident $pairs:ident $(#[$feature:meta])?) => {
        use $crate::Error;
        use $crate::format::{LayerKind, LayerRecord, REQUANT_LEN};
        use $crate::format::{class_taps, padded_terms};
        use $crate::kernels::{OutRange, PAIRED_PATCHES, Weights, copy_run, requantize_byte, zero_run};

        /// Requantizes one accumulator with its channel's bias and (multiplier, shift).
        #[inline]
        $(#[$feature])?
        fn store(dst: &mut u8, acc: i32, bias: &[u8; 4], requant: &[u8; REQUANT_LEN], range: OutRange) {
            *dst = requantize_byte(acc, bias, requant, range);
        }

        /// Writes one output pixel: for each channel, bias + dot(patch, row), requantized.
        /// `patch` is whole words (`kp` bytes, zero padding) and `rows` the packed block
        /// (`format::packed_at`): groups of four channels read the patch once.
        #[inline]
        $(#[$feature])?
        fn emit<const SIGNED: bool>(out: &mut [u8], patch: &[u8], rows: &[u8], tables: &Weights<'_>, range: OutRange) {
            let biases = tables.bias.as_chunks::<4>().0;
            let requants = tables.requant.as_chunks::<REQUANT_LEN>().0;
            let kp = patch.len();
            if kp == 0 {
                // A class with no taps (kernel smaller than the stride) leaves only the bias.
                for ((dst, b), r) in out.iter_mut().zip(biases).zip(requants) {
                    store(dst, 0, b, r, range);
                }
                return;
            }
            let groups = out.len() / 4;
            let done = 4 * groups;
            let (outs, rest) = out.split_at_mut(done);
            // What follows the groups in `rows`: the plain rows of the last channels.
            let mut left = $crate::kernels::by_groups!($groups, {{
                let Some((grouped, tail)) = rows.split_at_checked(4 * kp * groups) else { return };
                let (b4, r4) = (biases.as_chunks::<4>().0, requants.as_chunks::<4>().0);
                emit_groups::<SIGNED>(patch, grouped, outs.as_chunks_mut::<4>().0, b4, r4, range);
                tail
            }}, {{
                // The groups are split off `rows` one at a time: `chunks_exact(4 * kp)` would
                // divide by that length on every call (one call per output pixel).
                let mut left = rows;
                let params = biases.chunks_exact(4).zip(requants.chunks_exact(4));
                for (dst, (b, r)) in outs.as_chunks_mut::<4>().0.iter_mut().zip(params) {
                    let Some((g, tail)) = left.split_at_checked(4 * kp) else { return };
                    left = tail;
                    let acc = dot4::<SIGNED>([0; 4], patch, g);
                    for (((d, a), b), r) in dst.iter_mut().zip(acc).zip(b).zip(r) {
                        store(d, a, b, r, range);
                    }
                }
                left
            }});
            // The last channels, fewer than four, in plain rows.
            let params = biases.get(done..).unwrap_or_default().iter().zip(requants.get(done..).unwrap_or_default());
            for (dst, (b, r)) in rest.iter_mut().zip(params) {
                let Some((w, tail)) = left.split_at_checked(kp) else { return };
                left = tail;
                store(dst, dot::<SIGNED>(patch, w), b, r, range);
            }
        }

        $crate::kernels::by_pairs!($pairs, {
            /// Emits two output pixels whose patches lie side by side at the start of `patch`
            /// (`kp` bytes each): widens them into the space after (`widen_pair`), then computes
            /// both (`emit_pair`). Out of line: one copy for the four places that pair pixels.
            #[inline(never)]
            $(#[$feature])?
            fn pair<const SIGNED: bool>(
                first: &mut [u8],
                second: &mut [u8],
                patch: &mut [u8],
                kp: usize,
                rows: &[u8],
                tables: &Weights<'_>,
                range: OutRange,
            ) {
                let (halves, wide) = patch.split_at_mut((2 * kp).min(patch.len()));
                let (a, b) = halves.split_at(halves.len() / 2);
                let wide = wide.get_mut(..4 * kp).unwrap_or_default();
                widen_pair::<SIGNED>(wide, a, b);
                emit_pair(first, second, wide, rows, tables, range);
            }
        }, {});

        /// Runs one weighted layer (`Conv2d`, `ConvTranspose2d` or `Linear`) from `input` to
        /// `output`, using `patch` (at least `patch_len` bytes) as working memory.
        $(#[$feature])?
        pub(crate) fn weighted(
            rec: &LayerRecord,
            tables: &Weights<'_>,
            input: &[u8],
            in_signed: bool,
            output: &mut [u8],
            patch: &mut [u8],
        ) -> Result<(), Error> {
            // The DSP build compiles the layer loops once and picks each dot-product step's
            // input type as it calls it (`as_signed!`), which keeps the firmware within its flash
            // budget; the others compile them per input type, the choice folded away.
            $crate::kernels::by_pairs!($pairs, {
                weighted_impl::<false>(rec, tables, input, in_signed, output, patch)
            }, {
                if in_signed {
                    weighted_impl::<true>(rec, tables, input, true, output, patch)
                } else {
                    weighted_impl::<false>(rec, tables, input, false, output, patch)
                }
            })
        }

        #[inline]
        $(#[$feature])?
        fn weighted_impl<const SIGNED: bool>(
            rec: &LayerRecord,
            tables: &Weights<'_>,
            input: &[u8],
            in_signed: bool,
            output: &mut [u8],
            patch: &mut [u8],
        ) -> Result<(), Error> {
            // Whether the input bytes are i8: known at compile time except in the DSP build.
            let signed = $crate::kernels::by_pairs!($pairs, { in_signed }, {{
                debug_assert_eq!(in_signed, SIGNED);
                SIGNED
            }});
            let err = Error::BadShape { layer: 0 };
            let (ic, ih, iw) = (usize::from(rec.input.c), usize::from(rec.input.h), usize::from(rec.input.w));
            let (oc, oh, ow) = (usize::from(rec.output.c), usize::from(rec.output.h), usize::from(rec.output.w));
            let (kh, kw) = (usize::from(rec.kernel.0), usize::from(rec.kernel.1));
            let (s, pad) = (usize::from(rec.stride), usize::from(rec.padding));
            let range = $crate::kernels::by_groups!($groups, {
                OutRange::of(rec).with_shifts(tables.requant)
            }, {
                OutRange::of(rec)
            });
            match rec.kind {
                LayerKind::Linear => {
                    let x = input.get(..ic).ok_or(err)?;
                    let out = output.get_mut(..oc).ok_or(err)?;
                    if ic.is_multiple_of(4) {
                        $crate::kernels::as_signed!(signed, emit(out, x, tables.w, tables, range));
                    } else {
                        // Rows are padded to whole words: so is a copy of the input.
                        let (head, pad) = patch.get_mut(..padded_terms(ic)).ok_or(err)?.split_at_mut(ic);
                        head.copy_from_slice(x);
                        pad.fill(0);
                        $crate::kernels::as_signed!(signed, emit(out, patch.get(..padded_terms(ic)).ok_or(err)?, tables.w, tables, range));
                    }
                }
                LayerKind::Conv2d => {
                    let k = kh * kw * ic;
                    let kp = padded_terms(k);
                    // Two pixels at a time where the build has a two-pixel step (`emit_pair`) and
                    // the channels come in whole groups: the first pixel's patch waits in the
                    // first half of `patch` while the second's is gathered into the second.
                    let pairs = $crate::kernels::by_pairs!($pairs, { k > 0 && oc > 0 && oc.is_multiple_of(4) }, { false });
                    let patch = patch.get_mut(..if pairs { PAIRED_PATCHES * kp } else { kp }).ok_or(err)?;
                    // The padding after the receptive field stays zero; the gather writes the rest.
                    patch.get_mut(k..kp).unwrap_or_default().fill(0);
                    if pairs {
                        patch.get_mut(kp + k..2 * kp).unwrap_or_default().fill(0);
                    }
                    $crate::kernels::by_pairs!($pairs, { let mut pending: Option<&mut [u8]> = None; }, {});
                    let row = kw * ic;
                    for (oy, out_row) in output.chunks_exact_mut(ow * oc).take(oh).enumerate() {
                        // Whether every kernel row of this output row lies inside the input.
                        let rows_inside = oy * s >= pad && oy * s + kh <= ih + pad;
                        for (ox, out_pixel) in out_row.chunks_exact_mut(oc).enumerate() {
                            let half = $crate::kernels::by_pairs!($pairs, { if pending.is_some() { kp } else { 0 } }, { 0 });
                            let patch_k = patch.get_mut(half..half + k).unwrap_or_default();
                            if rows_inside && ox * s >= pad && ox * s + kw <= iw + pad {
                                // Inside the input (most pixels): kernel rows are plain runs.
                                let base = ((oy * s - pad) * iw + ox * s - pad) * ic;
                                $crate::kernels::by_groups!($groups, {
                                    // Plain offsets: the chunk iterators below divide by the row
                                    // lengths on every pixel, slow on x86 (one instruction on
                                    // the Cortex-M4, where they are the fewer instructions).
                                    let (mut at, mut to) = (base, 0);
                                    for _ in 0..kh {
                                        let from = input.get(at..at + row).ok_or(err)?;
                                        copy_run(patch_k.get_mut(to..to + row).ok_or(err)?, from);
                                        (at, to) = (at + iw * ic, to + row);
                                    }
                                }, {
                                    let src = input.get(base..base + (kh - 1) * iw * ic + row).ok_or(err)?;
                                    for (prow, from) in patch_k.chunks_exact_mut(row).zip(src.chunks(iw * ic)) {
                                        copy_run(prow, from.get(..row).ok_or(err)?);
                                    }
                                });
                            } else {
                                // At the border: row by row, zeros where the field overlaps the padding.
                                for (ky, prow) in patch_k.chunks_exact_mut(row).enumerate() {
                                    let Some(iy) = (oy * s + ky).checked_sub(pad).filter(|&v| v < ih) else {
                                        zero_run(prow);
                                        continue;
                                    };
                                    // Valid kernel columns: ix = ox*s + kx - pad in 0..iw.
                                    let kx0 = pad.saturating_sub(ox * s).min(kw);
                                    let kx1 = (iw + pad).saturating_sub(ox * s).min(kw).max(kx0);
                                    let (left, rest) = prow.split_at_mut(kx0 * ic);
                                    let (mid, right) = rest.split_at_mut((kx1 - kx0) * ic);
                                    zero_run(left);
                                    zero_run(right);
                                    let at = (iy * iw + ox * s + kx0 - pad) * ic;
                                    copy_run(mid, input.get(at..at + mid.len()).ok_or(err)?);
                                }
                            }
                            $crate::kernels::by_pairs!($pairs, {
                                if !pairs {
                                    $crate::kernels::as_signed!(signed, emit(out_pixel, patch, tables.w, tables, range));
                                } else if let Some(first) = pending.take() {
                                    $crate::kernels::as_signed!(signed, pair(first, out_pixel, patch, kp, tables.w, tables, range));
                                } else {
                                    pending = Some(out_pixel);
                                }
                            }, {
                                $crate::kernels::as_signed!(signed, emit(out_pixel, patch, tables.w, tables, range));
                            });
                        }
                    }
                    // An odd pixel out: alone, from the first half.
                    $crate::kernels::by_pairs!($pairs, {
                        if let Some(first) = pending {
                            $crate::kernels::as_signed!(signed, emit(first, patch.get(..kp).unwrap_or_default(), tables.w, tables, range));
                        }
                    }, {});
                }
                LayerKind::ConvTranspose2d => {
                    // Class by class: all output pixels (oy, ox) with (oy + pad, ox + pad) = (ry, rx)
                    // mod s read the same taps, so the class's taps and weight block are found
                    // once. Tap (kyi, kxi) is kernel (ry + s*kyi, rx + s*kxi); with
                    // qy = (oy + pad - ry) / s (exact) it reads input row qy - kyi, column qx - kxi.
                    let s = s.max(1);
                    let mut block = 0;
                    for ry in 0..s {
                        let nky = class_taps(kh, s, ry);
                        for rx in 0..s {
                            let nkx = class_taps(kw, s, rx);
                            let k = nky * nkx * ic;
                            let kp = padded_terms(k);
                            // Two pixels at a time, as in `Conv2d`.
                            let pairs = $crate::kernels::by_pairs!($pairs, { k > 0 && oc > 0 && oc.is_multiple_of(4) }, { false });
                            let patch = patch.get_mut(..if pairs { PAIRED_PATCHES * kp } else { kp }).ok_or(err)?;
                            patch.get_mut(k..kp).unwrap_or_default().fill(0);
                            if pairs {
                                patch.get_mut(kp + k..2 * kp).unwrap_or_default().fill(0);
                            }
                            // Where the output of the pixel whose patch waits in the first half is.
                            $crate::kernels::by_pairs!($pairs, { let mut pending: Option<usize> = None; }, {});
                            let rows = tables.w.get(block..block + oc * kp).ok_or(err)?;
                            block += oc * kp;
                            // The first output row and column of the class.
                            let (oy0, ox0) = ((ry + s - pad % s) % s, (rx + s - pad % s) % s);
                            // Below four output channels no group shares a patch: four
                            // neighbouring pixels of the class share each weight word instead
                            // (`dot4_px`). Their cells for one tap lie side by side in the input
                            // (columns qx - kxi .. qx - kxi + 4), so they are read in place.
                            // (Cells of whole words only: `dot4_px` reads words.)
                            let quad = oc < 4 && k > 0 && ic.is_multiple_of(4);
                            let per_row = if ox0 < ow { (ow - ox0).div_ceil(s) } else { 0 };
                            // Pixel n of a row reads input column qx0 + n (no division per pixel).
                            let qx0 = (ox0 + pad - rx) / s;
                            for oy in (oy0..oh).step_by(s) {
                                let qy = (oy + pad - ry) / s;
                                let rows_inside = qy + 1 >= nky && qy < ih;
                                let mut n = 0;
                                while n < per_row {
                                    let ox = ox0 + n * s;
                                    let qx = qx0 + n;
                                    // Pixel n + j reads input column qx + j.
                                    if quad && rows_inside && n + 4 <= per_row && qx + 1 >= nkx && qx + 3 < iw {
                                        let biases = tables.bias.as_chunks::<4>().0;
                                        let requants = tables.requant.as_chunks::<REQUANT_LEN>().0;
                                        let channels = rows.chunks_exact(kp).zip(biases.iter().zip(requants));
                                        for (c, (row, (b, r))) in channels.enumerate().take(oc) {
                                            // Tap (kyi, kxi) of pixel 0 is input (qy - kyi, qx - kxi),
                                            // and the other three pixels' cells follow it.
                                            $crate::kernels::by_groups!($groups, {
                                                let taps = Taps { nky, nkx, iw, ic };
                                                let base = (qy * iw + qx) * ic;
                                                let row = row.get(..k).unwrap_or_default();
                                                let q = $crate::kernels::as_signed!(signed, quad_px(row, input, base, taps, b, r, range)).ok_or(err)?;
                                                for (p, q) in q.into_iter().enumerate() {
                                                    *output.get_mut((oy * ow + ox + p * s) * oc + c).ok_or(err)? = q;
                                                }
                                            }, {
                                                // (A division per tap: fewer instructions on the
                                                // Cortex-M4, whose divide is one, than nested loops.)
                                                let mut acc = [0i32; 4];
                                                for (t, w) in row.get(..k).unwrap_or_default().chunks_exact(ic).enumerate() {
                                                    let (kyi, kxi) = (t / nkx, t % nkx);
                                                    let at = ((qy - kyi) * iw + qx - kxi) * ic;
                                                    acc = $crate::kernels::as_signed!(signed, dot4_px(acc, w, input.get(at..at + 4 * ic).ok_or(err)?));
                                                }
                                                $crate::kernels::by_pairs!($pairs, {
                                                    let q = requantize_four(acc, b, r, range);
                                                    for (p, q) in q.into_iter().enumerate() {
                                                        *output.get_mut((oy * ow + ox + p * s) * oc + c).ok_or(err)? = q;
                                                    }
                                                }, {
                                                    for (p, a) in acc.into_iter().enumerate() {
                                                        let at = (oy * ow + ox + p * s) * oc + c;
                                                        store(output.get_mut(at).ok_or(err)?, a, b, r, range);
                                                    }
                                                });
                                            });
                                        }
                                        n += 4;
                                        continue;
                                    }
                                    n += 1;
                                    let at = (oy * ow + ox) * oc;
                                    let out_pixel = output.get_mut(at..at + oc).ok_or(err)?;
                                    let half = $crate::kernels::by_pairs!($pairs, { if pending.is_some() { kp } else { 0 } }, { 0 });
                                    if qy + 1 >= nky && qy < ih && qx + 1 >= nkx && qx < iw && k > 0 {
                                        // Every tap inside the input (most pixels): cell (kyi,
                                        // kxi) is input (qy - kyi, qx - kxi), one run of `ic`.
                                        let cells = patch.get_mut(half..half + k).unwrap_or_default().chunks_exact_mut(ic);
                                        $crate::kernels::by_groups!($groups, {
                                            // Nested loops: a division per cell is slow on x86.
                                            let mut cells = cells;
                                            for kyi in 0..nky {
                                                for (kxi, cell) in (0..nkx).zip(cells.by_ref()) {
                                                    let at = ((qy - kyi) * iw + qx - kxi) * ic;
                                                    copy_run(cell, input.get(at..at + ic).ok_or(err)?);
                                                }
                                            }
                                        }, {
                                            // One instruction on the Cortex-M4: fewer than the loops.
                                            for (t, cell) in cells.enumerate() {
                                                let (kyi, kxi) = (t / nkx, t % nkx);
                                                let at = ((qy - kyi) * iw + qx - kxi) * ic;
                                                copy_run(cell, input.get(at..at + ic).ok_or(err)?);
                                            }
                                        });
                                        $crate::kernels::by_pairs!($pairs, {
                                            if !pairs {
                                                $crate::kernels::as_signed!(signed, emit(out_pixel, patch, rows, tables, range));
                                            } else if let Some(first) = pending.take() {
                                                // `first` lies before `at`: split there for both.
                                                let (before, from) = output.split_at_mut(at);
                                                let first = before.get_mut(first..first + oc).ok_or(err)?;
                                                $crate::kernels::as_signed!(signed, pair(first, from.get_mut(..oc).ok_or(err)?, patch, kp, rows, tables, range));
                                            } else {
                                                pending = Some(at);
                                            }
                                        }, {
                                            $crate::kernels::as_signed!(signed, emit(out_pixel, patch, rows, tables, range));
                                        });
                                        continue;
                                    }
                                    if IN_PLACE_BELOW_FOUR && oc < 4 {
                                        // Fewer than four channels share no patch: each tap's
                                        // cell is dotted where it lies in the input, and taps
                                        // outside it are skipped (they would add zero).
                                        let biases = tables.bias.as_chunks::<4>().0;
                                        let requants = tables.requant.as_chunks::<REQUANT_LEN>().0;
                                        let channels = out_pixel.iter_mut().zip(rows.chunks_exact(kp.max(1)));
                                        for ((dst, row), (b, r)) in channels.zip(biases.iter().zip(requants)) {
                                            let mut acc = 0i32;
                                            for kyi in 0..nky {
                                                let Some(iy) = qy.checked_sub(kyi).filter(|&v| v < ih) else { continue };
                                                for kxi in 0..nkx {
                                                    let Some(ix) = qx.checked_sub(kxi).filter(|&v| v < iw) else { continue };
                                                    let (at, tap) = ((iy * iw + ix) * ic, (kyi * nkx + kxi) * ic);
                                                    acc += $crate::kernels::as_signed!(signed, dot(
                                                        input.get(at..at + ic).ok_or(err)?,
                                                        row.get(tap..tap + ic).ok_or(err)?,
                                                    ));
                                                }
                                            }
                                            store(dst, acc, b, r, range);
                                        }
                                        continue;
                                    }
                                    let cells = patch.get_mut(half..half + k).unwrap_or_default().chunks_exact_mut((nkx * ic).max(1));
                                    for (kyi, prow) in cells.enumerate().take(nky) {
                                        let iy = qy.checked_sub(kyi).filter(|&v| v < ih);
                                        for (kxi, cell) in prow.chunks_exact_mut(ic.max(1)).enumerate() {
                                            match (iy, qx.checked_sub(kxi).filter(|&v| v < iw)) {
                                                (Some(iy), Some(ix)) => {
                                                    let at = (iy * iw + ix) * ic;
                                                    copy_run(cell, input.get(at..at + ic).ok_or(err)?);
                                                }
                                                _ => zero_run(cell),
                                            }
                                        }
                                    }
                                    $crate::kernels::by_pairs!($pairs, {
                                        if !pairs {
                                            $crate::kernels::as_signed!(signed, emit(out_pixel, patch, rows, tables, range));
                                        } else if let Some(first) = pending.take() {
                                            // `first` lies before `at`: split there for both.
                                            let (before, from) = output.split_at_mut(at);
                                            let first = before.get_mut(first..first + oc).ok_or(err)?;
                                            $crate::kernels::as_signed!(signed, pair(first, from.get_mut(..oc).ok_or(err)?, patch, kp, rows, tables, range));
                                        } else {
                                            pending = Some(at);
                                        }
                                    }, {
                                        $crate::kernels::as_signed!(signed, emit(out_pixel, patch, rows, tables, range));
                                    });
                                }
                            }
                            // An odd pixel out of the class: alone, from the first half.
                            $crate::kernels::by_pairs!($pairs, {
                                if let Some(first) = pending {
                                    let out = output.get_mut(first..first + oc).ok_or(err)?;
                                    $crate::kernels::as_signed!(signed, emit(out, patch.get(..kp).unwrap_or_default(), rows, tables, range));
                                }
                            }, {});
                        }
                    }
                }
                _ => return Err(err),
            }
            Ok(())
        }
    };
}

pub(crate) use kernel_set;

/// Expands, inside `kernel_set!`, the first block for a build with its own group steps (`own`:
/// `emit_groups` and `quad_px` from its `dots` module) and the second for the others (`inline`:
/// the layer loops' own, which the Cortex-M4 counts fewest instructions for). Chosen as the
/// kernels are compiled, so each build holds only its own code.
macro_rules! by_groups {
    (own, { $($own:tt)* }, { $($inline:tt)* }) => {
        $($own)*
    };
    (inline, { $($own:tt)* }, { $($inline:tt)* }) => {
        $($inline)*
    };
}

pub(crate) use by_groups;

/// Expands, inside `kernel_set!`, the first block for a build that computes two output pixels at
/// a time (`pairs`: `widen_pair` and `emit_pair` from its `dots` module, the Cortex-M4 DSP build)
/// and the second for the others (`single`).
macro_rules! by_pairs {
    (pairs, { $($pairs:tt)* }, { $($single:tt)* }) => {
        $($pairs)*
    };
    (single, { $($pairs:tt)* }, { $($single:tt)* }) => {
        $($single)*
    };
}

pub(crate) use by_pairs;

/// `f::<true>(args)` for signed activations, else `f::<false>(args)`. In the DSP build the layer
/// loops are compiled once and only the dot-product steps twice (once per input type), which
/// keeps the Cortex-M4 firmware within its flash budget; elsewhere `$signed` is a constant and
/// the other branch is folded away.
macro_rules! as_signed {
    ($signed:expr, $f:ident($($arg:expr),* $(,)?)) => {
        if $signed { $f::<true>($($arg),*) } else { $f::<false>($($arg),*) }
    };
}

pub(crate) use as_signed;

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
    let err = Error::BadShape { layer: 0 };
    let (c_n, iw) = (usize::from(rec.input.c), usize::from(rec.input.w));
    let (oh, ow) = (usize::from(rec.output.h), usize::from(rec.output.w));
    let (kh, kw, s) = (usize::from(rec.kernel.0), usize::from(rec.kernel.1), usize::from(rec.stride));
    let n = (kh * kw) as i32;
    let value = |b: u8| if signed { i32::from(b as i8) } else { i32::from(b) };
    for oy in 0..oh {
        for ox in 0..ow {
            for c in 0..c_n {
                let mut acc = if rec.kind == LayerKind::MaxPool2d { i32::MIN } else { 0 };
                for ky in 0..kh {
                    for kx in 0..kw {
                        let at = ((oy * s + ky) * iw + ox * s + kx) * c_n + c;
                        let v = value(*data.get(at).ok_or(err)?);
                        acc = if rec.kind == LayerKind::MaxPool2d { acc.max(v) } else { acc + v };
                    }
                }
                if rec.kind == LayerKind::AvgPool2d {
                    acc = (2 * acc + n).div_euclid(2 * n);
                }
                *data.get_mut((oy * ow + ox) * c_n + c).ok_or(err)? = acc as u8;
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
        let rec = LayerRecord {
            kind: LayerKind::Linear,
            flags: LAYER_SIGNED,
            kernel: (1, 1),
            stride: 1,
            padding: 0,
            output_padding: 0,
            input: Shape { c: ic as u16, h: 1, w: 1 },
            output: Shape { c: oc as u16, h: 1, w: 1 },
            out_scale: 1.0,
            weights: 0,
            bias: 0,
            requant: 0,
            lut: 0,
            source: 0,
        };
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
        ] {
            let oh = (ih - 1) * st + k - 2 * pad;
            for signed in [false, true] {
                let rec = LayerRecord {
                    kind: LayerKind::ConvTranspose2d,
                    flags: if signed { LAYER_SIGNED } else { LAYER_RELU },
                    kernel: (k as u8, k as u8),
                    stride: st as u8,
                    padding: pad as u8,
                    output_padding: 0,
                    input: Shape { c: ic as u16, h: ih as u16, w: ih as u16 },
                    output: Shape { c: oc as u16, h: oh as u16, w: oh as u16 },
                    out_scale: 1.0,
                    weights: 0,
                    bias: 0,
                    requant: 0,
                    lut: 0,
                    source: 0,
                };
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
                let mut out = [0u8; 4096];
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
