//! `bottleneck run`: every model of the homework, each in its own run directory under one root,
//! the deployable ones exported and validated, with a summary.

pub mod budget;
pub mod stages;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;

use crate::config::{
    ClassifierSpec, CnnSpec, DataSelection, DataSpec, ModelKind, ModelSpec, RunConfig, ToyData, ToySpec,
    TrainOverrides, TrainSpec,
};
use crate::cv::{CvConfig, cross_validate};
use crate::data::Dataset;
use crate::deploy::{ExportOptions, Thresholds, describe, export, report, validate};
use crate::explore::{ExploreOptions, explore};
use crate::fit::{Schedule, Split};
use crate::models::classifier::{ClassifierConfig, Mode};
use crate::models::conv_ae::{ConvAeConfig, EncoderShape};
use crate::models::fc_ae::FcAeConfig;
use crate::models::simclr::SimclrConfig;
use crate::models::toy::{ToyAeConfig, ToyArch};
use crate::models::vae::ConvVaeConfig;
use crate::run_dir::RunDir;
use crate::studies::{GdStudy, gd_vs_sgd};
use crate::train::{Outcome, Placement, TrainOptions, start_run};
use crate::tune::presets::preset;
use crate::tune::pruner::Median;
use crate::tune::space::describe as describe_params;
use crate::tune::trial::TrialState;
use crate::tune::{PrunerKind, SamplerKind, SearchSpace, TuneConfig, tune};
use crate::util::atomic_write_bytes;
pub use budget::Budget;
pub use stages::Stage;

/// The pipeline's int8 checks. Its classifiers train for fewer epochs than docs/BENCHMARKS.md's
/// 92% one: more of their test images sit near a tie between two classes, and their int8
/// agreement measured 99.46% (full data, 10 epochs, 91.6% accurate) and 99.2% (seed 002's
/// encoder, 5 epochs, 84%) where the 92% classifier reaches 99.74% (`bottleneck validate`'s
/// default bar, 99.5%). The pipeline fails below 99% and reports the figure.
const THRESHOLDS: Thresholds = Thresholds { min_agreement: 0.99, max_mse_ratio: 1.05 };

/// Noise of the fully-connected denoising autoencoder on its [-1, 1] inputs: the convolutional
/// one's 0.3 on [0, 1] pixels.
const FC_DENOISING_NOISE: f64 = 0.6;

/// What the pipeline runs.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// The images.
    pub selection: DataSelection,
    /// Epochs of every model but the toy ones (default: the [`Budget`]'s).
    pub epochs: Option<usize>,
    /// A shorter budget on a full dataset ([`Budget::QUICK`]).
    pub quick: bool,
    /// Only these stages (empty: all).
    pub only: Vec<Stage>,
    /// The folder that holds run directories.
    pub runs: PathBuf,
    /// The pipeline's folder under `runs` (default `pipeline`, replaced on every run).
    pub name: Option<String>,
    /// Replace an existing named pipeline folder.
    pub overwrite: bool,
    /// Seed of every run.
    pub seed: u64,
    /// Progress bars and per-epoch lines on stderr.
    pub progress: bool,
}

/// What the pipeline did.
#[derive(Debug, Clone)]
pub struct PipelineReport {
    /// The pipeline's folder.
    pub root: PathBuf,
    /// Summary lines: int8 agreement, the learning-speed table, figures, stage times.
    pub summary: Vec<String>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

struct Pipeline<'a> {
    cfg: &'a PipelineConfig,
    ds: &'a Dataset,
    root: PathBuf,
    budget: Budget,
    /// The data selection of every run, cut to the budget's training images.
    selection: DataSelection,
    summary: Vec<String>,
    say: &'a mut dyn FnMut(&str),
}

