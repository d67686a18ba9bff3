//! `bottleneck validate`: the int8 runtime against the float trainer, on the validation vectors
//! and on the whole test set.

use anyhow::Context as _;
use bottleneck_export::validate::{Agreement, check};
use bottleneck_export::vectors::Vectors;
use bottleneck_runtime::Model;

use super::export::export_dir;
use super::trained::Trained;
use crate::data::Dataset;
use crate::data::batch::image_values;
use crate::run_dir::{RunConfig, RunDir};

/// The int8 runtime against the float model on the whole test set.
#[derive(Debug, Clone)]
pub struct TestSetAgreement {
    /// Test images.
    pub count: usize,
    /// Float reconstruction MSE.
    pub mse_float: f64,
    /// int8 reconstruction MSE (int8 encoder and decoder).
    pub mse_int8: f64,
    /// (agreeing, total) top-1 classes, with a classifier.
    pub top1: Option<(usize, usize)>,
}

impl TestSetAgreement {
    /// `mse_int8 / mse_float`.
    #[must_use]
    pub fn mse_ratio(&self) -> f64 {
        self.mse_int8 / self.mse_float.max(f64::MIN_POSITIVE)
    }
}

/// Everything `validate` measures.
#[derive(Debug, Clone)]
pub struct Validation {
    /// Size of `model.bnq` in bytes.
    pub file_bytes: usize,
    /// Scratch bytes per entry point: encode, decode, classify, sample.
    pub scratch: [usize; 4],
    /// On `vectors.bin`.
    pub vectors: Agreement,
    /// On the test set, unless skipped.
    pub test_set: Option<TestSetAgreement>,
}

/// Reads a run's exported files.
///
/// # Errors
/// When they are missing or corrupt.
pub fn read_export(run: &RunDir) -> anyhow::Result<(Vec<u8>, Vectors)> {
    let dir = export_dir(run);
    let bnq_path = dir.join("model.bnq");
    let bnq = std::fs::read(&bnq_path).with_context(|| {
        format!("reading {} (run `bottleneck export {}` first)", bnq_path.display(), run.root.display())
    })?;
    let vec_path = dir.join("vectors.bin");
    let raw = std::fs::read(&vec_path).with_context(|| format!("reading {}", vec_path.display()))?;
    let vectors = Vectors::from_bytes(&raw, &vec_path.display().to_string())?;
    Ok((bnq, vectors))
}

/// Validates the export of `run`; with `data`, also on the whole test set.
///
/// # Errors
/// When files are missing or corrupt, or the model cannot run.
pub fn validate(run: &RunDir, config: &RunConfig, data: Option<&Dataset>) -> anyhow::Result<Validation> {
    let (bnq, vectors) = read_export(run)?;
    let model =
        Model::parse(&bnq).map_err(|e| anyhow::anyhow!("{}: {e}", export_dir(run).join("model.bnq").display()))?;
    let agreement =
        check(&model, &vectors).map_err(|e| anyhow::anyhow!("running the int8 model on the vectors: {e}"))?;
    let test_set = data.map(|d| test_set(run, config, d, &model)).transpose()?;
    use bottleneck_runtime::Entry;
    let scratch = [Entry::Encode, Entry::Decode, Entry::Classify, Entry::Sample].map(|e| model.scratch_len(e));
    Ok(Validation { file_bytes: bnq.len(), scratch, vectors: agreement, test_set })
}

fn test_set(run: &RunDir, config: &RunConfig, data: &Dataset, model: &Model<'_>) -> anyhow::Result<TestSetAgreement> {
    let device = config.train.device.device()?;
    let trained = Trained::load(run, config, &device)?;
    let sets = super::train::prepared(config, data)?;
    let test = &sets.test;
    let idx: Vec<usize> = (0..test.len()).collect();
    let float = trained.outputs(test, &idx, &device)?;
    let pixels = test.image_len();
    let classes = model.classes().unwrap_or(0);
    let mut scratch = vec![0u8; model.max_scratch_len()];
    let (mut code, mut image, mut logits) = (vec![0f32; model.latent_len()], vec![0f32; pixels], vec![0f32; classes]);
    let (mut sq_float, mut sq_int8, mut agree) = (0f64, 0f64, 0usize);
    for i in idx {
        let x = image_values(test, &[i], trained.range());
        model.encode(&x, &mut code, &mut scratch).map_err(|e| anyhow::anyhow!("int8 encode: {e}"))?;
        model.decode(&code, &mut image, &mut scratch).map_err(|e| anyhow::anyhow!("int8 decode: {e}"))?;
        let fr = &float.reconstructions[i * pixels..(i + 1) * pixels];
        for ((a, f), v) in image.iter().zip(fr).zip(&x) {
            sq_int8 += f64::from(a - v).powi(2);
            sq_float += f64::from(f - v).powi(2);
        }
        if classes > 0 {
            let c = model.classify(&x, &mut logits, &mut scratch).map_err(|e| anyhow::anyhow!("int8 classify: {e}"))?;
            let fl = &float.logits[i * classes..(i + 1) * classes];
            let fc =
                fl.iter().enumerate().fold((0, f32::NEG_INFINITY), |b, (j, &v)| if v > b.1 { (j, v) } else { b }).0;
            agree += usize::from(c == fc);
        }
    }
    let n = test.len();
    let total = (n * pixels).max(1) as f64;
    Ok(TestSetAgreement {
        count: n,
        mse_float: sq_float / total,
        mse_int8: sq_int8 / total,
        top1: (classes > 0).then_some((agree, n)),
    })
}
