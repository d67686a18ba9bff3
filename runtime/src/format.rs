//! Byte layout of the int8 model file (`.bnq`), version 2. The spec is `docs/runtime-format.md`.
//!
//! Both sides of the format live here: the runtime reads headers and layer records with
//! [`Header::read`] and [`LayerRecord::read`], and `bottleneck-export` writes them with the matching
//! `write` methods and lays weights out with [`packed_at`], so the two cannot drift apart. All
//! integers are little-endian. Tables sit at offsets aligned for the kernels that read them
//! ([`WEIGHT_ALIGN`], [`TABLE_ALIGN`]), so a file placed at a 16-byte-aligned address (in flash or
//! RAM) has aligned tables; the runtime itself reads a file of any alignment.

use crate::Error;

/// The first four bytes of every file.
pub const MAGIC: [u8; 4] = *b"BTNQ";
/// The format version this runtime reads and the exporter writes. Version 1 files (unaligned
/// tables, weights in plain rows) are refused with [`Error::UnsupportedVersion`], whose message
/// says to export the run again.
pub const VERSION: u16 = 2;
/// Bytes in the fixed header.
pub const HEADER_LEN: usize = 64;
/// Bytes in one layer record.
pub const LAYER_LEN: usize = 48;
/// Most layers a file may hold.
pub const MAX_LAYERS: usize = 256;
/// Largest channel count, height or width.
pub const MAX_DIM: usize = 4096;
/// Largest number of multiply-accumulate terms per output value. Any weight byte is accepted
/// (including -128), so with |weight| <= 128, |input| <= 255 and |bias| <= [`MAX_BIAS`] the i32
/// accumulator cannot overflow: 32,768 * 128 * 255 + 2^24 < 2^31.
pub const MAX_TERMS: usize = 1 << 15;
/// Largest magnitude of a quantized bias.
pub const MAX_BIAS: i32 = 1 << 24;
/// Bytes of requantization data per output channel: multiplier (i32) then shift (i32).
pub const REQUANT_LEN: usize = 8;
/// Bytes of a softmax layer's table: 256 u16 values, `exp(-d x in_scale)` in units of 1/65535
/// for each difference `d` (0..=255) between the largest input byte and another.
pub const SOFTMAX_TABLE_LEN: usize = 512;
/// The softmax table's first entry, `exp(0)`, and the largest any entry may hold.
pub const SOFTMAX_ONE: u16 = 65_535;
/// Alignment of every weight table's offset: a 4-channel group (`4 x` a multiple of 4 bytes)
/// then starts on a 16-byte boundary, a whole vector register or `LDM` of four words.
pub const WEIGHT_ALIGN: usize = 16;
/// Alignment of every other table's offset (biases, requantization, lookup tables, latent
/// statistics, metadata): their words can be loaded as words.
pub const TABLE_ALIGN: usize = 4;

/// Metadata entry tag: the model's name (UTF-8).
pub const META_NAME: u16 = 1;
/// Metadata entry tag: the class names (UTF-8), one per class, each ended by `\n`.
pub const META_CLASS_NAMES: u16 = 2;
/// Metadata entry tag: the real values of the darkest and brightest input (two f32).
pub const META_INPUT_RANGE: u16 = 3;
/// Metadata tag bit: a reader that does not know the tag skips the entry. Unknown tags without
/// it are refused, so a future entry that changes meaning cannot be ignored by mistake.
pub const META_OPTIONAL: u16 = 1 << 15;
/// Bytes before each metadata entry's value: tag (u16) then length (u16).
pub const META_ENTRY_HEADER: usize = 4;

/// Header flag: the model is a VAE; `sample` draws codes from N(0, I).
pub const FLAG_VAE: u16 = 1;
/// Header flag: the file holds a classifier section.
pub const FLAG_CLASSIFIER: u16 = 1 << 1;
/// Header flag: the classifier starts from the encoder's code (its encoder is the shared one).
pub const FLAG_CLASSIFIER_FROM_CODE: u16 = 1 << 2;
/// Header flag: per-dimension mean and standard deviation of the training codes are stored.
pub const FLAG_LATENT_STATS: u16 = 1 << 3;
const KNOWN_FLAGS: u16 = FLAG_VAE | FLAG_CLASSIFIER | FLAG_CLASSIFIER_FROM_CODE | FLAG_LATENT_STATS;
const KNOWN_LAYER_FLAGS: u8 = LAYER_RELU | LAYER_SIGNED | LAYER_KEEP;

