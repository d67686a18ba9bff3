//! The int8 runtime for C: `libbottleneck_c.a` / `libbottleneck_c.so` and `include/bottleneck.h`.
//!
//! A thin layer over `bottleneck-runtime`: no allocation, no global state, every call returns a
//! [`BnStatus`]. The caller owns all memory: the model file's bytes (which must outlive the
//! parsed [`BnModel`]: on a microcontroller they sit in flash), the parsed model (a fixed-size
//! struct the caller places anywhere), the inputs, the outputs and one scratch buffer of
//! `bn_model_scratch_len` bytes. The outputs are the Rust runtime's to the bit.
//!
//! Every function takes raw pointers, so every one is `unsafe` to call from Rust; the contract,
//! the same for all, is written once here: each pointer is either null (refused with
//! `BN_STATUS_NULL_POINTER`, or allowed where its length is 0) or valid for its length in
//! elements, suitably aligned, and no output buffer overlaps another buffer of the same call.
#![cfg_attr(target_os = "none", no_std)]
// Raw pointers from C are the point of this crate: each conversion goes through `slice` or
// `slice_mut` below, which check for null, or through `model_ref`, which checks the tag.
#![allow(unsafe_code)]

use core::ffi::c_char;

use bottleneck_runtime::{Entry, Error, Model, Rng};

/// What a call did: `BN_STATUS_OK`, or why it refused.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BnStatus {
    /// Success.
    Ok = 0,
    /// A pointer that must not be null was null.
    NullPointer,
    /// The `BnModel` was not filled by a successful `bn_model_parse`.
    NotParsed,
    /// The file is shorter than its header.
    TooShort,
    /// Not a Bottleneck int8 file.
    BadMagic,
    /// A format version this library does not read.
    UnsupportedVersion,
    /// Truncated or padded file.
    LengthMismatch,
    /// Corrupt file.
    BadChecksum,
    /// A header field is out of range.
    BadHeader,
    /// A layer kind this library does not know.
    UnknownLayer,
    /// A layer's sizes do not add up.
    BadShape,
    /// A layer's tables lie outside the file.
    OutOfBounds,
    /// Invalid quantization parameters.
    BadQuantization,
    /// A section is missing or does not chain.
    BadSection,
    /// The model has no classifier.
    NoClassifier,
    /// The classifier reads the image, not the code: use `bn_classify_bytes`.
    ClassifierReadsImage,
    /// An input buffer has the wrong length.
    InputLength,
    /// An output buffer has the wrong length.
    OutputLength,
    /// The scratch buffer is smaller than `bn_model_scratch_len`.
    ScratchTooSmall,
    /// A layer record has unknown flags or reserved bytes that are not 0.
    BadRecord,
    /// The metadata section (model name, class names, input range) is malformed.
    BadMetadata,
    /// The model is a classifier only: no encode, decode or sample.
    NoAutoencoder,
    /// A runtime error this version of the header does not name.
    Unknown,
}

impl From<Error> for BnStatus {
    fn from(e: Error) -> Self {
        match e {
            Error::TooShort { .. } => Self::TooShort,
            Error::BadMagic => Self::BadMagic,
            Error::UnsupportedVersion { .. } => Self::UnsupportedVersion,
            Error::LengthMismatch { .. } => Self::LengthMismatch,
            Error::BadChecksum { .. } => Self::BadChecksum,
            Error::BadHeader { .. } => Self::BadHeader,
            Error::UnknownLayer { .. } => Self::UnknownLayer,
            Error::BadShape { .. } => Self::BadShape,
            Error::OutOfBounds { .. } => Self::OutOfBounds,
            Error::BadQuantization { .. } => Self::BadQuantization,
            Error::BadSection { .. } => Self::BadSection,
            Error::NoClassifier => Self::NoClassifier,
            Error::ClassifierReadsImage => Self::ClassifierReadsImage,
            Error::InputLength { .. } => Self::InputLength,
            Error::OutputLength { .. } => Self::OutputLength,
            Error::ScratchTooSmall { .. } => Self::ScratchTooSmall,
            Error::BadRecord { .. } => Self::BadRecord,
            Error::BadMetadata { .. } => Self::BadMetadata,
            Error::NoAutoencoder => Self::NoAutoencoder,
            _ => Self::Unknown,
        }
    }
}

