//! `Model::profile`: the same outputs as the entry points, and one callback per step, in order.

mod common;

use bottleneck_export::{Variant, quantize};
use bottleneck_runtime::{Entry, Model, Step};
use common::{images, model};

#[test]
fn profile_reports_every_layer_in_order_and_changes_no_output() {
    let bytes = quantize(&model(Variant::Autoencoder, true), &images(20, 1)).unwrap().bytes;
    let m = Model::parse(&bytes).unwrap();
    let image: Vec<f32> = (0..m.input_len()).map(|i| (i % 17) as f32 / 16.0).collect();
    let mut scratch = vec![0u8; m.max_scratch_len()];
    let mut code = vec![0f32; m.latent_len()];
    m.encode(&image, &mut code, &mut scratch).unwrap();
    let mut logits = vec![0f32; m.classes().unwrap()];
    m.classify(&image, &mut logits, &mut scratch).unwrap();
    let mut decoded = vec![0f32; m.input_len()];
    m.decode(&code, &mut decoded, &mut scratch).unwrap();

    for (entry, input, expected) in
        [(Entry::Encode, &image, &code), (Entry::Decode, &code, &decoded), (Entry::Classify, &image, &logits)]
    {
        let mut steps = Vec::new();
        let mut out = vec![f32::NAN; expected.len()];
        m.profile(entry, input, &mut out, &mut scratch, &mut |s| steps.push(s)).unwrap();
        assert_eq!(&out, expected, "{entry:?}: outputs changed");
        assert_eq!(steps.first(), Some(&Step::Input), "{entry:?}: {steps:?}");
        assert_eq!(steps.last(), Some(&Step::Output), "{entry:?}: {steps:?}");
        let layers: Vec<u16> =
            steps.iter().filter_map(|s| if let Step::Layer(i) = s { Some(*i) } else { None }).collect();
        assert_eq!(layers.len() + 2, steps.len(), "{entry:?}: {steps:?}");
        assert!(layers.windows(2).all(|w| w[0] < w[1]), "{entry:?}: layers out of order {layers:?}");
        // Every layer of the section(s) the entry runs, each with a record.
        let span = match entry {
            Entry::Encode => m.header().encoder,
            Entry::Decode => m.header().decoder,
            _ => m.header().classifier,
        };
        assert_eq!(layers.last().copied(), Some(span.first + span.count - 1), "{entry:?}: {layers:?}");
        for &i in &layers {
            let rec = m.layer(i).unwrap();
            assert_eq!(rec.macs() > 0, rec.kind.has_weights(), "layer {i}: {rec:?}");
        }
    }
    assert!(m.layer(m.header().layer_count).is_err());
}

#[test]
fn macs_count_every_tap_the_kernels_run() {
    use bottleneck_runtime::format::{LayerKind, LayerRecord, Shape};
    let rec = |kind, input, output, k, s, p| LayerRecord::shape_only(kind, 0, (input, output), (k, s, p, 0));
    let sh = |c, h, w| Shape { c, h, w };
    // 14 x 14 outputs of 4 x 4 taps over 1 channel, 8 output channels.
    assert_eq!(rec(LayerKind::Conv2d, sh(1, 28, 28), sh(8, 14, 14), 4, 2, 1).macs(), 14 * 14 * 16 * 8);
    assert_eq!(rec(LayerKind::Linear, sh(288, 1, 1), sh(16, 1, 1), 1, 1, 0).macs(), 288 * 16);
    // Stride 2, kernel 4, padding 1: every output reads 2 x 2 taps, as an ordinary input pixel
    // scatters to 4 x 4 outputs (14 * 14 * 16 = 28 * 28 * 4).
    assert_eq!(rec(LayerKind::ConvTranspose2d, sh(8, 14, 14), sh(1, 28, 28), 4, 2, 1).macs(), 28 * 28 * 4 * 8);
    // Kernel 3, stride 2, no padding, 3 -> 7: rows read 2, 1, 2, 1, 2, 1, 2 taps (11 in all).
    assert_eq!(rec(LayerKind::ConvTranspose2d, sh(32, 3, 3), sh(16, 7, 7), 3, 2, 0).macs(), 11 * 11 * 32 * 16);
    assert_eq!(rec(LayerKind::Sigmoid, sh(1, 28, 28), sh(1, 28, 28), 1, 1, 0).macs(), 0);
}
