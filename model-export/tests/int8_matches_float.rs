//! The whole int8 chain without burn: a seed-002-shaped model with random weights is quantized,
//! parsed by the runtime and run; its outputs must track the float reference interpreter.

use bottleneck_export::reference::forward;
use bottleneck_export::{Classifier, InputRange, LatentStats, Layer, Model, Network, Tensor, Variant, quantize};
use bottleneck_runtime::{Entry, Model as Rt, Rng};

fn rand_tensor(rng: &mut Rng, shape: &[usize], fan_in: usize) -> Tensor {
    let bound = 1.0 / (fan_in as f32).sqrt();
    let n = shape.iter().product();
    Tensor::new(shape.to_vec(), (0..n).map(|_| (rng.normal() * bound).clamp(-3.0 * bound, 3.0 * bound)).collect())
        .unwrap()
}

fn bias(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.normal() * 0.05).collect()
}

fn conv(rng: &mut Rng, i: usize, o: usize, k: usize, s: usize, p: usize) -> Layer {
    Layer::Conv2d { weight: rand_tensor(rng, &[o, i, k, k], i * k * k), bias: bias(rng, o), stride: s, padding: p }
}

fn tconv(rng: &mut Rng, i: usize, o: usize, k: usize, s: usize, p: usize) -> Layer {
    Layer::ConvTranspose2d {
        weight: rand_tensor(rng, &[i, o, k, k], i * k * k / (s * s)),
        bias: bias(rng, o),
        stride: s,
        padding: p,
        output_padding: 0,
    }
}

fn linear(rng: &mut Rng, i: usize, o: usize) -> Layer {
    Layer::Linear { weight: rand_tensor(rng, &[o, i], i), bias: bias(rng, o) }
}

/// The seed-002 conv autoencoder shape (conv3 without activation, as its table 1), random weights.
fn model(variant: Variant, classifier: bool) -> Model {
    let mut r = Rng::new(11);
    let latent = 6;
    let enc_out = if variant == Variant::Variational { 2 * latent } else { latent };
    let encoder = |r: &mut Rng, out: usize| Network {
        layers: vec![
            conv(r, 1, 8, 4, 2, 1),
            Layer::Relu,
            conv(r, 8, 16, 4, 2, 1),
            Layer::Relu,
            conv(r, 16, 32, 3, 2, 0),
            Layer::Flatten,
            linear(r, 288, 64),
            Layer::Relu,
            linear(r, 64, out),
        ],
    };
    let enc = encoder(&mut r, enc_out);
    let decoder = Network {
        layers: vec![
            linear(&mut r, latent, 64),
            Layer::Relu,
            linear(&mut r, 64, 288),
            Layer::Relu,
            Layer::Unflatten { channels: 32, height: 3, width: 3 },
            tconv(&mut r, 32, 16, 3, 2, 0),
            Layer::Relu,
            tconv(&mut r, 16, 8, 4, 2, 1),
            Layer::Relu,
            tconv(&mut r, 8, 1, 4, 2, 1),
            Layer::Sigmoid,
        ],
    };
    let classifier = classifier.then(|| Classifier {
        encoder: Some(encoder(&mut r, latent)),
        head: Network { layers: vec![linear(&mut r, latent, 32), Layer::Relu, linear(&mut r, 32, 10)] },
    });
    Model {
        name: "test".into(),
        variant,
        input: [1, 28, 28],
        input_range: InputRange::Unit,
        latent,
        encoder: enc,
        decoder,
        classifier,
        classes: (0..10).map(|c| c.to_string()).collect(),
        latent_stats: Some(LatentStats { mean: vec![0.1; latent], std: vec![0.5; latent] }),
        metadata: vec![],
    }
}

/// Blobby images in [0, 1] (random rectangles), so activations look like real ones.
fn images(n: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut r = Rng::new(seed);
    (0..n)
        .map(|_| {
            let mut img = vec![0f32; 784];
            for _ in 0..3 {
                let (y0, x0) = ((r.next_u32() % 20) as usize, (r.next_u32() % 20) as usize);
                let (h, w) = (4 + (r.next_u32() % 8) as usize, 4 + (r.next_u32() % 8) as usize);
                let v = (r.next_u32() % 256) as f32 / 255.0;
                for y in y0..(y0 + h).min(28) {
                    for x in x0..(x0 + w).min(28) {
                        img[y * 28 + x] = v;
                    }
                }
            }
            img
        })
        .collect()
}

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
    assert!(rt.scratch_len(Entry::Decode) <= scratch.len());
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
    // Encoder: input 784 in buffer A, then 8x14x14 in B, 16x7x7 in A, 32x3x3 in B, ...
    assert_eq!(rt.scratch_len(Entry::Encode), 1568 + 784);
    let x = images(1, 3).remove(0);
    let mut small = vec![0u8; rt.scratch_len(Entry::Encode) - 1];
    let mut code = vec![0f32; m.latent];
    assert!(matches!(rt.encode(&x, &mut code, &mut small), Err(bottleneck_runtime::Error::ScratchTooSmall { .. })));
}
