//! Post-training int8 quantization into the runtime format.
//!
//! Weights: symmetric int8 per output channel. Activations: one scale per tensor, zero point 0,
//! unsigned bytes after ReLU and sigmoid, signed bytes elsewhere; scales calibrated on float
//! activations of real images. Biases: i32 at the accumulator's scale. Each output channel's
//! rescale factor becomes a 31-bit fixed-point multiplier and a shift, so the runtime needs no
//! floating point between layers. Sigmoid and tanh become 256-entry tables.

use bottleneck_runtime::format::{
    FLAG_CLASSIFIER, FLAG_CLASSIFIER_FROM_CODE, FLAG_LATENT_STATS, FLAG_VAE, Header, LAYER_KEEP, LAYER_RELU,
    LAYER_SIGNED, LayerKind, LayerRecord, MAX_BIAS, MAX_DIM, MAX_LAYERS, MAX_TERMS, SOFTMAX_ONE, Shape as RtShape,
    Span, packed_at, padded_terms,
};

use crate::bnq::{Assembler, LayerData, Metadata};
use crate::error::ExportError;
use crate::graph::{InputRange, Layer, Model, Shape, Variant};
use crate::lower::{Lowered, lower, runtime_bias, runtime_weights, trace_ops};
use crate::reference::sigmoid;

/// Pre-sigmoid activations beyond +-8 all map to the end of the sigmoid table.
const SIGMOID_CLIP: f32 = 8.0;
/// Pre-tanh activations beyond +-4 all map to the end of the tanh table.
const TANH_CLIP: f32 = 4.0;
/// Codes drawn from the sampling distribution join the decoder's calibration set.
const SAMPLED_CODES: usize = 256;

/// How a tensor's bytes map to real values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quant {
    /// Real value of one step.
    pub scale: f32,
    /// Signed (`i8`, -127..=127) or unsigned (`u8`, 0..=255) bytes.
    pub signed: bool,
}

impl Quant {
    fn quantize(self, x: f32) -> i32 {
        let q = (f64::from(x) / f64::from(self.scale)).round() as i32;
        if self.signed { q.clamp(-127, 127) } else { q.clamp(0, 255) }
    }

    fn dequantize(self, byte: u8) -> f32 {
        let v = if self.signed { i32::from(byte as i8) } else { i32::from(byte) };
        v as f32 * self.scale
    }
}

/// One exported layer, for reports.
#[derive(Debug, Clone)]
pub struct LayerReport {
    /// Section: `encoder`, `decoder` or `classifier`.
    pub section: &'static str,
    /// Runtime kind.
    pub kind: &'static str,
    /// Input shape `[c, h, w]`.
    pub input: Shape,
    /// Output shape.
    pub output: Shape,
    /// ReLU fused.
    pub relu: bool,
    /// Output quantization.
    pub out: Quant,
    /// Weight bytes (int8) plus bias and requantization bytes.
    pub bytes: usize,
}

/// The int8 file and what went into it.
#[derive(Debug, Clone)]
pub struct Quantized {
    /// The `.bnq` file.
    pub bytes: Vec<u8>,
    /// Per-layer summary.
    pub layers: Vec<LayerReport>,
    /// Scale of the code (0 for a classifier alone).
    pub code_scale: f32,
}

fn input_quant(range: InputRange) -> Quant {
    match range {
        InputRange::Unit => Quant { scale: 1.0 / 255.0, signed: false },
        InputRange::Symmetric => Quant { scale: 1.0 / 127.0, signed: true },
    }
}

/// Largest |value| (or largest value, for unsigned tensors) seen at each op's output.
fn calibrate(ops: &[Lowered], inputs: &[Vec<f32>]) -> Result<Vec<(f32, f32)>, ExportError> {
    let mut ranges = vec![(0f32, 0f32); ops.len()]; // (max, max |x|)
    for x in inputs {
        let trace = trace_ops(ops, x);
        for (r, out) in ranges.iter_mut().zip(trace.iter().skip(1)) {
            for &v in out {
                if !v.is_finite() {
                    return Err(ExportError::Calibration(
                        "a calibration image produced a non-finite activation".into(),
                    ));
                }
                r.0 = r.0.max(v);
                r.1 = r.1.max(v.abs());
            }
        }
    }
    Ok(ranges)
}

