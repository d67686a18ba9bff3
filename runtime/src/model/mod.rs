//! `Model`: a validated, borrowed view of an int8 model file, and its entry points.

use crate::Error;
use crate::argmax::argmax;
use crate::dispatch;
use crate::format::{
    self, FLAG_CLASSIFIER, FLAG_CLASSIFIER_FROM_CODE, FLAG_VAE, HEADER_LEN, Header, LAYER_LEN, LayerKind, LayerRecord,
    REQUANT_LEN, Shape, Span,
};
use crate::kernels::{self, Weights};
use crate::sample::Rng;

mod convert;
mod metadata;
mod validate;

use convert::{dequantize, quantize, quantize_image, to_channel_last, value};

/// The operations a model file can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Image to code.
    Encode,
    /// Code to image.
    Decode,
    /// Image to class logits.
    Classify,
    /// Random code to image.
    Sample,
}

/// Where [`Model::profile`] calls back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The input (image or code) is quantized to bytes.
    Input,
    /// Layer `n` (an index into the file's layer table) is done.
    Layer(u16),
    /// The outputs are written as floats (and the class chosen).
    Output,
}

/// Which kind of autoencoder the file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A plain (or denoising) autoencoder: samples come from the stored code statistics.
    Autoencoder,
    /// A variational autoencoder: codes are posterior means, samples come from N(0, I).
    Variational,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Encoder = 0,
    Decoder = 1,
    Classifier = 2,
}

/// A parsed and fully validated model, borrowing the file's bytes.
///
/// Parsing checks everything once (magic, version, length, checksum, every layer's shapes, table
/// bounds and quantization parameters, how sections chain); the entry points then trust the view.
#[derive(Clone, Copy)]
pub struct Model<'a> {
    bytes: &'a [u8],
    header: Header,
    /// Scratch bytes per entry point, in `Entry` order.
    scratch: [usize; 4],
}

impl core::fmt::Debug for Model<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The bytes themselves would swamp any log: show their length only.
        f.debug_struct("Model").field("len", &self.bytes.len()).field("header", &self.header).finish_non_exhaustive()
    }
}

/// Where one layer's tables are.
struct Tables<'a> {
    weights: Weights<'a>,
    lut: &'a [u8],
}

