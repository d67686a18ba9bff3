//! The kernels of this folder (convolution, batch norm, pooling, linear layers, the VAE's loss) as
//! a burn backend extension: implemented for `Flex` on its `f32` storage, and for `Autodiff<B>`
//! with backward steps of our own, so that a training step on flex never enters burn's generic
//! convolution backward.
//!
//! A transposed convolution with weight `[in, out, kh, kw]` is the input gradient of the
//! convolution with that weight taking its output back to its input; its input gradient is that
//! convolution's forward pass, and its weight gradient that convolution's weight gradient with
//! the roles of input and output gradient swapped.
//!
//! This file declares the operations; `flex.rs` implements them on flex's storage, `autodiff.rs`
//! records them for the backward pass.

use burn::backend::{Backend, backend_extension, tensor::FloatTensor, tensor::IntTensor};

mod autodiff;
mod flex;

/// Stride and padding of a 2-D convolution (one group, no dilation, symmetric padding).
pub type Geometry = [[usize; 2]; 2];

/// Convolutions and batch norm on NCHW tensors whose backward passes are our own kernels.
#[backend_extension(Flex, Autodiff)]
pub trait TrainKernels: Backend {
    /// `conv(x, weight) + bias`: `x` `[n, in, h, w]`, `weight` `[out, in, kh, kw]`, `bias` `[out]`.
    fn conv2d_nchw(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        geometry: Geometry,
    ) -> FloatTensor<Self>;

    /// The transposed convolution of `x` `[n, in, h, w]` with `weight` `[in, out, kh, kw]`, plus
    /// `bias` `[out]`, to `[n, out, out_size[0], out_size[1]]`.
    fn conv_transpose2d_nchw(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        geometry: Geometry,
        out_size: [usize; 2],
    ) -> FloatTensor<Self>;

    /// The input gradient of [`Self::conv2d_nchw`] for an input of `in_size` pixels.
    fn conv2d_input_grad(
        dy: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: Geometry,
        in_size: [usize; 2],
    ) -> FloatTensor<Self>;

    /// The weight gradient of [`Self::conv2d_nchw`] for a kernel of `kernel` taps, and the bias
    /// gradient (the sums of `dy` per output channel).
    fn conv2d_weight_grad(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        geometry: Geometry,
        kernel: [usize; 2],
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// The input gradient of [`Self::conv_transpose2d_nchw`]: the convolution of `dy` with the
    /// same weight, without bias.
    fn conv_transpose2d_input_grad(
        dy: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: Geometry,
    ) -> FloatTensor<Self>;

    /// Sums of `t` `[n, c, h, w]` per channel (a transposed convolution's bias gradient).
    fn channel_sums(t: FloatTensor<Self>) -> FloatTensor<Self>;

    /// Batch norm of `x` `[n, c, h, w]` with the batch's statistics, through a ReLU: the output,
    /// and each channel's mean and biased variance.
    fn batch_norm_relu_train_nchw(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// `x W + b` (`x` `[rows, in]`, `w` `[in, out]`), through the activation `act` names (0
    /// none, 1 ReLU, 2 tanh).
    fn linear_act(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        act: u8,
    ) -> FloatTensor<Self>;

    /// Gradients of [`Self::linear_act`] with respect to `x`, the weight and the bias, from its
    /// output `y` and the output gradient `dy`.
    fn linear_act_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        y: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        act: u8,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// 2-D max pooling of `x` `[n, c, h, w]`, windows of `kernel` every `stride`, no padding.
    fn max_pool2d_nchw(x: FloatTensor<Self>, kernel: [usize; 2], stride: [usize; 2]) -> FloatTensor<Self>;

    /// The gradient of [`Self::max_pool2d_nchw`] with respect to `x`.
    fn max_pool2d_backward_nchw(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        kernel: [usize; 2],
        stride: [usize; 2],
    ) -> FloatTensor<Self>;

    /// Binary cross-entropy of `logits` `[rows, n]` against `targets` in [0, 1], summed per row.
    fn bce_with_logits_rows(logits: FloatTensor<Self>, targets: FloatTensor<Self>) -> FloatTensor<Self>;

    /// Gradients of [`Self::bce_with_logits_rows`] with respect to the logits and the targets,
    /// given the gradient of each row's loss.
    fn bce_with_logits_backward(
        logits: FloatTensor<Self>,
        targets: FloatTensor<Self>,
        row_grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// The gradients of [`Self::batch_norm_relu_train_nchw`] with respect to `x`, `gamma` and
    /// `beta`, from its output `y` and the output gradient `dy`.
    fn batch_norm_relu_backward_nchw(
        x: FloatTensor<Self>,
        y: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        var: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// Batch norm of `x` `[n, c, h, w]` with the batch's statistics, through a ReLU, then 2x2 max
    /// pooling every 2: the pooled output, each window's winner (`u8` codes, see
    /// [`crate::kernels::batch_norm_pool`]), and each channel's mean and biased variance.
    fn batch_norm_relu_pool_train_nchw(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, IntTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// The gradients of [`Self::batch_norm_relu_pool_train_nchw`] with respect to `x`, `gamma`
    /// and `beta`, from the winners and the gradient `dy` of the pooled output.
    fn batch_norm_relu_pool_backward_nchw(
        x: FloatTensor<Self>,
        winners: IntTensor<Self>,
        dy: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        var: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}
