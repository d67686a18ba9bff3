//! Own CPU kernels for training on burn's flex backend.
//!
//! The models call [`conv2d`], [`conv_transpose2d`], [`batch_norm_relu`], [`max_pool2d`] and [`linear`]
//! with burn's own modules,
//! and the VAE's loss calls [`bce_with_logits_rows`]:
//! on flex, with
//! `f32` tensors and a geometry the kernels cover (one group, no dilation, symmetric padding,
//! output padding below the stride), the forward pass and every gradient run in `conv`; anywhere
//! else (ndarray, CUDA, or `BOTTLENECK_CONV=burn` in the environment) the module's own `forward`
//! runs. Records and checkpoints do not change: the weights stay in burn's modules.

pub mod batch_norm;
pub mod batch_norm_pool;
pub mod bce;
pub mod conv;
pub mod dropout;
pub mod gemm;
pub mod lanes;
pub mod linear;
pub mod max_pool;
pub mod ops;

use std::sync::atomic::{AtomicU8, Ordering};

use burn::backend::tensor::FloatTensor;
use burn::backend::{DType, Dispatch};
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::nn::pool::MaxPool2d;
use burn::nn::{BatchNorm, Dropout, Linear, PaddingConfig2d};
use burn::prelude::*;

pub use linear::Activation;
use ops::TrainKernels;

/// Which convolutions run: unset, own kernels, burn's.
static CHOICE: AtomicU8 = AtomicU8::new(UNSET);
const UNSET: u8 = 0;
const OWN: u8 = 1;
const BURN: u8 = 2;

/// The environment variable that turns the own kernels off (`BOTTLENECK_CONV=burn`).
pub const ENV: &str = "BOTTLENECK_CONV";

/// Whether convolutions on flex run the own kernels (the default) or burn's.
#[must_use]
pub fn own_kernels() -> bool {
    match CHOICE.load(Ordering::Relaxed) {
        OWN => true,
        BURN => false,
        _ => {
            let own = std::env::var(ENV).map_or(true, |v| v != "burn");
            CHOICE.store(if own { OWN } else { BURN }, Ordering::Relaxed);
            own
        }
    }
}

/// [`own_kernels`], or in tests the choice this thread made.
fn own_kernels_here() -> bool {
    #[cfg(test)]
    if let Some(own) = OWN_HERE.with(std::cell::Cell::get) {
        return own;
    }
    own_kernels()
}

