//! Export of trained Bottleneck models, without burn.
//!
//! The trainer describes a trained model as a [`graph::Model`] (layers with float weights in
//! PyTorch layouts); this crate turns it into the int8 runtime file ([`quantize`]), validation
//! vectors ([`vectors`]), and checks it with a float reference interpreter ([`reference`]).
#![deny(missing_docs)]

mod bnq;
pub mod error;
pub mod graph;
mod lower;
pub mod onnx;
pub mod onnx_import;
pub mod pytorch;
pub mod quantize;
pub mod reference;
pub mod safetensors;
pub mod validate;
pub mod vectors;

pub use error::ExportError;
pub use graph::{Classifier, InputRange, LatentStats, Layer, Model, Network, Tensor, Variant};
pub use quantize::{Quantized, quantize};