/// Layer flag: ReLU fused into a convolution or linear layer (its output is unsigned).
pub const LAYER_RELU: u8 = 1;
/// Layer flag: the layer's output bytes are signed (`i8`); otherwise unsigned (`u8`).
pub const LAYER_SIGNED: u8 = 1 << 1;
/// Layer flag: the layer's output is kept (copied aside) for a later `add` layer of its section.
pub const LAYER_KEEP: u8 = 1 << 2;

/// What a layer computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum LayerKind {
    /// 2-D convolution, square kernel stride and padding.
    Conv2d = 1,
    /// 2-D transposed convolution.
    ConvTranspose2d = 2,
    /// Fully connected layer on a `(n, 1, 1)` vector.
    Linear = 3,
    /// Logistic sigmoid, by 256-entry lookup table.
    Sigmoid = 4,
    /// Hyperbolic tangent, by 256-entry lookup table.
    Tanh = 5,
    /// Change of shape with the same number of values (no data movement).
    Reshape = 6,
    /// Maximum over each `kh x kw` window, per channel (no padding).
    MaxPool2d = 7,
    /// Mean over each `kh x kw` window, per channel, rounded to the nearest byte (no padding).
    AvgPool2d = 8,
    /// 2-D convolution of each channel with its own `kh x kw` kernel (one output channel per input
    /// channel), weights `[ky][kx][c]`.
    DepthwiseConv2d = 9,
    /// Softmax over a vector, by a table of `exp`: bytes in, probabilities out (`q / 255`).
    Softmax = 10,
    /// Element-wise sum of the previous layer's output and a kept earlier output (a residual
    /// connection), rescaled to this layer's scale.
    Add = 11,
}

impl LayerKind {
    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            1 => Self::Conv2d,
            2 => Self::ConvTranspose2d,
            3 => Self::Linear,
            4 => Self::Sigmoid,
            5 => Self::Tanh,
            6 => Self::Reshape,
            7 => Self::MaxPool2d,
            8 => Self::AvgPool2d,
            9 => Self::DepthwiseConv2d,
            10 => Self::Softmax,
            11 => Self::Add,
            _ => return None,
        })
    }

    /// Whether the layer multiplies by weights (and so has weights, biases and requantization).
    #[must_use]
    pub fn has_weights(self) -> bool {
        matches!(self, Self::Conv2d | Self::ConvTranspose2d | Self::Linear | Self::DepthwiseConv2d)
    }

    /// Whether the layer pools windows of its input (max or average).
    #[must_use]
    pub fn is_pool(self) -> bool {
        matches!(self, Self::MaxPool2d | Self::AvgPool2d)
    }

    /// Whether the layer reads a table at its `lut` offset: 256 bytes for sigmoid and tanh,
    /// [`SOFTMAX_TABLE_LEN`] for softmax.
    #[must_use]
    pub fn has_lut(self) -> bool {
        matches!(self, Self::Sigmoid | Self::Tanh | Self::Softmax)
    }

    /// Bytes of the table at the layer's `lut` offset (0 without one).
    #[must_use]
    pub fn lut_len(self) -> usize {
        match self {
            Self::Sigmoid | Self::Tanh => 256,
            Self::Softmax => SOFTMAX_TABLE_LEN,
            _ => 0,
        }
    }

    /// The kind as `docs/runtime-format.md` names it (`conv2d`, `conv-transpose2d`, ...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Conv2d => "conv2d",
            Self::ConvTranspose2d => "conv-transpose2d",
            Self::Linear => "linear",
            Self::Sigmoid => "sigmoid",
            Self::Tanh => "tanh",
            Self::Reshape => "reshape",
            Self::MaxPool2d => "max-pool2d",
            Self::AvgPool2d => "avg-pool2d",
            Self::DepthwiseConv2d => "depthwise-conv2d",
            Self::Softmax => "softmax",
            Self::Add => "add",
        }
    }
}

