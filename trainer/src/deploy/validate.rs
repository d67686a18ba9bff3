//! Validating an export: the int8 runtime against the float trainer, on the validation vectors
//! and on the whole test set, with thresholds; the result is recorded in
//! `export/validation.toml` by [`record`].

use anyhow::Context as _;
use bottleneck_export::validate::{Agreement, check};
use bottleneck_export::vectors::Vectors;
use bottleneck_runtime::Model;

use crate::config::RunConfig;
use crate::data::Dataset;
use crate::data::batch::image_values;
use crate::files;
use crate::inference::LoadedModel;
use crate::run_dir::RunDir;
use crate::run_dir::records::{self, RECORD_FORMAT, TargetRecord, ValidationRecord};

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
    /// (int8 correct, float correct) against the labels, with a classifier.
    pub accuracy: Option<(usize, usize)>,
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
    /// Whether the file has an encoder and a decoder (not a classifier alone).
    pub autoencoder: bool,
}

/// Reads a run's exported files.
///
/// # Errors
/// When they are missing or corrupt.
pub fn read_export(run: &RunDir) -> anyhow::Result<(Vec<u8>, Vectors)> {
    let bnq_path = run.export_file(files::BNQ);
    let bnq = std::fs::read(&bnq_path).with_context(|| {
        format!("reading {} (run `bottleneck export {}` first)", bnq_path.display(), run.root.display())
    })?;
    let vec_path = run.export_file(files::VECTORS);
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
    let model = parse(run, &bnq)?;
    let shape = model.input_shape();
    let takes = [usize::from(shape.c), usize::from(shape.h), usize::from(shape.w)];
    anyhow::ensure!(
        takes == vectors.input_shape,
        "{}: the validation vectors hold {:?} images but the int8 model takes {takes:?} (c, h, w); the files \
         come from different exports: run `bottleneck export` again",
        run.export_dir().display(),
        vectors.input_shape
    );
    let agreement =
        check(&model, &vectors).map_err(|e| anyhow::anyhow!("running the int8 model on the vectors: {e}"))?;
    let test_set = data.map(|d| test_set(run, config, d, &model)).transpose()?;
    use bottleneck_runtime::Entry;
    let scratch = [Entry::Encode, Entry::Decode, Entry::Classify, Entry::Sample].map(|e| model.scratch_len(e));
    Ok(Validation {
        file_bytes: bnq.len(),
        scratch,
        vectors: agreement,
        test_set,
        autoencoder: model.has_autoencoder(),
    })
}

fn test_set(run: &RunDir, config: &RunConfig, data: &Dataset, model: &Model<'_>) -> anyhow::Result<TestSetAgreement> {
    let device = config.train.device.device()?;
    let trained = LoadedModel::load(run, config, &device)?;
    let sets = config.data.images()?.prepare(data, config.train.seed);
    let test = &sets.test;
    let idx: Vec<usize> = (0..test.len()).collect();
    let float = trained.outputs(test, &idx, &device)?;
    let pixels = test.image_len();
    let classes = model.classes().unwrap_or(0);
    let mut scratch = vec![0u8; model.max_scratch_len()];
    let (mut code, mut image, mut logits) = (vec![0f32; model.latent_len()], vec![0f32; pixels], vec![0f32; classes]);
    let (mut sq_float, mut sq_int8, mut agree) = (0f64, 0f64, 0usize);
    let (mut right_int8, mut right_float) = (0usize, 0usize);
    for i in idx {
        let x = image_values(test, &[i], trained.range());
        if model.has_autoencoder() {
            model.encode(&x, &mut code, &mut scratch).map_err(|e| anyhow::anyhow!("int8 encode: {e}"))?;
            model.decode(&code, &mut image, &mut scratch).map_err(|e| anyhow::anyhow!("int8 decode: {e}"))?;
            let fr = &float.reconstructions[i * pixels..(i + 1) * pixels];
            for ((a, f), v) in image.iter().zip(fr).zip(&x) {
                sq_int8 += f64::from(a - v).powi(2);
                sq_float += f64::from(f - v).powi(2);
            }
        }
        if classes > 0 {
            let c = model.classify(&x, &mut logits, &mut scratch).map_err(|e| anyhow::anyhow!("int8 classify: {e}"))?;
            let fc = bottleneck_runtime::argmax(float.logits[i * classes..(i + 1) * classes].iter().copied());
            agree += usize::from(c == fc);
            let label = usize::from(test.labels[i]);
            right_int8 += usize::from(c == label);
            right_float += usize::from(fc == label);
        }
    }
    let n = test.len();
    let total = (n * pixels).max(1) as f64;
    Ok(TestSetAgreement {
        count: n,
        mse_float: sq_float / total,
        mse_int8: sq_int8 / total,
        top1: (classes > 0).then_some((agree, n)),
        accuracy: (classes > 0).then_some((right_int8, right_float)),
    })
}

