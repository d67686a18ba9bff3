//! `bottleneck-wasm`: the int8 runtime as a WebAssembly module with plain C-ABI exports.
//!
//! JavaScript copies a `.bnq` file to `model_ptr()`, calls `load(len)`, writes images to
//! `input_ptr()` (f32, `[c][h][w]`) or codes to `code_ptr()`, calls an entry point and reads
//! `code_ptr()`, `image_ptr()` or `logits_ptr()`. Errors are negative return values (see
//! [`error_code`]). No allocator, no wasm-bindgen: the module is a few dozen kilobytes and loads
//! with `WebAssembly.instantiate` alone. The same exports serve the browser demo and the
//! bit-identity check (`check_*`), which runs exactly the sequence of `bottleneck_runtime::check`.
#![cfg_attr(target_arch = "wasm32", no_std)]
#![allow(unsafe_code)] // `#[unsafe(no_mangle)]` on every export; no other unsafe here.

mod state;

use bottleneck_runtime::check::{self, Buffers};
use bottleneck_runtime::format::Crc32;
use bottleneck_runtime::{Error, Model, Rng};
use state::{State, with};

/// Negative codes for errors returned to JavaScript.
#[must_use]
pub fn error_code(e: Error) -> i32 {
    match e {
        Error::TooShort { .. } => -1,
        Error::BadMagic => -2,
        Error::UnsupportedVersion { .. } => -3,
        Error::LengthMismatch { .. } => -4,
        Error::BadChecksum { .. } => -5,
        Error::BadHeader { .. } => -6,
        Error::UnknownLayer { .. } => -7,
        Error::BadShape { .. } => -8,
        Error::OutOfBounds { .. } => -9,
        Error::BadQuantization { .. } => -10,
        Error::BadSection { .. } => -11,
        Error::NoClassifier => -12,
        Error::InputLength { .. } => -13,
        Error::OutputLength { .. } => -14,
        Error::ScratchTooSmall { .. } => -15,
        Error::ClassifierReadsImage => -16,
        Error::BadRecord { .. } => -17,
        Error::BadMetadata { .. } => -18,
        Error::NoAutoencoder => -19,
        _ => -99,
    }
}

/// Returned when no model is loaded or a buffer cap is exceeded.
const NO_MODEL: i32 = -100;
const TOO_BIG: i32 = -101;
/// Returned when an export is called from inside another (the state is in use).
const REENTERED: i32 = -102;

/// Runs an export's body with the state, or answers [`REENTERED`].
fn call(f: impl FnOnce(&mut State) -> i32) -> i32 {
    with(f).unwrap_or(REENTERED)
}

/// The model `load` accepted. `load` ran every check, the checksum included; each call checks the
/// structure again (a few checks per layer: JavaScript may have written the buffer since) but not
/// the checksum, which would read the whole file on every call.
fn model(model: &[u8], len: usize) -> Result<Model<'_>, i32> {
    Model::parse_skipping_checksum(model_bytes(model, len)?).map_err(error_code)
}

/// The first `len` bytes of the model buffer; none loaded when empty.
fn model_bytes(model: &[u8], len: usize) -> Result<&[u8], i32> {
    model.get(..len).filter(|b| !b.is_empty()).ok_or(NO_MODEL)
}

fn status(r: Result<i32, i32>) -> i32 {
    r.unwrap_or_else(|e| e)
}

/// Where to copy the model file (up to 2 MiB).
#[unsafe(no_mangle)]
pub extern "C" fn model_ptr() -> *mut u8 {
    // SAFETY: a raw projection of the state pointer; no reference is made.
    state::addr(|s| unsafe { &raw mut (*s).model })
}

