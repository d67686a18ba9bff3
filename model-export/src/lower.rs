//! Lowering a [`Network`] to the runtime's layer kinds: batch norm folded into the layer before it,
//! ReLU fused into its weighted layer, flatten/unflatten as reshapes, dropout already gone.
//!
//! Also records where flattening changes memory order: the runtime keeps images channel-last
//! (`[h][w][c]`), so a linear layer after a flatten reads its inputs in that order, and a linear
//! layer before an unflatten must produce its outputs in that order. Those layers get their weight
//! columns (rows) permuted at export.

use crate::error::ExportError;
use crate::graph::{Layer, Network, Shape, layer_output};

/// One runtime layer, still in float.
#[derive(Debug, Clone)]
pub(crate) struct Lowered {
    /// `Conv2d`, `ConvTranspose2d`, `Linear`, `Sigmoid`, `Tanh`, `MaxPool2d`, `AvgPool2d`, `Flatten`
    /// or `Unflatten`.
    pub layer: Layer,
    /// ReLU fused after a weighted layer.
    pub relu: bool,
    pub input: Shape,
    pub output: Shape,
    /// For a linear layer: memory position of each input -> logical (channel-major) index.
    pub in_perm: Option<Vec<usize>>,
    /// For a linear layer: memory position of each output -> logical index.
    pub out_perm: Option<Vec<usize>>,
    /// Its output is kept for a later add (a residual block's input).
    pub keep: bool,
    /// For the add closing a residual block: the index (among the section's ops) of the op whose
    /// kept output it adds.
    pub source: Option<usize>,
}

impl Lowered {
    /// `layer` from `input` to `output`, with nothing fused, permuted or kept.
    fn new(layer: Layer, input: Shape, output: Shape) -> Self {
        Self { layer, relu: false, input, output, in_perm: None, out_perm: None, keep: false, source: None }
    }

    pub fn is_weighted(&self) -> bool {
        matches!(
            self.layer,
            Layer::Conv2d { .. } | Layer::DepthwiseConv2d { .. } | Layer::ConvTranspose2d { .. } | Layer::Linear { .. }
        )
    }
}

/// Memory position -> logical index for a channel-last `[c, h, w]` tensor.
pub(crate) fn channel_last_order([c, h, w]: Shape) -> Vec<usize> {
    let mut perm = Vec::with_capacity(c * h * w);
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                perm.push((ch * h + y) * w + x);
            }
        }
    }
    perm
}

fn is_identity(p: &[usize]) -> bool {
    p.iter().enumerate().all(|(i, &v)| i == v)
}

