//! Dot products with the Armv7E-M DSP extension (Cortex-M4, M7, M33 with DSP), the way Arm's
//! CMSIS-NN computes them: four bytes are loaded as one word, `SXTB16` / `UXTB16` widen bytes 0
//! and 2 (and, rotated by 8, bytes 1 and 3) into two 16-bit lanes, and `SMLAD` does two
//! multiply-accumulates in one instruction. The pairing of even with even and odd with odd bytes
//! reorders the terms of each sum, which integer addition does not notice: every partial sum is
//! bounded by the whole sum's bound (checked at parse), so nothing wraps, and the results are the
//! portable kernels' bits (the firmware compares both builds on every run).
//!
//! The intrinsics for these instructions (`core::arch::arm::__smlad`, ...) are unstable, so each
//! is one `asm!` instruction here: a register-to-register operation that reads no memory and
//! touches no stack. The loops written as one `asm!` block (`emit_pair`,
//! `emit_words4`, `run_dot`, `span_sums`) also load (and `emit_words4` stores) through pointers
//! whose bounds they check first; each block's `SAFETY` comment says why its accesses stay inside.
#![allow(unsafe_code)]

use core::arch::asm;

use crate::format::REQUANT_LEN;
use crate::kernels::{OutRange, Weights, requant_params, requantize};

