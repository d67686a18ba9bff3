//! Burn modules to the burn-free layer description of `bottleneck-export`.

use anyhow::{Context as _, bail};
use bottleneck_export::{Layer, Tensor as GTensor};
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::nn::{BatchNorm, Linear, PaddingConfig2d};
use burn::prelude::*;

fn values<const D: usize>(t: Tensor<D>) -> anyhow::Result<(Vec<usize>, Vec<f32>)> {
    let dims = t.dims().to_vec();
    Ok((dims, crate::util::to_vec(t).context("reading weights")?))
}

fn bias_of(bias: Option<&burn::module::Param<Tensor<1>>>, n: usize) -> anyhow::Result<Vec<f32>> {
    match bias {
        Some(b) => Ok(values(b.val())?.1),
        None => Ok(vec![0.0; n]),
    }
}

/// A burn `Conv2d` (square stride, symmetric padding, no dilation; one group, or one per channel
/// for a depthwise convolution).
///
/// # Errors
/// For configurations the export format does not describe.
pub fn conv2d(c: &Conv2d) -> anyhow::Result<Layer> {
    let padding = match c.padding {
        PaddingConfig2d::Valid => 0,
        PaddingConfig2d::Explicit(t, l, b, r) if t == l && l == b && b == r => t,
        ref p => bail!("conv2d padding {p:?} cannot be exported (only symmetric padding)"),
    };
    let (shape, data) = values(c.weight.val())?;
    let out = shape[0];
    // groups = channels with one input channel per group: a depthwise convolution.
    let depthwise = c.groups > 1 && c.groups == out && shape.get(1) == Some(&1);
    if c.stride[0] != c.stride[1] || (c.groups != 1 && !depthwise) || c.dilation != [1, 1] {
        bail!(
            "conv2d with stride {:?}, groups {}, dilation {:?} cannot be exported (groups 1, or one per channel)",
            c.stride,
            c.groups,
            c.dilation
        );
    }
    if depthwise {
        return Ok(Layer::DepthwiseConv2d {
            weight: GTensor::new(shape, data)?,
            bias: bias_of(c.bias.as_ref(), out)?,
            stride: c.stride[0],
            padding,
        });
    }
    Ok(Layer::Conv2d {
        weight: GTensor::new(shape, data)?,
        bias: bias_of(c.bias.as_ref(), out)?,
        stride: c.stride[0],
        padding,
    })
}

/// A burn `ConvTranspose2d`.
///
/// # Errors
/// For configurations the export format does not describe.
pub fn conv_transpose2d(c: &ConvTranspose2d) -> anyhow::Result<Layer> {
    if c.stride[0] != c.stride[1]
        || c.padding[0] != c.padding[1]
        || c.padding_out[0] != c.padding_out[1]
        || c.groups != 1
        || c.dilation != [1, 1]
    {
        bail!("conv-transpose2d with stride {:?} padding {:?} cannot be exported", c.stride, c.padding);
    }
    let (shape, data) = values(c.weight.val())?;
    let out = shape[1];
    Ok(Layer::ConvTranspose2d {
        weight: GTensor::new(shape, data)?,
        bias: bias_of(c.bias.as_ref(), out)?,
        stride: c.stride[0],
        padding: c.padding[0],
        output_padding: c.padding_out[0],
    })
}

/// A burn `Linear` (weights `[in, out]`), as `[out, in]`.
///
/// # Errors
/// When the weights cannot be read.
pub fn linear(l: &Linear) -> anyhow::Result<Layer> {
    let (shape, data) = values(l.weight.val())?;
    let (d_in, d_out) = (shape[0], shape[1]);
    let mut t = vec![0f32; data.len()];
    for i in 0..d_in {
        for o in 0..d_out {
            t[o * d_in + i] = data[i * d_out + o];
        }
    }
    Ok(Layer::Linear {
        weight: GTensor::new(vec![d_out, d_in], t).context("linear weights")?,
        bias: bias_of(l.bias.as_ref(), d_out)?,
    })
}

/// A burn `BatchNorm` in evaluation mode (its running statistics).
///
/// # Errors
/// When the statistics cannot be read.
pub fn batch_norm(b: &BatchNorm) -> anyhow::Result<Layer> {
    Ok(Layer::BatchNorm {
        gamma: values(b.gamma.val())?.1,
        beta: values(b.beta.val())?.1,
        mean: values(b.running_mean.value())?.1,
        var: values(b.running_var.value())?.1,
        epsilon: b.epsilon as f32,
    })
}

#[cfg(test)]
mod tests {
    use burn::nn::conv::Conv2dConfig;

    use super::*;

    /// A burn convolution with one group per channel exports as a depthwise convolution whose
    /// float reference computes what burn computes.
    #[test]
    fn grouped_conv_exports_as_depthwise() {
        let device = Device::flex();
        let conv = Conv2dConfig::new([4, 4], [3, 3])
            .with_groups(4)
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(&device);
        let layer = conv2d(&conv).unwrap();
        assert!(matches!(&layer, Layer::DepthwiseConv2d { weight, .. } if weight.shape == [4, 1, 3, 3]), "{layer:?}");
        let x: Vec<f32> = (0..4 * 5 * 5).map(|i| ((i * 37 % 23) as f32 - 11.0) / 11.0).collect();
        let input = Tensor::<1>::from_floats(x.as_slice(), &device).reshape([1, 4, 5, 5]);
        let burn_out = crate::util::to_vec(conv.forward(input)).unwrap();
        let (reference, shape) =
            bottleneck_export::reference::forward(&bottleneck_export::Network { layers: vec![layer] }, &x, [4, 5, 5])
                .unwrap();
        assert_eq!(shape, [4, 5, 5]);
        let err = burn_out.iter().zip(&reference).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(err < 1e-5, "burn and the reference differ by {err}");
        // Groups that are not one per channel are refused, naming them.
        let grouped = Conv2dConfig::new([4, 8], [3, 3]).with_groups(2).init(&device);
        let e = conv2d(&grouped).unwrap_err().to_string();
        assert!(e.contains("groups 2"), "{e}");
    }
}