/// The operations whose scratch size `bn_model_scratch_len` reports.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BnEntry {
    /// `bn_encode`, `bn_encode_bytes`.
    Encode = 0,
    /// `bn_decode`.
    Decode = 1,
    /// `bn_classify`, `bn_classify_bytes`, `bn_classify_code`.
    Classify = 2,
    /// `bn_sample`.
    Sample = 3,
}

/// 64-bit words of a parsed model.
pub const BN_MODEL_WORDS: usize = 24;

/// A parsed model: fill it with `bn_model_parse`, then pass it to the other calls. Its contents
/// are private; it refers to the file's bytes, which must stay in place while it is used.
#[repr(C)]
#[derive(Debug)]
pub struct BnModel {
    opaque: [u64; BN_MODEL_WORDS],
}

/// A random number generator for `bn_sample`, seeded by `bn_rng_init` (PCG32, the runtime's).
#[repr(C)]
#[derive(Debug)]
pub struct BnRng {
    opaque: [u64; 2],
}

/// The first word of a parsed `BnModel`: "BNMODEL1".
const TAG: u64 = u64::from_le_bytes(*b"BNMODEL1");

// The runtime's types fit the storage C reserves for them, on every target.
const _: () = assert!(size_of::<Model<'static>>() <= 8 * (BN_MODEL_WORDS - 1));
const _: () = assert!(align_of::<Model<'static>>() <= 8);
const _: () = assert!(size_of::<Rng>() <= 16 && align_of::<Rng>() <= 8);

/// `p[..len]`, with a null pointer allowed for an empty slice.
///
/// # Safety
/// The crate's contract: `p` is null or valid for `len` reads of `T`.
unsafe fn slice<'a, T>(p: *const T, len: usize) -> Result<&'a [T], BnStatus> {
    match (p.is_null(), len) {
        (true, 0) => Ok(&[]),
        (true, _) => Err(BnStatus::NullPointer),
        // SAFETY: non-null and, by the contract, valid for `len` elements.
        (false, _) => Ok(unsafe { core::slice::from_raw_parts(p, len) }),
    }
}

/// `p[..len]` for writing, with a null pointer allowed for an empty slice.
///
/// # Safety
/// The crate's contract: `p` is null or valid for `len` writes of `T`, overlapping no other
/// buffer of the call.
unsafe fn slice_mut<'a, T>(p: *mut T, len: usize) -> Result<&'a mut [T], BnStatus> {
    match (p.is_null(), len) {
        (true, 0) => Ok(&mut []),
        (true, _) => Err(BnStatus::NullPointer),
        // SAFETY: non-null and, by the contract, valid and unaliased for `len` elements.
        (false, _) => Ok(unsafe { core::slice::from_raw_parts_mut(p, len) }),
    }
}

/// The runtime's model inside a `BnModel` that `bn_model_parse` filled.
///
/// # Safety
/// The crate's contract: `m` is null or points to a `BnModel`; a tagged one was written by
/// `bn_model_parse`, whose file bytes are still in place.
unsafe fn model_ref<'a>(m: *const BnModel) -> Result<&'a Model<'a>, BnStatus> {
    if m.is_null() {
        return Err(BnStatus::NullPointer);
    }
    // SAFETY: non-null and pointing to a BnModel (contract); its first word is plain data.
    let words = unsafe { &(*m).opaque };
    if words[0] != TAG {
        return Err(BnStatus::NotParsed);
    }
    // SAFETY: the tag is written only after a `Model` was written at word 1 (bn_model_parse),
    // which the assertions above show fits, aligned to 8.
    Ok(unsafe { &*words.as_ptr().add(1).cast::<Model<'a>>() })
}

/// `Ok` or the error's status.
fn status(r: Result<(), BnStatus>) -> BnStatus {
    r.err().unwrap_or(BnStatus::Ok)
}

/// Writes `class` to `out` when `out` is not null.
///
/// # Safety
/// The crate's contract: `out` is null or valid for one write.
unsafe fn put_class(out: *mut usize, class: usize) {
    if !out.is_null() {
        // SAFETY: non-null and valid for one write (contract).
        unsafe { out.write(class) };
    }
}

/// Parses and checks the model file `bytes[0..len]` (every check of the Rust runtime) into
/// `*model`. The bytes must stay in place, unchanged, while the model is used.
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_model_parse(bytes: *const u8, len: usize, model: *mut BnModel) -> BnStatus {
    if model.is_null() {
        return BnStatus::NullPointer;
    }
    // SAFETY: contract.
    let bytes: &'static [u8] = match unsafe { slice(bytes, len) } {
        Ok(b) => b,
        Err(e) => return e,
    };
    // SAFETY: `model` is non-null and valid for writing a BnModel (contract).
    let words = unsafe { &mut (*model).opaque };
    words[0] = 0;
    match Model::parse(bytes) {
        Ok(parsed) => {
            // SAFETY: word 1 on is large and aligned enough for a Model (assertions above);
            // writing does not read the old contents.
            unsafe { words.as_mut_ptr().add(1).cast::<Model<'static>>().write(parsed) };
            words[0] = TAG;
            BnStatus::Ok
        }
        Err(e) => e.into(),
    }
}

/// Values per input image (`c x h x w`); 0 for a model that was not parsed.
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_model_input_len(model: *const BnModel) -> usize {
    // SAFETY: contract.
    unsafe { model_ref(model) }.map_or(0, Model::input_len)
}

/// The input image's shape: channels (1 grey, 3 RGB), rows and columns, written to `channels`,
/// `height` and `width`; images are `[c][h][w]`.
///
/// # Safety
/// See the crate's contract; the three pointers are writable `size_t`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_model_input_shape(
    model: *const BnModel,
    channels: *mut usize,
    height: *mut usize,
    width: *mut usize,
) -> BnStatus {
    if channels.is_null() || height.is_null() || width.is_null() {
        return BnStatus::NullPointer;
    }
    // SAFETY: contract.
    match unsafe { model_ref(model) } {
        Ok(m) => {
            let s = m.input_shape();
            // SAFETY: non-null and writable (contract).
            unsafe {
                channels.write(usize::from(s.c));
                height.write(usize::from(s.h));
                width.write(usize::from(s.w));
            }
            BnStatus::Ok
        }
        Err(e) => e,
    }
}

/// Code (latent) size; 0 for a model that was not parsed.
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_model_latent_len(model: *const BnModel) -> usize {
    // SAFETY: contract.
    unsafe { model_ref(model) }.map_or(0, Model::latent_len)
}

/// Number of classes; 0 without a classifier.
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_model_classes(model: *const BnModel) -> usize {
    // SAFETY: contract.
    unsafe { model_ref(model) }.ok().and_then(Model::classes).unwrap_or(0)
}

/// Whether the model reads its inputs in [-1, 1] (pixel `p` as `p / 127.5 - 1`) rather than
/// [0, 1] (`p / 255`); false for a model that was not parsed.
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_model_input_symmetric(model: *const BnModel) -> bool {
    // SAFETY: contract.
    unsafe { model_ref(model) }.is_ok_and(Model::input_symmetric)
}

/// Points `text` at the model's name and sets `len` to its length in bytes (UTF-8, not
/// NUL-terminated; the bytes are the model file's). `BN_STATUS_OK` with `len` 0 when the file
/// stores no name.
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_model_name(model: *const BnModel, text: *mut *const u8, len: *mut usize) -> BnStatus {
    // SAFETY: contract.
    status((|| unsafe { put_text(text, len, model_ref(model)?.name()) })())
}

/// Points `text` at the name of class `index` and sets `len` to its length in bytes (UTF-8, not
/// NUL-terminated; the bytes are the model file's). `BN_STATUS_OK` with `len` 0 when the file
/// stores no class names or `index` is not below `bn_model_classes`.
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_model_class_name(
    model: *const BnModel,
    index: usize,
    text: *mut *const u8,
    len: *mut usize,
) -> BnStatus {
    // SAFETY: contract.
    status((|| unsafe { put_text(text, len, model_ref(model)?.class_name(index)) })())
}

/// Writes a string's address and length (null and 0 for none).
///
/// # Safety
/// `text` and `len` null or valid for one write each.
unsafe fn put_text(text: *mut *const u8, len: *mut usize, value: Option<&str>) -> Result<(), BnStatus> {
    if text.is_null() || len.is_null() {
        return Err(BnStatus::NullPointer);
    }
    let (p, n) = value.map_or((core::ptr::null(), 0), |s| (s.as_ptr(), s.len()));
    // SAFETY: both checked non-null above; the caller's contract makes them valid for one write.
    unsafe {
        text.write(p);
        len.write(n);
    }
    Ok(())
}

/// Scratch bytes `entry` needs; 0 for a model that was not parsed.
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_model_scratch_len(model: *const BnModel, entry: BnEntry) -> usize {
    let entry = match entry {
        BnEntry::Encode => Entry::Encode,
        BnEntry::Decode => Entry::Decode,
        BnEntry::Classify => Entry::Classify,
        BnEntry::Sample => Entry::Sample,
    };
    // SAFETY: contract.
    unsafe { model_ref(model) }.map_or(0, |m| m.scratch_len(entry))
}

/// The real value of one step of the codes of `bn_encode_bytes`; 0 for a model not parsed.
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_model_code_scale(model: *const BnModel) -> f32 {
    // SAFETY: contract.
    unsafe { model_ref(model) }.map_or(0.0, Model::code_scale)
}

/// The real value of one step of the logits of `bn_classify_bytes`; 0 without a classifier.
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_model_logit_scale(model: *const BnModel) -> f32 {
    // SAFETY: contract.
    unsafe { model_ref(model) }.ok().and_then(|m| m.logit_scale().ok()).unwrap_or(0.0)
}

/// Encodes `image` (`[c][h][w]` values in [0, 1], or [-1, 1] for models trained so) into `code`.
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_encode(
    model: *const BnModel,
    image: *const f32,
    image_len: usize,
    code: *mut f32,
    code_len: usize,
    scratch: *mut u8,
    scratch_len: usize,
) -> BnStatus {
    // SAFETY: contract, for each pointer.
    status((|| unsafe {
        let m = model_ref(model)?;
        m.encode(slice(image, image_len)?, slice_mut(code, code_len)?, slice_mut(scratch, scratch_len)?)
            .map_err(BnStatus::from)
    })())
}

/// Decodes `code` into `image` (`[c][h][w]` values).
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_decode(
    model: *const BnModel,
    code: *const f32,
    code_len: usize,
    image: *mut f32,
    image_len: usize,
    scratch: *mut u8,
    scratch_len: usize,
) -> BnStatus {
    // SAFETY: contract, for each pointer.
    status((|| unsafe {
        let m = model_ref(model)?;
        m.decode(slice(code, code_len)?, slice_mut(image, image_len)?, slice_mut(scratch, scratch_len)?)
            .map_err(BnStatus::from)
    })())
}

/// Classifies `image`: writes the logits and, when `class_out` is not null, the most likely
/// class (the first one on ties).
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_classify(
    model: *const BnModel,
    image: *const f32,
    image_len: usize,
    logits: *mut f32,
    classes: usize,
    scratch: *mut u8,
    scratch_len: usize,
    class_out: *mut usize,
) -> BnStatus {
    // SAFETY: contract, for each pointer.
    status((|| unsafe {
        let m = model_ref(model)?;
        let class =
            m.classify(slice(image, image_len)?, slice_mut(logits, classes)?, slice_mut(scratch, scratch_len)?)?;
        put_class(class_out, class);
        Ok(())
    })())
}

/// Seeds `rng` (the same stream as the Rust runtime's `Rng::new(seed)`).
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_rng_init(rng: *mut BnRng, seed: u64) -> BnStatus {
    if rng.is_null() {
        return BnStatus::NullPointer;
    }
    // SAFETY: non-null and valid for writing a BnRng (contract); an Rng fits (assertion above).
    unsafe { (*rng).opaque.as_mut_ptr().cast::<Rng>().write(Rng::new(seed)) };
    BnStatus::Ok
}

/// Draws a code with `rng` and decodes it: writes `code` and `image`.
///
/// # Safety
/// See the crate's contract; `rng` was seeded by `bn_rng_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_sample(
    model: *const BnModel,
    rng: *mut BnRng,
    code: *mut f32,
    code_len: usize,
    image: *mut f32,
    image_len: usize,
    scratch: *mut u8,
    scratch_len: usize,
) -> BnStatus {
    if rng.is_null() {
        return BnStatus::NullPointer;
    }
    // SAFETY: contract, for each pointer; `rng` holds an Rng written by bn_rng_init.
    status((|| unsafe {
        let m = model_ref(model)?;
        let rng = &mut *(*rng).opaque.as_mut_ptr().cast::<Rng>();
        m.sample(rng, slice_mut(code, code_len)?, slice_mut(image, image_len)?, slice_mut(scratch, scratch_len)?)
            .map_err(BnStatus::from)
    })())
}

/// Encodes an image of 8-bit pixels (`[c][h][w]`, a sensor's bytes) into the code's bytes; the
/// code is `byte x bn_model_code_scale`. The same result as `bn_encode` of the pixels' values.
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_encode_bytes(
    model: *const BnModel,
    image: *const u8,
    image_len: usize,
    code: *mut i8,
    code_len: usize,
    scratch: *mut u8,
    scratch_len: usize,
) -> BnStatus {
    // SAFETY: contract, for each pointer.
    status((|| unsafe {
        let m = model_ref(model)?;
        m.encode_bytes(slice(image, image_len)?, slice_mut(code, code_len)?, slice_mut(scratch, scratch_len)?)
            .map_err(BnStatus::from)
    })())
}

/// Classifies an image of 8-bit pixels; writes integer logits (logit `j` is
/// `logits[j] x bn_model_logit_scale`) and, when `class_out` is not null, the class.
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_classify_bytes(
    model: *const BnModel,
    image: *const u8,
    image_len: usize,
    logits: *mut i32,
    classes: usize,
    scratch: *mut u8,
    scratch_len: usize,
    class_out: *mut usize,
) -> BnStatus {
    // SAFETY: contract, for each pointer.
    status((|| unsafe {
        let m = model_ref(model)?;
        let class =
            m.classify_bytes(slice(image, image_len)?, slice_mut(logits, classes)?, slice_mut(scratch, scratch_len)?)?;
        put_class(class_out, class);
        Ok(())
    })())
}

/// Classifies from a code's bytes (from `bn_encode_bytes`) without running the encoder again,
/// for models whose classifier starts from the code; integer logits as `bn_classify_bytes`.
///
/// # Safety
/// See the crate's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bn_classify_code(
    model: *const BnModel,
    code: *const i8,
    code_len: usize,
    logits: *mut i32,
    classes: usize,
    scratch: *mut u8,
    scratch_len: usize,
    class_out: *mut usize,
) -> BnStatus {
    // SAFETY: contract, for each pointer.
    status((|| unsafe {
        let m = model_ref(model)?;
        let class =
            m.classify_code(slice(code, code_len)?, slice_mut(logits, classes)?, slice_mut(scratch, scratch_len)?)?;
        put_class(class_out, class);
        Ok(())
    })())
}