/// Lowers `net` applied to `input`. With `keep_outputs`, the last (linear) layer keeps only its
/// first that many outputs (a VAE encoder's mean).
pub(crate) fn lower(
    net: &Network,
    input: Shape,
    keep_outputs: Option<usize>,
    what: &str,
) -> Result<Vec<Lowered>, ExportError> {
    let unsupported = |i: usize, m: &str| ExportError::Unsupported(format!("{what}, layer {i}: {m}"));
    let mut out: Vec<Lowered> = Vec::new();
    let mut shape = input;
    // Memory order of the current vector, when it is a flattened channel-last tensor.
    let mut pending_perm: Option<Vec<usize>> = None;
    for (i, layer) in net.layers.iter().enumerate() {
        let next = layer_output(layer, shape, i)?;
        match layer {
            Layer::Conv2d { .. } | Layer::DepthwiseConv2d { .. } | Layer::ConvTranspose2d { .. } => {
                out.push(Lowered::new(layer.clone(), shape, next));
            }
            Layer::Linear { .. } => {
                let in_perm = pending_perm.take();
                out.push(Lowered { in_perm, ..Lowered::new(layer.clone(), shape, next) });
            }
            Layer::BatchNorm { gamma, beta, mean, var, epsilon } => {
                let prev = out
                    .last_mut()
                    .filter(|p| p.is_weighted() && !p.relu)
                    .ok_or_else(|| unsupported(i, "batch norm must directly follow a convolution or linear layer"))?;
                let scale: Vec<f32> = gamma.iter().zip(var).map(|(g, v)| g / (v + epsilon).sqrt()).collect();
                fold_affine(&mut prev.layer, &scale, beta, mean);
            }
            Layer::Relu => {
                // ReLU commutes with reshapes and max pooling: fuse it into the nearest weighted
                // layer behind them.
                let target = out
                    .iter_mut()
                    .rev()
                    .find(|p| !matches!(p.layer, Layer::Flatten | Layer::Unflatten { .. } | Layer::MaxPool2d { .. }));
                match target {
                    Some(p) if p.is_weighted() || p.source.is_some() => p.relu = true,
                    _ => return Err(unsupported(i, "ReLU must follow a convolution or linear layer")),
                }
            }
            Layer::Residual { body } => {
                if pending_perm.is_some() {
                    return Err(unsupported(i, "a residual block right after a flatten is not supported"));
                }
                if body.layers.iter().any(|l| matches!(l, Layer::Residual { .. })) {
                    return Err(unsupported(i, "residual blocks inside residual blocks are not supported"));
                }
                // The block's input is kept: the op before it, or an identity at the start.
                if out.is_empty() {
                    out.push(Lowered::new(Layer::Identity, shape, shape));
                }
                let source = out.len() - 1;
                if let Some(kept) = out.last_mut() {
                    kept.keep = true;
                }
                out.extend(lower(body, shape, None, what)?);
                out.push(Lowered { source: Some(source), ..Lowered::new(Layer::Identity, shape, next) });
            }
            Layer::Identity => {
                out.push(Lowered::new(Layer::Identity, shape, next));
            }
            Layer::Sigmoid | Layer::Tanh | Layer::Softmax | Layer::MaxPool2d { .. } | Layer::AvgPool2d { .. } => {
                if pending_perm.is_some() {
                    return Err(unsupported(i, "an activation between flatten and linear is not supported"));
                }
                out.push(Lowered::new(layer.clone(), shape, next));
            }
            Layer::Flatten => {
                if shape[1] * shape[2] > 1 && shape[0] > 1 {
                    pending_perm = Some(channel_last_order(shape));
                }
                out.push(Lowered::new(layer.clone(), shape, next));
            }
            Layer::Unflatten { .. } => {
                if next[1] * next[2] > 1 && next[0] > 1 {
                    let order = channel_last_order(next);
                    // Elementwise activations in between commute with the permutation, so the
                    // linear layer before them writes its outputs channel-last.
                    let prev = out
                        .iter_mut()
                        .rev()
                        .find(|p| !matches!(p.layer, Layer::Sigmoid | Layer::Tanh))
                        .filter(|p| matches!(p.layer, Layer::Linear { .. }))
                        .ok_or_else(|| {
                            unsupported(
                                i,
                                "unflatten to several channels must follow a linear layer (and elementwise \
                                 activations only)",
                            )
                        })?;
                    prev.out_perm = Some(order);
                }
                out.push(Lowered::new(layer.clone(), shape, next));
            }
        }
        shape = next;
    }
    if pending_perm.as_deref().is_some_and(|p| !is_identity(p)) {
        return Err(ExportError::Unsupported(format!("{what}: ends with a flattened multi-channel image")));
    }
    if let Some(k) = keep_outputs {
        let last =
            out.last_mut().filter(|p| matches!(p.layer, Layer::Linear { .. }) && !p.relu && p.out_perm.is_none());
        let last = last
            .ok_or_else(|| ExportError::Unsupported(format!("{what}: a VAE encoder must end with a linear layer")))?;
        if let Layer::Linear { weight, bias } = &mut last.layer {
            let n_in = weight.shape[1];
            weight.data.truncate(k * n_in);
            weight.shape[0] = k;
            bias.truncate(k);
        }
        last.output = [k, 1, 1];
    }
    Ok(out)
}

