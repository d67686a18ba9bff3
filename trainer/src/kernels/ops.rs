//! The kernels of this folder (convolution, batch norm, pooling, linear layers, the VAE's loss) as
//! a burn backend extension: implemented for `Flex` on its `f32` storage, and for `Autodiff<B>`
//! with backward steps of our own, so that a training step on flex never enters burn's generic
//! convolution backward.
//!
//! A transposed convolution with weight `[in, out, kh, kw]` is the input gradient of the
//! convolution with that weight taking its output back to its input; its input gradient is that
//! convolution's forward pass, and its weight gradient that convolution's weight gradient with
//! the roles of input and output gradient swapped.

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::flex::FlexTensor;
use burn::backend::{Backend, Flex, TensorData, TensorMetadata, backend_extension, tensor::FloatTensor};

use super::batch_norm;
use super::bce;
use super::conv::{self, ConvShape};
use super::linear::{self, Activation, LinearShape};
use super::max_pool::{self, PoolShape};

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
}

/// The shape of the convolution `x` (`[n, in, h, w]`) -> `[n, out, ..]` with kernel `kernel`.
fn conv_shape(x: [usize; 4], out_channels: usize, kernel: [usize; 2], [stride, padding]: Geometry) -> ConvShape {
    let [n, c, h, w] = x;
    ConvShape::new(n, [c, out_channels], [h, w], kernel, stride, padding).unwrap_or_else(|| {
        panic!("convolution: a {kernel:?} kernel does not fit a {h}x{w} input padded by {padding:?}")
    })
}

/// A contiguous copy (or the tensor itself, when it already is one) and its `D` dimensions.
fn dense<const D: usize>(t: FlexTensor) -> (FlexTensor, [usize; D]) {
    let t = t.to_contiguous();
    let dims = t.shape().dims::<D>();
    (t, dims)
}

fn values(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("the convolution kernels take f32 tensors (the wrapper checks the dtype)")
}

fn tensor(data: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(data, shape.to_vec()))
}

impl TrainKernels for Flex {
    fn conv2d_nchw(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, geometry: Geometry) -> FlexTensor {
        let ((x, xd), (w, wd), b) = (dense::<4>(x), dense::<4>(weight), bias.to_contiguous());
        let s = conv_shape(xd, wd[0], [wd[2], wd[3]], geometry);
        let mut y = vec![0.0; s.batch * s.out_len()];
        conv::forward(&s, values(&x), values(&w), Some(values(&b)), &mut y);
        tensor(y, &[s.batch, s.out_channels, s.out_size[0], s.out_size[1]])
    }

    fn conv_transpose2d_nchw(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        geometry: Geometry,
        out_size: [usize; 2],
    ) -> FlexTensor {
        let ((x, xd), (w, wd), b) = (dense::<4>(x), dense::<4>(weight), bias.to_contiguous());
        // The convolution this is the input gradient of: from the output back to `x`.
        let s = conv_shape([xd[0], wd[1], out_size[0], out_size[1]], wd[0], [wd[2], wd[3]], geometry);
        let mut y = vec![0.0; s.batch * s.in_len()];
        conv::backward_input(&s, values(&x), values(&w), Some(values(&b)), &mut y);
        tensor(y, &[s.batch, s.in_channels, out_size[0], out_size[1]])
    }

    fn conv2d_input_grad(dy: FlexTensor, weight: FlexTensor, geometry: Geometry, in_size: [usize; 2]) -> FlexTensor {
        let ((dy, dyd), (w, wd)) = (dense::<4>(dy), dense::<4>(weight));
        let s = conv_shape([dyd[0], wd[1], in_size[0], in_size[1]], wd[0], [wd[2], wd[3]], geometry);
        let mut dx = vec![0.0; s.batch * s.in_len()];
        conv::backward_input(&s, values(&dy), values(&w), None, &mut dx);
        tensor(dx, &[s.batch, s.in_channels, in_size[0], in_size[1]])
    }