#[cfg(test)]
thread_local! {
    /// A test's choice for this thread (tests run in parallel; the process-wide one would race).
    static OWN_HERE: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Chooses the own kernels for this thread only (tests).
#[cfg(test)]
fn set_own_for_this_test(own: bool) {
    OWN_HERE.with(|c| c.set(Some(own)));
}

#[cfg(test)]
thread_local! {
    /// Calls that took the own kernels on this thread (tests check that they were not skipped).
    static OWN_CALLS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts a call that takes the own kernels (in tests).
fn took_own() {
    #[cfg(test)]
    OWN_CALLS.with(|c| c.set(c.get() + 1));
}

/// Whether every tensor, given by its device and dtype, is an `f32` tensor on flex: what the own
/// kernels take.
fn flex_f32(tensors: &[(Device, DType)]) -> bool {
    let flex = Device::flex();
    tensors.iter().all(|(device, dtype)| *device == flex && *dtype == DType::F32)
}

/// The module's bias, or zeros (a constant, so no gradient is computed for it).
fn bias_or_zeros(bias: Option<&burn::module::Param<Tensor<1>>>, channels: usize, device: &Device) -> Tensor<1> {
    bias.map_or_else(|| Tensor::zeros([channels], device), burn::module::Param::val)
}

/// `module.forward(x)`, on the own kernels where they apply and [`own_kernels`] says so.
pub fn conv2d(module: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    conv2d_using(module, x, own_kernels_here())
}

/// `module.forward(x)`, on the own kernels where they apply and `own` is set.
pub fn conv2d_using(module: &Conv2d, x: Tensor<4>, own: bool) -> Tensor<4> {
    // `Same` padding can be asymmetric: burn's.
    let padding = match module.padding {
        PaddingConfig2d::Valid => Some([0, 0]),
        PaddingConfig2d::Explicit(top, left, bottom, right) => (top == bottom && left == right).then_some([top, left]),
        PaddingConfig2d::Same => None,
    };
    let weight = module.weight.val();
    let [_, _, h, w] = x.dims();
    let plain = module.groups == 1 && module.dilation == [1, 1];
    // A kernel larger than the padded input is burn's to report.
    let fits =
        |p: &[usize; 2]| conv::ConvShape::new(1, [1, 1], [h, w], module.kernel_size, module.stride, *p).is_some();
    let tensors = [(x.device(), x.dtype()), (weight.device(), weight.dtype())];
    let Some(padding) = padding.filter(|p| own && plain && fits(p) && flex_f32(&tensors)) else {
        return module.forward(x);
    };
    let bias = bias_or_zeros(module.bias.as_ref(), weight.dims()[0], &x.device());
    let geometry = [module.stride, padding];
    took_own();
    Tensor::from_dispatch(<Dispatch as TrainKernels>::conv2d_nchw(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        geometry,
    ))
}

/// `module.forward(x)`, on the own kernels where they apply and [`own_kernels`] says so.
pub fn conv_transpose2d(module: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    conv_transpose2d_using(module, x, own_kernels_here())
}

/// `module.forward(x)`, on the own kernels where they apply and `own` is set.
pub fn conv_transpose2d_using(module: &ConvTranspose2d, x: Tensor<4>, own: bool) -> Tensor<4> {
    let weight = module.weight.val();
    let [_, _, h, w] = x.dims();
    let fits_padding = (0..2).all(|i| module.padding_out[i] < module.stride[i]);
    let side = |i: usize, size: usize| {
        ((size.max(1) - 1) * module.stride[i] + module.kernel_size[i] + module.padding_out[i])
            .checked_sub(2 * module.padding[i])
    };
    let (Some(oh), Some(ow)) = (side(0, h), side(1, w)) else {
        return module.forward(x);
    };
    let plain = module.groups == 1 && module.dilation == [1, 1];
    let tensors = [(x.device(), x.dtype()), (weight.device(), weight.dtype())];
    if !own || !plain || !flex_f32(&tensors) || !fits_padding || h == 0 || w == 0 {
        return module.forward(x);
    }
    let bias = bias_or_zeros(module.bias.as_ref(), weight.dims()[1], &x.device());
    let geometry = [module.stride, module.padding];
    took_own();
    Tensor::from_dispatch(<Dispatch as TrainKernels>::conv_transpose2d_nchw(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        geometry,
        [oh, ow],
    ))
}

/// `relu(module.forward(x))`, on the own kernels where they apply and [`own_kernels`] says so:
/// every batch norm of the models feeds a ReLU, and one pass each way does both.
pub fn batch_norm_relu(module: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    batch_norm_relu_using(module, x, own_kernels_here())
}

/// `relu(module.forward(x))`, on the own kernels where they apply and `own` is set: in training
/// (an autodiff device and the layer's training flag set, as burn decides), with `f32` on flex.
/// The running statistics are updated as burn's module does.
pub fn batch_norm_relu_using(module: &BatchNorm, x: Tensor<4>, own: bool) -> Tensor<4> {
    if !takes_own_batch_norm(module, &x, own) {
        return burn::tensor::activation::relu(module.forward(x));
    }
    took_own();
    let (out, mean, var) = <Dispatch as TrainKernels>::batch_norm_relu_train_nchw(
        x.into_dispatch(),
        module.gamma.val().into_dispatch(),
        module.beta.val().into_dispatch(),
        module.epsilon,
    );
    update_running_statistics(module, mean, var);
    Tensor::from_dispatch(out)
}

/// `pool.forward(relu(norm.forward(x)))`, one operation each way where the own kernels apply (as
/// for [`batch_norm_relu`], with 2x2 windows every 2 and no padding): the end of a CNN block.
pub fn batch_norm_relu_pool(norm: &BatchNorm, pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    batch_norm_relu_pool_using(norm, pool, x, own_kernels_here())
}

/// [`batch_norm_relu_pool`] on the own kernels where they apply and `own` is set.
pub fn batch_norm_relu_pool_using(norm: &BatchNorm, pool: &MaxPool2d, x: Tensor<4>, own: bool) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let two_by_two = plain_windows(pool) && pool.kernel_size == [2, 2] && pool.stride == [2, 2] && h >= 2 && w >= 2;
    if !(two_by_two && takes_own_batch_norm(norm, &x, own)) {
        return max_pool2d_using(pool, batch_norm_relu_using(norm, x, own), own);
    }
    took_own();
    let (out, _winners, mean, var) = <Dispatch as TrainKernels>::batch_norm_relu_pool_train_nchw(
        x.into_dispatch(),
        norm.gamma.val().into_dispatch(),
        norm.beta.val().into_dispatch(),
        norm.epsilon,
    );
    update_running_statistics(norm, mean, var);
    Tensor::from_dispatch(out)
}

/// Whether a batch norm in training on `x` takes the own kernels: `own`, an autodiff device, the
/// layer's training flag (as burn decides), `f32` on flex.
fn takes_own_batch_norm(module: &BatchNorm, x: &Tensor<4>, own: bool) -> bool {
    let gamma = module.gamma.val();
    let training = x.device().is_autodiff() && module.training.is_enabled();
    own && training && flex_f32(&[(x.device(), x.dtype()), (gamma.device(), gamma.dtype())])
}

/// Updates the module's running mean and variance with a batch's, as burn's module does.
fn update_running_statistics(module: &BatchNorm, mean: FloatTensor<Dispatch>, var: FloatTensor<Dispatch>) {
    let (mean, var) = (Tensor::<1>::from_dispatch(mean), Tensor::<1>::from_dispatch(var));
    let device = mean.device();
    let m = module.momentum;
    let running = |state: &burn::module::RunningState<Tensor<1>>, batch: Tensor<1>| {
        let old = state.value_sync().to_device(&device);
        state.update(old.mul_scalar(1.0 - m).add(batch.detach().mul_scalar(m)).detach());
    };
    running(&module.running_mean, mean);
    running(&module.running_var, var);
}

/// `module.forward(x)` through `act`: one operation each way on flex with `f32` (where
/// [`own_kernels`] says so), burn's linear and activation elsewhere.
pub fn linear(module: &Linear, x: Tensor<2>, act: Activation) -> Tensor<2> {
    let weight = module.weight.val();
    if !(own_kernels_here() && flex_f32(&[(x.device(), x.dtype()), (weight.device(), weight.dtype())])) {
        let y = module.forward(x);
        return match act {
            Activation::None => y,
            Activation::Relu => burn::tensor::activation::relu(y),
            Activation::Tanh => burn::tensor::activation::tanh(y),
        };
    }
    let bias = bias_or_zeros(module.bias.as_ref(), weight.dims()[1], &x.device());
    took_own();
    Tensor::from_dispatch(<Dispatch as TrainKernels>::linear_act(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        act.code(),
    ))
}

/// `module.forward(x)`, on the own kernels where they apply (flex, `f32`, no padding, no
/// dilation, no ceil mode, a window that fits) and [`own_kernels`] says so.
pub fn max_pool2d(module: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    max_pool2d_using(module, x, own_kernels_here())
}

/// [`max_pool2d`] on the own kernels where they apply and `own` is set.
fn max_pool2d_using(module: &MaxPool2d, x: Tensor<4>, own: bool) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let fits = (0..2).all(|i| module.stride[i] > 0 && module.kernel_size[i] > 0 && [h, w][i] >= module.kernel_size[i]);
    if !(own && plain_windows(module) && fits && flex_f32(&[(x.device(), x.dtype())])) {
        return module.forward(x);
    }
    took_own();
    Tensor::from_dispatch(<Dispatch as TrainKernels>::max_pool2d_nchw(
        x.into_dispatch(),
        module.kernel_size,
        module.stride,
    ))
}

