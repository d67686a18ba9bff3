//! `bottleneck import FILE.onnx`: bring an outside ONNX autoencoder into a run directory.

use std::path::PathBuf;

use anyhow::Context as _;
use bottleneck_export::onnx_import::import_network;
use clap::{Args, ValueEnum};

use super::args::DataArgs;
use crate::device::Backend;
use crate::jobs::import::{copy_in, ends_in_tanh, graph};
use crate::run_dir::{DataSpec, ImageData, ImportedSpec, ModelSpec, RUN_FORMAT, RunConfig, RunDir, TrainSpec};
use crate::train::{OptimConfig, Optimizer, Schedule};

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
        let ds = super::data::load(&self.data)?;
        let run = RunDir::create(&self.runs, self.name.as_deref(), "imported", self.overwrite)?;
        let result = self.populate(&run, &ds);
        if result.is_err() {
            // Leave nothing half-made behind.
            let _ = std::fs::remove_dir_all(&run.root);
        }
        result
    }

    fn populate(&self, run: &RunDir, ds: &crate::data::Dataset) -> anyhow::Result<()> {
        // Check the given files first, so that errors name them rather than their copies.
        for f in std::iter::once(&self.file).chain(&self.decoder).chain(&self.classifier) {
            let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
            import_network(&bytes, &f.display().to_string())?;
        }
        let mut spec = ImportedSpec {
            autoencoder: copy_in(
                run,
                &self.file,
                if self.decoder.is_some() { "encoder.onnx" } else { "autoencoder.onnx" },
            )?,
            decoder: self.decoder.as_ref().map(|d| copy_in(run, d, "decoder.onnx")).transpose()?,
            classifier: self.classifier.as_ref().map(|c| copy_in(run, c, "classifier.onnx")).transpose()?,
            symmetric_input: self.input_range == RangeArg::Symmetric,
        };
        let p = crate::jobs::prepare::prepare(
            ds,
            self.data.limit_train,
            self.data.limit_test,
            self.data.valid_fraction,
            42,
        );
        let mut config = RunConfig {
            format: RUN_FORMAT,
            bottleneck_version: env!("CARGO_PKG_VERSION").to_string(),
            model: ModelSpec::Imported(spec.clone()),
            train: TrainSpec {
                epochs: 0,
                batch_size: 256,
                optim: OptimConfig {
                    optimizer: Optimizer::Adam,
                    lr: 1e-3,
                    weight_decay: 0.0,
                    momentum: 0.9,
                    schedule: Schedule::Constant,
                },
                patience: None,
                seed: 42,
                device: Backend::Flex,
            },
            data: DataSpec::Images(ImageData {
                dataset: ds.kind,
                dir: ds.source.dir.clone(),
                valid_fraction: self.data.valid_fraction,
                limit_train: self.data.limit_train,
                limit_test: self.data.limit_test,
                train_images: p.train.len(),
                valid_images: p.valid.len(),
                test_images: p.test.len(),
            }),
        };
        let mut g = graph(run, &spec, &config)?;
        if self.input_range == RangeArg::Auto && ends_in_tanh(&g.decoder) {
            spec.symmetric_input = true;
            config.model = ModelSpec::Imported(spec.clone());
            g = graph(run, &spec, &config)?;
        }
        let image = [ds.train.channels, ds.train.height, ds.train.width];
        anyhow::ensure!(g.input == image, "the model takes {:?} images but {} has {image:?}", g.input, ds.kind);
        if g.classifier.is_some() {
            let n = ds.classes().len();
            anyhow::ensure!(
                g.classes.len() == n,
                "the classifier has {} outputs, {} has {n} classes",
                g.classes.len(),
                ds.kind
            );
        }
        run.write_config(&config)?;
        println!("imported into {}", run.root.display());
        println!(
            "  encoder {} layers -> code of {}, decoder {} layers{}, inputs in {}",
            g.encoder.layers.len(),
            g.latent,
            g.decoder.layers.len(),
            if g.classifier.is_some() { ", classifier" } else { "" },
            if spec.symmetric_input { "[-1, 1]" } else { "[0, 1]" }
        );
        println!("next: bottleneck export {} --onnx && bottleneck validate {}", run.root.display(), run.root.display());
        Ok(())
    }
}
