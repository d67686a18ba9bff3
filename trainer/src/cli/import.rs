//! `bottleneck import FILE.onnx`: bring an outside ONNX autoencoder into a run directory.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::args::DataArgs;
use crate::deploy::import::{ImportRequest, RangeChoice, import};
use crate::train::Placement;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RangeArg {
    /// [-1, 1] when the decoder ends in tanh, else [0, 1].
    Auto,
    /// Images in [0, 1].
    Unit,
    /// Images in [-1, 1].
    Symmetric,
}

#[derive(Debug, Args)]
pub struct ImportCmd {
    /// An ONNX autoencoder (image to image; split at its narrowest vector into encoder and decoder),
    /// or its encoder when --decoder is given. Supported operators: Conv, ConvTranspose, Gemm,
    /// MatMul+Add, BatchNormalization, Relu, Sigmoid, Tanh, Flatten, Reshape, Dropout, Identity, in
    /// a single chain; anything else is refused by name.
    file: PathBuf,
    /// The decoder, when FILE is only the encoder.
    #[arg(long, value_name = "FILE.onnx")]
    decoder: Option<PathBuf>,
    /// A classifier (image to logits) to include.
    #[arg(long, value_name = "FILE.onnx")]
    classifier: Option<PathBuf>,
    /// The pixel range the model expects.
    #[arg(long, value_enum, default_value = "auto")]
    input_range: RangeArg,
    /// Folder that holds run directories.
    #[arg(long, value_name = "DIR", default_value = "runs")]
    runs: PathBuf,
    /// Name of the run directory (default `imported`, numbered if taken).
    #[arg(long)]
    name: Option<String>,
    /// Replace an existing run of the same --name.
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    data: DataArgs,
}

impl ImportCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let selection = self.data.selection();
        let ds = selection.load()?;
        let req = ImportRequest {
            file: self.file,
            decoder: self.decoder,
            classifier: self.classifier,
            input_range: match self.input_range {
                RangeArg::Auto => RangeChoice::Auto,
                RangeArg::Unit => RangeChoice::Unit,
                RangeArg::Symmetric => RangeChoice::Symmetric,
            },
            place: Placement { runs: self.runs, name: self.name, overwrite: self.overwrite },
            selection,
        };
        let imported = import(&req, &ds)?;
        let (g, root) = (&imported.graph, imported.run.root.display());
        println!("imported into {root}");
        println!(
            "  encoder {} layers -> code of {}, decoder {} layers{}, inputs in {}",
            g.encoder.layers.len(),
            g.latent,
            g.decoder.layers.len(),
            if g.classifier.is_some() { ", classifier" } else { "" },
            if imported.symmetric_input { "[-1, 1]" } else { "[0, 1]" }
        );
        println!("next: bottleneck export {root} --onnx && bottleneck validate {root}");
        Ok(())
    }
}