/// A tensor shape: channels, height, width. Vectors are `(n, 1, 1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    /// Channels.
    pub c: u16,
    /// Rows.
    pub h: u16,
    /// Columns.
    pub w: u16,
}

impl Shape {
    /// Number of values.
    #[must_use]
    pub fn len(self) -> usize {
        usize::from(self.c) * usize::from(self.h) * usize::from(self.w)
    }

    /// Whether the shape holds no value.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// A vector of `n` values.
    #[must_use]
    pub fn vector(n: u16) -> Self {
        Self { c: n, h: 1, w: 1 }
    }
}

/// A contiguous run of layers in the layer table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Index of the first layer.
    pub first: u16,
    /// Number of layers.
    pub count: u16,
}

/// The fixed 64-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Header {
    /// Total file length in bytes.
    pub file_len: u32,
    /// CRC-32 (IEEE) of bytes `16..file_len`.
    pub crc32: u32,
    /// `FLAG_*` bits.
    pub flags: u16,
    /// Number of layer records.
    pub layer_count: u16,
    /// Input image shape (channels, height, width).
    pub input: Shape,
    /// Whether quantized inputs are signed (images in [-1, 1]) or unsigned (images in [0, 1]).
    pub input_signed: bool,
    /// Real value of one input step.
    pub input_scale: f32,
    /// Code (latent) size.
    pub latent: u16,
    /// Classes of the classifier (0 without one).
    pub classes: u16,
    /// Real value of one code step (codes are signed).
    pub code_scale: f32,
    /// Encoder layers: input image to code.
    pub encoder: Span,
    /// Decoder layers: code to image.
    pub decoder: Span,
    /// Classifier layers: image (or code, with `FLAG_CLASSIFIER_FROM_CODE`) to logits.
    pub classifier: Span,
    /// Offset of the latent statistics (`latent` f32 means then `latent` f32 standard deviations),
    /// 0 when absent.
    pub latent_stats: u32,
    /// Offset of the first layer record.
    pub layer_table: u32,
    /// Offset of the metadata section (model name, class names, input range), 0 when absent.
    pub metadata: u32,
}

/// Byte offsets of the header fields, for errors and for the spec.
pub mod at {
    #![allow(missing_docs)]
    pub const MAGIC: usize = 0;
    pub const VERSION: usize = 4;
    pub const HEADER_LEN: usize = 6;
    pub const FILE_LEN: usize = 8;
    pub const CRC32: usize = 12;
    pub const FLAGS: usize = 16;
    pub const LAYER_COUNT: usize = 18;
    pub const INPUT_C: usize = 20;
    pub const INPUT_H: usize = 22;
    pub const INPUT_W: usize = 24;
    pub const INPUT_SIGNED: usize = 26;
    pub const RESERVED_27: usize = 27;
    pub const INPUT_SCALE: usize = 28;
    pub const LATENT: usize = 32;
    pub const CLASSES: usize = 34;
    pub const CODE_SCALE: usize = 36;
    pub const ENCODER: usize = 40;
    pub const DECODER: usize = 44;
    pub const CLASSIFIER: usize = 48;
    pub const LATENT_STATS: usize = 52;
    pub const LAYER_TABLE: usize = 56;
    pub const METADATA: usize = 60;
}

/// Little-endian field access that never panics: out-of-range reads are `None`.
pub(crate) fn read_u8(b: &[u8], at: usize) -> Option<u8> {
    b.get(at).copied()
}

pub(crate) fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(s.try_into().ok()?))
}

pub(crate) fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(s.try_into().ok()?))
}

pub(crate) fn read_i32(b: &[u8], at: usize) -> Option<i32> {
    read_u32(b, at).map(|v| v as i32)
}

pub(crate) fn read_f32(b: &[u8], at: usize) -> Option<f32> {
    read_u32(b, at).map(f32::from_bits)
}

fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = out.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

