//! Bottleneck's int8 runtime: encode, decode, classify and sample with an autoencoder exported by
//! `bottleneck export`, on any target, without an allocator.
//!
//! ```no_run
//! use bottleneck_runtime::{Entry, Model, Rng};
//! # fn demo(bytes: &[u8], image: &[f32]) -> Result<(), bottleneck_runtime::Error> {
//! let model = Model::parse(bytes)?; // borrows `bytes`, validates everything once
//! let mut scratch = [0u8; 8192];
//! let mut code = [0f32; 16];
//! model.encode(image, &mut code[..model.latent_len()], &mut scratch)?;
//! let mut out = [0f32; 784];
//! model.decode(&code[..model.latent_len()], &mut out, &mut scratch)?;
//! model.sample(&mut Rng::new(7), &mut code[..model.latent_len()], &mut out, &mut scratch)?;
//! assert!(model.scratch_len(Entry::Encode) <= scratch.len());
//! # Ok(()) }
//! ```
//!
//! The caller owns every buffer: inputs, outputs and one scratch slice whose size
//! [`Model::scratch_len`] reports per entry point. Arithmetic is integer (i8 weights, u8/i8
//! activations, i32 accumulators, fixed-point requantization); only the conversions at the edges
//! (input quantization, output dequantization, the Gaussian sampler) use `f32`, in a fixed order
//! and without fused multiply-add, so the same file and inputs give the same bits everywhere.
//! The file format is specified in `docs/runtime-format.md`.
#![no_std]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

#[cfg(feature = "std")]
extern crate no_std_compat as std;

mod argmax;
#[cfg(bottleneck_arm_dsp)]
mod arm_dsp;
pub mod check;
mod dispatch;
mod error;
pub mod format;
mod kernel_set;
mod kernels;
mod model;
mod sample;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm_simd128;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86_avx2;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86_direct;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86_vnni;

pub use argmax::argmax;
pub use dispatch::{
    KernelMismatch, check_kernel_builds, kernel_builds, kernel_name, use_kernel_build, use_portable_kernels,
};
pub use error::Error;
pub use format::Shape;
pub use model::{Entry, Kind, Model, Step};
pub use sample::Rng;
