//! Every file name a run directory holds, in one place (the layout is specified in
//! `docs/run-directory.md`).

/// The resolved configuration.
pub const CONFIG: &str = "config.toml";
/// Metrics per epoch.
pub const METRICS: &str = "metrics.csv";
/// The final weights (burn's burnpack format); also each checkpoint's weights.
pub const MODEL: &str = "model.bpk";
/// A classifier's learning speed.
pub const SUMMARY: &str = "summary.toml";
/// Per-epoch checkpoints.
pub const CHECKPOINTS: &str = "checkpoints";
/// The checkpoint folder in charge, inside [`CHECKPOINTS`].
pub const LATEST: &str = "LATEST";
/// A checkpoint's optimizer state.
pub const OPTIMIZER: &str = "optimizer.bin";
/// Figures.
pub const FIGURES: &str = "figures";
/// What `bottleneck export` writes.
pub const EXPORT: &str = "export";
/// The int8 runtime file, inside [`EXPORT`].
pub const BNQ: &str = "model.bnq";
/// Validation vectors, inside [`EXPORT`].
pub const VECTORS: &str = "vectors.bin";
/// The float weights as safetensors, inside [`EXPORT`].
pub const SAFETENSORS: &str = "model.safetensors";
/// The model as PyTorch modules, inside [`EXPORT`].
pub const PYTORCH: &str = "model.py";
/// What the export wrote and measured, inside [`EXPORT`].
pub const EXPORT_RECORD: &str = "export.toml";
/// What the last `bottleneck validate` measured, inside [`EXPORT`].
pub const VALIDATION_RECORD: &str = "validation.toml";
/// ONNX files copied in by `bottleneck import`.
pub const IMPORTED: &str = "imported";
/// A toy run's points, codes and reconstructions.
pub const TOY_POINTS: &str = "points.csv";
/// A toy run's retrained-encoder arrows.
pub const TOY_ARROWS: &str = "arrows.csv";
/// A toy run's retrained-encoder metrics.
pub const TOY_RETRAIN_METRICS: &str = "retrain-metrics.csv";