/// Parses a run's int8 file, naming it in errors.
///
/// # Errors
/// When the runtime rejects the file.
pub fn parse<'b>(run: &RunDir, bnq: &'b [u8]) -> anyhow::Result<Model<'b>> {
    Model::parse(bnq).map_err(|e| anyhow::anyhow!("{}: {e}", run.export_file(files::BNQ).display()))
}

/// The checks a validation must pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Least share of top-1 classes that agree with the float classifier.
    pub min_agreement: f64,
    /// Largest int8/float reconstruction MSE ratio.
    pub max_mse_ratio: f64,
}

impl Default for Thresholds {
    /// 99.5% agreement, 5% more MSE at most.
    fn default() -> Self {
        Self { min_agreement: 0.995, max_mse_ratio: 1.05 }
    }
}

/// The report of a validation as lines for a terminal, and the checks that failed.
#[must_use]
pub fn report(v: &Validation, t: Thresholds) -> (Vec<String>, Vec<String>) {
    let a = &v.vectors;
    let mut lines = vec![
        format!(
            "int8 file: {} bytes; scratch: encode {} B, decode {} B, classify {} B, sample {} B",
            v.file_bytes, v.scratch[0], v.scratch[1], v.scratch[2], v.scratch[3]
        ),
        format!("vectors ({}):", a.count),
    ];
    if v.autoencoder {
        lines.extend([
            format!(
                "  code error       max {:.4} ({:.2} steps), mean {:.4}",
                a.code_max_abs, a.code_max_steps, a.code_mean_abs
            ),
            format!("  decoder          int8 vs float reconstruction MSE {:.2e}", a.recon_mse_vs_float),
            format!(
                "  reconstruction   MSE float {:.5}, int8 {:.5} (ratio {:.3})",
                a.mse_float,
                a.mse_int8,
                a.mse_ratio()
            ),
        ]);
    }
    if let (Some((agree, n)), Some((ri, rf, _))) = (a.top1, a.accuracy) {
        lines.push(format!(
            "  classifier       top-1 agreement {agree}/{n} ({:.2}%), accuracy float {rf}/{n}, int8 {ri}/{n}",
            100.0 * agree as f64 / n as f64
        ));
    }
    lines.push(format!("  output digest    {:#010x}", a.digest));
    let mut failed = Vec::new();
    let (ratio, top1) = match &v.test_set {
        Some(ts) => {
            lines.push(format!("test set ({}):", ts.count));
            if v.autoencoder {
                lines.push(format!(
                    "  reconstruction   MSE float {:.5}, int8 {:.5} (ratio {:.3})",
                    ts.mse_float,
                    ts.mse_int8,
                    ts.mse_ratio()
                ));
            }
            if let (Some((agree, n)), Some((ri, rf))) = (ts.top1, ts.accuracy) {
                let pct = |k: usize| 100.0 * k as f64 / n.max(1) as f64;
                lines.push(format!(
                    "  classifier       top-1 agreement {agree}/{n} ({:.2}%), accuracy float {:.2}%, int8 {:.2}%",
                    pct(agree),
                    pct(rf),
                    pct(ri)
                ));
            }
            (ts.mse_ratio(), ts.top1.map(|(x, n)| x as f64 / n as f64))
        }
        None => (a.mse_ratio(), a.top1_rate()),
    };
    if v.autoencoder && ratio > t.max_mse_ratio {
        failed.push(format!(
            "int8/float reconstruction MSE ratio {ratio:.3} exceeds --max-mse-ratio {}",
            t.max_mse_ratio
        ));
    }
    if let Some(r) = top1
        && r < t.min_agreement
    {
        failed.push(format!("top-1 agreement {r:.4} is below --min-agreement {}", t.min_agreement));
    }
    (lines, failed)
}

/// Writes `export/validation.toml` for `v`, with the targets' digests and the verdict.
///
/// # Errors
/// On I/O failure.
pub fn record(run: &RunDir, v: &Validation, targets: &[TargetRecord], passed: bool) -> anyhow::Result<()> {
    let vectors = records::Agreement {
        count: v.vectors.count,
        mse_float: v.vectors.mse_float,
        mse_int8: v.vectors.mse_int8,
        top1_agree: v.vectors.top1.map(|(a, _)| a),
    };
    let test_set = v.test_set.as_ref().map(|t| records::Agreement {
        count: t.count,
        mse_float: t.mse_float,
        mse_int8: t.mse_int8,
        top1_agree: t.top1.map(|(a, _)| a),
    });
    let mut all = vec![TargetRecord {
        target: "host".into(),
        vectors: v.vectors.count,
        digest: v.vectors.digest,
        identical: true,
    }];
    all.extend_from_slice(targets);
    run.write_validation_record(&ValidationRecord {
        format: RECORD_FORMAT,
        file_bytes: v.file_bytes,
        scratch: v.scratch,
        vectors,
        test_set,
        targets: all,
        passed,
    })
}
