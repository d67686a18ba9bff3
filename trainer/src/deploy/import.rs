//! `bottleneck import`: an outside ONNX autoencoder (and classifier) as a run directory that
//! export and validate accept.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bottleneck_export::onnx_import::import_network;
use bottleneck_export::{Layer, Model as Graph};

use crate::config::ModelKind;
use crate::config::{DataSelection, DataSpec, ImportedSpec, ModelSpec, RunConfig, TrainOverrides, TrainSpec};
use crate::data::Dataset;
use crate::files;
use crate::inference::imported::graph;
use crate::run_dir::RunDir;
use crate::train::Placement;

/// The pixel range an imported model expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeChoice {
    /// [-1, 1] when the decoder ends in tanh, else [0, 1].
    Auto,
    /// Images in [0, 1].
    Unit,
    /// Images in [-1, 1].
    Symmetric,
}

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The autoencoder, or its encoder when `decoder` is given.
    pub file: PathBuf,
    /// A separate decoder.
    pub decoder: Option<PathBuf>,
    /// A classifier (image to logits).
    pub classifier: Option<PathBuf>,
    /// The pixel range.
    pub input_range: RangeChoice,
    /// Where the run goes (default name `imported`).
    pub place: Placement,
    /// The data the run is exported and validated with.
    pub selection: DataSelection,
}

/// The result of an import.
#[derive(Debug)]
pub struct ImportedRun {
    /// The new run directory.
    pub run: RunDir,
    /// The model as the exporter reads it.
    pub graph: Graph,
    /// Whether it takes images in [-1, 1].
    pub symmetric_input: bool,
}

/// Checks the ONNX files, copies them into a new run directory with a `config.toml`; on any
/// failure leaves no directory behind.
///
/// # Errors
/// When a file is not ONNX, uses an unsupported operator, or does not fit `data`.
pub fn import(req: &ImportRequest, data: &Dataset) -> anyhow::Result<ImportedRun> {
    // Check the given files first, so that errors name them rather than their copies.
    for f in std::iter::once(&req.file).chain(&req.decoder).chain(&req.classifier) {
        let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        import_network(&bytes, &f.display().to_string())?;
    }
    let run = RunDir::create(&req.place.runs, req.place.name.as_deref(), "imported", req.place.overwrite)?;
    let result = populate(req, &run, data);
    if result.is_err() {
        // Leave nothing half-made behind.
        let _ = std::fs::remove_dir_all(&run.root);
    }
    result.map(|(graph, symmetric_input)| ImportedRun { run, graph, symmetric_input })
}

fn populate(req: &ImportRequest, run: &RunDir, data: &Dataset) -> anyhow::Result<(Graph, bool)> {
    let mut spec = ImportedSpec {
        autoencoder: copy_in(run, &req.file, if req.decoder.is_some() { "encoder.onnx" } else { "autoencoder.onnx" })?,
        decoder: req.decoder.as_ref().map(|d| copy_in(run, d, "decoder.onnx")).transpose()?,
        classifier: req.classifier.as_ref().map(|c| copy_in(run, c, "classifier.onnx")).transpose()?,
        symmetric_input: req.input_range == RangeChoice::Symmetric,
    };
    // Not trained here: zero epochs; the rest only matters for the data split.
    let train = TrainSpec::resolve(
        ModelKind::ConvAe,
        &TrainOverrides { epochs: Some(0), weight_decay: Some(0.0), ..TrainOverrides::default() },
        0,
    );
    let images = req.selection.spec(data, train.seed)?;
    let mut config = RunConfig::new(ModelSpec::Imported(spec.clone()), train, DataSpec::Images(images));
    let mut g = graph(run, &spec, &config)?;
    if req.input_range == RangeChoice::Auto && ends_in_tanh(&g.decoder) {
        spec.symmetric_input = true;
        config.model = ModelSpec::Imported(spec.clone());
        g = graph(run, &spec, &config)?;
    }
    let image = [data.train.channels, data.train.height, data.train.width];
    anyhow::ensure!(g.input == image, "the model takes {:?} images but {} has {image:?}", g.input, data.kind);
    if g.classifier.is_some() {
        let n = data.classes().len();
        anyhow::ensure!(
            g.classes.len() == n,
            "the classifier has {} outputs, {} has {n} classes",
            g.classes.len(),
            data.kind
        );
    }
    run.write_config(&config)?;
    Ok((g, spec.symmetric_input))
}

/// Whether a decoder ends in tanh, which suggests inputs in [-1, 1].
#[must_use]
pub fn ends_in_tanh(net: &bottleneck_export::Network) -> bool {
    matches!(net.layers.last(), Some(Layer::Tanh))
}

/// Copies `file` into `run/imported/<name>` and returns the relative path.
///
/// # Errors
/// On I/O failure.
pub fn copy_in(run: &RunDir, file: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let rel = PathBuf::from(files::IMPORTED).join(name);
    let dst = run.root.join(&rel);
    let dir = run.file(files::IMPORTED);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    crate::util::atomic_write_bytes(&dst, &bytes).with_context(|| format!("writing {}", dst.display()))?;
    Ok(rel)
}
