//! The layer loops of the int8 kernels as a macro (`kernel_set!`), so that they can be compiled
//! more than once: plainly (the portable build) and with other dot-product steps and target
//! features (the builds `crate::dispatch` picks from), plus the small macros that choose, as the
//! loops are expanded, the code of each build.

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
/// `dot` and `dot4` and also `widen_pair` and `emit_pair`, for a build that computes two output
/// pixels of a convolution at a time (the Cortex-M4 DSP build; see [`by_pairs`]); that build has
/// no four-pixel path for transposed convolutions, whose narrow layers it takes through
/// `convt_narrow`. The DSP build also takes `Words4` and `emit_words4`, a step for convolutions
/// whose four kernel rows are one word each (`conv_words4`), and the narrow
/// transposed-convolution steps (`widen_row`, `span_sums`, `run_dot`, `requantize_one`;
/// `convt_narrow`). (The x86 builds take most convolutions through `crate::x86_direct` before
/// these loops: `crate::dispatch`.)
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
        pub(crate) use $($dots)::+::{
            IN_PLACE_BELOW_FOUR, NARROW_MAX, Words4, dot, dot4, emit_pair, emit_words4, requantize_one,
            run_dot, saturating_bits, span_sums, widen_pair, widen_row,
        };
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

        $crate::kernels::by_pairs!($pairs, {
            /// A convolution whose kernel rows are one word each, four rows (a 4x4 kernel over
            /// one channel: the encoder's first layer), one pixel at a time: each row's word read
            /// where it lies in the input (zeros on the padding), then every channel in one step
            /// (`emit_words4`, its tables checked once by `Words4::new`). Out of line, so that the
            /// general loop is not compiled a second time around it.
            #[inline(never)]
            $(#[$feature])?
            fn conv_words4(
                rec: &LayerRecord,
                layer: Words4<'_>,
                input: &[u8],
                signed: bool,
                output: &mut [u8],
            ) -> Result<(), Error> {
                let err = Error::BadShape { layer: 0 };
                let (ic, ih, iw) = (usize::from(rec.input.c), usize::from(rec.input.h), usize::from(rec.input.w));
                let (oc, oh, ow) = (usize::from(rec.output.c), usize::from(rec.output.h), usize::from(rec.output.w));
                let (s, pad) = (usize::from(rec.stride), usize::from(rec.padding));
                let (stride, kw) = (iw * ic, 4 / ic.max(1));
                for (oy, out_row) in output.chunks_exact_mut(ow * oc).take(oh).enumerate() {
                    let rows_inside = oy * s >= pad && oy * s + 4 <= ih + pad;
                    for (ox, out_pixel) in out_row.chunks_exact_mut(oc).enumerate() {
                        if rows_inside && ox * s >= pad && ox * s + kw <= iw + pad {
                            // Inside the input (most pixels): row r is the word at base + r * stride.
                            let base = ((oy * s - pad) * iw + ox * s - pad) * ic;
                            emit_words4(layer, out_pixel, input.get(base..base + 3 * stride + 4).ok_or(err)?, stride, signed);
                            continue;
                        }
                        // At the border: the kernel columns inside the input, zeros elsewhere.
                        let mut words = [0u8; 16];
                        let kx0 = pad.saturating_sub(ox * s).min(kw);
                        let kx1 = (iw + pad).saturating_sub(ox * s).min(kw).max(kx0);
                        for (ky, word) in words.as_chunks_mut::<4>().0.iter_mut().enumerate() {
                            let Some(iy) = (oy * s + ky).checked_sub(pad).filter(|&v| v < ih) else { continue };
                            if kx1 == kx0 {
                                // No column of the kernel lies inside the input.
                                continue;
                            }
                            let at = (iy * iw + ox * s + kx0 - pad) * ic;
                            let from = input.get(at..at + (kx1 - kx0) * ic).ok_or(err)?;
                            copy_run(word.get_mut(kx0 * ic..kx1 * ic).ok_or(err)?, from);
                        }
                        emit_words4(layer, out_pixel, &words, 4, signed);
                    }
                }
                Ok(())
            }
        }, {});

        $crate::kernels::by_pairs!($pairs, {
            /// A transposed convolution with fewer than four output channels over cells of whole
            /// words and u8 inputs (the decoder's last layer): each class's weight row widened once
            /// per channel (`widen_row`), each kernel row's cells read as one run where they lie in
            /// the input; the pixels of a class row whose taps lie inside it as one span
            /// (`span_sums`), the others kernel row by kernel row (`run_dot`), taps outside the
            /// input skipped (they add zero). In place of the four-pixel step and the gathers,
            /// whose bookkeeping cost more than a pixel's few terms. Every class must have taps
            /// (kernel at least the stride: the caller checks). Out of line, like `conv_words4`.
            #[inline(never)]
            $(#[$feature])?
            fn convt_narrow(rec: &LayerRecord, tables: &Weights<'_>, input: &[u8], output: &mut [u8]) -> Result<(), Error> {
                let err = Error::BadShape { layer: 0 };
                let (ic, ih, iw) = (usize::from(rec.input.c), usize::from(rec.input.h), usize::from(rec.input.w));
                let (oc, oh, ow) = (usize::from(rec.output.c), usize::from(rec.output.h), usize::from(rec.output.w));
                let (kh, kw) = (usize::from(rec.kernel.0), usize::from(rec.kernel.1));
                let (s, pad) = (usize::from(rec.stride).max(1), usize::from(rec.padding));
                let range = OutRange::of(rec);
                let bits = saturating_bits(range);
                let params = tables.bias.as_chunks::<4>().0.iter().zip(tables.requant.as_chunks::<REQUANT_LEN>().0);
                let mut wide = [0u32; NARROW_MAX / 2];
                let mut block = 0;
                for ry in 0..s {
                    let nky = class_taps(kh, s, ry);
                    for rx in 0..s {
                        let nkx = class_taps(kw, s, rx);
                        // Whole words: ic is a multiple of 4.
                        let kp = nky * nkx * ic;
                        let rows = tables.w.get(block..block + oc * kp).ok_or(err)?;
                        block += oc * kp;
                        let (oy0, ox0) = ((ry + s - pad % s) % s, (rx + s - pad % s) % s);
                        for (c, (w_row, (b, r))) in rows.chunks_exact(kp.max(1)).zip(params.clone()).enumerate().take(oc) {
                            let wide = widen_row(w_row, (nkx, ic), &mut wide);
                            let per_row = if ox0 < ow { (ow - ox0).div_ceil(s) } else { 0 };
                            for oy in (oy0..oh).step_by(s) {
                                let qy = (oy + pad - ry) / s;
                                // Pixel n of the row reads input column qx0 + n.
                                let qx0 = (ox0 + pad - rx) / s;
                                // Kernel rows ky0..ky1 lie inside the input; pixels lo..hi have
                                // every tap of those rows inside it: one span.
                                let ky0 = (qy + 1).saturating_sub(ih).min(nky);
                                let ky1 = (qy + 1).min(nky).max(ky0);
                                let (mut lo, mut hi) = (0, 0);
                                if kp > 0 && ky1 > ky0 {
                                    lo = (nkx - 1).saturating_sub(qx0).min(per_row);
                                    hi = iw.saturating_sub(qx0).min(per_row).max(lo);
                                }
                                let at = |n: usize| (oy * ow + ox0 + n * s) * oc + c;
                                if hi > lo && at(hi - 1) < output.len() {
                                    let first = ((qy - ky0) * iw + qx0 + lo + 1 - nkx) * ic;
                                    let taps = (ky1 - ky0, nkx * ic / 4, ic, iw * ic);
                                    let rows = wide.get(ky0 * nkx * ic / 2..).unwrap_or_default();
                                    let out = &mut *output;
                                    let done = span_sums::<false>(input, first, hi - lo, taps, rows, |i, acc| {
                                        if let Some(o) = out.get_mut(at(lo + i)) {
                                            *o = requantize_one(acc, b, r, range, bits);
                                        }
                                    });
                                    if done.is_none() {
                                        (lo, hi) = (0, 0);
                                    }
                                } else {
                                    (lo, hi) = (0, 0);
                                }
                                for n in (0..lo).chain(hi..per_row) {
                                    // At the border: taps kxi in kx0..kx1 lie inside the input,
                                    // columns qx + 1 - kx1 .. qx - kx0 + 1, one run per kernel row.
                                    let qx = qx0 + n;
                                    let kx0 = (qx + 1).saturating_sub(iw).min(nkx);
                                    let kx1 = (qx + 1).min(nkx).max(kx0);
                                    let mut acc = 0;
                                    for kyi in 0..nky {
                                        let Some(iy) = qy.checked_sub(kyi).filter(|&v| v < ih) else { continue };
                                        let at = (iy * iw + qx + 1 - kx1) * ic;
                                        let cells = input.get(at..at + (kx1 - kx0) * ic).ok_or(err)?;
                                        let weights = wide.get((kyi * nkx + nkx - kx1) * ic / 2..).unwrap_or_default();
                                        acc = run_dot::<false>(acc, cells, weights);
                                    }
                                    *output.get_mut(at(n)).ok_or(err)? = requantize_one(acc, b, r, range, bits);
                                }
                            }
                        }
                    }
                }
                Ok(())
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
                    // A patch of four words (the encoder's first layer) in the DSP build: one
                    // pixel at a time, every channel in one step (`emit_words4`), its
                    // words read straight from the input where a kernel row is one word.
                    $crate::kernels::by_pairs!($pairs, {
                        if kh == 4 && kw * ic == 4 {
                            if let Some(layer) = Words4::new(tables, oc, range) {
                                return conv_words4(rec, layer, input, signed, output);
                            }
                        }
                    }, {});
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
                    $crate::kernels::by_pairs!($pairs, {
                        // Fewer than four channels on cells of whole words of u8 (the decoder's last
                        // layer; one copy of its `asm!` steps, for flash).
                        let widest = class_taps(kh, s, 0) * class_taps(kw, s, 0) * ic;
                        let every_class = kh >= s && kw >= s;
                        if !signed && every_class && oc > 0 && oc < 4 && ic > 0 && ic.is_multiple_of(4) && widest <= NARROW_MAX {
                            return convt_narrow(rec, tables, input, output);
                        }
                    }, {});
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
                            // (The DSP build takes such layers through `convt_narrow` instead and
                            // compiles no four-pixel path.)
                            $crate::kernels::by_pairs!($pairs, {}, { let quad = oc < 4 && k > 0 && ic.is_multiple_of(4); });
                            let per_row = if ox0 < ow { (ow - ox0).div_ceil(s) } else { 0 };
                            // Pixel n of a row reads input column qx0 + n (no division per pixel).
                            let qx0 = (ox0 + pad - rx) / s;
                            for oy in (oy0..oh).step_by(s) {
                                let qy = (oy + pad - ry) / s;
                                $crate::kernels::by_pairs!($pairs, {}, { let rows_inside = qy + 1 >= nky && qy < ih; });
                                let mut n = 0;
                                while n < per_row {
                                    let ox = ox0 + n * s;
                                    let qx = qx0 + n;
                                    $crate::kernels::by_pairs!($pairs, {}, {
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
                                                for (p, a) in acc.into_iter().enumerate() {
                                                    let at = (oy * ow + ox + p * s) * oc + c;
                                                    store(output.get_mut(at).ok_or(err)?, a, b, r, range);
                                                }
                                            });
                                        }
                                        n += 4;
                                        continue;
                                    }
                                    });
                                    n += 1;
                                    let at = (oy * ow + ox) * oc;
                                    let out_pixel = output.get_mut(at..at + oc).ok_or(err)?;
                                    let half = $crate::kernels::by_pairs!($pairs, { if pending.is_some() { kp } else { 0 } }, { 0 });
                                    // Whether every tap lies inside the input (most pixels).
                                    let inside = qy + 1 >= nky && qy < ih && qx + 1 >= nkx && qx < iw && k > 0;
                                    if !inside && IN_PLACE_BELOW_FOUR && oc < 4 {
                                        // Fewer than four channels share no patch: each tap's
                                        // cell is dotted where it lies in the input, and taps
                                        // outside it are skipped (they would add zero).
                                        let biases = tables.bias.as_chunks::<4>().0;
                                        let requants = tables.requant.as_chunks::<REQUANT_LEN>().0;
                                        // (Channel c's row by offset: a class without taps has
                                        // empty rows and still writes its biases.)
                                        let channels = out_pixel.iter_mut().zip(biases.iter().zip(requants)).enumerate();
                                        for (c, (dst, (b, r))) in channels {
                                            let row = rows.get(c * kp..(c + 1) * kp).unwrap_or_default();
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
                                    if inside {
                                        // Cell (kyi, kxi) is input (qy - kyi, qx - kxi), one run of `ic`.
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
                                    } else {
                                        // At the border: zeros for the taps outside the input.
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
