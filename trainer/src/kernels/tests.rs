//! The own kernels against burn's ops through the module API: outputs and every gradient, on
//! flex with autodiff, for the geometries the models use and odd ones.

use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
use burn::nn::{BatchNormConfig, PaddingConfig2d};

use super::*;

/// Largest difference relative to the larger magnitude of the two tensors, or to 1 when both
/// are smaller (sums of terms of size 1 can cancel to nearly 0).
fn relative_gap(a: &Tensor<4>, b: &Tensor<4>) -> f32 {
    let scale = a.clone().abs().max().into_scalar::<f32>().max(b.clone().abs().max().into_scalar::<f32>()).max(1.0);
    (a.clone() - b.clone()).abs().max().into_scalar::<f32>() / scale
}

fn relative_gap1(a: &Tensor<1>, b: &Tensor<1>) -> f32 {
    relative_gap(&a.clone().reshape([1, 1, 1, -1]), &b.clone().reshape([1, 1, 1, -1]))
}

/// Fixed values in `[lo, hi)` spread by a multiplicative hash of the index (and `salt`): inputs
/// that look random but are the same in every run.
fn fixed<const D: usize>(shape: [usize; D], [lo, hi]: [f32; 2], salt: u64, device: &Device) -> Tensor<D> {
    let n: usize = shape.iter().product();
    let values: Vec<f32> =
        (0..n as u64).map(|i| lo + (hi - lo) * (((i + salt) * 2_654_435_761) % 1999) as f32 / 1999.0).collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Runs `forward` on own kernels and on burn's, with a fixed weighting of the output as the
/// loss, and compares the output and the gradients of the input, the weight and the bias.
fn compare<M>(
    what: &str,
    module: &M,
    input: [usize; 4],
    forward: impl Fn(&M, Tensor<4>, bool) -> Tensor<4>,
    param_grads: impl Fn(&M, &burn::tensor::Gradients) -> (Tensor<4>, Option<Tensor<1>>),
) {
    let device = Device::flex().autodiff();
    // Fixed values, so that a failure repeats: random ones once gave a batch norm channel two
    // nearly equal values, whose gradient is all cancellation.
    let x = fixed(input, [-1.0, 1.0], 0, &device);
    let mut results = Vec::new();
    for own in [true, false] {
        let before = OWN_CALLS.with(std::cell::Cell::get);
        let xi = x.clone().detach().require_grad();
        let y = forward(module, xi.clone(), own);
        let took = OWN_CALLS.with(std::cell::Cell::get) > before;
        assert_eq!(took, own, "{what}: the own kernels were {}", if took { "taken when not asked" } else { "skipped" });
        let r = Tensor::<4>::from_data(
            TensorData::new(
                (0..y.shape().num_elements()).map(|i| ((i * 7919) % 13) as f32 / 6.0 - 1.0).collect::<Vec<f32>>(),
                y.dims(),
            ),
            &device,
        );
        let grads = (y.clone() * r).sum().backward();
        let (dw, db) = param_grads(module, &grads);
        results.push((y, xi.grad(&grads).unwrap(), dw, db));
    }
    let [(y, dx, dw, db), (y0, dx0, dw0, db0)] = <[_; 2]>::try_from(results).ok().unwrap();
    assert_eq!(y.dims(), y0.dims(), "{what}: output shapes");
    for (name, gap) in [
        ("output", relative_gap(&y, &y0)),
        ("input gradient", relative_gap(&dx, &dx0)),
        ("weight gradient", relative_gap(&dw, &dw0)),
    ] {
        assert!(gap <= 1e-4, "{what}: {name} differs from burn's by {gap} (relative)");
    }
    if let (Some(db), Some(db0)) = (db, db0) {
        let gap = relative_gap1(&db, &db0);
        assert!(gap <= 1e-4, "{what}: bias gradient differs from burn's by {gap} (relative)");
    }
}

/// The gradients of a convolution's weight and bias (`Param` keeps its tensor's node).
fn weight_and_bias_grads<M: HasWeight>(m: &M, grads: &burn::tensor::Gradients) -> (Tensor<4>, Option<Tensor<1>>) {
    let (w, b) = m.weight_and_bias();
    (w.grad(grads).expect("a weight gradient"), b.map(|b| b.grad(grads).expect("a bias gradient")))
}

trait HasWeight {
    fn weight_and_bias(&self) -> (Tensor<4>, Option<Tensor<1>>);
}

impl HasWeight for Conv2d {
    fn weight_and_bias(&self) -> (Tensor<4>, Option<Tensor<1>>) {
        (self.weight.val(), self.bias.as_ref().map(burn::module::Param::val))
    }
}

impl HasWeight for ConvTranspose2d {
    fn weight_and_bias(&self) -> (Tensor<4>, Option<Tensor<1>>) {
        (self.weight.val(), self.bias.as_ref().map(burn::module::Param::val))
    }
}

#[test]
fn convolutions_match_burn_forward_and_backward() {
    let device = Device::flex().autodiff();
    // (batch, in, out, side, kernel, stride, padding, bias): the encoders' three layers, the
    // CNN's 3x3 blocks, and odd ones (stride 3, no bias, a rectangular input).
    let cases = [
        (6, 1, 8, [28, 28], 4, 2, 1, true),
        (4, 8, 16, [14, 14], 4, 2, 1, true),
        (5, 16, 32, [7, 7], 3, 2, 0, true),
        (3, 3, 6, [9, 9], 3, 1, 1, false),
        (2, 2, 5, [8, 11], 2, 3, 0, true),
        (67, 2, 3, [3, 3], 3, 1, 1, true),
    ];
    for (batch, cin, cout, side, k, stride, pad, bias) in cases {
        let module = Conv2dConfig::new([cin, cout], [k, k])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
            .with_bias(bias)
            .init(&device);
        compare(
            &format!("conv {cin}->{cout} k{k} s{stride} p{pad} on {side:?}"),
            &module,
            [batch, cin, side[0], side[1]],
            conv2d_using,
            weight_and_bias_grads,
        );
    }
}

#[test]
fn transposed_convolutions_match_burn_forward_and_backward() {
    let device = Device::flex().autodiff();
    // The decoders' three layers (3 -> 7 -> 14 -> 28), output padding, and odd ones.
    let cases = [
        (5, 32, 16, [3, 3], 3, 2, 0, 0, true),
        (4, 16, 8, [7, 7], 4, 2, 1, 0, true),
        (6, 8, 1, [14, 14], 4, 2, 1, 0, true),
        (3, 4, 3, [5, 6], 3, 2, 1, 1, false),
        (2, 3, 2, [4, 4], 2, 3, 0, 2, true),
        (70, 2, 2, [2, 2], 3, 1, 1, 0, true),
    ];
    for (batch, cin, cout, side, k, stride, pad, pad_out, bias) in cases {
        let module = ConvTranspose2dConfig::new([cin, cout], [k, k])
            .with_stride([stride, stride])
            .with_padding([pad, pad])
            .with_padding_out([pad_out, pad_out])
            .with_bias(bias)
            .init(&device);
        compare(
            &format!("conv-transpose {cin}->{cout} k{k} s{stride} p{pad} out-padding {pad_out} on {side:?}"),
            &module,
            [batch, cin, side[0], side[1]],
            conv_transpose2d_using,
            weight_and_bias_grads,
        );
    }
}

#[test]
fn geometries_outside_the_kernels_fall_back_to_burn() {
    let device = Device::flex().autodiff();
    // Dilation, groups, and asymmetric padding are burn's; the answer must still be the module's.
    let modules = [
        Conv2dConfig::new([2, 4], [3, 3]).with_dilation([2, 2]).init(&device),
        Conv2dConfig::new([2, 4], [3, 3]).with_groups(2).init(&device),
        Conv2dConfig::new([2, 4], [2, 2]).with_padding(PaddingConfig2d::Explicit(1, 0, 0, 1)).init(&device),
    ];
    for m in &modules {
        let x = fixed([2, 2, 9, 9], [0.0, 1.0], 1, &device);
        let before = OWN_CALLS.with(std::cell::Cell::get);
        let gap = relative_gap(&conv2d_using(m, x.clone(), true), &m.forward(x));
        assert_eq!(OWN_CALLS.with(std::cell::Cell::get), before, "the own kernels took a geometry they do not cover");
        assert!(gap <= 1e-6, "fallback differs by {gap}");
    }
}

#[test]
#[allow(deprecated)] // ndarray stays a selectable backend
fn other_backends_run_burns_own_ops() {
    let device = Device::ndarray().autodiff();
    let m = Conv2dConfig::new([1, 2], [3, 3]).init(&device);
    let x = fixed([2, 1, 6, 6], [0.0, 1.0], 2, &device);
    let gap = relative_gap(&conv2d(&m, x.clone()), &m.forward(x));
    assert!(gap <= 1e-6, "ndarray result differs by {gap}");
}

#[test]
fn batch_norm_and_relu_match_burn_forward_backward_and_running_statistics() {
    batch_norm_against_burn(None, &[(8, 16, 7), (3, 1, 28), (2, 5, 1)]);
}

#[test]
fn batch_norm_relu_and_pooling_match_burn_forward_backward_and_running_statistics() {
    let pool = burn::nn::pool::MaxPool2dConfig::new([2, 2]).init();
    batch_norm_against_burn(Some(&pool), &[(8, 16, 7), (3, 1, 28), (2, 5, 2), (4, 3, 6)]);
}

/// Batch norm + ReLU (then `pool`, when given) on the own kernels against burn's modules: output,
/// gradients of the input, gamma and beta, and the running statistics.
fn batch_norm_against_burn(pool: Option<&MaxPool2d>, shapes: &[(usize, usize, usize)]) {
    let device = Device::flex().autodiff();
    for &(batch, channels, side) in shapes {
        // Two independent modules (running statistics are shared between clones) with the same
        // non-trivial gamma and beta.
        let gamma: Vec<f32> = (0..channels).map(|c| 0.5 + c as f32 / channels as f32).collect();
        let beta: Vec<f32> = (0..channels).map(|c| c as f32 * 0.1 - 0.3).collect();
        let make = || {
            let m = BatchNormConfig::new(channels).init(&device);
            let param = |v: &[f32]| {
                burn::module::Param::from_tensor(Tensor::<1>::from_data(
                    TensorData::new(v.to_vec(), [channels]),
                    &device,
                ))
            };
            BatchNorm { gamma: param(&gamma), beta: param(&beta), ..m }
        };
        let (ours, theirs) = (make(), make());
        let what = format!(
            "batch norm + ReLU{} [{batch}, {channels}, {side}, {side}]",
            ["", " + pooling"][usize::from(pool.is_some())]
        );
        compare(
            &what,
            &(ours.clone(), theirs.clone()),
            [batch, channels, side, side],
            |(o, t), x, own| {
                let m = if own { o } else { t };
                match pool {
                    Some(p) => batch_norm_relu_pool_using(m, p, x * 3.0 + 1.0, own),
                    None => batch_norm_relu_using(m, x * 3.0 + 1.0, own),
                }
            },
            |(o, t), grads| {
                // Each run registers gradients for its own module only.
                let m = if o.gamma.val().grad(grads).is_some() { o } else { t };
                (m.gamma.val().grad(grads).unwrap().reshape([1, 1, 1, -1]), Some(m.beta.val().grad(grads).unwrap()))
            },
        );
        for (name, a, b) in [
            ("running mean", ours.running_mean.value(), theirs.running_mean.value()),
            ("running variance", ours.running_var.value(), theirs.running_var.value()),
        ] {
            let gap = relative_gap1(&a, &b);
            assert!(gap <= 1e-5, "{what}: {name} differs by {gap}");
        }
    }
}

#[test]
fn binary_cross_entropy_matches_burns_log_sigmoid_form() {
    let device = Device::flex().autodiff();
    let logits = fixed([5, 33], [-8.0, 8.0], 3, &device);
    let targets = fixed([5, 33], [0.0, 1.0], 4, &device);
    let weights = Tensor::<1>::from_data(TensorData::new(vec![0.5_f32, -1.0, 2.0, 0.25, 1.0], [5]), &device);
    let mut results = Vec::new();
    for own in [true, false] {
        set_own_for_this_test(own);
        let l = logits.clone().detach().require_grad();
        let before = OWN_CALLS.with(std::cell::Cell::get);
        let loss = bce_with_logits_rows(l.clone(), targets.clone().detach());
        assert_eq!(OWN_CALLS.with(std::cell::Cell::get) > before, own, "own kernel taken: {}", !own);
        let grads = (loss.clone() * weights.clone()).sum().backward();
        results.push((loss, l.grad(&grads).unwrap()));
    }
    let [(loss, dl), (loss0, dl0)] = <[_; 2]>::try_from(results).ok().unwrap();
    let gap = relative_gap1(&loss, &loss0);
    assert!(gap <= 1e-5, "row losses differ by {gap}");
    let gap = relative_gap(&dl.reshape([1, 1, 5, 33]), &dl0.reshape([1, 1, 5, 33]));
    assert!(gap <= 1e-5, "logit gradients differ by {gap}");
}

#[test]
fn linear_layers_match_burn_forward_and_backward() {
    let device = Device::flex().autodiff();
    for (rows, inputs, outputs, bias, act) in [
        (128, 784, 128, true, Activation::Relu),
        (7, 8, 784, true, Activation::Tanh),
        (9, 6, 4, true, Activation::None),
        (3, 5, 2, false, Activation::Relu),
    ] {
        let module = burn::nn::LinearConfig::new(inputs, outputs).with_bias(bias).init(&device);
        let x = fixed([rows, inputs], [-1.0, 1.0], 5, &device);
        let r = fixed([rows, outputs], [-1.0, 1.0], 6, &device);
        let mut results = Vec::new();
        for own in [true, false] {
            set_own_for_this_test(own);
            let xi = x.clone().detach().require_grad();
            let before = OWN_CALLS.with(std::cell::Cell::get);
            let y = linear(&module, xi.clone(), act);
            assert_eq!(OWN_CALLS.with(std::cell::Cell::get) > before, own);
            let grads = (y.clone() * r.clone()).sum().backward();
            let dw = module.weight.val().grad(&grads).unwrap();
            let db = module.bias.as_ref().map(|b| b.val().grad(&grads).unwrap());
            results.push((y, xi.grad(&grads).unwrap(), dw, db));
        }
        let [(y, dx, dw, db), (y0, dx0, dw0, db0)] = <[_; 2]>::try_from(results).ok().unwrap();
        let four = |t: Tensor<2>| t.unsqueeze::<4>();
        for (name, a, b) in [("output", y, y0), ("input gradient", dx, dx0), ("weight gradient", dw, dw0)] {
            let gap = relative_gap(&four(a), &four(b));
            assert!(gap <= 1e-4, "linear {inputs}->{outputs}: {name} differs by {gap}");
        }
        if let (Some(db), Some(db0)) = (db, db0) {
            let gap = relative_gap1(&db, &db0);
            assert!(gap <= 1e-4, "linear {inputs}->{outputs}: bias gradient differs by {gap}");
        }
    }
}

#[test]
fn max_pooling_matches_burn_forward_and_backward() {
    let device = Device::flex().autodiff();
    for (shape, kernel, stride) in
        [([4, 16, 28, 28], 2, 2), ([3, 2, 7, 7], 2, 2), ([2, 3, 9, 8], 3, 2), ([2, 2, 5, 5], 2, 1)]
    {
        let module = burn::nn::pool::MaxPool2dConfig::new([kernel, kernel]).with_strides([stride, stride]).init();
        // Distinct values: ties would make the choice of maximum (and so the gradient) arbitrary.
        let n: usize = shape.iter().product();
        let mut values: Vec<f32> = (0..n).map(|i| ((i * 7919) % n) as f32 / n as f32 - 0.5).collect();
        values.reverse();
        let x = Tensor::<4>::from_data(TensorData::new(values, shape), &device);
        let r = fixed(module.forward(x.clone()).dims(), [-1.0, 1.0], 7, &device);
        let mut results = Vec::new();
        for own in [true, false] {
            set_own_for_this_test(own);
            let xi = x.clone().detach().require_grad();
            let before = OWN_CALLS.with(std::cell::Cell::get);
            let y = max_pool2d(&module, xi.clone());
            assert_eq!(OWN_CALLS.with(std::cell::Cell::get) > before, own);
            let grads = (y.clone() * r.clone()).sum().backward();
            results.push((y, xi.grad(&grads).unwrap()));
        }
        let [(y, dx), (y0, dx0)] = <[_; 2]>::try_from(results).ok().unwrap();
        assert!(relative_gap(&y, &y0) <= 1e-6, "max pool {shape:?} k{kernel} s{stride}: outputs differ");
        assert!(relative_gap(&dx, &dx0) <= 1e-6, "max pool {shape:?} k{kernel} s{stride}: gradients differ");
    }
}

#[test]
fn dropout_keeps_scaled_values_passes_their_gradients_and_repeats_from_the_device_seed() {
    let device = Device::flex().autodiff();
    let module = burn::nn::DropoutConfig::new(0.25).init();
    let x = fixed([64, 50], [0.5, 1.5], 3, &device);
    let run = |seed: u64| {
        device.seed(seed);
        let xi = x.clone().detach().require_grad();
        let before = OWN_CALLS.with(std::cell::Cell::get);
        let y = dropout(&module, xi.clone());
        assert!(OWN_CALLS.with(std::cell::Cell::get) > before, "the own dropout was skipped");
        let grads = y.clone().sum().backward();
        let values = |t: Tensor<2>| t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        (values(y), values(xi.grad(&grads).unwrap()))
    };
    let (y, dx) = run(5);
    let xs = x.clone().into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
    let mut kept = 0;
    for ((y, dx), x) in y.iter().zip(&dx).zip(&xs) {
        // Kept: x / 0.75 with gradient 1 / 0.75; dropped: 0 with gradient 0.
        if *y == 0.0 {
            assert_eq!(*dx, 0.0);
        } else {
            kept += 1;
            assert_eq!((*y, *dx), (x * (1.0 / 0.75_f64) as f32, (1.0 / 0.75_f64) as f32));
        }
    }
    let share = f64::from(kept) / xs.len() as f64;
    assert!((share - 0.75).abs() < 0.04, "kept {share} of the values");
    assert_eq!(run(5).0, y, "the same device seed gives the same mask");
    assert_ne!(run(6).0, y, "another seed another mask");
    // Not in training (no autodiff): the identity.
    let plain = x.clone().inner();
    let out = dropout(&module, plain.clone());
    assert_eq!(out.into_data(), plain.into_data());
}
