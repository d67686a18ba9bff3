//! A plain float interpreter of [`Network`]s, for calibration and as an independent check of the
//! trainer's graph conversion. Channel-major (`[c][h][w]`), one image at a time, f64 accumulation.

use crate::error::ExportError;
use crate::graph::{Layer, Network, Shape, layer_output};

/// Runs `net` on one input of shape `shape`; returns the output and its shape.
///
/// # Errors
/// [`ExportError::Graph`] when a layer does not fit its input.
pub fn forward(net: &Network, input: &[f32], shape: Shape) -> Result<(Vec<f32>, Shape), ExportError> {
    let mut x = input.to_vec();
    let mut s = shape;
    for (i, layer) in net.layers.iter().enumerate() {
        let out = layer_output(layer, s, i)?;
        x = apply(layer, &x, s, out);
        s = out;
    }
    Ok((x, s))
}

/// Runs `net` and returns every layer's output (for calibration), the input first.
///
/// # Errors
/// As [`forward`].
pub fn trace(net: &Network, input: &[f32], shape: Shape) -> Result<Vec<Vec<f32>>, ExportError> {
    let mut outs = vec![input.to_vec()];
    let mut s = shape;
    for (i, layer) in net.layers.iter().enumerate() {
        let out = layer_output(layer, s, i)?;
        let next = apply(layer, outs.last().map_or(&[][..], Vec::as_slice), s, out);
        outs.push(next);
        s = out;
    }
    Ok(outs)
}

/// One layer, shapes already checked.
pub(crate) fn apply(layer: &Layer, x: &[f32], input: Shape, output: Shape) -> Vec<f32> {
    let [ic, ih, iw] = input;
    let [oc, oh, ow] = output;
    match layer {
        Layer::Conv2d { weight, bias, stride, padding } => {
            let (kh, kw) = (weight.shape[2], weight.shape[3]);
            let mut y = vec![0f32; oc * oh * ow];
            for o in 0..oc {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = f64::from(bias[o]);
                        for c in 0..ic {
                            for ky in 0..kh {
                                let Some(iy) = (oy * stride + ky).checked_sub(*padding).filter(|&v| v < ih) else {
                                    continue;
                                };
                                for kx in 0..kw {
                                    let Some(ix) = (ox * stride + kx).checked_sub(*padding).filter(|&v| v < iw) else {
                                        continue;
                                    };
                                    let wv = weight.data[((o * ic + c) * kh + ky) * kw + kx];
                                    acc += f64::from(wv) * f64::from(x[(c * ih + iy) * iw + ix]);
                                }
                            }
                        }
                        y[(o * oh + oy) * ow + ox] = acc as f32;
                    }
                }
            }
            y
        }
        Layer::DepthwiseConv2d { weight, bias, stride, padding } => {
            let (kh, kw) = (weight.shape[2], weight.shape[3]);
            let mut y = vec![0f32; oc * oh * ow];
            for c in 0..oc {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = f64::from(bias[c]);
                        for ky in 0..kh {
                            let Some(iy) = (oy * stride + ky).checked_sub(*padding).filter(|&v| v < ih) else {
                                continue;
                            };
                            for kx in 0..kw {
                                let Some(ix) = (ox * stride + kx).checked_sub(*padding).filter(|&v| v < iw) else {
                                    continue;
                                };
                                let wv = weight.data[(c * kh + ky) * kw + kx];
                                acc += f64::from(wv) * f64::from(x[(c * ih + iy) * iw + ix]);
                            }
                        }
                        y[(c * oh + oy) * ow + ox] = acc as f32;
                    }
                }
            }
            y
        }
        Layer::ConvTranspose2d { weight, bias, stride, padding, .. } => {
            let (kh, kw) = (weight.shape[2], weight.shape[3]);
            let mut acc = vec![0f64; oc * oh * ow];
            for (o, plane) in acc.chunks_mut(oh * ow).enumerate() {
                plane.fill(f64::from(bias[o]));
            }
            // Scatter form: input pixel (iy, ix) adds w * x at output (iy*s - p + ky, ix*s - p + kx).
            for c in 0..ic {
                for iy in 0..ih {
                    for ix in 0..iw {
                        let xv = f64::from(x[(c * ih + iy) * iw + ix]);
                        for o in 0..oc {
                            for ky in 0..kh {
                                let Some(oy) = (iy * stride + ky).checked_sub(*padding).filter(|&v| v < oh) else {
                                    continue;
                                };
                                for kx in 0..kw {
                                    let Some(ox) = (ix * stride + kx).checked_sub(*padding).filter(|&v| v < ow) else {
                                        continue;
                                    };
                                    let wv = f64::from(weight.data[((c * oc + o) * kh + ky) * kw + kx]);
                                    acc[(o * oh + oy) * ow + ox] += wv * xv;
                                }
                            }
                        }
                    }
                }
            }
            acc.into_iter().map(|v| v as f32).collect()
        }
        Layer::Linear { weight, bias } => {
            let n_in = weight.shape[1];
            (0..oc)
                .map(|o| {
                    let row = &weight.data[o * n_in..(o + 1) * n_in];
                    let dot: f64 = row.iter().zip(x).map(|(&w, &v)| f64::from(w) * f64::from(v)).sum();
                    (dot + f64::from(bias[o])) as f32
                })
                .collect()
        }
        Layer::BatchNorm { gamma, beta, mean, var, epsilon } => {
            let hw = ih * iw;
            x.iter()
                .enumerate()
                .map(|(i, &v)| {
                    let c = i / hw;
                    (v - mean[c]) / (var[c] + epsilon).sqrt() * gamma[c] + beta[c]
                })
                .collect()
        }
        Layer::MaxPool2d { kernel, stride } | Layer::AvgPool2d { kernel, stride } => {
            let max = matches!(layer, Layer::MaxPool2d { .. });
            let mut y = vec![0f32; oc * oh * ow];
            for c in 0..oc {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let window = (0..kernel * kernel)
                            .map(|k| x[(c * ih + oy * stride + k / kernel) * iw + ox * stride + k % kernel]);
                        y[(c * oh + oy) * ow + ox] = if max {
                            window.fold(f32::NEG_INFINITY, f32::max)
                        } else {
                            (window.map(f64::from).sum::<f64>() / (kernel * kernel) as f64) as f32
                        };
                    }
                }
            }
            y
        }
        Layer::Relu => x.iter().map(|&v| v.max(0.0)).collect(),
        Layer::Identity => x.to_vec(),
        Layer::Residual { body } => {
            let (y, _) = forward(body, x, input).unwrap_or_default();
            y.iter().zip(x).map(|(a, b)| a + b).collect()
        }
        Layer::Sigmoid => x.iter().map(|&v| sigmoid(v)).collect(),
        Layer::Tanh => x.iter().map(|&v| v.tanh()).collect(),
        Layer::Softmax => {
            let m = x.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v));
            let e: Vec<f64> = x.iter().map(|&v| f64::from(v - m).exp()).collect();
            let sum: f64 = e.iter().sum();
            e.iter().map(|v| (v / sum) as f32).collect()
        }
        Layer::Flatten | Layer::Unflatten { .. } => x.to_vec(),
    }
}

