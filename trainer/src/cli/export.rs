//! `bottleneck export RUN_DIR`: the int8 runtime file and validation vectors.

use std::path::PathBuf;

use clap::Args;

use crate::data::source;
use crate::jobs::export::{ExportOptions, Exported, export};
use crate::run_dir::RunDir;

#[derive(Debug, Args)]
pub struct ExportCmd {
    /// The run directory to export (writes RUN_DIR/export/).
    run: PathBuf,
    /// Training images used to calibrate the int8 activation ranges.
    #[arg(long, default_value_t = 1000)]
    calibration_images: usize,
    /// Test images written to vectors.bin with the float model's outputs.
    #[arg(long, default_value_t = 300)]
    vectors: usize,
    /// Also write ONNX files (encoder, decoder, classifier; VAE encoder and decoder) and the
    /// weights as model.safetensors.
    #[arg(long)]
    onnx: bool,
    /// Folder holding the IDX files (default: the folder the run used).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

/// Loads the dataset a run was trained on (or `--data`).
pub(crate) fn run_data(
    config: &crate::run_dir::RunConfig,
    dir: Option<PathBuf>,
) -> anyhow::Result<crate::data::Dataset> {
    let d = config.data.images()?;
    let dir = dir.unwrap_or_else(|| d.dir.clone());
    Ok(source::load(d.dataset, source::DataSource { origin: source::Origin::Flag, dir })?)
}

/// Prints what an export wrote.
pub(crate) fn print_export(e: &Exported) {
    println!("int8 model:  {} ({} bytes, {} float parameters)", e.bnq.display(), e.quantized.bytes.len(), e.parameters);
    for l in &e.quantized.layers {
        let [ic, ih, iw] = l.input;
        let [oc, oh, ow] = l.output;
        println!(
            "  {:<10} {:<16} {ic}x{ih}x{iw} -> {oc}x{oh}x{ow}{}  out {} x {:.3e}",
            l.section,
            l.kind,
            if l.relu { " +relu" } else { "" },
            if l.out.signed { "i8" } else { "u8" },
            l.out.scale
        );
    }
    println!("vectors:     {}", e.vectors.display());
    for (path, bytes) in &e.files {
        println!("             {} ({bytes} bytes)", path.display());
    }
    println!("graph check: burn and the export graph agree to {:.1e}", e.graph_error);
}

impl ExportCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let run = RunDir::open(&self.run)?;
        let config = run.read_config()?;
        let data = run_data(&config, self.data)?;
        let opts = ExportOptions {
            calibration_images: self.calibration_images,
            vectors: self.vectors,
            onnx: self.onnx,
            ..ExportOptions::default()
        };
        let e = export(&run, &config, &data, &opts)?;
        print_export(&e);
        Ok(())
    }
}