/// Folds `y = (x - mean) * scale + beta` (per output channel) into a weighted layer.
fn fold_affine(layer: &mut Layer, scale: &[f32], beta: &[f32], mean: &[f32]) {
    let fold_bias = |bias: &mut Vec<f32>| {
        for (o, b) in bias.iter_mut().enumerate() {
            *b = (*b - mean[o]) * scale[o] + beta[o];
        }
    };
    match layer {
        Layer::Conv2d { weight, bias, .. }
        | Layer::DepthwiseConv2d { weight, bias, .. }
        | Layer::Linear { weight, bias } => {
            // Output channel is the first dimension.
            let per = weight.data.len() / weight.shape[0];
            for (o, chunk) in weight.data.chunks_mut(per).enumerate() {
                chunk.iter_mut().for_each(|w| *w *= scale[o]);
            }
            fold_bias(bias);
        }
        Layer::ConvTranspose2d { weight, bias, .. } => {
            // [in, out, kh, kw]: output channel is the second dimension.
            let (o_n, k) = (weight.shape[1], weight.shape[2] * weight.shape[3]);
            for (j, chunk) in weight.data.chunks_mut(k).enumerate() {
                let o = j % o_n;
                chunk.iter_mut().for_each(|w| *w *= scale[o]);
            }
            fold_bias(bias);
        }
        _ => {}
    }
}

/// The network the lowered layers compute, in float (for calibration and checks).
#[cfg(test)]
pub(crate) fn as_network(ops: &[Lowered]) -> Network {
    let mut layers = Vec::new();
    // Where each op's layers start, to fold a residual block's body back into it.
    let mut starts = Vec::with_capacity(ops.len());
    for op in ops {
        starts.push(layers.len());
        match op.source {
            Some(kept) => {
                let from = starts.get(kept + 1).copied().unwrap_or(layers.len());
                let body = Network { layers: layers.split_off(from) };
                layers.push(Layer::Residual { body });
            }
            None => layers.push(op.layer.clone()),
        }
        if op.relu {
            layers.push(Layer::Relu);
        }
    }
    Network { layers }
}

/// Every op's float output for `input` (the input first), as the runtime computes them: an add
/// sums its input and the kept op's output. For calibration.
pub(crate) fn trace_ops(ops: &[Lowered], input: &[f32]) -> Vec<Vec<f32>> {
    let mut outs = vec![input.to_vec()];
    for op in ops {
        let x = outs.last().map_or(&[][..], Vec::as_slice);
        let mut y = match op.source {
            Some(kept) => {
                let k = outs.get(kept + 1).map_or(&[][..], Vec::as_slice);
                x.iter().zip(k).map(|(a, b)| a + b).collect()
            }
            None => crate::reference::apply(&op.layer, x, op.input, op.output),
        };
        if op.relu {
            y.iter_mut().for_each(|v| *v = v.max(0.0));
        }
        outs.push(y);
    }
    outs
}

/// Weights rearranged for the runtime (docs/runtime-format.md), with the output channel (in
/// memory order) of each value: conv `[out][ky][kx][in]`; transposed conv, per class `(ry, rx)`
/// of `(o + padding) mod stride`, `[out][kyi][kxi][in]` with `ky = ry + stride * kyi`; linear
/// `[out][in]` with the permutations applied; depthwise conv `[ky][kx][c]`. Also returns
/// `(kh, kw, in, out)` (`in` 1 for a depthwise convolution).
pub(crate) fn runtime_weights(op: &Lowered) -> (Vec<f32>, Vec<usize>, [usize; 4]) {
    let (mut w, mut ch) = (Vec::new(), Vec::new());
    match &op.layer {
        Layer::Conv2d { weight, .. } => {
            let [o, i, kh, kw] = [weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3]];
            for oc in 0..o {
                for y in 0..kh {
                    for x in 0..kw {
                        for ic in 0..i {
                            w.push(weight.data[((oc * i + ic) * kh + y) * kw + x]);
                            ch.push(oc);
                        }
                    }
                }
            }
            (w, ch, [kh, kw, i, o])
        }
        Layer::DepthwiseConv2d { weight, .. } => {
            // One table `[ky][kx][c]` (docs/runtime-format.md), reported as `in = 1`.
            let [c, _, kh, kw] = [weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3]];
            for y in 0..kh {
                for x in 0..kw {
                    for chan in 0..c {
                        w.push(weight.data[(chan * kh + y) * kw + x]);
                        ch.push(chan);
                    }
                }
            }
            (w, ch, [kh, kw, 1, c])
        }
        Layer::ConvTranspose2d { weight, stride, .. } => {
            let [i, o, kh, kw] = [weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3]];
            let s = (*stride).max(1);
            for ry in 0..s {
                for rx in 0..s {
                    for oc in 0..o {
                        for y in (ry..kh).step_by(s) {
                            for x in (rx..kw).step_by(s) {
                                for ic in 0..i {
                                    w.push(weight.data[((ic * o + oc) * kh + y) * kw + x]);
                                    ch.push(oc);
                                }
                            }
                        }
                    }
                }
            }
            (w, ch, [kh, kw, i, o])
        }
        Layer::Linear { weight, .. } => {
            let (o, i) = (weight.shape[0], weight.shape[1]);
            for mo in 0..o {
                let lo = op.out_perm.as_ref().map_or(mo, |p| p[mo]);
                for mi in 0..i {
                    let li = op.in_perm.as_ref().map_or(mi, |p| p[mi]);
                    w.push(weight.data[lo * i + li]);
                    ch.push(mo);
                }
            }
            (w, ch, [1, 1, i, o])
        }
        _ => (w, ch, [0; 4]),
    }
}

