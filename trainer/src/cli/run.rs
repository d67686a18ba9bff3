//! `bottleneck run`: the whole pipeline with quick default configurations.

use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::args::{DataArgs, Defaults, OutputArgs, TrainArgs};
use super::export::print_export;
use super::validate::print_validation;
use crate::data::Dataset;
use crate::device::Backend;
use crate::jobs::export::{ExportOptions, export};
use crate::jobs::validate::validate;
use crate::models::classifier::{ClassifierConfig, Mode};
use crate::models::cnn::CnnConfig;
use crate::models::conv_ae::ConvAeConfig;
use crate::models::fc_ae::FcAeConfig;
use crate::models::toy::{ToyAeConfig, ToyArch};
use crate::models::vae::ConvVaeConfig;
use crate::run_dir::{
    ClassifierSpec, CnnSpec, DataSpec, DenoisingSpec, ModelSpec, RUN_FORMAT, RunConfig, RunDir, ToyData, ToySpec,
};
use crate::train::{Optimizer, Schedule};

/// The pipeline's int8 checks. Its classifier trains for a few epochs only (about 84% accurate on
/// the full data): more of its test images sit near a tie between two classes than a fully
/// trained one's, and its int8 agreement measured 99.2% where the 92% classifier of
/// docs/BENCHMARKS.md reaches 99.74% (`bottleneck validate`'s default bar, 99.5%). The pipeline
/// fails below 99% and reports the figure.
const MIN_AGREEMENT: f64 = 0.99;
const MAX_MSE_RATIO: f64 = 1.05;

/// The parts of the pipeline, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Stage {
    /// Conv autoencoder (seed 002), exported to int8, ONNX and safetensors, and validated.
    ConvAe,
    /// Classifiers on its encoder (fine-tuned, frozen, from scratch) and the CNN baseline; the
    /// fine-tuned one exported with the autoencoder and validated.
    Classifiers,
    /// Convolutional VAE, with samples from N(0, I); exported and validated.
    Vae,
    /// Denoising autoencoder.
    Denoising,
    /// Fully-connected autoencoder (seed 001).
    FcAe,
    /// Autoencoder and VAE with a 2-D code (seed 004).
    Latent2d,
    /// Seed 003's toy autoencoders.
    Toy,
    /// Studies: Adam against SGD on the conv autoencoder; gradient descent against stochastic
    /// gradient descent on the toy set.
    Studies,
}

/// Trains every model of the homework into `runs/<name>/` (default `runs/pipeline/`, replaced on
/// each run): one run directory per model, each with its figures; the deployable ones with their
/// int8, ONNX and safetensors exports, validated against the float model.
#[derive(Debug, Args)]
pub struct RunCmd {
    /// Epochs for the image models (default: 5 on a full dataset, 20 on a small one such as the
    /// bundled sample; the CNN and classifiers use the same, the toy models 2000 full-batch steps).
    #[arg(long)]
    epochs: Option<usize>,
    /// Run only these stages (comma-separated; default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Stage>,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    out: OutputArgs,
    /// Seed of the whole pipeline.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

struct Pipeline<'a> {
    cmd: &'a RunCmd,
    ds: &'a Dataset,
    root: std::path::PathBuf,
    epochs: usize,
    summary: Vec<String>,
}