impl Pipeline<'_> {
    fn overrides(&self, epochs: usize) -> TrainOverrides {
        TrainOverrides { epochs: Some(epochs), seed: Some(self.cfg.seed), ..TrainOverrides::default() }
    }

    /// Trains one image model into `name/` for `epochs` epochs.
    fn train(&mut self, name: &str, model: ModelSpec, epochs: usize) -> anyhow::Result<RunDir> {
        self.train_with(name, model, &self.overrides(epochs), None)
    }

    /// Trains one image model into `name/` with `overrides` of its kind's defaults, drawing
    /// reconstructions every `snapshot_every` epochs.
    fn train_with(
        &mut self,
        name: &str,
        model: ModelSpec,
        overrides: &TrainOverrides,
        snapshot_every: Option<usize>,
    ) -> anyhow::Result<RunDir> {
        let kind = model.model_kind().context("the pipeline trains its own models")?;
        let train = TrainSpec::resolve(kind, overrides, 0);
        let data = DataSpec::Images(self.selection.spec(self.ds, train.seed)?);
        self.start(name, &RunConfig::new(model, train, data), Some(self.ds), snapshot_every)
    }

    fn start(
        &mut self,
        name: &str,
        config: &RunConfig,
        data: Option<&Dataset>,
        snapshot_every: Option<usize>,
    ) -> anyhow::Result<RunDir> {
        let opts = TrainOptions { progress: self.cfg.progress, snapshot_every, ..TrainOptions::default() };
        let (run, outcome) = start_run(&Placement::replacing(&self.root, name), config, data, opts)?;
        (self.say)(&describe_outcome(&run, &outcome));
        Ok(run)
    }

    /// Exports a run (int8, vectors, ONNX, safetensors) and validates the int8 model.
    fn deploy(&mut self, run: &RunDir) -> anyhow::Result<()> {
        let config = run.read_config()?;
        let exported = export(run, &config, self.ds, &ExportOptions::default())?;
        if self.cfg.progress {
            for line in describe(&exported) {
                (self.say)(&line);
            }
        }
        let v = validate(run, &config, Some(self.ds))?;
        let (lines, failed) = report(&v, THRESHOLDS);
        for line in &lines {
            (self.say)(line);
        }
        crate::deploy::validate::record(run, &v, &[], failed.is_empty())?;
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
        self.cfg.only.is_empty() || self.cfg.only.contains(&stage)
    }

    fn conv_ae(&mut self) -> anyhow::Result<()> {
        let run = self.train("conv-ae", ModelSpec::default_for(ModelKind::ConvAe), self.budget.autoencoder_epochs)?;
        self.deploy(&run)
    }

    /// The autoencoder the classifiers start from: seed 002's (the `conv-ae` stage's) on small
    /// data, a wider one with batch norm on full data (see [`Budget::wide_classifier`]).
    /// A SimCLR encoder of the classifiers' encoder shape and code size, in `simclr/`. On full
    /// data the wider encoder takes the best settings of docs/BENCHMARKS.md's comparison
    /// (projection 128, temperature 0.2, crops of 70% of the area or more); on small data
    /// SimCLR's defaults.
    fn simclr_encoder(&mut self, network: &ClassifierConfig) -> anyhow::Result<PathBuf> {
        let shape = network.encoder.clone().unwrap_or(EncoderShape::SEED);
        let mut c = SimclrConfig::new()
            .with_latent(network.latent)
            .with_widths(Some(shape.widths))
            .with_batch_norm(shape.batch_norm);
        if self.budget.wide_classifier {
            c = c.with_projection(128).with_temperature(0.2).with_min_crop(Some(0.7));
        }
        self.train("simclr", ModelSpec::Simclr(c), self.budget.simclr_epochs)?;
        Ok(self.root.join("simclr"))
    }

    fn classifier_encoder(&mut self) -> anyhow::Result<(PathBuf, ClassifierConfig, TrainOverrides)> {
        if !self.budget.wide_classifier {
            let pretrained = self.root.join("conv-ae");
            if !pretrained.join(crate::files::MODEL).is_file() {
                self.conv_ae()?;
            }
            return Ok((pretrained, ClassifierConfig::new(), self.overrides(self.budget.classifier_epochs)));
        }
        let shape = EncoderShape { widths: [32, 64, 128], batch_norm: true };
        let latent = 64;
        let ae =
            ConvAeConfig::new().with_widths(Some(shape.widths)).with_batch_norm(shape.batch_norm).with_latent(latent);
        self.train("conv-ae-wide", ModelSpec::ConvAe(ae), self.budget.wide_ae_epochs)?;
        // docs/BENCHMARKS.md's recipe (M7): a wider head with dropout, mirrored images, cosine
        // decay from 2e-3.
        let head = ClassifierConfig::new()
            .with_latent(latent)
            .with_hidden1(128)
            .with_hidden2(64)
            .with_dropout(0.2)
            .with_encoder(Some(shape));
        let overrides = TrainOverrides {
            lr: Some(2e-3),
            schedule: Some(Schedule::Cosine),
            ..self.overrides(self.budget.classifier_epochs)
        };
        Ok((self.root.join("conv-ae-wide"), head, overrides))
    }

    fn classifiers(&mut self) -> anyhow::Result<()> {
        let (pretrained, network, overrides) = self.classifier_encoder()?;
        let mut table = vec![
            "| classifier | epochs | seconds | test accuracy | epochs to 90% | seconds to 90% |".to_string(),
            "|---|---|---|---|---|---|".to_string(),
        ];
        let wide = self.budget.wide_classifier;
        let spec = |mode, pretrained: &PathBuf| ClassifierSpec {
            network: network.clone(),
            augment: wide,
            shift: if wide { 0 } else { ClassifierSpec::DEFAULT_SHIFT },
            ..ClassifierSpec::new(mode, Some(pretrained.clone()))
        };
        for mode in [Mode::Finetune, Mode::Frozen, Mode::Scratch] {
            let model = ModelSpec::Classifier(spec(mode, &pretrained));
            let run = self.train_with(&format!("classifier-{mode}"), model, &overrides, None)?;
            table.push(speed_row(&run, &format!("encoder + MLP, {mode}"))?);
            if mode == Mode::Finetune {
                self.deploy(&run)?;
            }
        }
        // The same network fine-tuned from a SimCLR encoder of the same shape (issue 16). (The
        // frozen comparison of the two encoders' codes is docs/BENCHMARKS.md's: a seventh row
        // would push the report past six pages.)
        let simclr = self.simclr_encoder(&network)?;
        let model = ModelSpec::Classifier(spec(Mode::Finetune, &simclr));
        let run = self.train_with("classifier-simclr", model, &overrides, None)?;
        table.push(speed_row(&run, "SimCLR encoder, finetune")?);
        // The CNN's recipe, tracking the same 90% as the other classifiers.
        let spec = CnnSpec { target_accuracy: ClassifierSpec::DEFAULT_TARGET, ..CnnSpec::recipe() };
        let run = self.train("cnn", ModelSpec::Cnn(spec), self.budget.cnn_epochs)?;
        table.push(speed_row(&run, "CNN from scratch")?);
        let text = table.join("\n") + "\n";
        let path = self.root.join("learning-speed.md");
        atomic_write_bytes(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
        self.summary.push(format!("learning speed ({}):\n{text}", path.display()));
        Ok(())
    }

    fn vae(&mut self) -> anyhow::Result<()> {
        let run = self.train("conv-vae", ModelSpec::default_for(ModelKind::ConvVae), self.budget.autoencoder_epochs)?;
        self.deploy(&run)
    }

    /// The convolutional denoising autoencoder, and seed 001's question 3: its fully-connected
    /// autoencoder trained the same way on noisy inputs, drawn every 10 epochs.
    fn denoising(&mut self) -> anyhow::Result<()> {
        let epochs = self.overrides(self.budget.autoencoder_epochs);
        self.train_with("denoising-ae", ModelSpec::default_for(ModelKind::DenoisingAe), &epochs, Some(10))?;
        let fc = FcAeConfig::new().with_noise(Some(FC_DENOISING_NOISE));
        let epochs = self.overrides(self.budget.fc_ae_epochs);
        self.train_with("denoising-fc-ae", ModelSpec::FcAe(fc), &epochs, Some(10)).map(drop)
    }

    fn fc_ae(&mut self) -> anyhow::Result<()> {
        let run = self.train("fc-ae", ModelSpec::default_for(ModelKind::FcAe), self.budget.fc_ae_epochs)?;
        self.deploy(&run)
    }

    fn latent_2d(&mut self) -> anyhow::Result<()> {
        let epochs = self.budget.latent_2d_epochs;
        self.train("ae-2d", ModelSpec::ConvAe(ConvAeConfig::new().with_latent(2)), epochs)?;
        self.train("vae-2d", ModelSpec::ConvVae(ConvVaeConfig::new().with_latent(2)), epochs)?;
        Ok(())
    }

    fn toy(&mut self) -> anyhow::Result<()> {
        let data = ToyData::DEFAULT;
        for arch in [ToyArch::Small, ToyArch::Large, ToyArch::Linear] {
            let model = ModelSpec::ToyAe(ToySpec {
                network: ToyAeConfig::new().with_arch(arch),
                retrain_encoder: arch == ToyArch::Large,
            });
            let overrides = TrainOverrides { seed: Some(self.cfg.seed), ..TrainOverrides::default() };
            let train = TrainSpec::resolve(ModelKind::ToyAe, &overrides, data.points);
            let config = RunConfig::new(model, train, DataSpec::ToyRectangle(data.clone()));
            self.start(&format!("toy-{arch}"), &config, None, None)?;
        }
        Ok(())
    }

    fn studies(&mut self) -> anyhow::Result<()> {
        for (name, space) in [("study-optimizers", "optimizers"), ("study-regularisation", "regularisation")] {
            self.study(name, space, SamplerKind::Grid, PrunerKind::None, 64)?;
        }
        let study = GdStudy { seed: self.cfg.seed, ..GdStudy::default() };
        let png = gd_vs_sgd(&self.root.join("study-gd-vs-sgd"), &study, self.cfg.progress)?;
        self.summary.push(format!("gradient descent study: {}", png.display()));
        Ok(())
    }

    fn tune(&mut self) -> anyhow::Result<()> {
        self.study("tune-conv-ae", "default", SamplerKind::Tpe, PrunerKind::Median, self.budget.tune_trials)
    }

    /// A study of the conv autoencoder on a subset, in `name/`.
    fn study(
        &mut self,
        name: &str,
        space: &str,
        sampler: SamplerKind,
        pruner: PrunerKind,
        trials: u32,
    ) -> anyhow::Result<()> {
        let kind = ModelKind::ConvAe;
        let overrides = self.overrides(self.budget.study_epochs);
        let train = TrainSpec::resolve(kind, &overrides, 0);
        let images = self.budget.study_images;
        let limit = self.selection.limit_train.map_or(images, |l| l.min(images));
        let selection = DataSelection { limit_train: Some(limit), ..self.selection.clone() };
        let base = RunConfig::new(
            ModelSpec::default_for(kind),
            train,
            DataSpec::Images(selection.spec(self.ds, self.cfg.seed)?),
        );
        let text = preset(space, kind)?.with_context(|| format!("no {space} space"))?;
        let dir = self.root.join(name);
        let cfg = TuneConfig {
            name: name.into(),
            storage: TuneConfig::default_storage(&dir),
            dir,
            base,
            space: SearchSpace::from_toml(text, space)?,
            sampler,
            replay: None,
            pruner,
            median: Median::default(),
            trials,
            seed: self.cfg.seed,
            stale_after: 60.0,
            heartbeat_every: 10.0,
            progress: self.cfg.progress,
        };
        let report = tune(&cfg, self.ds, &mut *self.say)?;
        let pruned = report.trials.iter().filter(|t| t.state == TrialState::Pruned).count();
        let line = match report.best() {
            Some(b) => format!(
                "{name}: {} trials ({pruned} pruned), best {} {:.5} with {}; {}",
                report.trials.len(),
                report.objective,
                b.value.unwrap_or(f64::NAN),
                describe_params(&b.params),
                cfg.dir.join("figures").display()
            ),
            None => format!("{name}: no trial completed"),
        };
        self.summary.push(line);
        Ok(())
    }

    fn cv(&mut self) -> anyhow::Result<()> {
        let finetuned = self.root.join("classifier-finetune");
        if !finetuned.join(crate::files::MODEL).is_file() {
            self.classifiers()?;
        }
        let mut base = RunDir::open(&finetuned)?.read_config()?;
        base.train.epochs = self.budget.cv_epochs;
        let cfg = CvConfig {
            base,
            folds: self.budget.cv_folds,
            dir: self.root.join("cv-classifier"),
            progress: self.cfg.progress,
        };
        let report = cross_validate(&cfg, self.ds, &mut *self.say)?;
        self.summary.push(format!(
            "cross-validated fine-tuned classifier: {} {:.4} ± {:.4} over {} folds ({})",
            report.column,
            report.mean,
            report.std,
            report.folds.len(),
            cfg.dir.join("cv.md").display()
        ));
        Ok(())
    }
}

