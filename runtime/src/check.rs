//! The validation sequence every target runs on the same vectors, folding every output's bits into
//! a CRC-32: equal digests on the host, in wasm32 and on a Cortex-M4 mean bit-identical outputs.
//!
//! Per vector: encode the input; decode the float trainer's code; decode the int8 code (when the
//! file has an autoencoder); classify (when it has a classifier). Then a number of seeded samples
//! (with an autoencoder). The caller owns every buffer.

use crate::format::Crc32;
use crate::{Error, Model, Rng};

/// Caller-owned buffers for the checks.
#[derive(Debug)]
pub struct Buffers<'b> {
    /// `latent_len` values: the int8 code.
    pub code: &'b mut [f32],
    /// `input_len` values: the decoding of the float code.
    pub image: &'b mut [f32],
    /// `input_len` values: the decoding of the int8 code (end to end).
    pub roundtrip: &'b mut [f32],
    /// `classes` values (may be empty without a classifier).
    pub logits: &'b mut [f32],
    /// At least `Model::max_scratch_len` bytes.
    pub scratch: &'b mut [u8],
}

fn fold(crc: &mut Crc32, values: &[f32]) {
    for v in values {
        crc.update(&v.to_bits().to_le_bytes());
    }
}

/// Runs one vector and folds the outputs into `crc`. Returns the predicted class, if any.
///
/// # Errors
/// Any entry point's [`Error`] (wrong lengths, scratch too small).
pub fn vector(
    model: &Model<'_>,
    input: &[f32],
    float_code: &[f32],
    b: &mut Buffers<'_>,
    crc: &mut Crc32,
) -> Result<Option<usize>, Error> {
    if model.has_autoencoder() {
        model.encode(input, b.code, b.scratch)?;
        fold(crc, b.code);
        model.decode(float_code, b.image, b.scratch)?;
        fold(crc, b.image);
        model.decode(b.code, b.roundtrip, b.scratch)?;
        fold(crc, b.roundtrip);
    }
    if model.classes().is_some() {
        let class = model.classify(input, b.logits, b.scratch)?;
        fold(crc, b.logits);
        return Ok(Some(class));
    }
    Ok(None)
}

/// Draws `count` samples with `Rng::new(seed)` and folds codes and images into `crc` (nothing for
/// a classifier alone).
///
/// # Errors
/// As [`Model::sample`].
pub fn samples(model: &Model<'_>, seed: u64, count: usize, b: &mut Buffers<'_>, crc: &mut Crc32) -> Result<(), Error> {
    if !model.has_autoencoder() {
        return Ok(());
    }
    let mut rng = Rng::new(seed);
    for _ in 0..count {
        model.sample(&mut rng, b.code, b.image, b.scratch)?;
        fold(crc, b.code);
        fold(crc, b.image);
    }
    Ok(())
}

/// The seed and count of samples in the standard check.
pub const SAMPLE_SEED: u64 = 1234;
/// Samples in the standard check.
pub const SAMPLE_COUNT: usize = 2;
