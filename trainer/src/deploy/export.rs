//! Exporting a run: the int8 runtime file, validation vectors, and optionally ONNX and
//! safetensors, with a record of what was written (`export/export.toml`).

use std::path::PathBuf;

use anyhow::Context as _;
use bottleneck_export::reference;
use bottleneck_export::vectors::{Vector, Vectors};
use bottleneck_export::{Classifier as ExportClassifier, Quantized, quantize};

use super::graph::{check_exportable, graph};
use crate::config::RunConfig;
use crate::data::batch::image_values;
use crate::data::{Dataset, stratified_subset};
use crate::files;
use crate::inference::{LoadedModel, latent_stats};
use crate::run_dir::RunDir;
use crate::run_dir::records::{ExportRecord, ExportedFile, RECORD_FORMAT};
use crate::util::atomic_write_bytes;

/// Largest difference tolerated between burn and the exporter's float interpreter on the same
/// graph; more means the conversion to the export graph is wrong.
const GRAPH_TOLERANCE: f32 = 1e-3;

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Training images used to calibrate activation ranges.
    pub calibration_images: usize,
    /// Training images whose codes give the latent statistics.
    pub stats_images: usize,
    /// Test images written to `vectors.bin`.
    pub vectors: usize,
    /// Also write ONNX files and `model.safetensors`.
    pub onnx: bool,
    /// Also write `model.py` (the model as PyTorch modules) and `model.safetensors`.
    pub pytorch: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self { calibration_images: 1000, stats_images: 10_000, vectors: 300, onnx: true, pytorch: true }
    }
}

/// Files written by an export.
#[derive(Debug)]
pub struct Exported {
    /// `RUN/export/model.bnq`.
    pub bnq: PathBuf,
    /// `RUN/export/vectors.bin`.
    pub vectors: PathBuf,
    /// The quantized model and its per-layer report.
    pub quantized: Quantized,
    /// Float parameters of the exported graph.
    pub parameters: usize,
    /// Largest |burn - reference interpreter| seen on the vectors (graph conversion check).
    pub graph_error: f32,
    /// ONNX files and `model.safetensors` written, with their sizes.
    pub files: Vec<(PathBuf, usize)>,
}