/// A NUL-terminated English sentence for `status`, for logs.
#[unsafe(no_mangle)]
pub extern "C" fn bn_status_message(status: BnStatus) -> *const c_char {
    let text: &'static core::ffi::CStr = match status {
        BnStatus::Ok => c"ok",
        BnStatus::NullPointer => c"a required pointer is null",
        BnStatus::NotParsed => c"the model was not filled by a successful bn_model_parse",
        BnStatus::TooShort => c"the file is too short for a model file",
        BnStatus::BadMagic => c"not a Bottleneck int8 model (bad magic; expected BTNQ)",
        BnStatus::UnsupportedVersion => {
            c"a format version this library does not read: export the run again (bottleneck export RUN_DIR)"
        }
        BnStatus::LengthMismatch => c"the file's length is not the one its header gives (truncated or padded)",
        BnStatus::BadChecksum => c"checksum mismatch (corrupt file)",
        BnStatus::BadHeader => c"a header field is out of range",
        BnStatus::UnknownLayer => c"a layer kind this library does not know",
        BnStatus::BadShape => c"a layer's sizes do not add up",
        BnStatus::OutOfBounds => c"a layer's tables lie outside the file",
        BnStatus::BadQuantization => c"a layer's quantization parameters are invalid",
        BnStatus::BadSection => c"a section is missing or does not chain to its neighbours",
        BnStatus::NoClassifier => c"this model has no classifier",
        BnStatus::ClassifierReadsImage => c"this model's classifier reads the image: classify the image instead",
        BnStatus::InputLength => c"an input buffer has the wrong length",
        BnStatus::OutputLength => c"an output buffer has the wrong length",
        BnStatus::ScratchTooSmall => c"the scratch buffer is smaller than bn_model_scratch_len",
        BnStatus::BadRecord => c"a layer record has unknown flags or a reserved byte that is not 0",
        BnStatus::BadMetadata => c"the metadata section is malformed",
        BnStatus::NoAutoencoder => c"this model is a classifier only: it cannot encode, decode or sample",
        BnStatus::Unknown => c"an error this version of the library does not name",
    };
    text.as_ptr()
}

/// Microcontrollers: the runtime has no panicking paths in its calls, and C cannot unwind; should
/// one happen anyway, the core stops here (a debugger shows it).
#[cfg(all(target_os = "none", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