/// Biases in runtime (memory) order.
pub(crate) fn runtime_bias(op: &Lowered) -> Vec<f32> {
    match &op.layer {
        Layer::Conv2d { bias, .. } | Layer::DepthwiseConv2d { bias, .. } | Layer::ConvTranspose2d { bias, .. } => {
            bias.clone()
        }
        Layer::Linear { bias, .. } => match &op.out_perm {
            Some(p) => p.iter().map(|&l| bias[l]).collect(),
            None => bias.clone(),
        },
        _ => Vec::new(),
    }
}

/// `Tensor` helper for tests.
#[cfg(test)]
pub(crate) fn t(shape: &[usize], data: Vec<f32>) -> crate::graph::Tensor {
    crate::graph::Tensor::new(shape.to_vec(), data).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::forward;

    #[test]
    fn batch_norm_folds_into_conv_and_transpose() {
        let bn = |c: usize| Layer::BatchNorm {
            gamma: (0..c).map(|i| 1.0 + i as f32).collect(),
            beta: (0..c).map(|i| 0.1 * i as f32).collect(),
            mean: (0..c).map(|i| 0.2 - 0.1 * i as f32).collect(),
            var: (0..c).map(|i| 0.5 + i as f32).collect(),
            epsilon: 1e-5,
        };
        let w: Vec<f32> = (0..2 * 3 * 9).map(|i| ((i * 7) % 11) as f32 / 11.0 - 0.5).collect();
        for conv in [
            Layer::Conv2d { weight: t(&[3, 2, 3, 3], w.clone()), bias: vec![0.1, -0.2, 0.3], stride: 1, padding: 1 },
            Layer::ConvTranspose2d {
                weight: t(&[2, 3, 3, 3], w.clone()),
                bias: vec![0.1, -0.2, 0.3],
                stride: 2,
                padding: 1,
                output_padding: 1,
            },
        ] {
            let net = Network { layers: vec![conv, bn(3), Layer::Relu] };
            let x: Vec<f32> = (0..2 * 4 * 4).map(|i| (i as f32 * 0.37).sin()).collect();
            let (want, _) = forward(&net, &x, [2, 4, 4]).unwrap();
            let ops = lower(&net, [2, 4, 4], None, "test").unwrap();
            assert_eq!(ops.len(), 1);
            assert!(ops[0].relu);
            let (got, _) = forward(&as_network(&ops), &x, [2, 4, 4]).unwrap();
            for (a, b) in want.iter().zip(&got) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn misplaced_layers_are_refused_by_name() {
        let net = Network { layers: vec![Layer::Flatten, Layer::Relu] };
        let err = lower(&net, [1, 2, 2], None, "encoder").unwrap_err().to_string();
        assert!(err.contains("encoder, layer 1: ReLU must follow"), "{err}");
    }

    #[test]
    fn channel_last_order_is_a_permutation() {
        let p = channel_last_order([2, 2, 3]);
        assert_eq!(p[..4], [0, 6, 1, 7]);
        let mut s = p.clone();
        s.sort_unstable();
        assert_eq!(s, (0..12).collect::<Vec<_>>());
    }
}