impl Header {
    /// Reads the header fields (magic, version and header length checked; everything else is
    /// checked by [`crate::Model::parse`]).
    ///
    /// # Errors
    /// [`Error::TooShort`], [`Error::BadMagic`], [`Error::UnsupportedVersion`], [`Error::BadHeader`].
    pub fn read(b: &[u8]) -> Result<Self, Error> {
        if b.len() < HEADER_LEN {
            return Err(Error::TooShort { len: b.len() });
        }
        if b.get(..4) != Some(&MAGIC[..]) {
            return Err(Error::BadMagic);
        }
        let bad = |offset| Error::BadHeader { offset };
        let version = read_u16(b, at::VERSION).ok_or(bad(at::VERSION))?;
        if version != VERSION {
            return Err(Error::UnsupportedVersion { found: version });
        }
        if read_u16(b, at::HEADER_LEN).map(usize::from) != Some(HEADER_LEN) {
            return Err(bad(at::HEADER_LEN));
        }
        let u16_at = |o| read_u16(b, o).ok_or(bad(o));
        let u32_at = |o| read_u32(b, o).ok_or(bad(o));
        let f32_at = |o| read_f32(b, o).ok_or(bad(o));
        let span_at = |o| -> Result<Span, Error> { Ok(Span { first: u16_at(o)?, count: u16_at(o + 2)? }) };
        let flags = u16_at(at::FLAGS)?;
        if flags & !KNOWN_FLAGS != 0 {
            return Err(bad(at::FLAGS));
        }
        let input_signed = match read_u8(b, at::INPUT_SIGNED) {
            Some(0) => false,
            Some(1) => true,
            _ => return Err(bad(at::INPUT_SIGNED)),
        };
        if read_u8(b, at::RESERVED_27) != Some(0) {
            return Err(bad(at::RESERVED_27));
        }
        Ok(Self {
            file_len: u32_at(at::FILE_LEN)?,
            crc32: u32_at(at::CRC32)?,
            flags,
            layer_count: u16_at(at::LAYER_COUNT)?,
            input: Shape { c: u16_at(at::INPUT_C)?, h: u16_at(at::INPUT_H)?, w: u16_at(at::INPUT_W)? },
            input_signed,
            input_scale: f32_at(at::INPUT_SCALE)?,
            latent: u16_at(at::LATENT)?,
            classes: u16_at(at::CLASSES)?,
            code_scale: f32_at(at::CODE_SCALE)?,
            encoder: span_at(at::ENCODER)?,
            decoder: span_at(at::DECODER)?,
            classifier: span_at(at::CLASSIFIER)?,
            latent_stats: u32_at(at::LATENT_STATS)?,
            layer_table: u32_at(at::LAYER_TABLE)?,
            metadata: u32_at(at::METADATA)?,
        })
    }

    /// Writes the header into the first [`HEADER_LEN`] bytes of `out` (magic, version and header
    /// length included). The checksum field is written as stored in `self`.
    pub fn write(&self, out: &mut [u8; HEADER_LEN]) {
        out.fill(0);
        put(out, at::MAGIC, &MAGIC);
        put(out, at::VERSION, &VERSION.to_le_bytes());
        put(out, at::HEADER_LEN, &(HEADER_LEN as u16).to_le_bytes());
        put(out, at::FILE_LEN, &self.file_len.to_le_bytes());
        put(out, at::CRC32, &self.crc32.to_le_bytes());
        put(out, at::FLAGS, &self.flags.to_le_bytes());
        put(out, at::LAYER_COUNT, &self.layer_count.to_le_bytes());
        put(out, at::INPUT_C, &self.input.c.to_le_bytes());
        put(out, at::INPUT_H, &self.input.h.to_le_bytes());
        put(out, at::INPUT_W, &self.input.w.to_le_bytes());
        put(out, at::INPUT_SIGNED, &[u8::from(self.input_signed)]);
        put(out, at::INPUT_SCALE, &self.input_scale.to_le_bytes());
        put(out, at::LATENT, &self.latent.to_le_bytes());
        put(out, at::CLASSES, &self.classes.to_le_bytes());
        put(out, at::CODE_SCALE, &self.code_scale.to_le_bytes());
        for (o, s) in [(at::ENCODER, self.encoder), (at::DECODER, self.decoder), (at::CLASSIFIER, self.classifier)] {
            put(out, o, &s.first.to_le_bytes());
            put(out, o + 2, &s.count.to_le_bytes());
        }
        put(out, at::LATENT_STATS, &self.latent_stats.to_le_bytes());
        put(out, at::LAYER_TABLE, &self.layer_table.to_le_bytes());
        put(out, at::METADATA, &self.metadata.to_le_bytes());
    }
}

