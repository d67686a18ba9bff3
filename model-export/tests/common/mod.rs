//! A seed-002-shaped model with random weights and blobby test images, shared by the tests.
#![allow(dead_code)]

use bottleneck_export::{Classifier, InputRange, LatentStats, Layer, Model, Network, Tensor, Variant};
use bottleneck_runtime::Rng;

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

/// A small classifier alone, random weights: conv 1->8 with batch norm and ReLU, 2x2 max pooling,
/// a 3x3 depthwise convolution with ReLU, conv 8->16 stride 2, ReLU, 2x2 average pooling, flatten,
/// linear 144->10 (the layers a CNN on a microcontroller uses).
pub fn classifier_alone() -> Model {
    let mut r = Rng::new(23);
    let net = Network {
        layers: vec![
            conv(&mut r, 1, 8, 3, 1, 1),
            Layer::BatchNorm {
                gamma: (0..8).map(|i| 0.8 + 0.05 * i as f32).collect(),
                beta: bias(&mut r, 8),
                mean: bias(&mut r, 8),
                var: vec![0.5; 8],
                epsilon: 1e-5,
            },
            Layer::Relu,
            Layer::MaxPool2d { kernel: 2, stride: 2 },
            Layer::DepthwiseConv2d {
                weight: rand_tensor(&mut r, &[8, 1, 3, 3], 9),
                bias: bias(&mut r, 8),
                stride: 1,
                padding: 1,
            },
            Layer::Relu,
            conv(&mut r, 8, 16, 3, 2, 1),
            Layer::Relu,
            Layer::AvgPool2d { kernel: 2, stride: 2 },
            Layer::Flatten,
            linear(&mut r, 144, 10),
        ],
    };
    Model {
        name: "cnn".into(),
        variant: Variant::Autoencoder,
        input: [1, 28, 28],
        input_range: InputRange::Unit,
        latent: 0,
        encoder: Network::default(),
        decoder: Network::default(),
        classifier: Some(Classifier { encoder: Some(net), head: Network::default() }),
        classes: (0..10).map(|c| format!("class {c}")).collect(),
        latent_stats: None,
        metadata: Vec::new(),
    }
}

/// A classifier alone with a residual block (ResNet's basic block without batch norm): conv
/// 1->8 and ReLU, 2x2 max pooling, then `x + conv(relu(conv(x)))` on 8x14x14, ReLU, 2x2 average
/// pooling, flatten, linear 392->10.
pub fn residual_classifier() -> Model {
    let mut r = Rng::new(29);
    let body = Network { layers: vec![conv(&mut r, 8, 8, 3, 1, 1), Layer::Relu, conv(&mut r, 8, 8, 3, 1, 1)] };
    let net = Network {
        layers: vec![
            conv(&mut r, 1, 8, 3, 1, 1),
            Layer::Relu,
            Layer::MaxPool2d { kernel: 2, stride: 2 },
            Layer::Residual { body },
            Layer::Relu,
            Layer::AvgPool2d { kernel: 2, stride: 2 },
            Layer::Flatten,
            linear(&mut r, 392, 10),
        ],
    };
    Model { classifier: Some(Classifier { encoder: Some(net), head: Network::default() }), ..classifier_alone() }
}

/// The seed-002 conv autoencoder shape (conv3 without activation, as its table 1), random weights.
pub fn model(variant: Variant, classifier: bool) -> Model {
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
pub fn images(n: usize, seed: u64) -> Vec<Vec<f32>> {
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
