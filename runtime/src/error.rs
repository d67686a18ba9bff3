//! The runtime's one error type: small, `Copy`, no strings, nothing allocated.

use core::fmt;

/// Why a model file was refused, or why a call could not run.
///
/// Parsing errors carry the byte offset or layer index at fault so that a tool can point at it;
/// call errors carry the sizes involved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Fewer bytes than the fixed header.
    TooShort {
        /// Bytes given.
        len: usize,
    },
    /// The first four bytes are not `BTNQ`.
    BadMagic,
    /// A format version this runtime does not read.
    UnsupportedVersion {
        /// Version found in the file.
        found: u16,
    },
    /// The header's length field disagrees with the bytes given (truncated or padded file).
    LengthMismatch {
        /// Length the header promises.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// The CRC-32 of the file does not match the header.
    BadChecksum {
        /// Checksum stored in the header.
        expected: u32,
        /// Checksum of the bytes.
        found: u32,
    },
    /// A header field is out of range (zero-sized input, too many layers, a bad scale...).
    BadHeader {
        /// Byte offset of the offending field.
        offset: usize,
    },
    /// A layer record has flag bits this runtime does not know, or a reserved byte that is not 0.
    BadRecord {
        /// Layer index.
        layer: u16,
        /// Byte offset inside the 48-byte record.
        offset: usize,
    },
    /// The metadata section is malformed: an entry past its end, text that is not UTF-8, a
    /// class count that disagrees with the header, an unknown required tag.
    BadMetadata {
        /// Byte offset (from the start of the file) of the offending entry.
        offset: usize,
    },
    /// A layer kind this runtime does not know.
    UnknownLayer {
        /// Layer index.
        layer: u16,
        /// Kind byte found.
        kind: u8,
    },
    /// A layer's sizes do not add up (input/output shapes, kernel, stride, padding, channels).
    BadShape {
        /// Layer index.
        layer: u16,
    },
    /// A layer's tables (weights, biases, requantization, lookup table) fall outside the file.
    OutOfBounds {
        /// Layer index.
        layer: u16,
    },
    /// A layer's quantization parameters are invalid (scale not finite and positive, shift out of
    /// range, negative multiplier, accumulator that could overflow).
    BadQuantization {
        /// Layer index.
        layer: u16,
    },
    /// A section (encoder, decoder, classifier) is missing, empty, or chains wrongly to its
    /// neighbours.
    BadSection {
        /// 0 encoder, 1 decoder, 2 classifier.
        section: u8,
    },
    /// The file has no classifier head; `classify` is unavailable.
    NoClassifier,
    /// The file holds a classifier only (no encoder or decoder): `encode`, `decode` and `sample`
    /// are unavailable.
    NoAutoencoder,
    /// The classifier reads the image, not the code: `classify_code` is unavailable (call
    /// `classify` or `classify_bytes` with the image).
    ClassifierReadsImage,
    /// An input slice has the wrong length.
    InputLength {
        /// Values expected.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// An output slice has the wrong length.
    OutputLength {
        /// Values expected.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// The scratch slice is smaller than [`crate::Model::scratch_len`] says.
    ScratchTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        found: usize,
    },
}

impl Error {
    /// The variant's name (`"BadShape"`, ...): for logs on targets that keep `core::fmt` out of
    /// flash (the firmware prints errors with it).
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "TooShort",
            Self::BadMagic => "BadMagic",
            Self::UnsupportedVersion { .. } => "UnsupportedVersion",
            Self::LengthMismatch { .. } => "LengthMismatch",
            Self::BadChecksum { .. } => "BadChecksum",
            Self::BadHeader { .. } => "BadHeader",
            Self::BadRecord { .. } => "BadRecord",
            Self::BadMetadata { .. } => "BadMetadata",
            Self::UnknownLayer { .. } => "UnknownLayer",
            Self::BadShape { .. } => "BadShape",
            Self::OutOfBounds { .. } => "OutOfBounds",
            Self::BadQuantization { .. } => "BadQuantization",
            Self::BadSection { .. } => "BadSection",
            Self::NoClassifier => "NoClassifier",
            Self::NoAutoencoder => "NoAutoencoder",
            Self::ClassifierReadsImage => "ClassifierReadsImage",
            Self::InputLength { .. } => "InputLength",
            Self::OutputLength { .. } => "OutputLength",
            Self::ScratchTooSmall { .. } => "ScratchTooSmall",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooShort { len } => write!(f, "{len} bytes is too short for a model file"),
            Self::BadMagic => f.write_str("not a Bottleneck int8 model (bad magic; expected BTNQ)"),
            Self::UnsupportedVersion { found } => {
                write!(
                    f,
                    "format version {found} is not supported (this runtime reads version {}); export the run \
                     again with this version: `bottleneck export RUN_DIR`",
                    crate::format::VERSION
                )
            }
            Self::LengthMismatch { expected, found } => {
                write!(f, "the header says {expected} bytes but {found} were given (truncated or padded file)")
            }
            Self::BadChecksum { expected, found } => {
                write!(f, "checksum mismatch: header {expected:#010x}, content {found:#010x} (corrupt file)")
            }
            Self::BadHeader { offset } => write!(f, "invalid header field at byte {offset}"),
            Self::BadRecord { layer, offset } => {
                write!(
                    f,
                    "layer {layer}: unknown flag bits or a reserved byte that is not 0 at byte {offset} of its record"
                )
            }
            Self::BadMetadata { offset } => write!(f, "invalid metadata entry at byte {offset}"),
            Self::UnknownLayer { layer, kind } => write!(f, "layer {layer}: unknown kind {kind}"),
            Self::BadShape { layer } => write!(f, "layer {layer}: sizes do not add up"),
            Self::OutOfBounds { layer } => write!(f, "layer {layer}: tables lie outside the file"),
            Self::BadQuantization { layer } => write!(f, "layer {layer}: invalid quantization parameters"),
            Self::BadSection { section } => {
                let name = ["encoder", "decoder", "classifier"].get(usize::from(section)).copied().unwrap_or("unknown");
                write!(f, "{name} section is missing or does not chain to its neighbours")
            }
            Self::NoClassifier => f.write_str("this model file has no classifier head"),
            Self::NoAutoencoder => {
                f.write_str("this model file holds a classifier only: it cannot encode, decode or sample")
            }
            Self::ClassifierReadsImage => {
                f.write_str("this model's classifier reads the image, not the code: classify the image instead")
            }
            Self::InputLength { expected, found } => write!(f, "input has {found} values, expected {expected}"),
            Self::OutputLength { expected, found } => {
                write!(f, "output has room for {found} values, expected {expected}")
            }
            Self::ScratchTooSmall { needed, found } => write!(f, "scratch is {found} bytes, {needed} needed"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
