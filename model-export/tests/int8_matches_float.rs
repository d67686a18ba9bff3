//! The whole int8 chain without burn: a seed-002-shaped model with random weights is quantized,
//! parsed by the runtime and run; its outputs must track the float reference interpreter.

mod common;

use bottleneck_export::reference::forward;
use bottleneck_export::{Variant, quantize};
use bottleneck_runtime::{Entry, Model as Rt, Rng};
use common::{classifier_alone, images, model, residual_classifier};

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn check(variant: Variant, with_classifier: bool) {
    let m = model(variant, with_classifier);
    let q = quantize(&m, &images(200, 1)).unwrap();
    let rt = Rt::parse(&q.bytes).unwrap();
    assert_eq!(rt.latent_len(), m.latent);
    let mut scratch = vec![0u8; rt.max_scratch_len()];
    let (mut code_err, mut recon_err, mut agree) = (0f32, 0f32, 0);
    let tests = images(50, 2);
    for x in &tests {
        let (float_out, _) = forward(&m.encoder, x, m.input).unwrap();
        let float_code = &float_out[..m.latent];
        let mut code = vec![0f32; m.latent];
        rt.encode(x, &mut code, &mut scratch).unwrap();
        // In code quantization steps.
        code_err = code_err.max(max_abs(&code, float_code) / q.code_scale);

        let (float_img, _) = forward(&m.decoder, float_code, [m.latent, 1, 1]).unwrap();
        let mut img = vec![0f32; 784];
        rt.decode(float_code, &mut img, &mut scratch).unwrap();
        recon_err = recon_err.max(max_abs(&img, &float_img));

        if let Some(c) = &m.classifier {
            let mut net = c.encoder.clone().unwrap();
            net.layers.extend(c.head.layers.clone());
            let (float_logits, _) = forward(&net, x, m.input).unwrap();
            let mut logits = vec![0f32; 10];
            let class = rt.classify(x, &mut logits, &mut scratch).unwrap();
            let float_class =
                float_logits.iter().enumerate().fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b }).0;
            agree += usize::from(class == float_class);
        }
    }
    eprintln!("{variant:?}: code error {code_err} steps, reconstruction error {recon_err}, agreement {agree}/50");
    assert!(code_err < 3.0, "{variant:?}: code error {code_err} steps of {}", q.code_scale);
    assert!(recon_err < 0.03, "{variant:?}: reconstruction error {recon_err}");
    if with_classifier {
        assert!(agree >= 46, "{agree}/50 classes agree");
    }
    // Sampling is deterministic and decodes to valid pixels.
    let (mut c1, mut c2) = (vec![0f32; m.latent], vec![0f32; m.latent]);
    let (mut i1, mut i2) = (vec![0f32; 784], vec![0f32; 784]);
    rt.sample(&mut Rng::new(5), &mut c1, &mut i1, &mut scratch).unwrap();
    rt.sample(&mut Rng::new(5), &mut c2, &mut i2, &mut scratch).unwrap();
    assert_eq!((c1.clone(), i1.clone()), (c2, i2));
    assert!(i1.iter().all(|p| (0.0..=1.0).contains(p)));
    // Codes follow the sampling distribution: N(0.1, 0.5) per dimension for the autoencoder
    // (its stored statistics), N(0, 1) for the VAE.
    let (mut sum, mut sq, n) = (0f64, 0f64, 400);
    let mut rng = Rng::new(9);
    for _ in 0..n {
        rt.sample(&mut rng, &mut c1, &mut i1, &mut scratch).unwrap();
        for &z in &c1 {
            sum += f64::from(z);
            sq += f64::from(z) * f64::from(z);
        }
    }
    let count = f64::from(n) * m.latent as f64;
    let (mean, std) = (sum / count, (sq / count - (sum / count).powi(2)).sqrt());
    let (want_mean, want_std) = if variant == Variant::Variational { (0.0, 1.0) } else { (0.1, 0.5) };
    assert!(
        (mean - want_mean).abs() < 0.05 && (std - want_std).abs() < 0.05 * want_std.max(0.5),
        "{variant:?}: sampled codes have mean {mean}, std {std}"
    );
    assert!(rt.scratch_len(Entry::Decode) <= scratch.len());
}

/// A classifier alone with batch norm, max and average pooling and a depthwise convolution: the
/// int8 classes agree with the float reference's, its logits stay close, and the code's entry
/// points refuse.
#[test]
fn classifier_alone_with_pooling_and_depthwise() {
    let m = classifier_alone();
    let q = quantize(&m, &images(200, 1)).unwrap();
    let rt = Rt::parse(&q.bytes).unwrap();
    assert!(!rt.has_autoencoder());
    assert_eq!((rt.latent_len(), rt.classes()), (0, Some(10)));
    let kinds: Vec<&str> = q.layers.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        ["conv2d", "max-pool2d", "depthwise-conv2d", "conv2d", "avg-pool2d", "reshape", "linear"],
        "batch norm folded, ReLU fused"
    );
    let net = m.classifier.as_ref().unwrap().encoder.clone().unwrap();
    let mut scratch = vec![0u8; rt.max_scratch_len()];
    let (mut agree, mut worst) = (0, 0f32);
    for x in &images(50, 2) {
        let (float_logits, _) = forward(&net, x, m.input).unwrap();
        let mut logits = vec![0f32; 10];
        let class = rt.classify(x, &mut logits, &mut scratch).unwrap();
        let span = float_logits.iter().fold(0f32, |a, v| a.max(v.abs()));
        worst = worst.max(max_abs(&logits, &float_logits) / span);
        let float_class =
            float_logits.iter().enumerate().fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b }).0;
        agree += usize::from(class == float_class);
    }
    eprintln!("classifier alone: agreement {agree}/50, logit error {worst} of the largest logit");
    assert!(agree >= 46, "{agree}/50 classes agree");
    assert!(worst < 0.1, "logit error {worst} of the largest logit");
    let mut code = [0f32; 1];
    assert_eq!(rt.encode(&images(1, 3)[0], &mut code, &mut scratch), Err(bottleneck_runtime::Error::NoAutoencoder));
}

