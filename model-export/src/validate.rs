//! Running the int8 runtime on validation vectors and measuring how far it is from the float
//! trainer. Also digests the runtime's outputs, so that two targets can be shown bit-identical by
//! comparing one number.

use bottleneck_runtime::check::{self, Buffers};
use bottleneck_runtime::format::Crc32;
use bottleneck_runtime::{Error as RtError, Model};

use crate::vectors::Vectors;

/// How the int8 runtime compares with the float trainer on a set of vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    /// Vectors compared.
    pub count: usize,
    /// Largest |int8 code - float code|.
    pub code_max_abs: f32,
    /// The same in code quantization steps.
    pub code_max_steps: f32,
    /// Mean |int8 code - float code|.
    pub code_mean_abs: f64,
    /// Mean squared difference between the int8 and float reconstructions.
    pub recon_mse_vs_float: f64,
    /// Reconstruction MSE of the float model against the inputs.
    pub mse_float: f64,
    /// Reconstruction MSE of the int8 runtime against the inputs.
    pub mse_int8: f64,
    /// (agreeing, total) top-1 classes, when the file holds a classifier.
    pub top1: Option<(usize, usize)>,
    /// (correct int8, correct float, total) against the labels, with a classifier.
    pub accuracy: Option<(usize, usize, usize)>,
    /// CRC-32 of the bits of every int8 output (codes, reconstructions, logits, and two seeded
    /// samples): equal digests mean bit-identical outputs.
    pub digest: u32,
}

impl Agreement {
    /// `mse_int8 / mse_float`.
    #[must_use]
    pub fn mse_ratio(&self) -> f64 {
        self.mse_int8 / self.mse_float.max(f64::MIN_POSITIVE)
    }

    /// Share of agreeing classes, when there is a classifier.
    #[must_use]
    pub fn top1_rate(&self) -> Option<f64> {
        self.top1.map(|(a, n)| a as f64 / n.max(1) as f64)
    }
}

/// Runs `model` on every vector (the standard sequence of [`bottleneck_runtime::check`]) and
/// compares with the float outputs stored in the vectors.
///
/// # Errors
/// A runtime [`RtError`] when the file and the vectors disagree on sizes.
pub fn check(model: &Model<'_>, vectors: &Vectors) -> Result<Agreement, RtError> {
    let latent = model.latent_len();
    let code_scale = model.header().code_scale;
    let (mut scratch, mut code) = (vec![0u8; model.max_scratch_len()], vec![0f32; latent]);
    let (mut image, mut roundtrip) = (vec![0f32; model.input_len()], vec![0f32; model.input_len()]);
    let mut logits = vec![0f32; model.classes().unwrap_or(0)];
    let mut b = Buffers {
        code: &mut code,
        image: &mut image,
        roundtrip: &mut roundtrip,
        logits: &mut logits,
        scratch: &mut scratch,
    };
    let mut crc = Crc32::new();
    let (mut code_max, mut code_sum, mut recon_sq, mut float_sq, mut int8_sq) = (0f32, 0f64, 0f64, 0f64, 0f64);
    let (mut agree, mut right_int8, mut right_float) = (0usize, 0usize, 0usize);
    for v in &vectors.items {
        let class = check::vector(model, &v.input, &v.code, &mut b, &mut crc)?;
        for (a, f) in b.code.iter().zip(&v.code) {
            code_max = code_max.max((a - f).abs());
            code_sum += f64::from((a - f).abs());
        }
        // `image` decodes the float code (the decoder's error alone); `roundtrip` is int8 end to end.
        // (A classifier alone has neither: its vectors' reconstructions are zeros.)
        for (((a, f), x), r) in b.image.iter().zip(&v.reconstruction).zip(&v.input).zip(b.roundtrip.iter()) {
            if !model.has_autoencoder() {
                break;
            }
            recon_sq += f64::from(a - f).powi(2);
            float_sq += f64::from(f - x).powi(2);
            int8_sq += f64::from(r - x).powi(2);
        }
        if let Some(class) = class {
            let float_class = bottleneck_runtime::argmax(v.logits.iter().copied());
            agree += usize::from(class == float_class);
            right_int8 += usize::from(class as u32 == v.label);
            right_float += usize::from(float_class as u32 == v.label);
        }
    }
    check::samples(model, check::SAMPLE_SEED, check::SAMPLE_COUNT, &mut b, &mut crc)?;
    let n = vectors.items.len();
    let pixels = (n * model.input_len()).max(1) as f64;
    let has_classifier = model.classes().is_some();
    Ok(Agreement {
        count: n,
        code_max_abs: code_max,
        code_max_steps: if code_scale > 0.0 { code_max / code_scale } else { 0.0 },
        code_mean_abs: code_sum / (n * latent).max(1) as f64,
        recon_mse_vs_float: recon_sq / pixels,
        mse_float: float_sq / pixels,
        mse_int8: int8_sq / pixels,
        top1: has_classifier.then_some((agree, n)),
        accuracy: has_classifier.then_some((right_int8, right_float, n)),
        digest: crc.finish(),
    })
}