/// Parses the `len` bytes at `model_ptr()`; 0 on success, a negative error code otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn load(len: usize) -> i32 {
    call(|s| {
        if len > s.model.len() {
            s.model_len = 0;
            return TOO_BIG;
        }
        s.model_len = len;
        // The full parse, checksum included, once per file.
        let r = model_bytes(&s.model, len).and_then(|b| Model::parse(b).map_err(error_code)).and_then(|m| {
            let fits = m.input_len() <= s.input.len()
                && m.latent_len() <= s.code.len()
                && m.classes().unwrap_or(0) <= s.logits.len()
                && m.max_scratch_len() <= s.scratch.len();
            if fits { Ok(0) } else { Err(TOO_BIG) }
        });
        if r.is_err() {
            s.model_len = 0;
        }
        status(r)
    })
}

/// Input image buffer (`input_len()` f32 values).
#[unsafe(no_mangle)]
pub extern "C" fn input_ptr() -> *mut f32 {
    // SAFETY: a raw projection of the state pointer; no reference is made.
    state::addr(|s| unsafe { &raw mut (*s).input })
}

/// Code buffer (`latent_len()` f32 values): written by `encode` and `sample`, read by `decode`.
#[unsafe(no_mangle)]
pub extern "C" fn code_ptr() -> *mut f32 {
    // SAFETY: a raw projection of the state pointer; no reference is made.
    state::addr(|s| unsafe { &raw mut (*s).code })
}

/// The float trainer's code for `check_vector`.
#[unsafe(no_mangle)]
pub extern "C" fn float_code_ptr() -> *mut f32 {
    // SAFETY: a raw projection of the state pointer; no reference is made.
    state::addr(|s| unsafe { &raw mut (*s).float_code })
}

/// Output image buffer (`input_len()` f32 values).
#[unsafe(no_mangle)]
pub extern "C" fn image_ptr() -> *mut f32 {
    // SAFETY: a raw projection of the state pointer; no reference is made.
    state::addr(|s| unsafe { &raw mut (*s).image })
}

/// Logits buffer (`classes()` f32 values).
#[unsafe(no_mangle)]
pub extern "C" fn logits_ptr() -> *mut f32 {
    // SAFETY: a raw projection of the state pointer; no reference is made.
    state::addr(|s| unsafe { &raw mut (*s).logits })
}

/// Values per input image, or a negative error code.
#[unsafe(no_mangle)]
pub extern "C" fn input_len() -> i32 {
    call(|s| status(model(&s.model, s.model_len).map(|m| m.input_len() as i32)))
}

/// Code size, or a negative error code.
#[unsafe(no_mangle)]
pub extern "C" fn latent_len() -> i32 {
    call(|s| status(model(&s.model, s.model_len).map(|m| m.latent_len() as i32)))
}

/// Number of classes (0 without a classifier), or a negative error code.
#[unsafe(no_mangle)]
pub extern "C" fn classes() -> i32 {
    call(|s| status(model(&s.model, s.model_len).map(|m| m.classes().unwrap_or(0) as i32)))
}

/// Encodes `input` into `code`.
#[unsafe(no_mangle)]
pub extern "C" fn encode() -> i32 {
    call(|s| {
        let r = model(&s.model, s.model_len).and_then(|m| {
            let (n, l) = (m.input_len(), m.latent_len());
            let (input, code) = (s.input.get(..n).ok_or(TOO_BIG)?, s.code.get_mut(..l).ok_or(TOO_BIG)?);
            m.encode(input, code, &mut s.scratch).map(|()| 0).map_err(error_code)
        });
        status(r)
    })
}

/// Decodes `code` into `image`.
#[unsafe(no_mangle)]
pub extern "C" fn decode() -> i32 {
    call(|s| {
        let r = model(&s.model, s.model_len).and_then(|m| {
            let (n, l) = (m.input_len(), m.latent_len());
            let (code, image) = (s.code.get(..l).ok_or(TOO_BIG)?, s.image.get_mut(..n).ok_or(TOO_BIG)?);
            m.decode(code, image, &mut s.scratch).map(|()| 0).map_err(error_code)
        });
        status(r)
    })
}

