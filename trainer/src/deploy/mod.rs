//! Deployment: a run exported to the int8 file, vectors, ONNX and safetensors; the int8 model
//! validated against the float one; and outside ONNX models imported as runs.

pub mod export;
pub mod graph;
pub mod import;
pub mod validate;

pub use export::{ExportOptions, Exported, describe, export};
pub use validate::{Thresholds, Validation, read_export, report, validate};