/// One 48-byte layer record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerRecord {
    /// What the layer computes.
    pub kind: LayerKind,
    /// `LAYER_*` bits.
    pub flags: u8,
    /// Kernel rows and columns (convolutions; 1 otherwise).
    pub kernel: (u8, u8),
    /// Stride (convolutions; 1 otherwise).
    pub stride: u8,
    /// Zero padding on every side (convolutions).
    pub padding: u8,
    /// Extra rows and columns at the bottom/right of a transposed convolution's output.
    pub output_padding: u8,
    /// Input shape.
    pub input: Shape,
    /// Output shape.
    pub output: Shape,
    /// Real value of one output step.
    pub out_scale: f32,
    /// Offset of the i8 weights: blocks of rows, one row per output channel, rows padded to whole
    /// words and interleaved four channels at a time ([`packed_at`]).
    pub weights: u32,
    /// Offset of the i32 biases, one per output channel.
    pub bias: u32,
    /// Offset of the requantization table, [`REQUANT_LEN`] bytes per output channel.
    pub requant: u32,
    /// Offset of the 256-byte lookup table (sigmoid, tanh).
    pub lut: u32,
    /// For an `add` layer, the index of the kept layer whose output is its second operand; 0
    /// for every other kind.
    pub source: u16,
}

/// Byte offsets inside a layer record, for errors and for the spec.
pub mod rec {
    #![allow(missing_docs)]
    pub const KIND: usize = 0;
    pub const FLAGS: usize = 1;
    pub const KERNEL_H: usize = 2;
    pub const KERNEL_W: usize = 3;
    pub const STRIDE: usize = 4;
    pub const PADDING: usize = 5;
    pub const OUTPUT_PADDING: usize = 6;
    pub const RESERVED_7: usize = 7;
    pub const INPUT: usize = 8;
    pub const OUTPUT: usize = 14;
    pub const OUT_SCALE: usize = 20;
    pub const WEIGHTS: usize = 24;
    pub const BIAS: usize = 28;
    pub const REQUANT: usize = 32;
    pub const LUT: usize = 36;
    pub const SOURCE: usize = 40;
    pub const RESERVED_42: usize = 42;
}

impl LayerRecord {
    /// Reads record `index` from a record slice of exactly [`LAYER_LEN`] bytes.
    ///
    /// # Errors
    /// [`Error::UnknownLayer`] for an unknown kind, [`Error::OutOfBounds`] for a short slice,
    /// [`Error::BadRecord`] for unknown flag bits or reserved bytes that are not 0.
    pub fn read(b: &[u8], index: u16) -> Result<Self, Error> {
        let oob = Error::OutOfBounds { layer: index };
        if b.len() < LAYER_LEN {
            return Err(oob);
        }
        let kind_byte = read_u8(b, rec::KIND).ok_or(oob)?;
        let kind = LayerKind::from_byte(kind_byte).ok_or(Error::UnknownLayer { layer: index, kind: kind_byte })?;
        if read_u8(b, rec::FLAGS).is_none_or(|f| f & !KNOWN_LAYER_FLAGS != 0) {
            return Err(Error::BadRecord { layer: index, offset: rec::FLAGS });
        }
        let mut reserved = core::iter::once(rec::RESERVED_7).chain(rec::RESERVED_42..LAYER_LEN);
        if let Some(offset) = reserved.find(|&o| read_u8(b, o) != Some(0)) {
            return Err(Error::BadRecord { layer: index, offset });
        }
        let u8_at = |o| read_u8(b, o).ok_or(oob);
        let u16_at = |o| read_u16(b, o).ok_or(oob);
        let u32_at = |o| read_u32(b, o).ok_or(oob);
        let shape_at =
            |o| -> Result<Shape, Error> { Ok(Shape { c: u16_at(o)?, h: u16_at(o + 2)?, w: u16_at(o + 4)? }) };
        Ok(Self {
            kind,
            flags: u8_at(rec::FLAGS)?,
            kernel: (u8_at(rec::KERNEL_H)?, u8_at(rec::KERNEL_W)?),
            stride: u8_at(rec::STRIDE)?,
            padding: u8_at(rec::PADDING)?,
            output_padding: u8_at(rec::OUTPUT_PADDING)?,
            input: shape_at(rec::INPUT)?,
            output: shape_at(rec::OUTPUT)?,
            out_scale: read_f32(b, rec::OUT_SCALE).ok_or(oob)?,
            weights: u32_at(rec::WEIGHTS)?,
            bias: u32_at(rec::BIAS)?,
            requant: u32_at(rec::REQUANT)?,
            lut: u32_at(rec::LUT)?,
            source: u16_at(rec::SOURCE)?,
        })
    }