/// Exports the int8 model and validation vectors of `run`, calibrating on `data`.
///
/// # Errors
/// When the run's model cannot be loaded, the graph conversion disagrees with burn, quantization
/// fails, or files cannot be written.
pub fn export(run: &RunDir, config: &RunConfig, data: &Dataset, opts: &ExportOptions) -> anyhow::Result<Exported> {
    let device = config.train.device.device()?;
    let model = LoadedModel::load(run, config, &device)?;
    check_exportable(&model, config)?;
    let sets = config.data.images()?.prepare(data, config.train.seed);
    let range = model.range();

    let stats_set = stratified_subset(&sets.train, opts.stats_images, config.train.seed);
    let all: Vec<usize> = (0..stats_set.len()).collect();
    // A classifier alone (the CNN) has no code to take statistics of.
    let stats = match model.latent() {
        Some(latent) if !matches!(model, LoadedModel::Cnn(_)) => {
            Some(latent_stats(&model.outputs(&stats_set, &all, &device)?.codes, latent))
        }
        _ => None,
    };
    let graph = graph(&model, config, data.classes(), stats)?;

    let calib_set = stratified_subset(&sets.train, opts.calibration_images, config.train.seed ^ 1);
    let calib: Vec<Vec<f32>> = (0..calib_set.len()).map(|i| image_values(&calib_set, &[i], range)).collect();
    let quantized = quantize(&graph, &calib).context("quantizing")?;

    let vec_set = stratified_subset(&sets.test, opts.vectors, config.train.seed ^ 2);
    let idx: Vec<usize> = (0..vec_set.len()).collect();
    let float = model.outputs(&vec_set, &idx, &device)?;
    let (latent, pixels) = (graph.latent, vec_set.image_len());
    let classes = if graph.classifier.is_some() { graph.classes.len() } else { 0 };
    let mut items = Vec::with_capacity(idx.len());
    let mut graph_error = 0f32;
    for i in idx {
        let input = image_values(&vec_set, &[i], range);
        let logits = if classes > 0 { float.logits[i * classes..(i + 1) * classes].to_vec() } else { Vec::new() };
        // The exporter's own float interpreter must agree with burn on the converted graph.
        let (code, reconstruction) = if graph.has_autoencoder() {
            let code = float.codes[i * latent..(i + 1) * latent].to_vec();
            let reconstruction = float.reconstructions[i * pixels..(i + 1) * pixels].to_vec();
            let (ref_code, _) = reference::forward(&graph.encoder, &input, graph.input)?;
            let (ref_img, _) = reference::forward(&graph.decoder, &code, [latent, 1, 1])?;
            for (a, b) in ref_code.iter().zip(&code).chain(ref_img.iter().zip(&reconstruction)) {
                graph_error = graph_error.max((a - b).abs());
            }
            (code, reconstruction)
        } else {
            // A classifier alone: its logits are what the graph must reproduce, and the vectors'
            // reconstruction field holds zeros (docs/vectors-format.md).
            if let Some(ExportClassifier { encoder: Some(net), head }) = &graph.classifier {
                let (features, shape) = reference::forward(net, &input, graph.input)?;
                let (ref_logits, _) = reference::forward(head, &features, shape)?;
                // Logits grow with depth: their error is relative (to at least 1).
                for (a, b) in ref_logits.iter().zip(&logits) {
                    graph_error = graph_error.max((a - b).abs() / b.abs().max(1.0));
                }
            }
            (Vec::new(), vec![0.0; pixels])
        };
        items.push(Vector { label: u32::from(vec_set.labels[i]), input, code, reconstruction, logits });
    }
    anyhow::ensure!(
        graph_error <= GRAPH_TOLERANCE,
        "the exported graph disagrees with the burn model by {graph_error} (more than {GRAPH_TOLERANCE}): a bug in the graph conversion"
    );
    let vectors = Vectors { input_shape: graph.input, latent, classes, items };

    let write = |name: &str, bytes: &[u8]| -> anyhow::Result<PathBuf> {
        let path = run.export_file(name);
        atomic_write_bytes(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    };
    let vector_bytes = vectors.to_bytes()?;
    let bnq = write(files::BNQ, &quantized.bytes)?;
    let vec_path = write(files::VECTORS, &vector_bytes)?;
    let mut written = vec![
        ExportedFile { name: files::BNQ.into(), bytes: quantized.bytes.len() },
        ExportedFile { name: files::VECTORS.into(), bytes: vector_bytes.len() },
    ];
    let mut files = Vec::new();
    if opts.onnx {
        for f in bottleneck_export::onnx::export(&graph)? {
            let name = format!("{}.onnx", f.name);
            files.push((write(&name, &f.bytes)?, f.bytes.len()));
            written.push(ExportedFile { name, bytes: f.bytes.len() });
        }
    }
    if opts.onnx || opts.pytorch {
        let st = bottleneck_export::safetensors::export(&graph)?;
        files.push((write(files::SAFETENSORS, &st)?, st.len()));
        written.push(ExportedFile { name: files::SAFETENSORS.into(), bytes: st.len() });
    }
    if opts.pytorch {
        let py = bottleneck_export::pytorch::export(&graph)?;
        files.push((write(files::PYTORCH, py.as_bytes())?, py.len()));
        written.push(ExportedFile { name: files::PYTORCH.into(), bytes: py.len() });
    }
    let parameters = graph.encoder.parameters()
        + graph.decoder.parameters()
        + graph
            .classifier
            .as_ref()
            .map_or(0, |c| c.head.parameters() + c.encoder.as_ref().map_or(0, |e| e.parameters()));
    run.write_export_record(&ExportRecord {
        format: RECORD_FORMAT,
        parameters,
        bnq_bytes: quantized.bytes.len(),
        graph_error,
        calibration_images: calib_set.len(),
        vectors: vectors.items.len(),
        files: written,
    })?;
    Ok(Exported { bnq, vectors: vec_path, quantized, parameters, graph_error, files })
}

/// What an export wrote, as lines for a terminal.
#[must_use]
pub fn describe(e: &Exported) -> Vec<String> {
    let mut lines = vec![format!(
        "int8 model:  {} ({} bytes, {} float parameters)",
        e.bnq.display(),
        e.quantized.bytes.len(),
        e.parameters
    )];
    for l in &e.quantized.layers {
        let [ic, ih, iw] = l.input;
        let [oc, oh, ow] = l.output;
        lines.push(format!(
            "  {:<10} {:<16} {ic}x{ih}x{iw} -> {oc}x{oh}x{ow}{}  out {} x {:.3e}",
            l.section,
            l.kind,
            if l.relu { " +relu" } else { "" },
            if l.out.signed { "i8" } else { "u8" },
            l.out.scale
        ));
    }
    lines.push(format!("vectors:     {}", e.vectors.display()));
    for (path, bytes) in &e.files {
        lines.push(format!("             {} ({bytes} bytes)", path.display()));
    }
    lines.push(format!("graph check: burn and the export graph agree to {:.1e}", e.graph_error));
    lines
}