impl Pipeline<'_> {
    fn out(&self, name: &str) -> OutputArgs {
        OutputArgs { runs: self.root.clone(), name: Some(name.into()), overwrite: true, quiet: self.cmd.out.quiet }
    }

    fn train_args(&self, epochs: usize) -> TrainArgs {
        TrainArgs {
            epochs: Some(epochs),
            batch_size: None,
            optimizer: None,
            lr: None,
            weight_decay: None,
            momentum: 0.9,
            schedule: None,
            patience: None,
            seed: self.cmd.seed,
            device: Backend::Flex,
        }
    }

    /// Trains one image model into `name/`.
    fn train(&self, name: &str, model: ModelSpec, defaults: Defaults) -> anyhow::Result<RunDir> {
        let config =
            super::train::image_config(model, &self.cmd.data, self.train_args(self.epochs).resolve(defaults), self.ds);
        super::train::train_new(&config, Some(self.ds), &self.out(name))
    }

    /// Exports a run (int8, vectors, ONNX, safetensors) and validates the int8 model.
    fn deploy(&mut self, run: &RunDir) -> anyhow::Result<()> {
        let config = run.read_config()?;
        let exported = export(run, &config, self.ds, &ExportOptions::default())?;
        if !self.cmd.out.quiet {
            print_export(&exported);
        }
        let v = validate(run, &config, Some(self.ds))?;
        let failed = print_validation(&v, MIN_AGREEMENT, MAX_MSE_RATIO);
        anyhow::ensure!(failed.is_empty(), "int8 validation of {} failed: {}", run.root.display(), failed.join("; "));
        if let Some(t) = &v.test_set {
            let mut line = format!(
                "{}: int8 {} bytes, MSE float {:.5} int8 {:.5}",
                config.model.kind(),
                v.file_bytes,
                t.mse_float,
                t.mse_int8
            );
            if let Some((a, n)) = t.top1 {
                line.push_str(&format!(", top-1 agreement {:.2}%", 100.0 * a as f64 / n as f64));
            }
            self.summary.push(line);
        }
        Ok(())
    }

    fn wants(&self, stage: Stage) -> bool {
        self.cmd.only.is_empty() || self.cmd.only.contains(&stage)
    }

    fn conv_ae(&mut self) -> anyhow::Result<()> {
        let run = self.train("conv-ae", ModelSpec::ConvAe(ConvAeConfig::new().with_latent(16)), Defaults::IMAGES)?;
        self.deploy(&run)
    }

    fn classifiers(&mut self) -> anyhow::Result<()> {
        let pretrained = self.root.join("conv-ae");
        if !pretrained.join("model.bpk").is_file() {
            self.conv_ae()?;
        }
        let mut table = vec![
            "| classifier | epochs | seconds | test accuracy | epochs to 90% | seconds to 90% |".to_string(),
            "|---|---|---|---|---|---|".to_string(),
        ];
        for mode in [Mode::Finetune, Mode::Frozen, Mode::Scratch] {
            let spec = ClassifierSpec {
                network: ClassifierConfig::new().with_latent(16),
                mode,
                pretrained: (mode != Mode::Scratch).then(|| pretrained.clone()),
                target_accuracy: 0.9,
                augment: false,
                shift: 0,
                label_smoothing: 0.0,
            };
            let run = self.train(&format!("classifier-{mode}"), ModelSpec::Classifier(spec), Defaults::IMAGES)?;
            table.push(speed_row(&run, &format!("encoder + MLP, {mode}"))?);
            if mode == Mode::Finetune {
                self.deploy(&run)?;
            }
        }
        let spec =
            CnnSpec { network: CnnConfig::new(), target_accuracy: 0.9, augment: true, shift: 0, label_smoothing: 0.1 };
        let run = self.train(
            "cnn",
            ModelSpec::Cnn(spec),
            Defaults { batch_size: 128, lr: 2e-3, schedule: Schedule::Cosine, ..Defaults::IMAGES },
        )?;
        table.push(speed_row(&run, "CNN from scratch")?);
        let text = table.join("\n") + "\n";
        let path = self.root.join("learning-speed.md");
        crate::util::atomic_write_bytes(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        self.summary.push(format!("learning speed ({}):\n{text}", path.display()));
        Ok(())
    }

    fn vae(&mut self) -> anyhow::Result<()> {
        let run = self.train(
            "conv-vae",
            ModelSpec::ConvVae(ConvVaeConfig::new().with_latent(16)),
            Defaults { weight_decay: 0.0, ..Defaults::IMAGES },
        )?;
        self.deploy(&run)
    }

    fn denoising(&mut self) -> anyhow::Result<()> {
        let spec = DenoisingSpec { network: ConvAeConfig::new().with_latent(16), noise_std: 0.3 };
        self.train("denoising-ae", ModelSpec::DenoisingAe(spec), Defaults::IMAGES).map(drop)
    }

    fn fc_ae(&mut self) -> anyhow::Result<()> {
        let run =
            self.train("fc-ae", ModelSpec::FcAe(FcAeConfig::new()), Defaults { batch_size: 128, ..Defaults::IMAGES })?;
        self.deploy(&run)
    }

    fn latent_2d(&mut self) -> anyhow::Result<()> {
        self.train("ae-2d", ModelSpec::ConvAe(ConvAeConfig::new().with_latent(2)), Defaults::IMAGES)?;
        self.train(
            "vae-2d",
            ModelSpec::ConvVae(ConvVaeConfig::new().with_latent(2)),
            Defaults { weight_decay: 0.0, ..Defaults::IMAGES },
        )?;
        Ok(())
    }

    fn toy(&mut self) -> anyhow::Result<()> {
        for arch in [ToyArch::Small, ToyArch::Large, ToyArch::Linear] {
            let config = RunConfig {
                format: RUN_FORMAT,
                bottleneck_version: env!("CARGO_PKG_VERSION").to_string(),
                model: ModelSpec::ToyAe(ToySpec {
                    network: ToyAeConfig::new().with_arch(arch),
                    retrain_encoder: arch == ToyArch::Large,
                }),
                train: self.train_args(2000).resolve(Defaults {
                    epochs: 2000,
                    batch_size: 100,
                    optimizer: Optimizer::Adam,
                    lr: 1e-2,
                    weight_decay: 0.0,
                    schedule: Schedule::Constant,
                }),
                data: DataSpec::ToyRectangle(ToyData { points: 100, test_points: 1000 }),
            };
            super::train::train_new(&config, None, &self.out(&format!("toy-{arch}")))?;
        }
        Ok(())
    }
}

