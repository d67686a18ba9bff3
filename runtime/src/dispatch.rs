//! Picking the fastest compilation of the kernels for the CPU at hand.
//!
//! The kernels are plain integer Rust (`crate::kernels::kernel_set!`). With the `std` feature on
//! x86-64 two more builds are chosen at run time: AVX-512 VNNI (the layer loops with `vpdpbusd`
//! dot products, `crate::x86_vnni`) and AVX2 (`vpmaddwd` dot products over the interleaved
//! weight groups, `crate::x86_avx2`). On Armv7E-M targets (Cortex-M4 and up, chosen at compile time by `build.rs`) the
//! layer loops run with the DSP extension's dot products (`crate::arm_dsp`). The arithmetic is the
//! same integer sums in every build, so outputs are bit-identical: [`check_kernel_builds`]
//! compares each build with the portable one on every layer kind (a unit test on the host, the
//! firmware at start-up in QEMU). Elsewhere (wasm, other microcontrollers) the portable build runs,
//! vectorised for whatever the target enables.

use crate::Error;
use crate::format::LayerRecord;
use crate::kernels::{Weights, portable};

/// The layer loops with AVX2 dot products (`crate::x86_avx2`), chosen at run time.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) mod avx2 {
    crate::kernels::kernel_set!(dots = crate::x86_avx2, own_groups, #[target_feature(enable = "avx2")]);
}

/// The layer loops with AVX-512 VNNI dot products (`crate::x86_vnni`), chosen at run time.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) mod vnni {
    crate::kernels::kernel_set!(dots = crate::x86_vnni, #[target_feature(enable = "avx2,avx512f,avx512bw,avx512vnni")]);
}

/// The layer loops with the DSP extension's dot products (Armv7E-M targets; see `build.rs`).
#[cfg(bottleneck_arm_dsp)]
pub(crate) mod arm_dsp {
    crate::kernels::kernel_set!(dots = crate::arm_dsp, pairs);
}

/// The build every model runs, when one was chosen ([`use_kernel_build`]): 0 for the fastest,
/// otherwise `1 + ` the build's index in [`BUILDS`].
static CHOSEN: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);

/// Makes every model in this process use the portable kernel build (`true`) or the fastest one
/// the target supports (`false`, the default). Outputs are the same bits either way; this exists
/// to measure and compare the builds.
pub fn use_portable_kernels(portable: bool) {
    let _ = use_kernel_build(if portable { "portable" } else { "" });
}

/// Makes every model in this process use the kernel build named `name` (one of
/// [`kernel_builds`]), or the fastest one for `""`. Returns false, changing nothing, for a build
/// this CPU cannot run. For benchmarks and comparisons: every build gives the same bits.
pub fn use_kernel_build(name: &str) -> bool {
    let index = if name.is_empty() {
        Some(0)
    } else {
        BUILDS.iter().position(|&b| build_name(b) == name && runnable(b)).map(|i| i as u8 + 1)
    };
    index.inspect(|&i| CHOSEN.store(i, core::sync::atomic::Ordering::Relaxed)).is_some()
}

/// The kernel builds this CPU can run, fastest first; the last is `"portable"`.
pub fn kernel_builds() -> impl Iterator<Item = &'static str> {
    other_builds().chain(core::iter::once(Build::Portable)).map(build_name)
}

/// The kernel builds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Build {
    Portable,
    /// x86-64 with AVX2, detected at run time (needs `std`).
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    Avx2,
    /// x86-64 with AVX-512 VNNI, detected at run time (needs `std`).
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    Vnni,
    /// Armv7E-M DSP instructions, chosen at compile time.
    #[cfg(bottleneck_arm_dsp)]
    ArmDsp,
}

/// Whether the CPU has AVX-512 VNNI (with the AVX-512 foundation and byte/word instructions).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
fn has_vnni() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vnni")
        && std::is_x86_feature_detected!("avx2")
}

/// The fastest build that can run here, unless switched off.
#[inline]
fn build() -> Build {
    let chosen = usize::from(CHOSEN.load(core::sync::atomic::Ordering::Relaxed));
    match chosen.checked_sub(1).and_then(|i| BUILDS.get(i)) {
        Some(&b) => b,
        None => other_builds().next().unwrap_or(Build::Portable),
    }
}