impl Pipeline<'_> {
    fn report(&mut self) -> anyhow::Result<()> {
        for name in [
            "conv-ae",
            "denoising-ae",
            "conv-vae",
            "fc-ae",
            "denoising-fc-ae",
            "classifier-finetune",
            "cnn",
            "ae-2d",
            "vae-2d",
        ] {
            let Ok(run) = RunDir::open(&self.root.join(name)) else { continue };
            let config = run.read_config()?;
            let e = explore(&run, &config, Some(self.ds), &ExploreOptions::default())
                .with_context(|| format!("exploring {}", run.root.display()))?;
            if let (Some(t), Some(s)) = (e.trustworthiness, e.tsne_seconds) {
                (self.say)(&format!("{name}: t-SNE of {} codes in {s:.1} s, trustworthiness {t:.3}", e.codes));
            }
        }
        let built = crate::report::build(&self.root)?;
        self.summary.push(format!(
            "report: {} ({} figures, {} tables)",
            built.path.display(),
            built.figures,
            built.tables
        ));
        Ok(())
    }
}

/// One line about a finished run: its directory, last test metrics, epochs and seconds.
#[must_use]
pub fn describe_outcome(run: &RunDir, outcome: &Outcome) -> String {
    let history = &outcome.history;
    let mut line = format!("run directory: {}", run.root.display());
    if let Some(r) = history.rows.last() {
        for (c, v) in history.columns.iter().zip(&r.values) {
            if let (Split::Test, Some(v)) = (c.split, v) {
                line.push_str(&format!("  {c} {v:.5}"));
            }
        }
        line.push_str(&format!("  ({} epochs, {:.1} s training)", r.epoch, history.total_seconds()));
    }
    if let Some(stop) = &outcome.stopped {
        line.push_str(&format!("  [{stop}]"));
    }
    line
}

