//! Picking the fastest compilation of the kernels for the CPU at hand.
//!
//! The kernels are plain integer Rust (`crate::kernels::kernel_set!`). Compiled with AVX2 enabled,
//! LLVM vectorises them with 256-bit instructions; with the `std` feature on x86-64 that build is
//! used when the CPU has AVX2 (detected once, at run time). The arithmetic is the same integer code
//! either way, so outputs are bit-identical (tests compare both builds on every layer kind).
//! Without `std` (firmware, wasm) the portable build runs, vectorised for whatever the target
//! enables at compile time.

use crate::Error;
use crate::format::LayerRecord;
use crate::kernels::{Weights, portable};

#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) mod avx2 {
    crate::kernels::kernel_set!(#[target_feature(enable = "avx2")]);
}

/// Set by [`use_portable_kernels`]: run the portable build even where a faster one exists.
static PORTABLE_ONLY: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Makes every model in this process use the portable kernel build (`true`) or the fastest one
/// the CPU supports (`false`, the default). Outputs are the same bits either way; this exists to
/// measure and compare the builds.
pub fn use_portable_kernels(portable: bool) {
    PORTABLE_ONLY.store(portable, core::sync::atomic::Ordering::Relaxed);
}

/// Whether the AVX2 build can run here and is not switched off.
#[inline]
fn has_avx2() -> bool {
    if PORTABLE_ONLY.load(core::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        false
    }
}

/// Runs one weighted layer with the best kernel build for this CPU.
#[inline]
pub(crate) fn weighted(
    rec: &LayerRecord,
    tables: &Weights<'_>,
    input: &[u8],
    in_signed: bool,
    output: &mut [u8],
    patch: &mut [u8],
) -> Result<(), Error> {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if has_avx2() {
        #[allow(unsafe_code)]
        // SAFETY: the AVX2 build only needs AVX2, which the CPU was just shown to have.
        return unsafe { avx2::weighted(rec, tables, input, in_signed, output, patch) };
    }
    portable::weighted(rec, tables, input, in_signed, output, patch)
}

/// Which kernel build runs here: `"x86-64 AVX2"` or `"portable"` (for benchmark reports).
#[must_use]
pub fn kernel_name() -> &'static str {
    if has_avx2() { "x86-64 AVX2" } else { "portable" }
}

#[cfg(all(test, feature = "std", target_arch = "x86_64"))]
mod tests {
    use std::prelude::v1::*;
    use std::{eprintln, vec};

    use super::*;
    use crate::Rng;
    use crate::format::{LAYER_RELU, LAYER_SIGNED, LayerKind, Shape};
    use crate::kernels::patch_len;

    /// A layer with random weights, biases and rescale factors.
    #[allow(clippy::too_many_arguments)]
    fn layer(
        kind: LayerKind,
        input: Shape,
        output: Shape,
        k: u8,
        s: u8,
        p: u8,
        relu: bool,
        seed: u64,
    ) -> (LayerRecord, Vec<u8>, Vec<u8>, Vec<u8>) {
        let mut r = Rng::new(seed);
        let rec = LayerRecord {
            kind,
            flags: if relu { LAYER_RELU } else { LAYER_SIGNED },
            kernel: (k, k),
            stride: s,
            padding: p,
            output_padding: 0,
            input,
            output,
            out_scale: 1.0,
            weights: 0,
            bias: 0,
            requant: 0,
            lut: 0,
        };
        let n = usize::from(k) * usize::from(k) * usize::from(input.c) * usize::from(output.c);
        let w = (0..n).map(|_| r.next_u32() as u8).collect();
        let bias = (0..output.c).flat_map(|_| ((r.next_u32() % 20_000) as i32 - 10_000).to_le_bytes()).collect();
        let requant = (0..output.c).flat_map(|_| {
            let mult = (1i32 << 30) + (r.next_u32() >> 2) as i32;
            mult.to_le_bytes().into_iter().chain((40 + r.next_u32() % 6).to_le_bytes())
        });
        (rec, w, bias, requant.collect())
    }

    #[test]
    fn avx2_build_matches_the_portable_one_bit_for_bit() {
        if !std::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 here: only the portable build runs, nothing to compare");
            return;
        }
        let sh = |c, h, w| Shape { c, h, w };
        let cases = [
            (LayerKind::Conv2d, sh(1, 28, 28), sh(8, 14, 14), 4, 2, 1),
            (LayerKind::Conv2d, sh(16, 7, 7), sh(32, 3, 3), 3, 2, 0),
            (LayerKind::ConvTranspose2d, sh(32, 3, 3), sh(16, 7, 7), 3, 2, 0),
            (LayerKind::ConvTranspose2d, sh(8, 14, 14), sh(1, 28, 28), 4, 2, 1),
            (LayerKind::Linear, sh(288, 1, 1), sh(61, 1, 1), 1, 1, 0),
        ];
        for (i, &(kind, input, output, k, s, p)) in cases.iter().enumerate() {
            for (signed_in, relu) in [(false, true), (true, false)] {
                let (rec, w, bias, requant) = layer(kind, input, output, k, s, p, relu, i as u64);
                let tables = Weights { w: &w, bias: &bias, requant: &requant };
                let mut r = Rng::new(99 + i as u64);
                let x: Vec<u8> = (0..input.len()).map(|_| r.next_u32() as u8).collect();
                let mut patch = vec![0u8; patch_len(&rec)];
                let (mut a, mut b) = (vec![0u8; output.len()], vec![0u8; output.len()]);
                portable::weighted(&rec, &tables, &x, signed_in, &mut a, &mut patch).unwrap();
                #[allow(unsafe_code)]
                // SAFETY: AVX2 was detected above.
                unsafe { avx2::weighted(&rec, &tables, &x, signed_in, &mut b, &mut patch) }.unwrap();
                assert_eq!(a, b, "case {i} ({kind:?}), signed input {signed_in}");
                assert!(a.iter().any(|&v| v != a[0]), "case {i}: degenerate output");
            }
        }
    }
}