/// Bytes 0 and 2 of `v`, sign-extended into the low and high 16-bit lanes.
#[inline(always)]
fn sxtb16(v: u32) -> u32 {
    let r;
    // SAFETY: one register-to-register instruction of Armv7E-M (this module is compiled only for
    // such targets); no memory, stack or flags.
    unsafe {
        asm!("sxtb16 {r}, {v}", r = lateout(reg) r, v = in(reg) v, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// Bytes 1 and 3 of `v`, sign-extended into the low and high 16-bit lanes.
#[inline(always)]
fn sxtb16_hi(v: u32) -> u32 {
    let r;
    // SAFETY: as in `sxtb16`.
    unsafe {
        asm!("sxtb16 {r}, {v}, ror #8", r = lateout(reg) r, v = in(reg) v, options(pure, nomem, nostack, preserves_flags));
    };
    r
}

/// Bytes 0 and 2 of `v`, zero-extended into the low and high 16-bit lanes.
#[inline(always)]
fn uxtb16(v: u32) -> u32 {
    let r;
    // SAFETY: as in `sxtb16`.
    unsafe {
        asm!("uxtb16 {r}, {v}", r = lateout(reg) r, v = in(reg) v, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// Bytes 1 and 3 of `v`, zero-extended into the low and high 16-bit lanes.
#[inline(always)]
fn uxtb16_hi(v: u32) -> u32 {
    let r;
    // SAFETY: as in `sxtb16`.
    unsafe {
        asm!("uxtb16 {r}, {v}, ror #8", r = lateout(reg) r, v = in(reg) v, options(pure, nomem, nostack, preserves_flags));
    };
    r
}

/// `acc + a.lo * b.lo + a.hi * b.hi` over signed 16-bit lanes.
#[inline(always)]
fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let r;
    // SAFETY: one register-to-register instruction of Armv7E-M; it may set the sticky Q flag on
    // overflow (which the bounded sums here never cause), so flags are not declared preserved.
    unsafe {
        asm!("smlad {r}, {a}, {b}, {acc}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, acc = in(reg) acc, options(pure, nomem, nostack))
    };
    r
}

/// Transposed convolutions with fewer than four output channels gather a patch where
/// `convt_narrow` (`kernel_set!`) does not take them (cells not whole words, i8 inputs, a class
/// row over [`NARROW_MAX`] bytes, a kernel smaller than the stride): the
/// in-place loop was faster on the Cortex-M4 (338,280 instructions against 426,840 for the
/// decoder's last layer), but `convt_narrow` now takes that layer, and leaving the in-place loop
/// out keeps the firmware within 160 KiB of flash.
pub(crate) const IN_PLACE_BELOW_FOUR: bool = false;

/// The activation word's two pairs of lanes: bytes (0, 2) and (1, 3), widened as u8 or i8.
#[inline(always)]
fn widen_x<const SIGNED: bool>(x: [u8; 4]) -> (u32, u32) {
    let v = u32::from_le_bytes(x);
    if SIGNED { (sxtb16(v), sxtb16_hi(v)) } else { (uxtb16(v), uxtb16_hi(v)) }
}

/// `acc` plus the dot product of one widened activation word with four weight bytes.
#[inline(always)]
fn mac4(x: (u32, u32), w: [u8; 4], acc: i32) -> i32 {
    let v = u32::from_le_bytes(w);
    smlad(x.1, sxtb16_hi(v), smlad(x.0, sxtb16(v), acc))
}

/// An activation byte's value.
#[inline(always)]
fn value<const SIGNED: bool>(b: u8) -> i32 {
    if SIGNED { i32::from(b as i8) } else { i32::from(b) }
}

/// Dot product of activations `x` (u8 or i8) with i8 weights `w` over their common length.
#[inline]
pub(crate) fn dot<const SIGNED: bool>(x: &[u8], w: &[u8]) -> i32 {
    let n = x.len().min(w.len());
    let (xs, w) = (x.get(..n).unwrap_or_default(), w.get(..n).unwrap_or_default());
    let (xc, x_tail) = xs.as_chunks::<4>();
    let (wc, w_tail) = w.as_chunks::<4>();
    let acc = xc.iter().zip(wc).fold(0i32, |acc, (&xa, &wa)| mac4(widen_x::<SIGNED>(xa), wa, acc));
    x_tail.iter().zip(w_tail).fold(acc, |acc, (&a, &b)| acc + value::<SIGNED>(a) * i32::from(b as i8))
}

/// `acc` plus four dot products of `x` (whole words) with an interleaved group of four rows
/// (`format::packed_at`): each activation word is loaded and widened once, and the four rows'
/// words for it lie side by side, so one pointer walks the whole group and the loop keeps its
/// four accumulators, the widened word and the pointers in registers: 16 multiply-accumulates in
/// 8 `SMLAD`s, 2 + 8 widenings and 5 loads.
#[inline]
pub(crate) fn dot4<const SIGNED: bool>(acc: [i32; 4], x: &[u8], group: &[u8]) -> [i32; 4] {
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    for (&xw, gw) in x.as_chunks::<4>().0.iter().zip(group.as_chunks::<16>().0) {
        let xw = widen_x::<SIGNED>(xw);
        if let [w0, w1, w2, w3] = gw.as_chunks::<4>().0 {
            a0 = mac4(xw, *w0, a0);
            a1 = mac4(xw, *w1, a1);
            a2 = mac4(xw, *w2, a2);
            a3 = mac4(xw, *w3, a3);
        }
    }
    [a0, a1, a2, a3]
}

/// Widens two patches of whole words (`a` and `b`, equal lengths) into `wide` for [`emit_pair`]:
/// for each word, 16 bytes: bytes 0 and 2 of `a`'s word as two 16-bit lanes, the same of `b`'s,
/// then bytes 1 and 3 of each (`UXTB16` / `SXTB16`, as the activations are u8 or i8), so that
/// `emit_pair` loads its operands ready for `SMLAD`.
#[inline]
pub(crate) fn widen_pair<const SIGNED: bool>(wide: &mut [u8], a: &[u8], b: &[u8]) {
    let words = a.as_chunks::<4>().0.iter().zip(b.as_chunks::<4>().0);
    for (dst, (&xa, &xb)) in wide.as_chunks_mut::<16>().0.iter_mut().zip(words) {
        let ((a02, a13), (b02, b13)) = (widen_x::<SIGNED>(xa), widen_x::<SIGNED>(xb));
        for (d, v) in dst.as_chunks_mut::<4>().0.iter_mut().zip([a02, b02, a13, b13]) {
            *d = v.to_le_bytes();
        }
    }
}

/// Two output pixels' channels (whole groups of four, `format::packed_at`) from their widened
/// patches (`widen_pair`, `4 x kp` bytes), requantized into `first` and `second`. CMSIS-NN's
/// two-by-two step (`arm_nn_mat_mult_kernel_s8_s16`): two channels against two pixels, so each
/// weight word is loaded and widened once for both pixels and each activation word (loaded
/// widened) serves both channels: 16 multiply-accumulates in 8 `SMLAD`s, 2 weight loads, 4
/// widenings and 4 activation loads, against 16 instructions more for one pixel at a time. The
/// sums start from the channels' biases (the same i32 sums: every partial sum is in range).
#[inline]
pub(crate) fn emit_pair(
    first: &mut [u8],
    second: &mut [u8],
    wide: &[u8],
    rows: &[u8],
    tables: &Weights<'_>,
    range: OutRange,
) {
    let kp = wide.len() / 4;
    if kp == 0 || !kp.is_multiple_of(4) {
        // Callers pass whole words; anything else is a bug, answered without reading.
        return;
    }
    let end = wide.as_ptr().wrapping_add(4 * kp);
    let bits = saturating_bits(range);
    let outs = first.as_chunks_mut::<2>().0.iter_mut().zip(second.as_chunks_mut::<2>().0);
    let params = tables.bias.as_chunks::<8>().0.iter().zip(tables.requant.as_chunks::<{ 2 * REQUANT_LEN }>().0);
    // Channel pairs whose group of four lies in `rows`.
    let pairs = rows.len() / (4 * kp) * 2;
    let mut g = rows.as_ptr();
    for (c, ((o0, o1), (b, r))) in outs.zip(params).enumerate().take(pairs) {
        // Channels 2c and 2c + 1: words 0 and 1, or 2 and 3, of each 16-byte step of their group.
        let ([b0, b1], [r0, r1]) = (b.as_chunks::<4>().0, r.as_chunks::<REQUANT_LEN>().0) else { return };
        let (mut a00, mut a01) = (i32::from_le_bytes(*b0), i32::from_le_bytes(*b1));
        let (mut a10, mut a11) = (a00, a01);
        // One step: two channels' weight words and two pixels' activation words (16 MACs).
        macro_rules! step {
            () => {
                concat!(
                    "ldr {w1l}, [{g}, #4]\n",
                    "ldr {w0l}, [{g}], #16\n",
                    "sxtb16 {w0h}, {w0l}, ror #8\n",
                    "sxtb16 {w0l}, {w0l}\n",
                    "sxtb16 {w1h}, {w1l}, ror #8\n",
                    "sxtb16 {w1l}, {w1l}\n",
                    "ldr {x}, [{p}], #4\n",
                    "smlad {a00}, {x}, {w0l}, {a00}\n",
                    "smlad {a01}, {x}, {w1l}, {a01}\n",
                    "ldr {x}, [{p}], #4\n",
                    "smlad {a10}, {x}, {w0l}, {a10}\n",
                    "smlad {a11}, {x}, {w1l}, {a11}\n",
                    "ldr {x}, [{p}], #4\n",
                    "smlad {a00}, {x}, {w0h}, {a00}\n",
                    "smlad {a01}, {x}, {w1h}, {a01}\n",
                    "ldr {x}, [{p}], #4\n",
                    "smlad {a10}, {x}, {w0h}, {a10}\n",
                    "smlad {a11}, {x}, {w1h}, {a11}",
                )
            };
        }
        // The loop of `steps` steps per pass (`end` is a whole number of passes away).
        macro_rules! pass {
            ($($steps:expr),+) => {
                asm!(
                    "2:",
                    $($steps,)+
                    "cmp {p}, {end}",
                    "bne 2b",
                    g = inout(reg) g, p = inout(reg) wide.as_ptr() => _, end = in(reg) end,
                    a00 = inout(reg) a00, a01 = inout(reg) a01, a10 = inout(reg) a10, a11 = inout(reg) a11,
                    w0l = out(reg) _, w0h = out(reg) _, w1l = out(reg) _, w1h = out(reg) _, x = out(reg) _,
                    options(readonly, nostack),
                )
            };
        }
        // SAFETY: the loop runs kp / 4 >= 1 steps, two per pass when kp / 4 is even (then `end`
        // is a whole number of passes away). `p` steps 16 bytes from `wide`'s start to `end` =
        // start + 4 kp <= wide.len(), reading the four words of each step. `g` starts at
        // c / 2 * 4 kp + c % 2 * 8 in `rows` and steps 16 bytes too, reading words at g and
        // g + 4: the last read ends at c / 2 * 4 kp + c % 2 * 8 + 16 (kp / 4 - 1) + 8 <=
        // (c / 2 + 1) * 4 kp <= rows.len() (c < `pairs`). Unaligned word loads, which Armv7E-M
        // performs on normal memory. The block writes only its register operands; `smlad` may
        // set the sticky Q flag, so flags are not declared preserved.
        unsafe {
            // Two steps per pass where they divide the patch: one compare and branch less per
            // 32 MACs.
            if kp.is_multiple_of(8) {
                pass!(step!(), step!());
            } else {
                pass!(step!());
            }
        }
        // `g` ended 4 kp past where it started: the next pair starts 8 bytes after that start
        // (the group's other half) or at the next group.
        g = if c % 2 == 0 { g.wrapping_sub(4 * kp - 8) } else { g.wrapping_sub(8) };
        [o0[0], o1[0]] = requantize_two(a00, a10, r0, range, bits);
        [o0[1], o1[1]] = requantize_two(a01, a11, r1, range, bits);
    }
}

/// A convolution layer that [`emit_words4`] computes, its tables checked once against its
/// channel count (the fields are private: only [`Words4::new`] makes one).
#[derive(Clone, Copy)]
pub(crate) struct Words4<'a> {
    rows: &'a [u8],
    bias: &'a [u8],
    requant: &'a [u8],
    oc: usize,
}

impl<'a> Words4<'a> {
    /// The layer, when `emit_words4` computes it: whole groups of four channels of 16-byte rows
    /// (the weights, `format::packed_at`), a bias and requantization record per channel, every shift
    /// above 32 (the high-word requantization) and u8 outputs (`USAT #8`). Otherwise `None` and
    /// the general loops run. (A ReLU layer with i8 outputs would take `USAT #7`: left out, as no
    /// exported first layer has one, to keep the firmware within its flash.)
    pub(crate) fn new(tables: &Weights<'a>, oc: usize, range: OutRange) -> Option<Self> {
        let rows = tables.w;
        let (bias, requant) = (tables.bias.get(..4 * oc)?, tables.requant.get(..REQUANT_LEN * oc)?);
        let high = requant.as_chunks::<REQUANT_LEN>().0.iter().all(|r| requant_params(r).1 > 32);
        let fits = oc > 0 && oc.is_multiple_of(4) && rows.len() >= 16 * oc;
        (fits && high && saturating_bits(range) == 8).then_some(Self { rows, bias, requant, oc })
    }
}

/// One output pixel of a convolution whose patch is four words (16 terms: a 4x4 kernel over one
/// channel, the encoder's first layer), every channel: the words at `src`, `src + stride`,
/// `src + 2 stride` and `src + 3 stride` (u8 or i8 activations, `signed`) widened once into
/// 16-bit lanes on the stack, then one `asm!` loop over the channels, a group of four per
/// pass taken two at a time: their biases, four weight words each widened and sixteen `SMLAD`s
/// per two channels, and the requantization
/// (`SMMUL`, two shifts, `USAT`) with the output bytes stored, its state in registers. The
/// two-pixel step spent more on gathering, widening and bookkeeping per pixel than on the 16
/// terms. An `out` of another length than the layer's channels, or a `src` too short for the
/// four words, writes nothing (callers pass them right).
#[inline]
pub(crate) fn emit_words4(layer: Words4<'_>, out: &mut [u8], src: &[u8], stride: usize, signed: bool) {
    let Words4 { rows, bias, requant, oc } = layer;
    let need = stride.checked_mul(3).and_then(|v| v.checked_add(4));
    if out.len() != oc || need.is_none_or(|n| src.len() < n) {
        return;
    }
    let mut wide = [0u32; 8];
    for (r, w) in wide.as_chunks_mut::<2>().0.iter_mut().enumerate() {
        // SAFETY: r * stride + 4 <= 3 * stride + 4 <= src.len(): a 4-byte unaligned read.
        let x = unsafe { src.as_ptr().add(r * stride).cast::<[u8; 4]>().read_unaligned() };
        let (lo, hi) = if signed { widen_x::<true>(x) } else { widen_x::<false>(x) };
        *w = [lo, hi];
    }
    // Channel c's word j is at 64 (c / 4) + 16 j + 4 (c % 4) in `rows` (`format::packed_at`
    // with 16-byte rows): a pass takes a group, channels c and c + 1 and then c + 2 and c + 3
    // (each activation lane pair loaded once for two channels), and steps 64 bytes. The
    // requantization: the product's high word, shifted by shift - 33, then (v + 1) >> 1
    // saturated to 0..=255.
    // One weight word of channels c and c + 1 (at `g` + $g and + $g + 4) against the patch
    // word whose lane pairs are at `wp` + $x and + $x + 4.
    macro_rules! word {
        ($g:literal, $g4:literal, $x:literal, $x4:literal) => {
            concat!(
                "ldr {w0}, [{g}, #",
                $g,
                "]\n",
                "ldr {w1}, [{g}, #",
                $g4,
                "]\n",
                "ldr {x}, [{wp}, #",
                $x,
                "]\n",
                "sxtb16 {t}, {w0}\n",
                "smlad {a0}, {x}, {t}, {a0}\n",
                "sxtb16 {t}, {w1}\n",
                "smlad {a1}, {x}, {t}, {a1}\n",
                "ldr {x}, [{wp}, #",
                $x4,
                "]\n",
                "sxtb16 {t}, {w0}, ror #8\n",
                "smlad {a0}, {x}, {t}, {a0}\n",
                "sxtb16 {t}, {w1}, ror #8\n",
                "smlad {a1}, {x}, {t}, {a1}",
            )
        };
    }
    // The bias of a channel is its sum's start; after its 16 terms, its output byte.
    macro_rules! requantize {
        ($a:literal) => {
            concat!(
                "ldr {t}, [{rq}, #4]\n",
                "ldr {w0}, [{rq}], #8\n",
                "smmul {",
                $a,
                "}, {",
                $a,
                "}, {w0}\n",
                "sub {t}, {t}, #33\n",
                "asr {",
                $a,
                "}, {",
                $a,
                "}, {t}\n",
                "add {",
                $a,
                "}, {",
                $a,
                "}, #1\n",
                "usat {",
                $a,
                "}, #8, {",
                $a,
                "}, asr #1\n",
                "strb {",
                $a,
                "}, [{out}], #1",
            )
        };
    }
    // SAFETY: the loop runs oc / 4 passes (oc > 0, a multiple of 4: `Words4::new`). The pass
    // for group c / 4 reads `rows` at 64 (c / 4) + {0, 4, ..., 60} + 4 <= 16 oc <= rows.len(),
    // bias words c .. c + 4 (4c + 16 <= bias.len() = 4 oc), requant records c .. c + 4
    // (8c + 32 <= requant.len() = 8 oc) and the eight words of `wide`, and writes `out[c]` ..
    // `out[c + 3]` (c + 3 < oc = out.len()). Unaligned word loads (no `ldrd`, which would need
    // alignment), which Armv7E-M performs on normal memory. The block writes only `out` and its
    // register operands; `smlad` and `usat` may set the sticky Q flag, so flags are not
    // declared preserved.
    // (Twelve register operands: every register `reg` may name on thumbv7em, r0-r5, r8-r12 and
    // lr. One more operand, or a target that reserves r9, would not compile.)
    unsafe {
        asm!(
            "2:",
            "ldr {a0}, [{bp}], #4",
            "ldr {a1}, [{bp}], #4",
            word!("0", "4", "0", "4"),
            word!("16", "20", "8", "12"),
            word!("32", "36", "16", "20"),
            word!("48", "52", "24", "28"),
            requantize!("a0"),
            requantize!("a1"),
            "ldr {a0}, [{bp}], #4",
            "ldr {a1}, [{bp}], #4",
            word!("8", "12", "0", "4"),
            word!("24", "28", "8", "12"),
            word!("40", "44", "16", "20"),
            word!("56", "60", "24", "28"),
            requantize!("a0"),
            requantize!("a1"),
            "add {g}, {g}, #64",
            "subs {k}, {k}, #4",
            "bne 2b",
            g = inout(reg) rows.as_ptr() => _, bp = inout(reg) bias.as_ptr() => _,
            rq = inout(reg) requant.as_ptr() => _, out = inout(reg) out.as_mut_ptr() => _,
            k = inout(reg) oc => _, wp = in(reg) wide.as_ptr(),
            a0 = out(reg) _, a1 = out(reg) _, w0 = out(reg) _, w1 = out(reg) _, t = out(reg) _, x = out(reg) _,
            options(nostack),
        );
    }
}

/// Longest weight row (bytes) of a transposed-convolution class that [`widen_row`] widens for
/// the narrow path (`kernel_set!`'s `convt_narrow`): 64 lane pairs on the stack.
pub(crate) const NARROW_MAX: usize = 128;

/// Widens the weight row of a transposed-convolution class (`nky x nkx` taps of `ic` bytes,
/// whole words, at most [`NARROW_MAX`] bytes) into `wide` for [`span_sums`] and [`run_dot`], each word's bytes 0
/// and 2 sign-extended into one lane pair and bytes 1 and 3 into the next, with each kernel
/// row's taps in reverse order: tap `(kyi, kxi)`'s cell lies `kxi` cells before tap `(kyi, 0)`'s
/// in the input, so a kernel row's cells are one run there, lowest address first, and its
/// weights one run here. Returns the widened part.
#[inline]
pub(crate) fn widen_row<'a>(row: &[u8], (nkx, ic): (usize, usize), wide: &'a mut [u32; NARROW_MAX / 2]) -> &'a [u32] {
    let words = row.as_chunks::<4>().0;
    let (cell, run) = (ic / 4, nkx * ic / 4);
    for (i, w) in wide.as_chunks_mut::<2>().0.iter_mut().enumerate().take(words.len()) {
        // Widened word i is word j of cell m of its kernel row: tap kxi = nkx - 1 - m.
        let (ky, m, j) = (i / run.max(1), i % run.max(1) / cell.max(1), i % cell.max(1));
        let at = ky * run + (nkx - 1 - m) * cell + j;
        let (lo, hi) = widen_x::<true>(words.get(at).copied().unwrap_or_default());
        *w = [lo, hi];
    }
    wide.get(..2 * words.len()).unwrap_or_default()
}

/// The `asm!` template of one activation word in [`run_dot`] and [`span_sums`]: the word loaded
/// (`{c}` steps 4 bytes) and widened by `$widen` (`uxtb16` or `sxtb16`), its two lane pairs
/// against the next two widened weights (`{w}` steps 8 bytes), into `{acc}`.
macro_rules! run_word {
    ($widen:literal) => {
        concat!(
            "ldr {x}, [{c}], #4\n",
            "ldrd {w0}, {w1}, [{w}], #8\n",
            $widen,
            " {t}, {x}\n",
            "smlad {acc}, {t}, {w0}, {acc}\n",
            $widen,
            " {t}, {x}, ror #8\n",
            "smlad {acc}, {t}, {w1}, {acc}",
        )
    };
}

/// `acc` plus the dot product of a run of activation words `x` (u8 or i8) with widened weights
/// (`widen_row`: two lane pairs per word), over the words both hold: each word loaded and
/// widened once, two `SMLAD`s, two words per pass of one `asm!` loop.
#[inline]
pub(crate) fn run_dot<const SIGNED: bool>(acc: i32, x: &[u8], wide: &[u32]) -> i32 {
    let words = (x.len() / 4).min(wide.len() / 2);
    let mut acc = acc;
    let (mut c, mut w) = (x.as_ptr(), wide.as_ptr());
    macro_rules! run {
        ($widen:literal) => {
            if words % 2 == 1 {
                asm!(
                    run_word!($widen),
                    c = inout(reg) c, w = inout(reg) w, acc = inout(reg) acc,
                    x = out(reg) _, t = out(reg) _, w0 = out(reg) _, w1 = out(reg) _,
                    options(readonly, nostack),
                );
            }
            if words >= 2 {
                asm!(
                    "2:",
                    run_word!($widen),
                    run_word!($widen),
                    "cmp {c}, {end}",
                    "bne 2b",
                    c = inout(reg) c => _, w = inout(reg) w => _, acc = inout(reg) acc,
                    end = in(reg) x.as_ptr().wrapping_add(4 * words),
                    x = out(reg) _, t = out(reg) _, w0 = out(reg) _, w1 = out(reg) _,
                    options(readonly, nostack),
                );
            }
        };
    }
    // SAFETY: the blocks read `words` words of `x` (4 words <= x.len()) and 2 words of `wide`
    // per word (2 words <= wide.len()): one word when `words` is odd, then two per pass up to
    // `end`, `words` words from x's start (an even number of words away by then). Unaligned word
    // loads of `x`, which Armv7E-M performs on normal memory; `ldrd` of `wide`, a u32 slice
    // (word-aligned). They write only their register operands; `smlad` may set the sticky Q
    // flag, so flags are not declared preserved.
    unsafe {
        if SIGNED {
            run!("sxtb16");
        } else {
            run!("uxtb16");
        }
    }
    acc
}

/// The sums of `n` neighbouring output pixels of a transposed-convolution class for one channel,
/// every tap of which lies inside the input (`each(i, sum)` for pixel `i`): pixel `i`'s run for kernel row `kyi` is the
/// `words` words at `first + i * ic - kyi * row` in `input`, against lane pairs `2 kyi words ..`
/// of `wide`. One `asm!` block per pixel takes all its kernel rows, two words per pass, with no
/// bounds checks or slicing in between (all checked here once). `None`, and no call, when a run
/// would leave its slice, `wide` is short, `n` or `nky` is 0, or `words` is 0 or odd.
#[inline]
pub(crate) fn span_sums<const SIGNED: bool>(
    input: &[u8],
    first: usize,
    n: usize,
    (nky, words, ic, row): (usize, usize, usize, usize),
    wide: &[u32],
    mut each: impl FnMut(usize, i32),
) -> Option<()> {
    let last = first.checked_add((n.checked_sub(1)?).checked_mul(ic)?)?.checked_add(words.checked_mul(4)?)?;
    first.checked_sub(nky.checked_sub(1)?.checked_mul(row)?)?;
    if last > input.len()
        || wide.len() < nky.checked_mul(words)?.checked_mul(2)?
        || words == 0
        || !words.is_multiple_of(2)
    {
        return None;
    }
    // From the end of one kernel row's run to the start of the next (one input row up).
    let back = row + 4 * words;
    macro_rules! pixel {
        ($widen:literal, $c:expr, $acc:ident) => {
            asm!(
                "1:",
                "add {end}, {c}, {len}",
                "2:",
                run_word!($widen),
                run_word!($widen),
                "cmp {c}, {end}",
                "bne 2b",
                "sub {c}, {c}, {back}",
                "subs {k}, {k}, #1",
                "bne 1b",
                c = inout(reg) $c => _, w = inout(reg) wide.as_ptr() => _, k = inout(reg) nky => _,
                acc = inout(reg) $acc, len = in(reg) 4 * words, back = in(reg) back,
                end = out(reg) _, x = out(reg) _, t = out(reg) _, w0 = out(reg) _, w1 = out(reg) _,
                options(readonly, nostack),
            )
        };
    }
    for i in 0..n {
        let mut acc = 0i32;
        let c = input.as_ptr().wrapping_add(first + i * ic);
        // SAFETY: kernel row kyi < nky reads words [first + i ic - kyi row, + 4 words), inside
        // `input`: its start is at least first - (nky - 1) row >= 0 and its end at most
        // first + (n - 1) ic + 4 words = last <= input.len() (both checked above); `words` is
        // even and positive, so each run is whole passes of two words. `wide` gives 2 words lane
        // pairs per kernel row, 2 nky words <= wide.len() in all, read with `ldrd` (a u32 slice,
        // word-aligned). Unaligned loads of `input`, which Armv7E-M performs on normal memory.
        // The block writes only its register operands; `smlad` may set the sticky Q flag, so
        // flags are not declared preserved.
        unsafe {
            if SIGNED {
                pixel!("sxtb16", c, acc);
            } else {
                pixel!("uxtb16", c, acc);
            }
        }
        each(i, acc);
    }
    Some(())
}

/// One sum of a channel plus its bias, requantized as `kernels::requantize_byte` does (through
/// [`requantize_two`]; `bits` from [`saturating_bits`], found once per layer).
#[inline]
pub(crate) fn requantize_one(acc: i32, bias: &[u8; 4], requant: &[u8; REQUANT_LEN], range: OutRange, bits: u32) -> u8 {
    let x = acc.wrapping_add(i32::from_le_bytes(*bias));
    requantize_two(x, x, requant, range, bits)[0]
}

/// How [`requantize_two`] clamps to the output range: 8 for 0..=255 and 7 for 0..=127 (a ReLU
/// layer's; `USAT` with that width), 1 for -127..=127 (`SSAT` to 8 bits, then -128 raised to
/// -127), 0 for any other range (the portable arithmetic).
#[inline(always)]
pub(crate) fn saturating_bits(range: OutRange) -> u32 {
    match (range.lo, range.hi) {
        (0, 255) => 8,
        (0, 127) => 7,
        (-127, 127) => 1,
        _ => 0,
    }
}

/// Two sums of one channel (bias included) requantized as `kernels::requantize` does. With a
/// shift above 32 and a range that saturation gives (`bits`, see [`saturating_bits`]: every
/// layer of the exported models) each is `SMMUL` (the product's high word), two shifts and an
/// add, and `USAT` or `SSAT` for the clamp: the portable high-word path's value in 4 or 5
/// instructions instead of about 12.
#[inline(always)]
fn requantize_two(x0: i32, x1: i32, requant: &[u8; REQUANT_LEN], range: OutRange, bits: u32) -> [u8; 2] {
    let (mult, shift) = requant_params(requant);
    if shift > 32 && bits != 0 {
        let s = shift - 33;
        let one = |x: i32| -> u8 {
            let r: i32;
            macro_rules! sat {
                ($sat:literal) => {
                    // SAFETY: register-to-register instructions of Armv7E-M; no memory or stack.
                    // The saturation may set the sticky Q flag, so flags are not declared preserved.
                    unsafe {
                        asm!(
                            "smmul {t}, {x}, {m}",
                            "asr {t}, {t}, {s}",
                            "add {t}, {t}, #1",
                            concat!($sat, " {r}, #8, {t}, asr #1"),
                            x = in(reg) x, m = in(reg) mult, s = in(reg) s, t = out(reg) _, r = lateout(reg) r,
                            options(pure, nomem, nostack),
                        )
                    }
                };
            }
            match bits {
                8 => sat!("usat"),
                7 => {
                    sat!("usat");
                    return r.min(127) as u8;
                }
                _ => {
                    sat!("ssat");
                    return (r.max(-127) as i8) as u8;
                }
            }
            r as u8
        };
        return [one(x0), one(x1)];
    }
    let byte = |x: i32| {
        let q = requantize(x, mult, shift, range.lo, range.hi);
        if range.signed { (q as i8) as u8 } else { q as u8 }
    };
    [byte(x0), byte(x1)]
}