/// One row of the learning-speed table, from a classifier run's `summary.toml`.
fn speed_row(run: &RunDir, label: &str) -> anyhow::Result<String> {
    let s = run.read_summary()?;
    let fmt = |x: Option<f64>, digits: usize| x.map_or_else(|| "not reached".to_string(), |x| format!("{x:.digits$}"));
    Ok(format!(
        "| {label} | {} | {:.1} | {} | {} | {} |",
        s.epochs,
        s.total_seconds,
        s.final_test_accuracy.map_or_else(|| "-".into(), |a| format!("{:.2}%", 100.0 * a)),
        s.epochs_to_target.map_or_else(|| "not reached".to_string(), |e| e.to_string()),
        fmt(s.seconds_to_target, 1)
    ))
}

/// Runs the pipeline; `say` receives a line per finished run and per validation (the CLI prints
/// them).
///
/// # Errors
/// When the data cannot be loaded, the folder cannot be replaced, or a stage fails (named).
pub fn run_pipeline(cfg: &PipelineConfig, say: &mut dyn FnMut(&str)) -> anyhow::Result<PipelineReport> {
    let ds = cfg.selection.load()?;
    let images = cfg.selection.limit_train.map_or(ds.train.len(), |l| l.min(ds.train.len()));
    let budget = Budget::for_data(images, cfg.quick);
    let budget = cfg.epochs.map_or(budget, |e| budget.with_epochs(e));
    let limit_train = match (cfg.selection.limit_train, budget.limit_train) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let selection = DataSelection { limit_train, ..cfg.selection.clone() };
    let root = cfg.runs.join(cfg.name.as_deref().unwrap_or("pipeline"));
    if root.exists() {
        anyhow::ensure!(
            cfg.overwrite || cfg.name.is_none(),
            "{} exists; pass --overwrite to replace it or choose another --name",
            root.display()
        );
        std::fs::remove_dir_all(&root).with_context(|| format!("removing the previous {}", root.display()))?;
    }
    let mut p = Pipeline { cfg, ds: &ds, root: root.clone(), budget, selection, summary: Vec::new(), say };
    let started = Instant::now();
    for stage in Stage::ALL {
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
            Stage::Tune => p.tune(),
            Stage::Cv => p.cv(),
            Stage::Report => p.report(),
        };
        result.with_context(|| format!("pipeline stage {stage:?}"))?;
        p.summary.push(format!("stage {stage:?} took {:.0} s", t.elapsed().as_secs_f64()));
    }
    Ok(PipelineReport { root, summary: p.summary, seconds: started.elapsed().as_secs_f64() })
}