    /// Writes the record into `out`.
    pub fn write(&self, out: &mut [u8; LAYER_LEN]) {
        out.fill(0);
        put(out, rec::KIND, &[self.kind as u8]);
        put(out, rec::FLAGS, &[self.flags]);
        put(out, rec::KERNEL_H, &[self.kernel.0]);
        put(out, rec::KERNEL_W, &[self.kernel.1]);
        put(out, rec::STRIDE, &[self.stride]);
        put(out, rec::PADDING, &[self.padding]);
        put(out, rec::OUTPUT_PADDING, &[self.output_padding]);
        for (o, s) in [(rec::INPUT, self.input), (rec::OUTPUT, self.output)] {
            put(out, o, &s.c.to_le_bytes());
            put(out, o + 2, &s.h.to_le_bytes());
            put(out, o + 4, &s.w.to_le_bytes());
        }
        put(out, rec::OUT_SCALE, &self.out_scale.to_le_bytes());
        put(out, rec::WEIGHTS, &self.weights.to_le_bytes());
        put(out, rec::BIAS, &self.bias.to_le_bytes());
        put(out, rec::REQUANT, &self.requant.to_le_bytes());
        put(out, rec::LUT, &self.lut.to_le_bytes());
        put(out, rec::SOURCE, &self.source.to_le_bytes());
    }

    /// Whether ReLU is fused into this layer.
    #[must_use]
    pub fn relu(&self) -> bool {
        self.flags & LAYER_RELU != 0
    }

    /// Whether this layer's output bytes are signed.
    #[must_use]
    pub fn signed_out(&self) -> bool {
        self.flags & LAYER_SIGNED != 0
    }
}

/// A weight row's length padded to whole 4-byte words (the padding bytes are 0).
#[must_use]
pub const fn padded_terms(terms: usize) -> usize {
    terms.div_ceil(4) * 4
}

/// Where weight `t` (`t < padded_terms(k)`) of output channel `o` lies in a weight block of `oc`
/// rows of `kp = padded_terms(k)` bytes: channels `4g..4g+4` (for `g < oc / 4`) are interleaved
/// word by word (word `j` of the four rows, then word `j + 1`), so that a kernel reads the four
/// rows' words for one activation word from one place; the last `oc mod 4` channels follow as
/// plain rows. Either way channel `o`'s row spans bytes `o * kp .. (o + 1) * kp` of the block.
#[must_use]
pub const fn packed_at(oc: usize, kp: usize, o: usize, t: usize) -> usize {
    if o < oc / 4 * 4 { (o / 4) * 4 * kp + (t / 4) * 16 + (o % 4) * 4 + t % 4 } else { o * kp + t }
}

/// Kernel taps `k` with `k mod s == r` among `0..k_len`: the taps that transposed-convolution
/// outputs of residue class `r` read.
#[must_use]
pub const fn class_taps(k_len: usize, s: usize, r: usize) -> usize {
    if r >= k_len { 0 } else { (k_len - r).div_ceil(s) }
}