    fn conv2d_weight_grad(
        x: FlexTensor,
        dy: FlexTensor,
        geometry: Geometry,
        kernel: [usize; 2],
    ) -> (FlexTensor, FlexTensor) {
        let ((x, xd), (dy, dyd)) = (dense::<4>(x), dense::<4>(dy));
        let s = conv_shape(xd, dyd[1], kernel, geometry);
        let (mut dw, mut db) = (vec![0.0; s.out_channels * s.patch_len()], vec![0.0; s.out_channels]);
        conv::backward_weight(&s, values(&x), values(&dy), &mut dw, Some(&mut db));
        (tensor(dw, &[s.out_channels, s.in_channels, kernel[0], kernel[1]]), tensor(db, &[s.out_channels]))
    }

    fn conv_transpose2d_input_grad(dy: FlexTensor, weight: FlexTensor, geometry: Geometry) -> FlexTensor {
        let ((dy, dyd), (w, wd)) = (dense::<4>(dy), dense::<4>(weight));
        let s = conv_shape(dyd, wd[0], [wd[2], wd[3]], geometry);
        let mut dx = vec![0.0; s.batch * s.out_len()];
        conv::forward(&s, values(&dy), values(&w), None, &mut dx);
        tensor(dx, &[s.batch, s.out_channels, s.out_size[0], s.out_size[1]])
    }

    fn channel_sums(t: FlexTensor) -> FlexTensor {
        let (t, [_, c, h, w]) = dense::<4>(t);
        tensor(conv::channel_sums(values(&t), c, h * w), &[c])
    }

    fn batch_norm_relu_train_nchw(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let ((x, [n, c, h, w]), gamma, beta) = (dense::<4>(x), gamma.to_contiguous(), beta.to_contiguous());
        let (out, mean, var) = batch_norm::forward(values(&x), c, h * w, values(&gamma), values(&beta), epsilon, true);
        (tensor(out, &[n, c, h, w]), tensor(mean, &[c]), tensor(var, &[c]))
    }

    fn max_pool2d_nchw(x: FlexTensor, kernel: [usize; 2], stride: [usize; 2]) -> FlexTensor {
        let (x, [n, c, h, w]) = dense::<4>(x);
        let s = PoolShape { planes: n * c, in_size: [h, w], kernel, stride };
        let [oh, ow] = s.out_size().expect("the wrapper checks the window fits");
        tensor(max_pool::forward(&s, values(&x)), &[n, c, oh, ow])
    }

    fn max_pool2d_backward_nchw(x: FlexTensor, dy: FlexTensor, kernel: [usize; 2], stride: [usize; 2]) -> FlexTensor {
        let ((x, [n, c, h, w]), (dy, _)) = (dense::<4>(x), dense::<4>(dy));
        let s = PoolShape { planes: n * c, in_size: [h, w], kernel, stride };
        tensor(max_pool::backward(&s, values(&x), values(&dy)), &[n, c, h, w])
    }

    fn linear_act(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, act: u8) -> FlexTensor {
        let ((x, [rows, inputs]), (w, [_, outputs]), b) = (dense::<2>(x), dense::<2>(weight), bias.to_contiguous());
        let s = LinearShape { rows, inputs, outputs };
        tensor(linear::forward(s, values(&x), values(&w), values(&b), activation(act)), &[rows, outputs])
    }

    fn linear_act_backward(
        x: FlexTensor,
        weight: FlexTensor,
        y: FlexTensor,
        dy: FlexTensor,
        act: u8,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let ((x, [rows, inputs]), (w, [_, outputs]), (y, _), (dy, _)) =
            (dense::<2>(x), dense::<2>(weight), dense::<2>(y), dense::<2>(dy));
        let s = LinearShape { rows, inputs, outputs };
        let (dx, dw, db) = linear::backward(s, values(&x), values(&w), values(&y), values(&dy), activation(act));
        (tensor(dx, &[rows, inputs]), tensor(dw, &[inputs, outputs]), tensor(db, &[outputs]))
    }

    fn bce_with_logits_rows(logits: FlexTensor, targets: FlexTensor) -> FlexTensor {
        let ((l, [rows, n]), (x, _)) = (dense::<2>(logits), dense::<2>(targets));
        tensor(bce::forward(values(&l), values(&x), n), &[rows])
    }

