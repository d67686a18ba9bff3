//! Errors of the export steps.

/// Why an export could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The model description is inconsistent.
    #[error("model graph: {0}")]
    Graph(String),
    /// A layer sequence has no int8 form (e.g. an activation that follows no weighted layer).
    #[error("int8 export: {0}")]
    Unsupported(String),
    /// Calibration produced unusable ranges (no images, non-finite activations).
    #[error("calibration: {0}")]
    Calibration(String),
    /// The model is too big for the runtime format (too many layers, channels or terms).
    #[error("int8 export: {0}")]
    TooLarge(String),
    /// A validation-vector file is malformed.
    #[error("{path}: {msg}")]
    Vectors {
        /// File name (or "<bytes>").
        path: String,
        /// What is wrong.
        msg: String,
    },
}