impl LayerRecord {
    /// A record of the layer's shape alone (square kernel, unit output scale, no table offsets),
    /// for checks that call the kernels with tables of their own (`check_kernel_builds`, tests)
    /// or ask only what the shape implies ([`LayerRecord::macs`]).
    #[must_use]
    pub fn shape_only(
        kind: LayerKind,
        flags: u8,
        (input, output): (Shape, Shape),
        (kernel, stride, padding, output_padding): (u8, u8, u8, u8),
    ) -> Self {
        Self {
            kind,
            flags,
            kernel: (kernel, kernel),
            stride,
            padding,
            output_padding,
            input,
            output,
            out_scale: 1.0,
            weights: 0,
            bias: 0,
            requant: 0,
            lut: 0,
            source: 0,
        }
    }

    /// Terms (weights per output channel, before padding) of weight block `block`: the one block
    /// of a convolution or linear layer, or residue class `block = ry * s + rx` of a transposed
    /// convolution. `None` past the last block, for layers without weights, and for a depthwise
    /// convolution (whose table is not made of rows: see [`LayerRecord::weights_len`]).
    #[must_use]
    pub fn block_terms(&self, block: usize) -> Option<usize> {
        let (kh, kw, ic) = (usize::from(self.kernel.0), usize::from(self.kernel.1), usize::from(self.input.c));
        match self.kind {
            LayerKind::Conv2d | LayerKind::Linear => (block == 0).then_some(kh * kw * ic),
            LayerKind::ConvTranspose2d => {
                let s = usize::from(self.stride).max(1);
                (block < s * s).then(|| class_taps(kh, s, block / s) * class_taps(kw, s, block % s) * ic)
            }
            _ => None,
        }
    }

    /// Bytes of the weight table: every block's `out_c` rows of padded terms.
    #[must_use]
    pub fn weights_len(&self) -> usize {
        if self.kind == LayerKind::DepthwiseConv2d {
            // One table `[ky][kx][c]`, padded to whole words.
            let (kh, kw) = (usize::from(self.kernel.0), usize::from(self.kernel.1));
            return padded_terms(kh * kw * usize::from(self.input.c));
        }
        let mut rows = 0;
        let mut block = 0;
        while let Some(k) = self.block_terms(block) {
            rows += padded_terms(k);
            block += 1;
        }
        usize::from(self.output.c) * rows
    }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib and PNG use) of `bytes`.
#[must_use]
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(bytes);
    c.finish()
}

/// A streaming CRC-32 (IEEE), for digests of outputs computed piece by piece.
#[derive(Debug, Clone, Copy)]
pub struct Crc32 {
    state: u32,
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc32 {
    /// An empty digest.
    #[must_use]
    pub const fn new() -> Self {
        Self { state: !0 }
    }

    /// Continues a digest from its current value (`resume(d.finish())` behaves like `d`), so that
    /// a digest can be kept as a plain `u32` between calls. `resume(0)` is a fresh digest.
    #[must_use]
    pub const fn resume(digest: u32) -> Self {
        Self { state: !digest }
    }

    /// Folds in more bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        // Evaluated at compile time: an index out of bounds would fail the build, not panic.
        #[allow(clippy::indexing_slicing)]
        const TABLE: [u32; 256] = {
            let mut table = [0u32; 256];
            let mut i = 0;
            while i < 256 {
                let mut c = i as u32;
                let mut k = 0;
                while k < 8 {
                    c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
                    k += 1;
                }
                table[i] = c;
                i += 1;
            }
            table
        };
        for &b in bytes {
            let idx = (self.state ^ u32::from(b)) as u8;
            // A u8 index into a 256-entry table is always in bounds.
            #[allow(clippy::indexing_slicing)]
            let t = TABLE[usize::from(idx)];
            self.state = t ^ (self.state >> 8);
        }
    }