/// The same classifier ending in softmax: `classify` returns probabilities (bytes / 255) within a
/// few steps of the float ones.
#[test]
fn classifier_with_softmax_gives_probabilities() {
    let mut m = classifier_alone();
    m.classifier.as_mut().unwrap().encoder.as_mut().unwrap().layers.push(bottleneck_export::Layer::Softmax);
    let q = quantize(&m, &images(200, 1)).unwrap();
    assert_eq!(q.layers.last().map(|l| l.kind), Some("softmax"));
    let rt = Rt::parse(&q.bytes).unwrap();
    let net = m.classifier.as_ref().unwrap().encoder.clone().unwrap();
    let mut scratch = vec![0u8; rt.max_scratch_len()];
    let (mut worst, mut agree, mut compared) = (0f32, 0, 0);
    for x in &images(50, 2) {
        let (float_p, _) = forward(&net, x, m.input).unwrap();
        let mut p = vec![0f32; 10];
        let class = rt.classify(x, &mut p, &mut scratch).unwrap();
        worst = worst.max(max_abs(&p, &float_p));
        let sum: f32 = p.iter().sum();
        assert!((sum - 1.0).abs() <= 10.0 / 255.0, "probabilities sum to {sum}");
        let float_class =
            float_p.iter().enumerate().fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b }).0;
        // The class is the first largest probability byte: where the float top two are closer
        // than two steps of 1/255, bytes may tie or swap; elsewhere the class must agree.
        let mut sorted = float_p.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        if sorted[0] - sorted[1] > 2.0 / 255.0 {
            compared += 1;
            agree += usize::from(class == float_class);
        }
    }
    eprintln!("softmax: worst probability error {worst}, agreement {agree}/{compared} clear cases");
    assert!(worst <= 0.05, "probability error {worst}");
    assert!(compared >= 10 && agree == compared, "{agree}/{compared} clear cases agree");
}

/// A residual block (its input kept, an add after its body, ReLU fused into the add): the int8
/// classes agree with the float reference's and the logits stay close.
#[test]
fn residual_block_tracks_the_float_network() {
    let m = residual_classifier();
    let q = quantize(&m, &images(200, 1)).unwrap();
    let kinds: Vec<&str> = q.layers.iter().map(|l| l.kind).collect();
    assert_eq!(kinds, ["conv2d", "max-pool2d", "conv2d", "conv2d", "add", "avg-pool2d", "reshape", "linear"]);
    assert!(q.layers[4].relu, "the ReLU after the block is fused into the add");
    let rt = Rt::parse(&q.bytes).unwrap();
    let net = m.classifier.as_ref().unwrap().encoder.clone().unwrap();
    let mut scratch = vec![0u8; rt.max_scratch_len()];
    let (mut agree, mut worst) = (0, 0f32);
    for x in &images(50, 2) {
        let (float_logits, _) = forward(&net, x, m.input).unwrap();
        let mut logits = vec![0f32; 10];
        let class = rt.classify(x, &mut logits, &mut scratch).unwrap();
        let span = float_logits.iter().fold(0f32, |a, v| a.max(v.abs()));
        worst = worst.max(max_abs(&logits, &float_logits) / span);
        let float_class =
            float_logits.iter().enumerate().fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b }).0;
        agree += usize::from(class == float_class);
    }
    eprintln!("residual: agreement {agree}/50, logit error {worst} of the largest logit");
    assert!(agree >= 46, "{agree}/50 classes agree");
    assert!(worst < 0.1, "logit error {worst}");
    // Without the add the logits are far off: the test can tell.
    let mut no_skip = net.clone();
    if let bottleneck_export::Layer::Residual { body } = no_skip.layers[3].clone() {
        no_skip.layers.splice(3..4, body.layers);
    }
    let x = &images(1, 5)[0];
    let (with, _) = forward(&net, x, m.input).unwrap();
    let (without, _) = forward(&no_skip, x, m.input).unwrap();
    assert!(max_abs(&with, &without) > 10.0 * worst * with.iter().fold(0f32, |a, v| a.max(v.abs())));
}

#[test]
fn autoencoder_with_classifier() {
    check(Variant::Autoencoder, true);
}

#[test]
fn variational_autoencoder() {
    check(Variant::Variational, false);
}

#[test]
fn scratch_sizes_are_tight_and_checked() {
    let m = model(Variant::Autoencoder, false);
    let q = quantize(&m, &images(20, 1)).unwrap();
    let rt = Rt::parse(&q.bytes).unwrap();
    // Encoder: input 784 in buffer A, then 8x14x14 in B, 16x7x7 in A, 32x3x3 in B, ...; plus the
    // working memory of the largest receptive field gathered (conv3: 3x3x16): two patches and
    // their widened pair, six patches' bytes (docs/runtime-format.md).
    assert_eq!(rt.scratch_len(Entry::Encode), 1568 + 784 + 6 * 144);
    let x = images(1, 3).remove(0);
    let mut small = vec![0u8; rt.scratch_len(Entry::Encode) - 1];
    let mut code = vec![0f32; m.latent];
    assert!(matches!(rt.encode(&x, &mut code, &mut small), Err(bottleneck_runtime::Error::ScratchTooSmall { .. })));
}
