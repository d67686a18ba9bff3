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
//! touches no stack, which is what every `unsafe` block below relies on, except the one in
//! `dot4_px`, which also loads four words whose bounds it checks first.
#![allow(unsafe_code)]

use core::arch::asm;

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

/// Transposed convolutions with fewer than four output channels dot each tap's cell in place
/// instead of gathering a patch: on the Cortex-M4 the gather costs more than short dot products
/// (the decoder's last layer, one channel: 338,280 instructions against 426,840, `cargo xtask
/// firmware`).
pub(crate) const IN_PLACE_BELOW_FOUR: bool = true;

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

/// `acc` plus one weight row `w` (whole words) against four pixels' cells side by side in
/// `cells` (pixel `p`'s at `p x w.len()`): each weight word is loaded and widened once, then one
/// `asm!` block reads the four pixels' words for it through one pointer and the cell length and
/// does their eight `SMLAD`s. Written out because the compiler, given four slices to walk, kept
/// their pointers on the stack and reloaded them on every word.
#[inline]
pub(crate) fn dot4_px<const SIGNED: bool>(acc: [i32; 4], w: &[u8], cells: &[u8]) -> [i32; 4] {
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    let n = w.len() / 4 * 4;
    if cells.len() < 4 * n {
        // Callers pass four whole cells; a shorter slice is a bug, answered without reading.
        return acc;
    }
    let mut c = cells.as_ptr();
    for &ww in w.as_chunks::<4>().0 {
        let (w0, w1) = widen_x::<true>(ww);
        // SAFETY: `c` is `cells` plus 4j for word j < n / 4, and cells.len() >= 4n, so the four
        // words read at c, c + n, c + 2n and c + 3n lie inside `cells` (unaligned word loads,
        // which Armv7E-M performs on normal memory). The block writes only its register
        // operands; `smlad` may set the sticky Q flag, so flags are not declared preserved.
        unsafe {
            // One block per widening (`SXTB16` for signed activations, `UXTB16` otherwise).
            macro_rules! four_pixels {
                ($widen:literal) => {
                    asm!(
                        "ldr {x}, [{c}]",
                        "add {c3}, {c}, {n}, lsl #1",
                        concat!($widen, " {t}, {x}"),
                        "smlad {a0}, {w0}, {t}, {a0}",
                        concat!($widen, " {t}, {x}, ror #8"),
                        "smlad {a0}, {w1}, {t}, {a0}",
                        "ldr {x}, [{c}, {n}]",
                        concat!($widen, " {t}, {x}"),
                        "smlad {a1}, {w0}, {t}, {a1}",
                        concat!($widen, " {t}, {x}, ror #8"),
                        "smlad {a1}, {w1}, {t}, {a1}",
                        "ldr {x}, [{c3}]",
                        concat!($widen, " {t}, {x}"),
                        "smlad {a2}, {w0}, {t}, {a2}",
                        concat!($widen, " {t}, {x}, ror #8"),
                        "smlad {a2}, {w1}, {t}, {a2}",
                        "ldr {x}, [{c3}, {n}]",
                        concat!($widen, " {t}, {x}"),
                        "smlad {a3}, {w0}, {t}, {a3}",
                        concat!($widen, " {t}, {x}, ror #8"),
                        "smlad {a3}, {w1}, {t}, {a3}",
                        c = in(reg) c, n = in(reg) n, w0 = in(reg) w0, w1 = in(reg) w1,
                        a0 = inout(reg) a0, a1 = inout(reg) a1, a2 = inout(reg) a2, a3 = inout(reg) a3,
                        x = out(reg) _, t = out(reg) _, c3 = out(reg) _,
                        options(readonly, nostack),
                    )
                };
            }
            if SIGNED {
                four_pixels!("sxtb16");
            } else {
                four_pixels!("uxtb16");
            }
        }
        c = c.wrapping_add(4);
    }
    [a0, a1, a2, a3]
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
