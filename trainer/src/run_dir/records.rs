//! `export/export.toml` and `export/validation.toml`: what `bottleneck export` wrote and what
//! `bottleneck validate` measured, for reports and for a reader that did not run them.

use std::path::Path;

use anyhow::Context as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Version of both records' schema.
pub const RECORD_FORMAT: u32 = 1;

/// One exported file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedFile {
    /// Name inside `export/`.
    pub name: String,
    /// Size in bytes.
    pub bytes: usize,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportRecord {
    /// [`RECORD_FORMAT`].
    pub format: u32,
    /// Float parameters of the exported graph.
    pub parameters: usize,
    /// Size of the int8 file.
    pub bnq_bytes: usize,
    /// Largest |burn - export interpreter| on the vectors (the graph conversion check).
    pub graph_error: f32,
    /// Training images that calibrated the int8 ranges.
    pub calibration_images: usize,
    /// Test images in `vectors.bin`.
    pub vectors: usize,
    /// Every file written, the int8 file and vectors first.
    pub files: Vec<ExportedFile>,
}

/// The int8 runtime against the float model on a set of images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Images compared.
    pub count: usize,
    /// Float reconstruction MSE.
    pub mse_float: f64,
    /// int8 reconstruction MSE.
    pub mse_int8: f64,
    /// Top-1 classes that agree (with a classifier).
    pub top1_agree: Option<usize>,
}

/// One deployment target's digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRecord {
    /// `host`, `wasm32`, `cortex-m4`.
    pub target: String,
    /// Vectors checked.
    pub vectors: usize,
    /// Digest of every output (equal digests: bit-identical outputs).
    pub digest: u32,
    /// Whether it equals the host runtime's digest on the same vectors.
    pub identical: bool,
}

/// What a validation measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationRecord {
    /// [`RECORD_FORMAT`].
    pub format: u32,
    /// Size of the int8 file.
    pub file_bytes: usize,
    /// Scratch bytes of encode, decode, classify, sample.
    pub scratch: [usize; 4],
    /// On `vectors.bin`.
    pub vectors: Agreement,
    /// On the run's whole test set, unless skipped.
    pub test_set: Option<Agreement>,
    /// Digests per target (the host's first).
    pub targets: Vec<TargetRecord>,
    /// Whether every check passed.
    pub passed: bool,
}

/// TOML text of a record.
pub(crate) fn to_toml<T: Serialize>(record: &T) -> anyhow::Result<String> {
    toml::to_string_pretty(record).map_err(|e| anyhow::anyhow!("serialising a record: {e}"))
}

/// Reads a record, checking its format version.
pub(crate) fn read<T: DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    #[derive(Deserialize)]
    struct Version {
        format: u32,
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let v: Version =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: no format version: {e}", path.display()))?;
    anyhow::ensure!(
        v.format == RECORD_FORMAT,
        "{}: record format {} is not supported (this bottleneck reads {RECORD_FORMAT})",
        path.display(),
        v.format
    );
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
