//! [`TrainKernels`] on flex: the tensors' `f32` storage handed to the slice kernels.

use burn::backend::flex::FlexTensor;
use burn::backend::{Flex, TensorData, TensorMetadata};

use super::Geometry;
use super::TrainKernels;
use crate::kernels::batch_norm;
use crate::kernels::batch_norm_pool;
use crate::kernels::bce;
use crate::kernels::conv::{self, ConvShape};
use crate::kernels::linear::{self, Activation, LinearShape};
use crate::kernels::max_pool::{self, PoolShape};

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
        tensor(linear::forward(s, values(&x), values(&w), values(&b), Activation::from_code(act)), &[rows, outputs])
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
        let (dx, dw, db) =
            linear::backward(s, values(&x), values(&w), values(&y), values(&dy), Activation::from_code(act));
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

    fn batch_norm_relu_pool_train_nchw(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor, FlexTensor) {
        let ((x, [n, c, h, w]), gamma, beta) = (dense::<4>(x), gamma.to_contiguous(), beta.to_contiguous());
        let (out, winners, mean, var) =
            batch_norm_pool::forward(values(&x), c, [h, w], values(&gamma), values(&beta), epsilon);
        let pooled = [n, c, h / 2, w / 2];
        let winners = FlexTensor::from_data(TensorData::new(winners, pooled.to_vec()));
        (tensor(out, &pooled), winners, tensor(mean, &[c]), tensor(var, &[c]))
    }

    fn batch_norm_relu_pool_backward_nchw(
        x: FlexTensor,
        winners: FlexTensor,
        dy: FlexTensor,
        gamma: FlexTensor,
        mean: FlexTensor,
        var: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let ((x, [n, c, h, w]), (dy, _), winners) = (dense::<4>(x), dense::<4>(dy), winners.to_contiguous());
        let (gamma, mean, var) = (gamma.to_contiguous(), mean.to_contiguous(), var.to_contiguous());
        let codes = winners.as_slice::<u8>().expect("the pooling winners are u8 codes");
        let (dx, dgamma, dbeta) = batch_norm_pool::backward(
            values(&x),
            values(&dy),
            codes,
            c,
            [h, w],
            values(&gamma),
            batch_norm::Statistics { mean: values(&mean), var: values(&var), epsilon },
        );
        (tensor(dx, &[n, c, h, w]), tensor(dgamma, &[c]), tensor(dbeta, &[c]))
    }
}