/// Whether a pooling's windows are what the own kernels take: no padding, no dilation, no ceil
/// mode.
fn plain_windows(module: &MaxPool2d) -> bool {
    matches!(module.padding, PaddingConfig2d::Valid) && module.dilation == [1, 1] && !module.ceil_mode
}

/// `module.forward(x)`: on flex with `f32` (where [`own_kernels`] says so) with a mask from
/// [`dropout::mask`], seeded by a draw from the device's generator (so `Device::seed` still fixes
/// every mask); burn's own dropout elsewhere. The same rule as burn's for when it applies: in
/// training, on an autodiff device, with a probability above 0.
pub fn dropout<const D: usize>(module: &Dropout, x: Tensor<D>) -> Tensor<D> {
    if !(own_kernels_here() && flex_f32(&[(x.device(), x.dtype())])) {
        return module.forward(x);
    }
    let device = x.device();
    if !module.training.is_enabled() || !device.is_autodiff() || module.prob == 0.0 {
        return x;
    }
    took_own();
    // Three 30-bit draws (flex's integers are 32-bit) folded into the mask's 64-bit seed.
    let draws = Tensor::<1, Int>::random([3], burn::tensor::Distribution::Uniform(0.0, 1_073_741_824.0), &device);
    let draws: Vec<i64> = draws.into_data().convert::<i64>().try_into_vec::<i64>().expect("three integer draws");
    let seed = draws.iter().fold(0_u64, |s, &d| (s << 30) ^ d.unsigned_abs());
    let shape = x.shape();
    let mask = dropout::mask(shape.num_elements(), 1.0 - module.prob, seed);
    x * Tensor::<D>::from_data(TensorData::new(mask, shape), &device)
}

/// Binary cross-entropy of `logits` `[rows, n]` against `targets` in [0, 1], summed per row:
/// `-(x ln s(l) + (1 - x) ln(1 - s(l)))`, `s` the sigmoid. One pass each way on flex with `f32`
/// (where [`own_kernels`] says so); burn's `log_sigmoid` elsewhere.
pub fn bce_with_logits_rows(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    if !(own_kernels_here() && flex_f32(&[(logits.device(), logits.dtype()), (targets.device(), targets.dtype())])) {
        use burn::tensor::activation::log_sigmoid;
        let [rows, _] = logits.dims();
        let loss = targets.clone() * log_sigmoid(logits.clone()) + (-targets + 1.0) * log_sigmoid(-logits);
        return loss.neg().sum_dim(1).reshape([rows]);
    }
    took_own();
    Tensor::from_dispatch(<Dispatch as TrainKernels>::bce_with_logits_rows(
        logits.into_dispatch(),
        targets.into_dispatch(),
    ))
}

#[cfg(test)]
mod tests;