impl<'a> Model<'a> {
    /// Parses and validates a model file without copying it.
    ///
    /// # Errors
    /// A parsing [`Error`] naming what is wrong (and where): a truncated file, bad magic, unknown
    /// version, checksum mismatch, or a layer whose sizes, tables or quantization do not add up.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        Self::parse_checked(bytes, true)
    }

    /// [`Model::parse`] without the CRC-32, for bytes that a full parse accepted before and that
    /// nothing has written since: a module that keeps the file in a buffer between calls, or
    /// firmware that checked its flash at start-up. Every other check still runs (a few per
    /// layer), so damaged bytes can give wrong outputs but never an out-of-bounds access. The
    /// checksum is most of the cost of a parse: all of the file's bytes.
    ///
    /// # Errors
    /// As [`Model::parse`], except [`Error::BadChecksum`].
    pub fn parse_skipping_checksum(bytes: &'a [u8]) -> Result<Self, Error> {
        Self::parse_checked(bytes, false)
    }

    fn parse_checked(bytes: &'a [u8], checksum: bool) -> Result<Self, Error> {
        let header = Header::read(bytes)?;
        let file_len = header.file_len as usize;
        if file_len != bytes.len() {
            return Err(Error::LengthMismatch { expected: file_len, found: bytes.len() });
        }
        if checksum {
            let found = format::crc32(bytes.get(format::at::FLAGS..).unwrap_or(&[]));
            if found != header.crc32 {
                return Err(Error::BadChecksum { expected: header.crc32, found });
            }
        }
        let mut model = Self { bytes, header, scratch: [0; 4] };
        model.validate()?;
        let autoencoder = model.has_autoencoder();
        let plan_ae = |s: Section| if autoencoder { model.plan(&[s]) } else { Ok(0) };
        model.scratch = [
            plan_ae(Section::Encoder)?,
            plan_ae(Section::Decoder)?,
            if model.has_classifier() {
                if model.classifier_from_code() {
                    model.plan(&[Section::Encoder, Section::Classifier])?
                } else {
                    model.plan(&[Section::Classifier])?
                }
            } else {
                0
            },
            plan_ae(Section::Decoder)?,
        ];
        Ok(model)
    }

    /// Sizes of the two ping-pong buffers needed to run `sections` one after the other (the input
    /// goes to the first, and each weighted layer writes to the other one), and of the patch that
    /// the kernels gather receptive fields into.
    fn buffers(&self, sections: &[Section]) -> Result<[usize; 4], Error> {
        let first = sections.first().map_or(self.header.input, |&s| self.section_input(s));
        let mut sizes = [first.len(), 0, 0, 0];
        let mut cur = 0usize;
        for &s in sections {
            let span = self.span(s);
            for i in span.first..span.first + span.count {
                let rec = self.record(i)?;
                if rec.kind.has_weights() {
                    cur ^= 1;
                    if let Some(size) = sizes.get_mut(cur) {
                        *size = (*size).max(rec.output.len());
                    }
                    sizes[2] = sizes[2].max(kernels::patch_len(&rec));
                }
                // A kept output (for a later add) is copied to a fourth buffer.
                if rec.flags & format::LAYER_KEEP != 0 {
                    sizes[3] = sizes[3].max(rec.output.len());
                }
            }
        }
        Ok(sizes)
    }

    /// Scratch bytes needed to run `sections`.
    fn plan(&self, sections: &[Section]) -> Result<usize, Error> {
        let [a, b, p, k] = self.buffers(sections)?;
        Ok(a + b + p + k)
    }

    fn section_input(&self, s: Section) -> Shape {
        match s {
            Section::Encoder => self.header.input,
            Section::Decoder => Shape::vector(self.header.latent),
            Section::Classifier if self.classifier_from_code() => Shape::vector(self.header.latent),
            Section::Classifier => self.header.input,
        }
    }

    fn span(&self, s: Section) -> Span {
        match s {
            Section::Encoder => self.header.encoder,
            Section::Decoder => self.header.decoder,
            Section::Classifier => self.header.classifier,
        }
    }

    fn record(&self, index: u16) -> Result<LayerRecord, Error> {
        let oob = Error::OutOfBounds { layer: index };
        let at = (self.header.layer_table as usize).checked_add(usize::from(index) * LAYER_LEN).ok_or(oob)?;
        let b = self.bytes.get(at..at.checked_add(LAYER_LEN).ok_or(oob)?).ok_or(oob)?;
        LayerRecord::read(b, index)
    }

    fn slice(&self, layer: u16, offset: u32, len: usize) -> Result<&'a [u8], Error> {
        let oob = Error::OutOfBounds { layer };
        let start = offset as usize;
        // Tables may not overlap the header or the layer table.
        let table_end = self.header.layer_table as usize + usize::from(self.header.layer_count) * LAYER_LEN;
        if start < table_end {
            return Err(oob);
        }
        self.bytes.get(start..start.checked_add(len).ok_or(oob)?).ok_or(oob)
    }

    fn tables(&self, layer: u16, rec: &LayerRecord) -> Result<Tables<'a>, Error> {
        let empty = Weights { w: &[], bias: &[], requant: &[] };
        if rec.kind.has_weights() {
            let oc = usize::from(rec.output.c);
            Ok(Tables {
                weights: Weights {
                    w: self.slice(layer, rec.weights, rec.weights_len())?,
                    bias: self.slice(layer, rec.bias, oc * 4)?,
                    requant: self.slice(layer, rec.requant, oc * REQUANT_LEN)?,
                },
                lut: &[],
            })
        } else if rec.kind == LayerKind::Add {
            // Two (multiplier, shift) pairs: the chain's operand, then the kept one.
            let requant = self.slice(layer, rec.requant, 2 * REQUANT_LEN)?;
            Ok(Tables { weights: Weights { w: &[], bias: &[], requant }, lut: &[] })
        } else if rec.kind.has_lut() {
            Ok(Tables { weights: empty, lut: self.slice(layer, rec.lut, rec.kind.lut_len())? })
        } else {
            Ok(Tables { weights: empty, lut: &[] })
        }
    }

    fn stats_bytes(&self) -> Option<&'a [u8]> {
        let len = usize::from(self.header.latent) * 8;
        let start = self.header.latent_stats as usize;
        // After the header and the layer table.
        let table_end =
            (self.header.layer_table as usize).checked_add(usize::from(self.header.layer_count) * LAYER_LEN)?;
        if start < HEADER_LEN.max(table_end) {
            return None;
        }
        self.bytes.get(start..start.checked_add(len)?)
    }

    fn latent_stats_ok(&self) -> bool {
        (0..usize::from(self.header.latent))
            .all(|d| matches!(self.latent_stat(d), Some((m, s)) if m.is_finite() && s.is_finite() && s >= 0.0))
    }

    /// Mean and standard deviation of training codes in dimension `d`.
    fn latent_stat(&self, d: usize) -> Option<(f32, f32)> {
        let b = self.stats_bytes()?;
        let latent = usize::from(self.header.latent);
        Some((format::read_f32(b, d * 4)?, format::read_f32(b, (latent + d) * 4)?))
    }

    // ----- what the file holds -----

    /// The validated header.
    #[must_use]
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Input image shape (channels, height, width); inputs are channel-major (`[c][h][w]`).
    #[must_use]
    pub fn input_shape(&self) -> Shape {
        self.header.input
    }

    /// Values per input image.
    #[must_use]
    pub fn input_len(&self) -> usize {
        self.header.input.len()
    }

    /// Code (latent) size.
    #[must_use]
    pub fn latent_len(&self) -> usize {
        usize::from(self.header.latent)
    }

    /// Number of classes, when the file holds a classifier.
    #[must_use]
    pub fn classes(&self) -> Option<usize> {
        self.has_classifier().then_some(usize::from(self.header.classes))
    }

    /// Autoencoder or VAE.
    #[must_use]
    pub fn kind(&self) -> Kind {
        if self.header.flags & FLAG_VAE != 0 { Kind::Variational } else { Kind::Autoencoder }
    }

    /// Whether input values are expected in `[-1, 1]` (otherwise `[0, 1]`).
    #[must_use]
    pub fn input_symmetric(&self) -> bool {
        self.header.input_signed
    }

    /// Scratch bytes that `entry` needs; pass at least this many.
    #[must_use]
    pub fn scratch_len(&self, entry: Entry) -> usize {
        self.scratch.get(entry as usize).copied().unwrap_or(0)
    }

    /// The most scratch any entry point needs.
    #[must_use]
    pub fn max_scratch_len(&self) -> usize {
        self.scratch.iter().copied().max().unwrap_or(0)
    }

    /// Index of the classifier's last layer (validated at parse when there is a classifier).
    fn classifier_last(&self) -> Option<u16> {
        let span = self.header.classifier;
        span.first.checked_add(span.count)?.checked_sub(1).filter(|_| span.count > 0)
    }

    fn has_classifier(&self) -> bool {
        self.header.flags & FLAG_CLASSIFIER != 0
    }

    /// Whether the file holds an encoder and a decoder; without them it is a classifier alone
    /// (a CNN, say), and `encode`, `decode` and `sample` answer [`Error::NoAutoencoder`].
    #[must_use]
    pub fn has_autoencoder(&self) -> bool {
        self.header.encoder.count > 0
    }

    fn autoencoder(&self) -> Result<(), Error> {
        if self.has_autoencoder() { Ok(()) } else { Err(Error::NoAutoencoder) }
    }

    fn classifier_from_code(&self) -> bool {
        self.header.flags & FLAG_CLASSIFIER_FROM_CODE != 0
    }

    // ----- entry points -----

    /// Encodes an image (`input_len` values, `[c][h][w]`, in `[0, 1]` or `[-1, 1]`) into `code`
    /// (`latent_len` values). For a VAE the code is the posterior mean.
    ///
    /// # Errors
    /// [`Error::InputLength`], [`Error::OutputLength`], [`Error::ScratchTooSmall`].
    pub fn encode(&self, input: &[f32], code: &mut [f32], scratch: &mut [u8]) -> Result<(), Error> {
        self.encode_with(input, code, scratch, &mut |_| {})
    }

    fn encode_with(
        &self,
        input: &[f32],
        code: &mut [f32],
        scratch: &mut [u8],
        after: &mut dyn FnMut(Step),
    ) -> Result<(), Error> {
        self.autoencoder()?;
        check_len(code.len(), self.latent_len(), false)?;
        let (out, signed, scale) = self.run(&[Section::Encoder], Source::Image(input), scratch, None, after)?;
        dequantize(out, signed, scale, code);
        after(Step::Output);
        Ok(())
    }

    /// Encodes an image given as 8-bit pixels (`input_len` bytes, `[c][h][w]`: a camera's or a
    /// file's bytes) into the code's bytes (`latent_len` values; the code is `byte x`
    /// [`Model::code_scale`]). The pixels mean `p / 255` (inputs in `[0, 1]`) or `p / 127.5 - 1`
    /// (inputs in `[-1, 1]`), the conversion the trainer applies, and the result is the same as
    /// [`Model::encode`] of those values: for `[0, 1]` models with the usual `1 / 255` input step the
    /// bytes are used as they are, with no floating point at all.
    ///
    /// # Errors
    /// [`Error::InputLength`], [`Error::OutputLength`], [`Error::ScratchTooSmall`].
    pub fn encode_bytes(&self, image: &[u8], code: &mut [i8], scratch: &mut [u8]) -> Result<(), Error> {
        self.autoencoder()?;
        check_len(code.len(), self.latent_len(), false)?;
        let (out, _, _) = self.run(&[Section::Encoder], Source::Pixels(image), scratch, None, &mut |_| {})?;
        // The encoder's output is signed (checked at parse).
        for (c, &b) in code.iter_mut().zip(out) {
            *c = b as i8;
        }
        Ok(())
    }

    /// The real value of one code step: [`Model::encode_bytes`] gives `code / code_scale`, rounded.
    #[must_use]
    pub fn code_scale(&self) -> f32 {
        self.header.code_scale
    }

    /// Decodes `code` (`latent_len` values) into an image (`input_len` values, `[c][h][w]`).
    ///
    /// # Errors
    /// [`Error::InputLength`], [`Error::OutputLength`], [`Error::ScratchTooSmall`].
    pub fn decode(&self, code: &[f32], image: &mut [f32], scratch: &mut [u8]) -> Result<(), Error> {
        self.decode_with(code, image, scratch, &mut |_| {})
    }

    fn decode_with(
        &self,
        code: &[f32],
        image: &mut [f32],
        scratch: &mut [u8],
        after: &mut dyn FnMut(Step),
    ) -> Result<(), Error> {
        self.autoencoder()?;
        check_len(image.len(), self.input_len(), false)?;
        let (out, signed, scale) = self.run(&[Section::Decoder], Source::Code(code), scratch, None, after)?;
        self.write_image(out, signed, scale, image);
        after(Step::Output);
        Ok(())
    }

    /// Classifies an image; writes the class logits and returns the most likely class (the first
    /// one on ties).
    ///
    /// # Errors
    /// [`Error::NoClassifier`], [`Error::InputLength`], [`Error::OutputLength`],
    /// [`Error::ScratchTooSmall`].
    pub fn classify(&self, input: &[f32], logits: &mut [f32], scratch: &mut [u8]) -> Result<usize, Error> {
        self.classify_with(input, logits, scratch, &mut |_| {})
    }

    fn classify_with(
        &self,
        input: &[f32],
        logits: &mut [f32],
        scratch: &mut [u8],
        after: &mut dyn FnMut(Step),
    ) -> Result<usize, Error> {
        let classes = self.classes().ok_or(Error::NoClassifier)?;
        check_len(logits.len(), classes, false)?;
        let step = self.logit_scale()?;
        self.classify_core(Source::Image(input), scratch, after, &mut |j, v| {
            if let Some(l) = logits.get_mut(j) {
                *l = v as f32 * step;
            }
        })
    }

    /// Classifies an image given as 8-bit pixels (as [`Model::encode_bytes`] reads them) and
    /// writes the logits as integers: logit `j` is `logits[j] x` [`Model::logit_scale`]. Returns the
    /// most likely class, the same as [`Model::classify`] of the pixels' values.
    ///
    /// # Errors
    /// [`Error::NoClassifier`], [`Error::InputLength`], [`Error::OutputLength`],
    /// [`Error::ScratchTooSmall`].
    pub fn classify_bytes(&self, image: &[u8], logits: &mut [i32], scratch: &mut [u8]) -> Result<usize, Error> {
        self.classify_ints(Source::Pixels(image), logits, scratch)
    }

    /// Classifies from a code the caller already holds (the bytes of [`Model::encode_bytes`]),
    /// without running the encoder again; writes integer logits as [`Model::classify_bytes`] does.
    /// Only for models whose classifier starts from the code ([`Model::classifies_from_code`]).
    ///
    /// # Errors
    /// [`Error::NoClassifier`], [`Error::ClassifierReadsImage`], [`Error::InputLength`],
    /// [`Error::OutputLength`], [`Error::ScratchTooSmall`].
    pub fn classify_code(&self, code: &[i8], logits: &mut [i32], scratch: &mut [u8]) -> Result<usize, Error> {
        if self.has_classifier() && !self.classifier_from_code() {
            return Err(Error::ClassifierReadsImage);
        }
        self.classify_ints(Source::CodeBytes(code), logits, scratch)
    }

    /// The classifier from `source`, integer logits into `logits`.
    fn classify_ints(&self, source: Source<'_>, logits: &mut [i32], scratch: &mut [u8]) -> Result<usize, Error> {
        let classes = self.classes().ok_or(Error::NoClassifier)?;
        check_len(logits.len(), classes, false)?;
        self.classify_core(source, scratch, &mut |_| {}, &mut |j, v| {
            if let Some(l) = logits.get_mut(j) {
                *l = v;
            }
        })
    }

    /// Whether the classifier starts from the code (so that [`Model::classify_code`] applies).
    #[must_use]
    pub fn classifies_from_code(&self) -> bool {
        self.has_classifier() && self.classifier_from_code()
    }

    /// The real value of one step of the integer logits of [`Model::classify_bytes`]: the last
    /// layer's output step, divided by 2^8 when it is linear (it then keeps 8 more bits).
    ///
    /// # Errors
    /// [`Error::NoClassifier`].
    pub fn logit_scale(&self) -> Result<f32, Error> {
        let last = self.classifier_last().ok_or(Error::NoClassifier)?;
        let rec = self.record(last)?;
        Ok(if rec.kind == LayerKind::Linear {
            rec.out_scale / (1u32 << kernels::FINE_BITS) as f32
        } else {
            rec.out_scale
        })
    }

    /// The classifier from `source` (an image, or a code when the classifier starts from it):
    /// each integer logit goes to `logit(j, v)`; returns the first largest.
    fn classify_core(
        &self,
        source: Source<'_>,
        scratch: &mut [u8],
        after: &mut dyn FnMut(Step),
        logit: &mut dyn FnMut(usize, i32),
    ) -> Result<usize, Error> {
        let sections: &[Section] = match source {
            Source::Code(_) | Source::CodeBytes(_) => &[Section::Classifier],
            _ if self.classifier_from_code() => &[Section::Encoder, Section::Classifier],
            _ => &[Section::Classifier],
        };
        // A linear last layer keeps FINE_BITS more bits than a byte; any other ends in bytes.
        let last = self.classifier_last().ok_or(Error::NoClassifier)?;
        let rec = self.record(last)?;
        if rec.kind != LayerKind::Linear {
            let (out, signed, _) = self.run(sections, source, scratch, None, after)?;
            for (j, &b) in out.iter().enumerate() {
                logit(j, value(b, signed));
            }
            let class = argmax(out.iter().map(|&b| value(b, signed)));
            after(Step::Output);
            return Ok(class);
        }
        let tables = self.tables(last, &rec)?;
        let (x, signed, _) = self.run(sections, source, scratch, Some(last), after)?;
        let mut best = (0usize, i32::MIN);
        kernels::linear_fine(&rec, &tables.weights, x, signed, |j, v| {
            logit(j, v);
            if v > best.1 {
                best = (j, v);
            }
        })
        .map_err(|_| Error::BadShape { layer: last })?;
        after(Step::Layer(last));
        after(Step::Output);
        Ok(best.0)
    }

    /// Runs `entry` like [`Model::encode`], [`Model::decode`] or [`Model::classify`] (with the
    /// same outputs, written to `output`), and calls `after` at each [`Step`]: once the input is
    /// quantized, as soon as each layer is done, and once the outputs are written. A profiler
    /// reads its clock there (the firmware prints instructions per layer this way). `input` is
    /// the image, or the code for [`Entry::Decode`] and [`Entry::Sample`] (whose layers are the
    /// decoder's).
    ///
    /// # Errors
    /// Those of the entry point.
    pub fn profile(
        &self,
        entry: Entry,
        input: &[f32],
        output: &mut [f32],
        scratch: &mut [u8],
        after: &mut dyn FnMut(Step),
    ) -> Result<(), Error> {
        match entry {
            Entry::Encode => self.encode_with(input, output, scratch, after),
            Entry::Decode | Entry::Sample => self.decode_with(input, output, scratch, after),
            Entry::Classify => self.classify_with(input, output, scratch, after).map(|_| ()),
        }
    }

    /// The record of layer `index` (kind, shapes, kernel, stride...), e.g. to label a profile.
    ///
    /// # Errors
    /// [`Error::OutOfBounds`] for an index past the last layer.
    pub fn layer(&self, index: u16) -> Result<LayerRecord, Error> {
        if index >= self.header.layer_count {
            return Err(Error::OutOfBounds { layer: index });
        }
        self.record(index)
    }

    /// Draws a code (N(0, I) for a VAE; the training codes' per-dimension Gaussian for an
    /// autoencoder) and decodes it. Writes the code and the image.
    ///
    /// # Errors
    /// As [`Model::decode`], plus [`Error::OutputLength`] for `code`.
    pub fn sample(&self, rng: &mut Rng, code: &mut [f32], image: &mut [f32], scratch: &mut [u8]) -> Result<(), Error> {
        self.autoencoder()?;
        check_len(code.len(), self.latent_len(), false)?;
        for (d, z) in code.iter_mut().enumerate() {
            let n = rng.normal();
            *z = match (self.kind(), self.latent_stat(d)) {
                (Kind::Autoencoder, Some((mean, std))) => mean + std * n,
                _ => n,
            };
        }
        self.decode(code, image, scratch)
    }

    /// Runs `sections` from `source`, stopping before layer `end` of the last section when given;
    /// returns the final tensor's bytes, signedness and scale.
    fn run<'s>(
        &self,
        sections: &[Section],
        source: Source<'_>,
        scratch: &'s mut [u8],
        end: Option<u16>,
        after: &mut dyn FnMut(Step),
    ) -> Result<(&'s [u8], bool, f32), Error> {
        let [size_a, size_b, size_p, size_k] = self.buffers(sections)?;
        let too_small = Error::ScratchTooSmall { needed: size_a + size_b + size_p + size_k, found: scratch.len() };
        let (a, rest) = scratch.split_at_mut_checked(size_a).ok_or(too_small)?;
        let (b, rest) = rest.split_at_mut_checked(size_b).ok_or(too_small)?;
        let (patch, rest) = rest.split_at_mut_checked(size_p).ok_or(too_small)?;
        let keep = rest.get_mut(..size_k).ok_or(too_small)?;
        let mut keep_signed = false;
        let mut bufs = [a, b];

        let (mut signed, mut scale, mut len) = match source {
            Source::Image(pixels) => {
                check_len(pixels.len(), self.input_len(), true)?;
                let dst = bufs[0].get_mut(..self.input_len()).ok_or(too_small)?;
                quantize_image(pixels, self.header.input, self.header.input_signed, self.header.input_scale, dst);
                (self.header.input_signed, self.header.input_scale, self.input_len())
            }
            Source::Pixels(pixels) => {
                check_len(pixels.len(), self.input_len(), true)?;
                let dst = bufs[0].get_mut(..self.input_len()).ok_or(too_small)?;
                self.quantize_pixels(pixels, dst);
                (self.header.input_signed, self.header.input_scale, self.input_len())
            }
            Source::Code(code) => {
                check_len(code.len(), self.latent_len(), true)?;
                let dst = bufs[0].get_mut(..self.latent_len()).ok_or(too_small)?;
                for (q, &z) in dst.iter_mut().zip(code) {
                    *q = quantize(z, true, self.header.code_scale);
                }
                (true, self.header.code_scale, self.latent_len())
            }
            Source::CodeBytes(code) => {
                check_len(code.len(), self.latent_len(), true)?;
                let dst = bufs[0].get_mut(..self.latent_len()).ok_or(too_small)?;
                for (q, &z) in dst.iter_mut().zip(code) {
                    // -128 is outside the code's range; the float path clamps it the same way.
                    *q = z.max(-127) as u8;
                }
                (true, self.header.code_scale, self.latent_len())
            }
        };
        after(Step::Input);
        let mut cur = 0usize;
        for (n, &s) in sections.iter().enumerate() {
            let span = self.span(s);
            let last_section = n + 1 == sections.len();
            for i in span.first..span.first + span.count {
                if last_section && Some(i) == end {
                    break;
                }
                let rec = self.record(i)?;
                let tables = self.tables(i, &rec)?;
                let out_len = rec.output.len();
                if rec.kind.has_weights() {
                    let [x, y] = &mut bufs;
                    let (src, dst) = if cur == 0 { (&**x, &mut **y) } else { (&**y, &mut **x) };
                    let src = src.get(..len).ok_or(Error::BadShape { layer: i })?;
                    let dst = dst.get_mut(..out_len).ok_or(Error::BadShape { layer: i })?;
                    if rec.kind == LayerKind::DepthwiseConv2d {
                        kernels::depthwise(&rec, &tables.weights, src, signed, dst)
                    } else {
                        dispatch::weighted(&rec, &tables.weights, src, signed, dst, patch)
                    }
                    .map_err(|_| Error::BadShape { layer: i })?;
                    cur ^= 1;
                } else if rec.kind == LayerKind::Add {
                    let buf = bufs.get_mut(cur).and_then(|b| b.get_mut(..len)).ok_or(Error::BadShape { layer: i })?;
                    kernels::add(&rec, tables.weights.requant, buf, signed, keep, keep_signed)
                        .map_err(|_| Error::BadShape { layer: i })?;
                } else if rec.kind == LayerKind::Softmax {
                    let buf = bufs.get_mut(cur).and_then(|b| b.get_mut(..len)).ok_or(Error::BadShape { layer: i })?;
                    kernels::softmax(tables.lut, buf, signed).map_err(|_| Error::OutOfBounds { layer: i })?;
                } else if rec.kind.has_lut() {
                    let buf = bufs.get_mut(cur).and_then(|b| b.get_mut(..len)).ok_or(Error::BadShape { layer: i })?;
                    kernels::lookup(tables.lut, buf).map_err(|_| Error::OutOfBounds { layer: i })?;
                } else if rec.kind.is_pool() {
                    // In place: every output is written at or before the first input it reads.
                    let buf = bufs.get_mut(cur).and_then(|b| b.get_mut(..len)).ok_or(Error::BadShape { layer: i })?;
                    kernels::pool(&rec, buf, signed).map_err(|_| Error::BadShape { layer: i })?;
                }
                signed = rec.signed_out();
                scale = rec.out_scale;
                len = out_len;
                if rec.flags & format::LAYER_KEEP != 0 {
                    let out = bufs.get(cur).and_then(|b| b.get(..len)).ok_or(Error::BadShape { layer: i })?;
                    keep.get_mut(..len).ok_or(Error::BadShape { layer: i })?.copy_from_slice(out);
                    keep_signed = signed;
                }
                after(Step::Layer(i));
            }
        }
        let [x, y] = bufs;
        let out: &'s [u8] = if cur == 0 { x } else { y };
        Ok((out.get(..len).ok_or(Error::OutputLength { expected: len, found: out.len() })?, signed, scale))
    }

    /// Quantizes 8-bit `[c][h][w]` pixels into channel-last input bytes, exactly as
    /// [`quantize_image`] quantizes the values the trainer makes of them.
    fn quantize_pixels(&self, pixels: &[u8], dst: &mut [u8]) {
        let (signed, scale) = (self.header.input_signed, self.header.input_scale);
        // p / 255 quantized with a step of 1 / 255 is p again (the f32 error is far below half a
        // step): the bytes are the quantized input.
        if !signed && scale == 1.0 / 255.0 {
            to_channel_last(pixels, self.header.input, dst, |x| x);
        } else {
            to_channel_last(pixels, self.header.input, dst, |x| {
                let v = if signed { f32::from(x) / 127.5 - 1.0 } else { f32::from(x) / 255.0 };
                quantize(v, signed, scale)
            });
        }
    }

    /// Converts the final channel-last image bytes to `[c][h][w]` values.
    fn write_image(&self, q: &[u8], signed: bool, scale: f32, image: &mut [f32]) {
        let s = self.header.input;
        let (c, hw) = (usize::from(s.c), usize::from(s.h) * usize::from(s.w));
        if c == 1 {
            // One channel: the bytes are the plane already.
            dequantize(q.get(..hw).unwrap_or_default(), signed, scale, image);
            return;
        }
        for (p, pixel) in q.chunks_exact(c.max(1)).enumerate() {
            for (ch, &b) in pixel.iter().enumerate() {
                if let Some(v) = image.get_mut(ch * hw + p) {
                    *v = value(b, signed) as f32 * scale;
                }
            }
        }
    }
}

enum Source<'x> {
    /// An image's values, `[c][h][w]`.
    Image(&'x [f32]),
    /// An image's 8-bit pixels, `[c][h][w]`.
    Pixels(&'x [u8]),
    /// A code's values.
    Code(&'x [f32]),
    /// A code's bytes.
    CodeBytes(&'x [i8]),
}

fn check_len(found: usize, expected: usize, input: bool) -> Result<(), Error> {
    if found == expected {
        Ok(())
    } else if input {
        Err(Error::InputLength { expected, found })
    } else {
        Err(Error::OutputLength { expected, found })
    }
}