/// Classifies `input`; returns the class (writing `logits`) or a negative error code.
#[unsafe(no_mangle)]
pub extern "C" fn classify() -> i32 {
    call(|s| {
        let r = model(&s.model, s.model_len).and_then(|m| {
            let n = m.input_len();
            let c = m.classes().ok_or(error_code(Error::NoClassifier))?;
            let (input, logits) = (s.input.get(..n).ok_or(TOO_BIG)?, s.logits.get_mut(..c).ok_or(TOO_BIG)?);
            m.classify(input, logits, &mut s.scratch).map(|k| k as i32).map_err(error_code)
        });
        status(r)
    })
}

/// Draws a code with `Rng::new(seed_hi << 32 | seed_lo)` and decodes it (`code` and `image`).
#[unsafe(no_mangle)]
pub extern "C" fn sample(seed_lo: u32, seed_hi: u32) -> i32 {
    call(|s| {
        let r = model(&s.model, s.model_len).and_then(|m| {
            let (n, l) = (m.input_len(), m.latent_len());
            let (code, image) = (s.code.get_mut(..l).ok_or(TOO_BIG)?, s.image.get_mut(..n).ok_or(TOO_BIG)?);
            let mut rng = Rng::new(u64::from(seed_hi) << 32 | u64::from(seed_lo));
            m.sample(&mut rng, code, image, &mut s.scratch).map(|()| 0).map_err(error_code)
        });
        status(r)
    })
}

/// Starts a new check digest; 0, or a negative error code.
#[unsafe(no_mangle)]
pub extern "C" fn check_reset() -> i32 {
    call(|s| {
        s.digest = 0;
        0
    })
}

fn with_buffers<R>(
    s: &mut State,
    f: impl FnOnce(&Model<'_>, &[f32], &[f32], &mut Buffers<'_>, &mut Crc32) -> Result<R, Error>,
) -> Result<R, i32> {
    let m = model(&s.model, s.model_len)?;
    let (n, l, c) = (m.input_len(), m.latent_len(), m.classes().unwrap_or(0));
    let mut b = Buffers {
        code: s.code.get_mut(..l).ok_or(TOO_BIG)?,
        image: s.image.get_mut(..n).ok_or(TOO_BIG)?,
        roundtrip: s.roundtrip.get_mut(..n).ok_or(TOO_BIG)?,
        logits: s.logits.get_mut(..c).ok_or(TOO_BIG)?,
        scratch: &mut s.scratch,
    };
    let input = s.input.get(..n).ok_or(TOO_BIG)?;
    let float_code = s.float_code.get(..l).ok_or(TOO_BIG)?;
    let mut crc = Crc32::resume(s.digest);
    let r = f(&m, input, float_code, &mut b, &mut crc).map_err(error_code);
    s.digest = crc.finish();
    r
}

/// Runs the standard check on `input` and `float_code`, folding outputs into the digest.
/// Returns the class (or 0 without a classifier), or a negative error code.
#[unsafe(no_mangle)]
pub extern "C" fn check_vector() -> i32 {
    call(|s| status(with_buffers(s, |m, x, z, b, crc| check::vector(m, x, z, b, crc).map(|c| c.unwrap_or(0) as i32))))
}

/// Folds the standard samples into the digest; 0 or a negative error code.
#[unsafe(no_mangle)]
pub extern "C" fn check_samples() -> i32 {
    call(|s| {
        status(with_buffers(s, |m, _, _, b, crc| {
            check::samples(m, check::SAMPLE_SEED, check::SAMPLE_COUNT, b, crc).map(|()| 0)
        }))
    })
}

/// The digest so far (0 when called from inside another export).
#[unsafe(no_mangle)]
pub extern "C" fn check_digest() -> u32 {
    with(|s| s.digest).unwrap_or(0)
}

#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // The runtime never panics on any input; should it ever, trap rather than continue.
    core::arch::wasm32::unreachable()
}