/// Output quantization of every op of a section.
fn plan_quants(
    ops: &[Lowered],
    ranges: &[(f32, f32)],
    input: Quant,
    code: Option<Quant>,
) -> Result<Vec<Quant>, ExportError> {
    let mut quants = Vec::with_capacity(ops.len());
    let mut prev = input;
    for (i, op) in ops.iter().enumerate() {
        // The activation table this op feeds, if any (reshapes in between do not matter).
        let feeds = ops[i + 1..]
            .iter()
            .find(|o| {
                !matches!(
                    o.layer,
                    Layer::Flatten | Layer::Unflatten { .. } | Layer::MaxPool2d { .. } | Layer::AvgPool2d { .. }
                )
            })
            .map(|o| &o.layer);
        let q = match &op.layer {
            Layer::Sigmoid => Quant { scale: 1.0 / 255.0, signed: false },
            Layer::Tanh => Quant { scale: 1.0 / 127.0, signed: true },
            // Probabilities: 255 is 1.
            Layer::Softmax => Quant { scale: 1.0 / 255.0, signed: false },
            // Reshapes move bytes and pools pick or average them: the scale carries over.
            Layer::Flatten | Layer::Unflatten { .. } | Layer::MaxPool2d { .. } | Layer::AvgPool2d { .. } => prev,
            // A kept identity marker moves nothing (an add, also an identity op, rescales).
            Layer::Identity if op.source.is_none() => prev,
            _ if op.relu => Quant { scale: ranges[i].0.max(1e-6) / 255.0, signed: false },
            _ => {
                let clip = match feeds {
                    Some(Layer::Sigmoid) => SIGMOID_CLIP,
                    Some(Layer::Tanh) => TANH_CLIP,
                    _ => f32::INFINITY,
                };
                Quant { scale: ranges[i].1.min(clip).max(1e-6) / 127.0, signed: true }
            }
        };
        quants.push(q);
        prev = q;
    }
    if let (Some(code), Some(last)) = (code, ops.last()) {
        let n = quants.len() - 1;
        match &last.layer {
            // A ReLU'd code is still stored signed (the code is signed by definition); the runtime
            // clamps it at zero.
            Layer::Linear { .. }
            | Layer::Conv2d { .. }
            | Layer::DepthwiseConv2d { .. }
            | Layer::ConvTranspose2d { .. } => {
                quants[n] = code;
            }
            Layer::Tanh if code == quants[n] => {}
            _ => {
                return Err(ExportError::Unsupported(
                    "the encoder must end with a linear or convolution layer (or tanh)".into(),
                ));
            }
        }
    }
    Ok(quants)
}

/// Fixed-point form `mult * 2^-shift` of a positive rescale factor, `mult` in `[2^30, 2^31)`.
pub(crate) fn fixed_point(m: f64) -> Result<(i32, i32), ExportError> {
    if !(m.is_finite() && m > 0.0) {
        return Err(ExportError::Calibration(format!("rescale factor {m} is not a positive number")));
    }
    let e = m.log2().floor() as i32;
    let mut shift = 30 - e;
    let mut mult = (m * 2f64.powi(shift)).round() as i64;
    if mult >= 1 << 31 {
        mult /= 2;
        shift -= 1;
    }
    if shift > 62 {
        // Tiny factor: lose precision rather than range.
        mult = (m * 2f64.powi(62)).round() as i64;
        shift = 62;
    }
    if shift < 1 {
        return Err(ExportError::TooLarge(format!("rescale factor {m} is too large")));
    }
    Ok((mult as i32, shift))
}