    fn bce_with_logits_backward(
        logits: FlexTensor,
        targets: FlexTensor,
        row_grad: FlexTensor,
    ) -> (FlexTensor, FlexTensor) {
        let ((l, [rows, n]), (x, _), g) = (dense::<2>(logits), dense::<2>(targets), row_grad.to_contiguous());
        let (dl, dx) = bce::backward(values(&l), values(&x), n, values(&g));
        (tensor(dl, &[rows, n]), tensor(dx, &[rows, n]))
    }

    fn batch_norm_relu_backward_nchw(
        x: FlexTensor,
        y: FlexTensor,
        dy: FlexTensor,
        gamma: FlexTensor,
        mean: FlexTensor,
        var: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let ((x, [n, c, h, w]), (y, _), (dy, _)) = (dense::<4>(x), dense::<4>(y), dense::<4>(dy));
        let (gamma, mean, var) = (gamma.to_contiguous(), mean.to_contiguous(), var.to_contiguous());
        let (dx, dgamma, dbeta) = batch_norm::backward(
            values(&x),
            values(&dy),
            c,
            h * w,
            values(&gamma),
            batch_norm::Statistics { mean: values(&mean), var: values(&var), epsilon },
            Some(values(&y)),
        );
        (tensor(dx, &[n, c, h, w]), tensor(dgamma, &[c]), tensor(dbeta, &[c]))
    }
}

/// The activation a `linear_act` code names: 0 none, 1 ReLU, 2 tanh.
fn activation(code: u8) -> Activation {
    match code {
        1 => Activation::Relu,
        2 => Activation::Tanh,
        _ => Activation::None,
    }
}

/// Backward step of [`TrainKernels::max_pool2d_nchw`].
#[derive(Debug)]
struct MaxPoolBackward;

impl<B: TrainKernels> Backward<B, 1> for MaxPoolBackward {
    /// Checkpointed input, kernel, stride.
    type State = (NodeId, [usize; 2], [usize; 2]);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x_id, kernel, stride) = ops.state;
        if let Some(node) = node_x {
            let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_id);
            grads.register::<B>(node.id, B::max_pool2d_backward_nchw(x, dy, kernel, stride));
        }
    }
}

/// Backward step of [`TrainKernels::linear_act`].
#[derive(Debug)]
struct LinearBackward;

impl<B: TrainKernels> Backward<B, 3> for LinearBackward {
    /// Checkpointed input and weight, the output, the activation.
    type State = (NodeId, NodeId, FloatTensor<B>, u8);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x_id, w_id, y, act) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_id);
        let w: FloatTensor<B> = checkpointer.retrieve_node_output(w_id);
        let (dx, dw, db) = B::linear_act_backward(x, w, y, dy, act);
        for (node, grad) in [(node_x, dx), (node_w, dw), (node_b, db)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

/// Backward step of [`TrainKernels::bce_with_logits_rows`].
#[derive(Debug)]
struct BceBackward;

impl<B: TrainKernels> Backward<B, 2> for BceBackward {
    /// Checkpointed logits and targets.
    type State = (NodeId, NodeId);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_logits, node_targets] = ops.parents;
        let g = grads.consume::<B>(&ops.node);
        let (logits_id, targets_id) = ops.state;
        let logits: FloatTensor<B> = checkpointer.retrieve_node_output(logits_id);
        let targets: FloatTensor<B> = checkpointer.retrieve_node_output(targets_id);
        let (dl, dx) = B::bce_with_logits_backward(logits, targets, g);
        for (node, grad) in [(node_logits, dl), (node_targets, dx)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

/// Backward step of [`TrainKernels::batch_norm_relu_train_nchw`].
#[derive(Debug)]
struct BatchNormBackward;

impl<B: TrainKernels> Backward<B, 3> for BatchNormBackward {
    /// Checkpointed input and gamma, the output, the batch statistics, epsilon.
    type State = (NodeId, NodeId, FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, f64);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x_id, gamma_id, y, mean, var, epsilon) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_id);
        let gamma: FloatTensor<B> = checkpointer.retrieve_node_output(gamma_id);
        let (dx, dgamma, dbeta) = B::batch_norm_relu_backward_nchw(x, y, dy, gamma, mean, var, epsilon);
        for (node, grad) in [(node_x, dx), (node_gamma, dgamma), (node_beta, dbeta)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

/// Backward step of [`TrainKernels::conv2d_nchw`].
#[derive(Debug)]
struct Conv2dBackward;

impl<B: TrainKernels> Backward<B, 3> for Conv2dBackward {
    /// Checkpointed input and weight, geometry, input size, kernel.
    type State = (NodeId, NodeId, Geometry, [usize; 2], [usize; 2]);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x_id, w_id, geometry, in_size, kernel) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_id);
        let w: FloatTensor<B> = checkpointer.retrieve_node_output(w_id);
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::conv2d_input_grad(dy.clone(), w, geometry, in_size));
        }
        if node_w.is_some() || node_b.is_some() {
            let (dw, db) = B::conv2d_weight_grad(x, dy, geometry, kernel);
            if let Some(node) = node_w {
                grads.register::<B>(node.id, dw);
            }
            if let Some(node) = node_b {
                grads.register::<B>(node.id, db);
            }
        }
    }
}