    /// The digest of everything folded in so far.
    #[must_use]
    pub const fn finish(&self) -> u32 {
        !self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
        // Streaming in pieces, and resuming from a digest value, give the same result.
        let mut c = Crc32::resume(0);
        c.update(b"1234");
        let mut d = Crc32::resume(c.finish());
        d.update(b"56789");
        assert_eq!(d.finish(), 0xcbf4_3926);
    }

    #[test]
    fn header_and_record_round_trip() {
        let h = Header {
            file_len: 1234,
            crc32: 0xdead_beef,
            flags: FLAG_VAE | FLAG_LATENT_STATS,
            layer_count: 9,
            input: Shape { c: 1, h: 28, w: 28 },
            input_signed: false,
            input_scale: 1.0 / 255.0,
            latent: 16,
            classes: 10,
            code_scale: 0.03,
            encoder: Span { first: 0, count: 5 },
            decoder: Span { first: 5, count: 4 },
            classifier: Span::default(),
            latent_stats: 1000,
            layer_table: 64,
            metadata: 2000,
        };
        let mut buf = [0u8; HEADER_LEN];
        h.write(&mut buf);
        assert_eq!(Header::read(&buf).unwrap(), h);
        let r = LayerRecord {
            kind: LayerKind::ConvTranspose2d,
            flags: LAYER_RELU,
            kernel: (4, 4),
            stride: 2,
            padding: 1,
            output_padding: 0,
            input: Shape { c: 16, h: 7, w: 7 },
            output: Shape { c: 8, h: 14, w: 14 },
            out_scale: 0.5,
            weights: 100,
            bias: 200,
            requant: 300,
            lut: 0,
            source: 0,
        };
        let mut rb = [0u8; LAYER_LEN];
        r.write(&mut rb);
        assert_eq!(LayerRecord::read(&rb, 0).unwrap(), r);
        // Reserved bytes and unknown flag bits are refused, each naming its offset.
        for (at, v) in [(rec::RESERVED_7, 1u8), (rec::RESERVED_42, 1), (LAYER_LEN - 1, 0x80), (rec::FLAGS, 1 << 3)] {
            let mut bad = rb;
            bad[at] |= v;
            assert_eq!(LayerRecord::read(&bad, 5), Err(Error::BadRecord { layer: 5, offset: at }), "offset {at}");
        }
        rb[0] = 99;
        assert_eq!(LayerRecord::read(&rb, 3), Err(Error::UnknownLayer { layer: 3, kind: 99 }));
        let mut hb = buf;
        hb[at::RESERVED_27] = 1;
        assert_eq!(Header::read(&hb), Err(Error::BadHeader { offset: at::RESERVED_27 }));
        hb = buf;
        hb[at::VERSION] = 1;
        assert_eq!(Header::read(&hb), Err(Error::UnsupportedVersion { found: 1 }));
    }

    /// Every (channel, term) pair has its own byte, each channel's row stays within its own
    /// `kp` bytes, and groups of four are interleaved word by word.
    #[test]
    fn packed_layout_is_a_permutation_of_the_rows() {
        for (oc, k) in [(1usize, 9usize), (4, 12), (6, 9), (16, 144), (3, 1), (9, 20)] {
            let kp = padded_terms(k);
            let mut all = [false; 16 * 144];
            let seen = &mut all[..oc * kp];
            for o in 0..oc {
                for t in 0..kp {
                    let at = packed_at(oc, kp, o, t);
                    assert!((o * kp..(o + 1) * kp).contains(&at) || o < oc / 4 * 4, "oc {oc} k {k} o {o} t {t}");
                    assert!(at / (4 * kp) == o / 4 || o >= oc / 4 * 4);
                    assert!(!seen[at], "oc {oc} k {k}: byte {at} twice");
                    seen[at] = true;
                }
            }
            assert!(seen.iter().all(|&s| s));
        }
        // Channel 1, word 0 comes right after channel 0, word 0.
        assert_eq!(packed_at(8, 12, 1, 0), 4);
        assert_eq!(packed_at(8, 12, 0, 4), 16);
        assert_eq!(packed_at(8, 12, 5, 5), 48 + 16 + 4 + 1);
    }
}