fn dim(v: usize, what: &str) -> Result<u16, ExportError> {
    if v == 0 || v > MAX_DIM {
        return Err(ExportError::TooLarge(format!("{what} is {v}; the runtime takes 1..={MAX_DIM}")));
    }
    Ok(v as u16)
}

fn rt_shape(s: Shape) -> Result<RtShape, ExportError> {
    Ok(RtShape { c: dim(s[0], "a channel count")?, h: dim(s[1], "a height")?, w: dim(s[2], "a width")? })
}

/// Converts one lowered op to a runtime record plus its tables.
/// `kept` is, for an add, the file index of the kept layer it reads and that layer's quantization.
fn emit(
    op: &Lowered,
    in_q: Quant,
    out_q: Quant,
    kept: Option<(usize, Quant)>,
) -> Result<(LayerData, usize), ExportError> {
    let flags = (if op.relu { LAYER_RELU } else { 0 })
        | (if out_q.signed { LAYER_SIGNED } else { 0 })
        | (if op.keep { LAYER_KEEP } else { 0 });
    let mut rec = LayerRecord {
        kind: LayerKind::Reshape,
        flags,
        kernel: (1, 1),
        stride: 1,
        padding: 0,
        output_padding: 0,
        input: rt_shape(op.input)?,
        output: rt_shape(op.output)?,
        out_scale: out_q.scale,
        weights: 0,
        bias: 0,
        requant: 0,
        lut: 0,
        source: 0,
    };
    let mut data = LayerData::default();
    match &op.layer {
        Layer::Conv2d { stride, padding, .. }
        | Layer::DepthwiseConv2d { stride, padding, .. }
        | Layer::ConvTranspose2d { stride, padding, .. } => {
            rec.kind = match op.layer {
                Layer::Conv2d { .. } => LayerKind::Conv2d,
                Layer::DepthwiseConv2d { .. } => LayerKind::DepthwiseConv2d,
                _ => LayerKind::ConvTranspose2d,
            };
            let small = |v: usize, what: &str| {
                u8::try_from(v).map_err(|_| ExportError::TooLarge(format!("{what} {v} exceeds 255")))
            };
            rec.stride = small(*stride, "stride")?;
            rec.padding = small(*padding, "padding")?;
            if let Layer::ConvTranspose2d { output_padding, .. } = &op.layer {
                rec.output_padding = small(*output_padding, "output padding")?;
            }
        }
        Layer::Linear { .. } => rec.kind = LayerKind::Linear,
        Layer::Identity => {
            if let Some((source, kept_q)) = kept {
                // An add: both operands rescaled to the output's scale with one shift.
                rec.kind = LayerKind::Add;
                rec.source = u16::try_from(source)
                    .map_err(|_| ExportError::TooLarge(format!("layer index {source} of an add")))?;
                let (fa, fb) =
                    (f64::from(in_q.scale) / f64::from(out_q.scale), f64::from(kept_q.scale) / f64::from(out_q.scale));
                let (_, shift) = fixed_point(fa.max(fb))?;
                let at = |f: f64| (f * 2f64.powi(shift)).round().min(f64::from(i32::MAX)) as i32;
                data.requant = vec![(at(fa), shift), (at(fb), shift)];
            }
        }
        Layer::Softmax => {
            rec.kind = LayerKind::Softmax;
            // exp(-d input steps) in units of 1/65535, d = 0..=255 (docs/runtime-format.md).
            data.lut = (0..256u32)
                .flat_map(|d| {
                    let v = (f64::from(SOFTMAX_ONE) * (-f64::from(d) * f64::from(in_q.scale)).exp()).round();
                    (v as u16).to_le_bytes()
                })
                .collect();
        }
        Layer::MaxPool2d { kernel, stride } | Layer::AvgPool2d { kernel, stride } => {
            rec.kind =
                if matches!(op.layer, Layer::MaxPool2d { .. }) { LayerKind::MaxPool2d } else { LayerKind::AvgPool2d };
            let small = |v: usize, what: &str| {
                u8::try_from(v).map_err(|_| ExportError::TooLarge(format!("pooling {what} {v} exceeds 255")))
            };
            rec.kernel = (small(*kernel, "window")?, small(*kernel, "window")?);
            rec.stride = small(*stride, "stride")?;
        }
        Layer::Sigmoid | Layer::Tanh => {
            rec.kind = if matches!(op.layer, Layer::Sigmoid) { LayerKind::Sigmoid } else { LayerKind::Tanh };
            data.lut = (0..=255u8)
                .map(|b| {
                    let x = in_q.dequantize(b);
                    let y = if matches!(op.layer, Layer::Sigmoid) { sigmoid(x) } else { x.tanh() };
                    out_q.quantize(y) as u8
                })
                .collect();
        }
        _ => {}
    }
    if op.is_weighted() {
        let (w, channel, [kh, kw, ic, oc]) = runtime_weights(op);
        rec.kernel = (
            u8::try_from(kh).map_err(|_| ExportError::TooLarge(format!("kernel height {kh}")))?,
            u8::try_from(kw).map_err(|_| ExportError::TooLarge(format!("kernel width {kw}")))?,
        );
        if kh * kw * ic > MAX_TERMS {
            return Err(ExportError::TooLarge(format!("{} terms per output exceed {MAX_TERMS}", kh * kw * ic)));
        }
        let bias = runtime_bias(op);
        // Per-output-channel weight scales; layout is [tap][in][out], so channel o is every oc-th value.
        let mut absmax = vec![0f32; oc];
        for (&v, &c) in w.iter().zip(&channel) {
            absmax[c] = absmax[c].max(v.abs());
        }
        let w_scale: Vec<f32> = absmax.iter().map(|&a| if a > 0.0 { a / 127.0 } else { 1.0 }).collect();
        let plain: Vec<u8> = w
            .iter()
            .zip(&channel)
            .map(|(&v, &c)| ((v / w_scale[c]).round().clamp(-127.0, 127.0) as i8) as u8)
            .collect();
        data.weights = if rec.kind == LayerKind::DepthwiseConv2d {
            // One `[ky][kx][c]` table, padded to whole words.
            let mut w = plain;
            w.resize(rec.weights_len(), 0);
            w
        } else {
            pack_weights(&rec, &plain)
        };
        for o in 0..oc {
            let acc_scale = f64::from(w_scale[o]) * f64::from(in_q.scale);
            let b = (f64::from(bias[o]) / acc_scale).round().clamp(-f64::from(MAX_BIAS), f64::from(MAX_BIAS)) as i32;
            data.bias.push(b);
            data.requant.push(fixed_point(acc_scale / f64::from(out_q.scale))?);
        }
    }
    let bytes = data.weights.len() + 4 * data.bias.len() + 8 * data.requant.len() + data.lut.len();
    data.record = Some(rec);
    Ok((data, bytes))
}