/// Backward step of [`TrainKernels::conv_transpose2d_nchw`].
#[derive(Debug)]
struct ConvTranspose2dBackward;

impl<B: TrainKernels> Backward<B, 3> for ConvTranspose2dBackward {
    /// Checkpointed input and weight, geometry, kernel.
    type State = (NodeId, NodeId, Geometry, [usize; 2]);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x_id, w_id, geometry, kernel) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_id);
        let w: FloatTensor<B> = checkpointer.retrieve_node_output(w_id);
        if let Some(node) = node_b {
            grads.register::<B>(node.id, B::channel_sums(dy.clone()));
        }
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::conv_transpose2d_input_grad(dy.clone(), w, geometry));
        }
        if let Some(node) = node_w {
            // The convolution from the output (dy's shape) back to x: its weight gradient, with
            // dy as the input and x as the output gradient.
            let (dw, _) = B::conv2d_weight_grad(dy, x, geometry, kernel);
            grads.register::<B>(node.id, dw);
        }
    }
}

impl<B: TrainKernels, C: CheckpointStrategy> TrainKernels for Autodiff<B, C> {
    fn conv2d_nchw(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        geometry: Geometry,
    ) -> FloatTensor<Self> {
        let xd = x.primitive().shape().dims::<4>();
        let wd = weight.primitive().shape().dims::<4>();
        match Conv2dBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_id = prep.checkpoint(&x);
                let w_id = prep.checkpoint(&weight);
                let out = B::conv2d_nchw(x.into_primitive(), weight.into_primitive(), bias.into_primitive(), geometry);
                prep.finish((x_id, w_id, geometry, [xd[2], xd[3]], [wd[2], wd[3]]), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv2d_nchw(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                geometry,
            )),
        }
    }

    fn conv_transpose2d_nchw(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        geometry: Geometry,
        out_size: [usize; 2],
    ) -> FloatTensor<Self> {
        let wd = weight.primitive().shape().dims::<4>();
        match ConvTranspose2dBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_id = prep.checkpoint(&x);
                let w_id = prep.checkpoint(&weight);
                let out = B::conv_transpose2d_nchw(
                    x.into_primitive(),
                    weight.into_primitive(),
                    bias.into_primitive(),
                    geometry,
                    out_size,
                );
                prep.finish((x_id, w_id, geometry, [wd[2], wd[3]]), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv_transpose2d_nchw(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                geometry,
                out_size,
            )),
        }
    }

    // The gradient kernels run inside backward steps on the inner backend; called on autodiff
    // tensors they compute the same values, untracked.
    fn conv2d_input_grad(
        dy: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: Geometry,
        in_size: [usize; 2],
    ) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::conv2d_input_grad(dy.into_primitive(), weight.into_primitive(), geometry, in_size))
    }

    fn conv2d_weight_grad(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        geometry: Geometry,
        kernel: [usize; 2],
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (dw, db) = B::conv2d_weight_grad(x.into_primitive(), dy.into_primitive(), geometry, kernel);
        (FloatTensor::<Self>::new(dw), FloatTensor::<Self>::new(db))
    }

    fn conv_transpose2d_input_grad(
        dy: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: Geometry,
    ) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::conv_transpose2d_input_grad(dy.into_primitive(), weight.into_primitive(), geometry))
    }

    fn channel_sums(t: FloatTensor<Self>) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::channel_sums(t.into_primitive()))
    }

    fn batch_norm_relu_train_nchw(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let prep = BatchNormBackward.prepare::<C>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful();
        let untracked = |t| FloatTensor::<Self>::new(t);
        match prep {
            OpsKind::Tracked(mut prep) => {
                let x_id = prep.checkpoint(&x);
                let gamma_id = prep.checkpoint(&gamma);
                let (out, mean, var) = B::batch_norm_relu_train_nchw(
                    x.into_primitive(),
                    gamma.into_primitive(),
                    beta.into_primitive(),
                    epsilon,
                );
                let out = prep.finish((x_id, gamma_id, out.clone(), mean.clone(), var.clone(), epsilon), out);
                (out, untracked(mean), untracked(var))
            }
            OpsKind::UnTracked(prep) => {
                let (out, mean, var) = B::batch_norm_relu_train_nchw(
                    x.into_primitive(),
                    gamma.into_primitive(),
                    beta.into_primitive(),
                    epsilon,
                );
                (prep.finish(out), untracked(mean), untracked(var))
            }
        }
    }

    fn max_pool2d_nchw(x: FloatTensor<Self>, kernel: [usize; 2], stride: [usize; 2]) -> FloatTensor<Self> {
        match MaxPoolBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_id = prep.checkpoint(&x);
                let out = B::max_pool2d_nchw(x.into_primitive(), kernel, stride);
                prep.finish((x_id, kernel, stride), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::max_pool2d_nchw(x.into_primitive(), kernel, stride)),
        }
    }

    fn max_pool2d_backward_nchw(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        kernel: [usize; 2],
        stride: [usize; 2],
    ) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::max_pool2d_backward_nchw(x.into_primitive(), dy.into_primitive(), kernel, stride))
    }

    fn linear_act(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        act: u8,
    ) -> FloatTensor<Self> {
        match LinearBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let x_id = prep.checkpoint(&x);
                let w_id = prep.checkpoint(&weight);
                let out = B::linear_act(x.into_primitive(), weight.into_primitive(), bias.into_primitive(), act);
                prep.finish((x_id, w_id, out.clone(), act), out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::linear_act(x.into_primitive(), weight.into_primitive(), bias.into_primitive(), act))
            }
        }
    }

    fn linear_act_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        y: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        act: u8,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (dx, dw, db) = B::linear_act_backward(
            x.into_primitive(),
            weight.into_primitive(),
            y.into_primitive(),
            dy.into_primitive(),
            act,
        );
        (FloatTensor::<Self>::new(dx), FloatTensor::<Self>::new(dw), FloatTensor::<Self>::new(db))
    }

    fn bce_with_logits_rows(logits: FloatTensor<Self>, targets: FloatTensor<Self>) -> FloatTensor<Self> {
        match BceBackward.prepare::<C>([logits.node(), targets.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let logits_id = prep.checkpoint(&logits);
                let targets_id = prep.checkpoint(&targets);
                let out = B::bce_with_logits_rows(logits.into_primitive(), targets.into_primitive());
                prep.finish((logits_id, targets_id), out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::bce_with_logits_rows(logits.into_primitive(), targets.into_primitive()))
            }
        }
    }

    fn bce_with_logits_backward(
        logits: FloatTensor<Self>,
        targets: FloatTensor<Self>,
        row_grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (dl, dx) =
            B::bce_with_logits_backward(logits.into_primitive(), targets.into_primitive(), row_grad.into_primitive());
        (FloatTensor::<Self>::new(dl), FloatTensor::<Self>::new(dx))
    }

    fn batch_norm_relu_backward_nchw(
        x: FloatTensor<Self>,
        y: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        var: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (dx, dgamma, dbeta) = B::batch_norm_relu_backward_nchw(
            x.into_primitive(),
            y.into_primitive(),
            dy.into_primitive(),
            gamma.into_primitive(),
            mean.into_primitive(),
            var.into_primitive(),
            epsilon,
        );
        (FloatTensor::<Self>::new(dx), FloatTensor::<Self>::new(dgamma), FloatTensor::<Self>::new(dbeta))
    }
}
