//! `bottleneck export RUN_DIR`: the int8 runtime file and validation vectors.

use std::path::PathBuf;

use clap::Args;

use crate::deploy::{ExportOptions, describe, export};
use crate::run_dir::RunDir;

#[derive(Debug, Args)]
pub struct ExportCmd {
    /// The run directory to export (writes RUN_DIR/export/).
    run: PathBuf,
    /// Training images used to calibrate the int8 activation ranges.
    #[arg(long, default_value_t = ExportOptions::default().calibration_images)]
    calibration_images: usize,
    /// Test images written to vectors.bin with the float model's outputs.
    #[arg(long, default_value_t = ExportOptions::default().vectors)]
    vectors: usize,
    /// Also write ONNX files (encoder, decoder, classifier; VAE encoder and decoder) and the
    /// weights as model.safetensors.
    #[arg(long)]
    onnx: bool,
    /// Also write model.py: the model as PyTorch modules, with `load(export_dir)` returning them
    /// with the trained weights of model.safetensors (written too).
    #[arg(long)]
    pytorch: bool,
    /// Folder holding the IDX files (default: the folder recorded in the run's config.toml).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

impl ExportCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let run = RunDir::open(&self.run)?;
        let config = run.read_config()?;
        let data = config.data.images()?.load(self.data.as_deref(), &run.config_path())?;
        let opts = ExportOptions {
            calibration_images: self.calibration_images,
            vectors: self.vectors,
            onnx: self.onnx,
            pytorch: self.pytorch,
            ..ExportOptions::default()
        };
        for line in describe(&export(&run, &config, &data, &opts)?) {
            println!("{line}");
        }
        Ok(())
    }
}
