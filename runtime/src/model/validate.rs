//! The checks `Model::parse` runs: the header, each layer on its own, and how the sections chain.

use super::{Model, Section};
use crate::Error;
use crate::format::{
    self, FLAG_CLASSIFIER_FROM_CODE, FLAG_LATENT_STATS, FLAG_VAE, HEADER_LEN, LAYER_LEN, LayerKind, LayerRecord,
    MAX_BIAS, MAX_DIM, MAX_LAYERS, MAX_TERMS, REQUANT_LEN, Shape, Span, TABLE_ALIGN, WEIGHT_ALIGN,
};

/// A scale the runtime can multiply by: a positive normal float.
fn scale_ok(s: f32) -> bool {
    s.is_normal() && s > 0.0
}

impl Model<'_> {
    pub(super) fn validate(&self) -> Result<(), Error> {
        let h = &self.header;
        let bad = |offset| Error::BadHeader { offset };
        let dim_ok = |s: Shape| !s.is_empty() && [s.c, s.h, s.w].iter().all(|&d| usize::from(d) <= MAX_DIM);
        if !dim_ok(h.input) {
            return Err(bad(format::at::INPUT_C));
        }
        // A file without encoder and decoder is a classifier alone: no code, so no code size,
        // code scale, sampling or statistics, and the classifier reads the image.
        let autoencoder = self.has_autoencoder();
        if (h.encoder.count == 0) != (h.decoder.count == 0) {
            return Err(bad(if h.encoder.count == 0 { format::at::ENCODER } else { format::at::DECODER }));
        }
        if (autoencoder && h.latent == 0) || (!autoencoder && h.latent != 0) || usize::from(h.latent) > MAX_DIM {
            return Err(bad(format::at::LATENT));
        }
        if !scale_ok(h.input_scale) {
            return Err(bad(format::at::INPUT_SCALE));
        }
        if (autoencoder && !scale_ok(h.code_scale)) || (!autoencoder && h.code_scale.to_bits() != 0) {
            return Err(bad(format::at::CODE_SCALE));
        }
        if !autoencoder
            && (h.flags & (FLAG_VAE | FLAG_LATENT_STATS | FLAG_CLASSIFIER_FROM_CODE) != 0 || !self.has_classifier())
        {
            return Err(bad(format::at::FLAGS));
        }
        let count = usize::from(h.layer_count);
        if count == 0 || count > MAX_LAYERS {
            return Err(bad(format::at::LAYER_COUNT));
        }
        (h.layer_table as usize)
            .checked_add(count * LAYER_LEN)
            .filter(|&end| h.layer_table as usize >= HEADER_LEN && end <= self.bytes.len())
            .filter(|_| (h.layer_table as usize).is_multiple_of(TABLE_ALIGN))
            .ok_or(bad(format::at::LAYER_TABLE))?;
        if self.has_classifier() != (h.classes > 0)
            || (!self.has_classifier() && h.flags & FLAG_CLASSIFIER_FROM_CODE != 0)
        {
            return Err(bad(format::at::CLASSES));
        }
        if h.flags & FLAG_LATENT_STATS != 0 {
            self.stats_bytes()
                .filter(|_| (h.latent_stats as usize).is_multiple_of(TABLE_ALIGN))
                .ok_or(bad(format::at::LATENT_STATS))?;
            if !self.latent_stats_ok() {
                return Err(bad(format::at::LATENT_STATS));
            }
        } else if h.latent_stats != 0 {
            return Err(bad(format::at::LATENT_STATS));
        }

        self.check_metadata()?;

        for i in 0..h.layer_count {
            let rec = self.record(i)?;
            self.check_layer(i, &rec)?;
        }

        let code = Shape::vector(h.latent);
        if autoencoder {
            let (input, code_in) = ((h.input_signed, h.input_scale), (true, h.code_scale));
            self.check_section(Section::Encoder, h.encoder, h.input, input, code, Some(h.code_scale))?;
            self.check_section(Section::Decoder, h.decoder, code, code_in, h.input, None)?;
        }
        if self.has_classifier() {
            let (from, from_q) = if self.classifier_from_code() {
                (code, (true, h.code_scale))
            } else {
                (h.input, (h.input_signed, h.input_scale))
            };
            self.check_section(Section::Classifier, h.classifier, from, from_q, Shape::vector(h.classes), None)?;
        } else if h.classifier.count != 0 {
            return Err(Error::BadSection { section: Section::Classifier as u8 });
        }
        Ok(())
    }

    /// Checks one layer on its own: shapes add up, tables lie inside the file, quantization is sane.
    fn check_layer(&self, layer: u16, rec: &LayerRecord) -> Result<(), Error> {
        let shape_err = Error::BadShape { layer };
        let quant_err = Error::BadQuantization { layer };
        for s in [rec.input, rec.output] {
            if s.is_empty() || [s.c, s.h, s.w].iter().any(|&d| usize::from(d) > MAX_DIM) {
                return Err(shape_err);
            }
        }
        if !scale_ok(rec.out_scale) {
            return Err(quant_err);
        }
        let (i, o) = (rec.input, rec.output);
        match rec.kind {
            LayerKind::Conv2d | LayerKind::ConvTranspose2d | LayerKind::DepthwiseConv2d => {
                if rec.kind == LayerKind::DepthwiseConv2d && i.c != o.c {
                    return Err(shape_err);
                }
                let (kh, kw, s, p) = (
                    usize::from(rec.kernel.0),
                    usize::from(rec.kernel.1),
                    usize::from(rec.stride),
                    usize::from(rec.padding),
                );
                if kh == 0 || kw == 0 || s == 0 || p >= kh.max(kw) {
                    return Err(shape_err);
                }
                let expect = |n: u16, k: usize| -> Option<usize> {
                    let n = usize::from(n);
                    if rec.kind != LayerKind::ConvTranspose2d {
                        if rec.output_padding != 0 {
                            return None;
                        }
                        Some((n + 2 * p).checked_sub(k)? / s + 1)
                    } else {
                        let op = usize::from(rec.output_padding);
                        if op >= s.max(1) && op != 0 {
                            return None;
                        }
                        ((n - 1) * s + k + op).checked_sub(2 * p)
                    }
                };
                if expect(i.h, kh) != Some(usize::from(o.h)) || expect(i.w, kw) != Some(usize::from(o.w)) {
                    return Err(shape_err);
                }
            }
            LayerKind::Add => {
                // Element-wise: same shape in and out; the operands' scales live in its two
                // (multiplier, shift) pairs, which share the shift.
                if i != o || rec.kernel != (1, 1) || rec.stride != 1 || rec.padding != 0 || rec.output_padding != 0 {
                    return Err(shape_err);
                }
                if !rec.signed_out() && !rec.relu() {
                    return Err(quant_err);
                }
                if rec.weights != 0 || rec.bias != 0 {
                    return Err(Error::OutOfBounds { layer });
                }
                if !(rec.requant as usize).is_multiple_of(TABLE_ALIGN) {
                    return Err(Error::BadRecord { layer, offset: format::rec::REQUANT });
                }
                let t = self.tables(layer, rec)?;
                let word = |at| format::read_i32(t.weights.requant, at).ok_or(Error::OutOfBounds { layer });
                let (ma, sa, mb, sb) = (word(0)?, word(4)?, word(8)?, word(12)?);
                if ma < 0 || mb < 0 || sa != sb || !(1..=62).contains(&sa) {
                    return Err(quant_err);
                }
            }
            LayerKind::Softmax => {
                // Over a vector; probabilities are unsigned bytes. The table starts at exp(0) and
                // never grows, so the sum it feeds is positive and bounded.
                if i.h != 1 || i.w != 1 || o != i {
                    return Err(shape_err);
                }
                if rec.relu() || rec.signed_out() {
                    return Err(quant_err);
                }
                let t = self.tables(layer, rec)?;
                let entries = t.lut.as_chunks::<2>().0;
                let value = |e: &[u8; 2]| u16::from_le_bytes(*e);
                if entries.first().map(value) != Some(format::SOFTMAX_ONE)
                    || entries.windows(2).any(|w| w.first().map(value) < w.get(1).map(value))
                {
                    return Err(quant_err);
                }
            }
            LayerKind::Linear => {
                if i.h != 1
                    || i.w != 1
                    || o.h != 1
                    || o.w != 1
                    || rec.kernel != (1, 1)
                    || rec.stride != 1
                    || rec.padding != 0
                    || rec.output_padding != 0
                {
                    return Err(shape_err);
                }
            }
            LayerKind::MaxPool2d | LayerKind::AvgPool2d => {
                let (kh, kw, st) = (usize::from(rec.kernel.0), usize::from(rec.kernel.1), usize::from(rec.stride));
                let out = |n: u16, k: usize| usize::from(n).checked_sub(k).map(|v| v / st + 1);
                if kh == 0
                    || kw == 0
                    || st == 0
                    || rec.padding != 0
                    || rec.output_padding != 0
                    || i.c != o.c
                    || out(i.h, kh) != Some(usize::from(o.h))
                    || out(i.w, kw) != Some(usize::from(o.w))
                {
                    return Err(shape_err);
                }
                if rec.relu() {
                    return Err(quant_err);
                }
            }
            LayerKind::Sigmoid | LayerKind::Tanh | LayerKind::Reshape => {
                if i.len() != o.len() || (rec.kind != LayerKind::Reshape && i != o) {
                    return Err(shape_err);
                }
                let sigmoid_unsigned = rec.kind != LayerKind::Sigmoid || !rec.signed_out();
                let tanh_signed = rec.kind != LayerKind::Tanh || rec.signed_out();
                if rec.relu() || !sigmoid_unsigned || !tanh_signed {
                    return Err(quant_err);
                }
            }
        }
        if rec.kind.has_weights() {
            // Unsigned bytes can only hold the output of a fused ReLU (requantization clamps at
            // zero). A ReLU output may still be signed: an encoder's last layer, whose code is.
            if !rec.signed_out() && !rec.relu() {
                return Err(quant_err);
            }
            let (kh, kw) = (usize::from(rec.kernel.0), usize::from(rec.kernel.1));
            let depthwise = rec.kind == LayerKind::DepthwiseConv2d;
            let terms = if depthwise { kh * kw } else { kh * kw * usize::from(i.c) };
            if terms > MAX_TERMS {
                return Err(quant_err);
            }
            let oc = usize::from(o.c);
            let misaligned = |offset: u32, align: usize| !(offset as usize).is_multiple_of(align);
            let bad_record = |offset| Error::BadRecord { layer, offset };
            if misaligned(rec.weights, WEIGHT_ALIGN) {
                return Err(bad_record(format::rec::WEIGHTS));
            }
            if misaligned(rec.bias, TABLE_ALIGN) {
                return Err(bad_record(format::rec::BIAS));
            }
            if misaligned(rec.requant, TABLE_ALIGN) {
                return Err(bad_record(format::rec::REQUANT));
            }
            let t = self.tables(layer, rec)?;
            // Row padding is 0, like every reserved byte (the kernels multiply it by zeros).
            let (mut at, mut block) = (0, 0);
            while let Some(k) = rec.block_terms(block) {
                let kp = format::padded_terms(k);
                for o in 0..oc {
                    for term in k..kp {
                        if t.weights.w.get(at + format::packed_at(oc, kp, o, term)) != Some(&0) {
                            return Err(bad_record(format::rec::WEIGHTS));
                        }
                    }
                }
                at += oc * kp;
                block += 1;
            }
            // A depthwise table's padding after its `kh x kw x c` weights.
            if depthwise && t.weights.w.get(kh * kw * oc..).is_some_and(|pad| pad.iter().any(|&b| b != 0)) {
                return Err(bad_record(format::rec::WEIGHTS));
            }
            for ch in 0..oc {
                let bias = format::read_i32(t.weights.bias, ch * 4).ok_or(Error::OutOfBounds { layer })?;
                let mult = format::read_i32(t.weights.requant, ch * REQUANT_LEN).ok_or(Error::OutOfBounds { layer })?;
                let shift =
                    format::read_i32(t.weights.requant, ch * REQUANT_LEN + 4).ok_or(Error::OutOfBounds { layer })?;
                if !(-MAX_BIAS..=MAX_BIAS).contains(&bias) || mult < 0 || !(1..=62).contains(&shift) {
                    return Err(quant_err);
                }
            }
        } else {
            // Layers without weights must not point at any (an add has only its requantization
            // pairs): a stray offset is damage.
            if rec.weights != 0 || rec.bias != 0 || (rec.requant != 0 && rec.kind != LayerKind::Add) {
                return Err(Error::OutOfBounds { layer });
            }
            self.tables(layer, rec)?;
        }
        if !rec.kind.has_lut() && rec.lut != 0 {
            return Err(Error::OutOfBounds { layer });
        }
        if rec.kind != LayerKind::Add && rec.source != 0 {
            return Err(Error::BadRecord { layer, offset: format::rec::SOURCE });
        }
        if !(rec.lut as usize).is_multiple_of(TABLE_ALIGN) {
            return Err(Error::BadRecord { layer, offset: format::rec::LUT });
        }
        Ok(())
    }

    /// Checks that a section's layers chain from `input` to `output`, and that signedness and
    /// scales agree at the joints.
    fn check_section(
        &self,
        section: Section,
        span: Span,
        input: Shape,
        (input_signed, input_scale): (bool, f32),
        output: Shape,
        output_scale: Option<f32>,
    ) -> Result<(), Error> {
        let err = Error::BadSection { section: section as u8 };
        let end = usize::from(span.first) + usize::from(span.count);
        if span.count == 0 || end > usize::from(self.header.layer_count) {
            return Err(err);
        }
        let (mut shape, mut signed, mut scale) = (input, input_signed, input_scale);
        let mut last_scale = None;
        // The last kept output of this section (layer, shape): what an add may read.
        let mut kept: Option<(u16, Shape)> = None;
        for i in span.first..span.first + span.count {
            let rec = self.record(i)?;
            if rec.input != shape {
                return Err(err);
            }
            if rec.kind == LayerKind::Add && kept != Some((rec.source, rec.input)) {
                return Err(err);
            }
            // A reshape moves no data, and pooling picks or averages values: their bytes keep
            // their signedness and scale.
            let keeps = rec.kind == LayerKind::Reshape || rec.kind.is_pool();
            if keeps && rec.signed_out() != signed {
                return Err(err);
            }
            if keeps && rec.out_scale.to_bits() != scale.to_bits() {
                return Err(err);
            }
            shape = rec.output;
            signed = rec.signed_out();
            scale = rec.out_scale;
            last_scale = Some(rec.out_scale);
            if rec.flags & format::LAYER_KEEP != 0 {
                kept = Some((i, rec.output));
            }
        }
        if shape != output {
            return Err(err);
        }
        // Codes are signed, at the header's code scale, so that decode and classify can read them.
        if let Some(code_scale) = output_scale
            && (!signed || last_scale.map(f32::to_bits) != Some(code_scale.to_bits()))
        {
            return Err(err);
        }
        Ok(())
    }
}