/// Every build this crate was compiled with.
const BUILDS: &[Build] = &[
    Build::Portable,
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    Build::Vnni,
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    Build::Avx2,
    #[cfg(bottleneck_arm_dsp)]
    Build::ArmDsp,
];

/// Whether `build` can run on this CPU.
fn runnable(build: Build) -> bool {
    build == Build::Portable || other_builds().any(|b| b == build)
}

/// Every build other than the portable one that can run here, fastest first.
fn other_builds() -> impl Iterator<Item = Build> {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    let builds = [has_vnni().then_some(Build::Vnni), std::is_x86_feature_detected!("avx2").then_some(Build::Avx2)];
    #[cfg(bottleneck_arm_dsp)]
    let builds = [Some(Build::ArmDsp), None];
    #[cfg(not(any(all(feature = "std", target_arch = "x86_64"), bottleneck_arm_dsp)))]
    let builds: [Option<Build>; 2] = [None, None];
    builds.into_iter().flatten()
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
    weighted_with(build(), rec, tables, input, in_signed, output, patch)
}

/// Quantizes the start of one plane of values to bytes with the AVX2 loop where the chosen build
/// has AVX2 (the same bytes as `crate::model`'s scalar loop); returns how many it wrote, 0 on
/// other builds.
pub(crate) fn quantize_plane(pixels: &[f32], signed: bool, scale: f32, dst: &mut [u8]) -> usize {
    match build() {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        #[allow(unsafe_code)]
        // SAFETY: both x86 builds run only where the CPU was seen to have AVX2.
        Build::Avx2 | Build::Vnni => unsafe { crate::x86_avx2::quantize_plane(pixels, signed, scale, dst) },
        _ => {
            let _ = (pixels, signed, scale, dst);
            0
        }
    }
}

/// Runs one weighted layer with `build`, which `build()` or `other_builds()` found runnable.
#[inline]
fn weighted_with(
    build: Build,
    rec: &LayerRecord,
    tables: &Weights<'_>,
    input: &[u8],
    in_signed: bool,
    output: &mut [u8],
    patch: &mut [u8],
) -> Result<(), Error> {
    // Both x86 builds take convolutions through the direct path where it fits (it needs only
    // AVX2, which a VNNI CPU has too); the rest through their layer loops.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if matches!(build, Build::Avx2 | Build::Vnni) {
        #[allow(unsafe_code)]
        // SAFETY: both x86 builds run only where the CPU was seen to have AVX2.
        if let Some(done) = unsafe { crate::x86_direct::layer(rec, tables, input, in_signed, output) } {
            return done;
        }
    }
    match build {
        Build::Portable => portable::weighted(rec, tables, input, in_signed, output, patch),
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        #[allow(unsafe_code)]
        // SAFETY: the AVX2 build only needs AVX2, which the CPU was seen to have.
        Build::Avx2 => unsafe { avx2::weighted(rec, tables, input, in_signed, output, patch) },
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        #[allow(unsafe_code)]
        // SAFETY: the VNNI build needs AVX2 and AVX-512 F, BW and VNNI, which `has_vnni` saw.
        Build::Vnni => unsafe { vnni::weighted(rec, tables, input, in_signed, output, patch) },
        #[cfg(bottleneck_arm_dsp)]
        Build::ArmDsp => arm_dsp::weighted(rec, tables, input, in_signed, output, patch),
    }
}

/// Which kernel build runs here: `"x86-64 AVX-512 VNNI"`, `"x86-64 AVX2"`, `"Armv7E-M DSP"`,
/// `"wasm32 simd128"` or `"portable"` (for benchmark reports and the firmware's log).
#[must_use]
pub fn kernel_name() -> &'static str {
    build_name(build())
}

fn build_name(build: Build) -> &'static str {
    match build {
        // A wasm module built with `-C target-feature=+simd128` (`bottleneck validate --targets
        // wasm-simd128`): the portable layer loops with simd128 dot products (`crate::wasm_simd128`).
        Build::Portable if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) => "wasm32 simd128",
        Build::Portable => "portable",
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        Build::Avx2 => "x86-64 AVX2",
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        Build::Vnni => "x86-64 AVX-512 VNNI",
        #[cfg(bottleneck_arm_dsp)]
        Build::ArmDsp => "Armv7E-M DSP",
    }
}