/// The logistic function.
#[must_use]
pub fn sigmoid(v: f32) -> f32 {
    (1.0 / (1.0 + (-f64::from(v)).exp())) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Tensor;

    #[test]
    fn conv_and_transpose_match_hand_computed_values() {
        // 1x3x3 input, one 2x2 kernel of ones, stride 1, no padding: sums of 2x2 windows.
        let conv = Layer::Conv2d {
            weight: Tensor::new(vec![1, 1, 2, 2], vec![1.0; 4]).unwrap(),
            bias: vec![0.5],
            stride: 1,
            padding: 0,
        };
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let (y, s) = forward(&Network { layers: vec![conv] }, &x, [1, 3, 3]).unwrap();
        assert_eq!(s, [1, 2, 2]);
        assert_eq!(y, vec![12.5, 16.5, 24.5, 28.5]);
        // Transposed conv of a 1x2x2 input with a 2x2 kernel of ones, stride 2: each input pixel
        // becomes a 2x2 block.
        let tconv = Layer::ConvTranspose2d {
            weight: Tensor::new(vec![1, 1, 2, 2], vec![1.0; 4]).unwrap(),
            bias: vec![0.0],
            stride: 2,
            padding: 0,
            output_padding: 0,
        };
        let (y, s) = forward(&Network { layers: vec![tconv] }, &[1.0, 2.0, 3.0, 4.0], [1, 2, 2]).unwrap();
        assert_eq!(s, [1, 4, 4]);
        assert_eq!(y, vec![1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.]);
    }

    #[test]
    fn linear_and_activations() {
        let lin = Layer::Linear {
            weight: Tensor::new(vec![2, 3], vec![1., 0., -1., 0.5, 0.5, 0.5]).unwrap(),
            bias: vec![0., -10.],
        };
        let net = Network { layers: vec![lin, Layer::Relu] };
        let (y, _) = forward(&net, &[1., 2., 3.], [3, 1, 1]).unwrap();
        assert_eq!(y, vec![0.0, 0.0]);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-7);
    }
}