/// Lays out `plain` weights (blocks of `oc` rows of `k` terms, as `runtime_weights` orders them)
/// as format version 2 stores them: rows padded to whole words, four channels interleaved
/// (`format::packed_at`).
fn pack_weights(rec: &LayerRecord, plain: &[u8]) -> Vec<u8> {
    let oc = usize::from(rec.output.c);
    let mut out = vec![0u8; rec.weights_len()];
    let (mut from, mut to) = (0, 0);
    for k in (0..).map_while(|b| rec.block_terms(b)) {
        let kp = padded_terms(k);
        for o in 0..oc {
            for t in 0..k {
                out[to + packed_at(oc, kp, o, t)] = plain[from + o * k + t];
            }
        }
        from += oc * k;
        to += oc * kp;
    }
    debug_assert_eq!(from, plain.len());
    out
}

fn kind_name(op: &Lowered) -> &'static str {
    match op.layer {
        Layer::Conv2d { .. } => "conv2d",
        Layer::DepthwiseConv2d { .. } => "depthwise-conv2d",
        Layer::ConvTranspose2d { .. } => "conv-transpose2d",
        Layer::Linear { .. } => "linear",
        Layer::Sigmoid => "sigmoid",
        Layer::Tanh => "tanh",
        Layer::Identity if op.source.is_some() => "add",
        Layer::Softmax => "softmax",
        Layer::MaxPool2d { .. } => "max-pool2d",
        Layer::AvgPool2d { .. } => "avg-pool2d",
        _ => "reshape",
    }
}