impl Pipeline<'_> {
    fn studies(&mut self) -> anyhow::Result<()> {
        let train = self.train_args(self.epochs);
        let out = OutputArgs {
            runs: self.root.clone(),
            name: Some("study-optimizers".into()),
            overwrite: true,
            quiet: self.cmd.out.quiet,
        };
        let png = super::study::optimizers(&[Optimizer::Adam, Optimizer::Sgd], &self.cmd.data, &train, &out)?;
        self.summary.push(format!("optimizer study: {}", png.display()));
        let study = crate::jobs::study::GdStudy { seed: self.cmd.seed, ..Default::default() };
        let png = crate::jobs::study::gd_vs_sgd(&self.root.join("study-gd-vs-sgd"), &study, !self.cmd.out.quiet)?;
        self.summary.push(format!("gradient descent study: {}", png.display()));
        Ok(())
    }
}

/// One row of the learning-speed table, from a classifier run's `summary.toml`.
fn speed_row(run: &RunDir, label: &str) -> anyhow::Result<String> {
    let path = run.root.join("summary.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let v: toml::Table = toml::from_str(&text).with_context(|| format!("{}: not TOML", path.display()))?;
    let num = |k: &str| v.get(k).and_then(|x| x.as_float().or_else(|| x.as_integer().map(|i| i as f64)));
    let fmt = |x: Option<f64>, digits: usize| x.map_or_else(|| "not reached".to_string(), |x| format!("{x:.digits$}"));
    Ok(format!(
        "| {label} | {} | {} | {} | {} | {} |",
        fmt(num("epochs"), 0),
        fmt(num("total_seconds"), 1),
        num("final_test_accuracy").map_or_else(|| "-".into(), |a| format!("{:.2}%", 100.0 * a)),
        fmt(num("epochs_to_target"), 0),
        fmt(num("seconds_to_target"), 1)
    ))
}

impl RunCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let ds = super::data::load(&self.data)?;
        let small = ds.train.len() < 20_000;
        let epochs = self.epochs.unwrap_or(if small { 20 } else { 5 });
        let root = self.out.runs.join(self.out.name.as_deref().unwrap_or("pipeline"));
        if root.exists() {
            anyhow::ensure!(
                self.out.overwrite || self.out.name.is_none(),
                "{} exists; pass --overwrite to replace it or choose another --name",
                root.display()
            );
            std::fs::remove_dir_all(&root).with_context(|| format!("removing the previous {}", root.display()))?;
        }
        let mut p = Pipeline { cmd: &self, ds: &ds, root: root.clone(), epochs, summary: Vec::new() };
        let started = Instant::now();
        for &stage in Stage::value_variants() {
            if !p.wants(stage) {
                continue;
            }
            let t = Instant::now();
            let result = match stage {
                Stage::ConvAe => p.conv_ae(),
                Stage::Classifiers => p.classifiers(),
                Stage::Vae => p.vae(),
                Stage::Denoising => p.denoising(),
                Stage::FcAe => p.fc_ae(),
                Stage::Latent2d => p.latent_2d(),
                Stage::Toy => p.toy(),
                Stage::Studies => p.studies(),
            };
            result.with_context(|| format!("pipeline stage {stage:?}"))?;
            p.summary.push(format!("stage {stage:?} took {:.0} s", t.elapsed().as_secs_f64()));
        }
        println!();
        for line in &p.summary {
            println!("{line}");
        }
        println!("pipeline finished in {:.0} s: {}", started.elapsed().as_secs_f64(), root.display());
        Ok(())
    }
}