/// A layer on which a kernel build and the portable one disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelMismatch {
    /// The build that disagrees (as [`kernel_name`] names builds).
    pub build: &'static str,
    /// Index of the case in [`check_kernel_builds`]'s list.
    pub case: usize,
    /// Whether the input bytes were read as i8.
    pub signed_input: bool,
    /// What went wrong: different outputs, or a kernel error.
    pub what: &'static str,
}

impl core::fmt::Display for KernelMismatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "kernel build {} and the portable one: {} on layer case {} ({} input)",
            self.build,
            self.what,
            self.case,
            if self.signed_input { "i8" } else { "u8" }
        )
    }
}

/// Bytes of the largest case's tables and tensors in [`check_kernel_builds`].
const CHECK_WEIGHTS: usize = 8352;
const CHECK_TENSOR: usize = 1568;
const CHECK_PATCH: usize = 6 * 160;
const CHECK_CHANNELS: usize = 32;

/// Runs every layer shape the exported models use, and odd ones (dot products whose length is
/// not a multiple of 4, channel counts not a multiple of 4), with random weights and inputs
/// through every kernel build this CPU can run (VNNI and AVX2 on x86-64, DSP on Armv7E-M) and
/// through the portable build, and compares the output bytes. The weights are random bytes, row
/// padding included (which the kernels multiply by zeros). Returns the number of (layer,
/// build) pairs compared: 0 where only the portable build exists. Allocation-free (about 16 KiB
/// of stack), so the firmware runs it at start-up.
///
/// # Errors
/// The first case whose outputs differ, or on which a kernel fails.
pub fn check_kernel_builds() -> Result<usize, KernelMismatch> {
    use crate::Rng;
    use crate::format::{LAYER_RELU, LAYER_SIGNED, LayerKind, REQUANT_LEN, Shape};
    use crate::kernels::patch_len;

    let sh = |c, h, w| Shape { c, h, w };
    // (kind, input, output, kernel, stride, padding, whether i8 inputs give u8 outputs)
    let cases = [
        (LayerKind::Conv2d, sh(1, 28, 28), sh(8, 14, 14), 4, 2, 1, false),
        (LayerKind::Conv2d, sh(16, 7, 7), sh(32, 3, 3), 3, 2, 0, false),
        (LayerKind::ConvTranspose2d, sh(32, 3, 3), sh(16, 7, 7), 3, 2, 0, false),
        (LayerKind::ConvTranspose2d, sh(8, 14, 14), sh(1, 28, 28), 4, 2, 1, false),
        (LayerKind::Linear, sh(288, 1, 1), sh(29, 1, 1), 1, 1, 0, false),
        (LayerKind::Conv2d, sh(3, 6, 6), sh(5, 6, 6), 3, 1, 1, false),
        (LayerKind::ConvTranspose2d, sh(5, 4, 4), sh(3, 9, 9), 3, 2, 0, false),
        (LayerKind::Linear, sh(37, 1, 1), sh(13, 1, 1), 1, 1, 0, false),
        // Fewer than four output channels on 16- and 12-byte cells (the four-pixel path's other
        // cell sizes).
        (LayerKind::ConvTranspose2d, sh(16, 6, 6), sh(2, 12, 12), 4, 2, 1, false),
        (LayerKind::ConvTranspose2d, sh(12, 5, 5), sh(1, 10, 10), 4, 2, 1, false),
        // A 4x4 kernel over one channel (`emit_words4` in the DSP and AVX2 builds) with borders on
        // every side and three groups, and u8 outputs from i8 inputs (sign-extended words).
        (LayerKind::Conv2d, sh(1, 10, 12), sh(12, 5, 6), 4, 2, 1, true),
        // One channel on 4-byte cells: kernel rows of one and two cells, so the DSP build's
        // narrow step has runs of an odd number of words (no span, `run_dot` throughout).
        (LayerKind::ConvTranspose2d, sh(4, 5, 5), sh(1, 11, 11), 3, 2, 0, false),
        // A kernel smaller than the stride: classes without taps, only the bias.
        (LayerKind::ConvTranspose2d, sh(4, 4, 4), sh(2, 7, 7), 1, 2, 0, false),
    ];
    let mut w = [0u8; CHECK_WEIGHTS];
    let mut x = [0u8; CHECK_TENSOR];
    let (mut a, mut b) = ([0u8; CHECK_TENSOR], [0u8; CHECK_TENSOR]);
    let mut patch = [0u8; CHECK_PATCH];
    let (mut bias, mut requant) = ([0u8; 4 * CHECK_CHANNELS], [0u8; REQUANT_LEN * CHECK_CHANNELS]);
    let mut compared = 0;
    for (case, &(kind, input, output, k, s, p, u8_from_i8)) in cases.iter().enumerate() {
        for signed_input in [false, true] {
            let mismatch = |build, what| KernelMismatch { build, case, signed_input, what };
            let mut r = Rng::new(case as u64 * 2 + u64::from(signed_input));
            // u8 inputs come after a ReLU; i8 ones feed signed outputs (-127..=127), and on odd
            // cases signed outputs with a ReLU (0..=127): each output range the kernels'
            // saturating requantization distinguishes (and u8 outputs where the case says).
            let flags = match (signed_input, case % 2) {
                (false, _) => LAYER_RELU,
                (true, _) if u8_from_i8 => LAYER_RELU,
                (true, 0) => LAYER_SIGNED,
                (true, _) => LAYER_SIGNED | LAYER_RELU,
            };
            let rec = LayerRecord::shape_only(kind, flags, (input, output), (k, s, p, 0));
            let oc = usize::from(output.c);
            let n_w = rec.weights_len();
            let (Some(w), Some(x), Some(a), Some(b), Some(patch), Some(bias), Some(requant)) = (
                w.get_mut(..n_w),
                x.get_mut(..input.len()),
                a.get_mut(..output.len()),
                b.get_mut(..output.len()),
                patch.get_mut(..patch_len(&rec)),
                bias.get_mut(..4 * oc),
                requant.get_mut(..REQUANT_LEN * oc),
            ) else {
                return Err(mismatch("portable", "case larger than the check's buffers"));
            };
            w.iter_mut().for_each(|v| *v = r.next_u32() as u8);
            x.iter_mut().for_each(|v| *v = r.next_u32() as u8);
            for (bias, requant) in bias.chunks_exact_mut(4).zip(requant.chunks_exact_mut(REQUANT_LEN)) {
                bias.copy_from_slice(&((r.next_u32() % 20_000) as i32 - 10_000).to_le_bytes());
                let mult = (1i32 << 30) + (r.next_u32() >> 2) as i32;
                let (m, sh) = requant.split_at_mut(4);
                m.copy_from_slice(&mult.to_le_bytes());
                // The usual shifts above 32; in every other case also one channel in eight at
                // or below it, where the vector builds requantize the layer channel by channel.
                let low = case % 2 == 1 && r.next_u32().is_multiple_of(8);
                let shift = if low { 25 + r.next_u32() % 8 } else { 38 + r.next_u32() % 6 };
                sh.copy_from_slice(&shift.to_le_bytes());
            }
            let tables = Weights { w, bias, requant };
            // Different fillings, so that a byte some build leaves unwritten cannot match.
            a.fill(0xaa);
            portable::weighted(&rec, &tables, x, signed_input, a, patch)
                .map_err(|_| mismatch("portable", "kernel error"))?;
            if a.iter().all(|&v| v == a.first().copied().unwrap_or(0)) {
                return Err(mismatch("portable", "constant output (the case cannot tell builds apart)"));
            }
            for build in other_builds() {
                let name = build_name(build);
                b.fill(0x55);
                weighted_with(build, &rec, &tables, x, signed_input, b, patch)
                    .map_err(|_| mismatch(name, "kernel error"))?;
                if a != b {
                    return Err(mismatch(name, "different output bytes"));
                }
                compared += 1;
            }
        }
    }
    Ok(compared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_can_be_chosen_by_name() {
        let mut names = [""; 4];
        let count = kernel_builds().zip(&mut names).map(|(b, n)| *n = b).count();
        let names = &names[..count];
        assert_eq!(names.last(), Some(&"portable"));
        for &name in names {
            assert!(use_kernel_build(name), "{name}");
            assert_eq!(kernel_name(), name);
        }
        assert!(!use_kernel_build("no such build"));
        assert_eq!(kernel_name(), "portable", "a refused name changes nothing");
        assert!(use_kernel_build(""));
        assert_eq!(kernel_name(), names[0]);
    }

    #[test]
    fn every_build_matches_the_portable_one_bit_for_bit() {
        let builds = other_builds().count();
        #[cfg(feature = "std")]
        std::eprintln!("comparing {builds} kernel builds with the portable one (fastest: {})", kernel_name());
        assert_eq!(check_kernel_builds(), Ok(26 * builds));
    }
}