/// Seeded codes from the model's sampling distribution (N(0, I) for a VAE, the code statistics for
/// an autoencoder), so that decoder ranges cover what `sample` feeds it.
fn sampled_codes(model: &Model) -> Vec<Vec<f32>> {
    let mut rng = bottleneck_runtime::Rng::new(0x5eed);
    (0..SAMPLED_CODES)
        .map(|_| {
            (0..model.latent)
                .map(|d| {
                    let n = rng.normal();
                    match (&model.latent_stats, model.variant) {
                        (Some(s), Variant::Autoencoder) => s.mean[d] + s.std[d] * n,
                        _ => n,
                    }
                })
                .collect()
        })
        .collect()
}

/// Quantizes `model`, calibrating activation ranges on `images` (channel-major, in the model's
/// input range).
///
/// # Errors
/// [`ExportError`] when the graph is inconsistent, has a layer sequence without an int8 form, is
/// too large for the format, or calibration fails.
pub fn quantize(model: &Model, images: &[Vec<f32>]) -> Result<Quantized, ExportError> {
    model.validate()?;
    if images.is_empty() {
        return Err(ExportError::Calibration("no calibration images".into()));
    }
    let in_q = input_quant(model.input_range);
    let mut flags = 0u16;
    let mut sections: Vec<(&'static str, Vec<Lowered>, Vec<Quant>, Quant)> = Vec::new();
    // A classifier alone (a CNN): no code, one section from the image to the logits.
    let mut code_q = None;
    let mut codes = Vec::new();
    if model.has_autoencoder() {
        let code_shape: Shape = [model.latent, 1, 1];
        let keep = (model.variant == Variant::Variational).then_some(model.latent);
        let enc_ops = lower(&model.encoder, model.input, keep, "encoder")?;
        let dec_ops = lower(&model.decoder, code_shape, None, "decoder")?;

        // Codes of the calibration images, and the code scale covering them and the sampler's range.
        codes = images.iter().map(|x| trace_ops(&enc_ops, x).pop().unwrap_or_default()).collect();
        let sampled = sampled_codes(model);
        let code_max = codes.iter().chain(&sampled).flatten().fold(0f32, |m, v| m.max(v.abs()));
        if !code_max.is_finite() || code_max == 0.0 {
            return Err(ExportError::Calibration(format!("codes span {code_max}, cannot choose a scale")));
        }
        let cq = Quant { scale: code_max / 127.0, signed: true };
        code_q = Some(cq);

        let enc_ranges = calibrate(&enc_ops, images)?;
        let enc_q = plan_quants(&enc_ops, &enc_ranges, in_q, Some(cq))?;
        let dec_inputs: Vec<Vec<f32>> = codes.iter().chain(&sampled).cloned().collect();
        let dec_ranges = calibrate(&dec_ops, &dec_inputs)?;
        let dec_q = plan_quants(&dec_ops, &dec_ranges, cq, None)?;
        sections.push(("encoder", enc_ops, enc_q, in_q));
        sections.push(("decoder", dec_ops, dec_q, cq));
        if model.variant == Variant::Variational {
            flags |= FLAG_VAE;
        }
        if model.latent_stats.is_some() {
            flags |= FLAG_LATENT_STATS;
        }
    }
    if let Some(c) = &model.classifier {
        flags |= FLAG_CLASSIFIER;
        let head_net = c.head.clone();
        let code_shape: Shape = [model.latent, 1, 1];
        let (ops, q, start) = match (&c.encoder, code_q) {
            (None, Some(cq)) => {
                flags |= FLAG_CLASSIFIER_FROM_CODE;
                let ops = lower(&head_net, code_shape, None, "classifier head")?;
                let ranges = calibrate(&ops, &codes)?;
                let q = plan_quants(&ops, &ranges, cq, None)?;
                (ops, q, cq)
            }
            (None, None) => return Err(ExportError::Graph("a classifier without an encoder reads no code".into())),
            (Some(enc), _) => {
                let mut net = enc.clone();
                net.layers.extend(head_net.layers);
                let ops = lower(&net, model.input, None, "classifier")?;
                let ranges = calibrate(&ops, images)?;
                let q = plan_quants(&ops, &ranges, in_q, None)?;
                (ops, q, in_q)
            }
        };
        sections.push(("classifier", ops, q, start));
    }

    let mut asm = Assembler::default();
    let mut spans: Vec<(&str, Span)> = Vec::new();
    let mut reports = Vec::new();
    for (name, ops, quants, start_q) in &sections {
        let first = asm.layer_count();
        let mut prev = *start_q;
        for (op, &q) in ops.iter().zip(quants) {
            let kept = op.source.map(|s| (first + s, quants[s]));
            let (data, bytes) = emit(op, prev, q, kept)?;
            asm.push(data);
            reports.push(LayerReport {
                section: name,
                kind: kind_name(op),
                input: op.input,
                output: op.output,
                relu: op.relu,
                out: q,
                bytes,
            });
            prev = q;
        }
        spans.push((name, Span { first: first as u16, count: (asm.layer_count() - first) as u16 }));
    }
    if asm.layer_count() > MAX_LAYERS {
        return Err(ExportError::TooLarge(format!("{} layers exceed {MAX_LAYERS}", asm.layer_count())));
    }
    let span = |name: &str| spans.iter().find(|(n, _)| *n == name).map(|&(_, s)| s).unwrap_or_default();
    let header = Header {
        flags,
        layer_count: asm.layer_count() as u16,
        input: rt_shape(model.input)?,
        input_signed: in_q.signed,
        input_scale: in_q.scale,
        latent: if model.has_autoencoder() { dim(model.latent, "the code size")? } else { 0 },
        classes: if model.classifier.is_some() { dim(model.classes.len(), "the class count")? } else { 0 },
        code_scale: code_q.map_or(0.0, |q| q.scale),
        encoder: span("encoder"),
        decoder: span("decoder"),
        classifier: span("classifier"),
        ..Header::default()
    };
    let stats = model.latent_stats.as_ref().map(|s| (s.mean.clone(), s.std.clone()));
    let metadata = Metadata {
        name: Some(model.name.clone()),
        class_names: if model.classifier.is_some() { model.classes.clone() } else { Vec::new() },
        input_range: Some(model.input_range.bounds()),
    };
    let bytes = asm.finish(header, stats, &metadata);
    Ok(Quantized { bytes, layers: reports, code_scale: code_q.map_or(0.0, |q| q.scale) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_represents_factors_closely() {
        for m in [1e-9, 3.7e-5, 0.001234, 0.5, 0.75, 0.999_999, 1.0, 3.25, 1000.0] {
            let (mult, shift) = fixed_point(m).unwrap();
            assert!((1..=62).contains(&shift), "{m}: shift {shift}");
            assert!(mult > 0);
            let back = f64::from(mult) / 2f64.powi(shift);
            assert!((back - m).abs() / m < 1e-8 || m < 1e-8, "{m} -> {back}");
        }
        assert!(fixed_point(0.0).is_err());
        assert!(fixed_point(f64::NAN).is_err());
        assert!(fixed_point(1e12).is_err());
    }
}
