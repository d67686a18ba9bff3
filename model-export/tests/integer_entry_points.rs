//! The integer entry points (`encode_bytes`, `classify_bytes`, `classify_code`) against the float
//! ones on the same pixels: the same codes, logits and classes, bit for bit.

mod common;

use bottleneck_export::{InputRange, Variant, quantize};
use bottleneck_runtime::{Error, Model, Rng};
use common::{images, model};

/// Pixel bytes of blobby images, and the floats the trainer makes of them.
fn pixels(range: InputRange, n: usize) -> Vec<(Vec<u8>, Vec<f32>)> {
    let mut r = Rng::new(3);
    images(n, 5)
        .into_iter()
        .map(|img| {
            // Noise on top, so that every byte value turns up.
            let bytes: Vec<u8> = img.iter().map(|&v| ((v * 255.0) as u32 + r.next_u32() % 40).min(255) as u8).collect();
            let floats = bytes.iter().map(|&p| range.value(p)).collect();
            (bytes, floats)
        })
        .collect()
}

fn check(range: InputRange, classifier_from_code: bool) {
    let mut m = model(Variant::Autoencoder, true);
    m.input_range = range;
    if classifier_from_code {
        m.classifier.as_mut().unwrap().encoder = None;
    }
    let calibration: Vec<Vec<f32>> = pixels(range, 20).into_iter().map(|(_, f)| f).collect();
    let bytes = quantize(&m, &calibration).unwrap().bytes;
    let model = Model::parse(&bytes).unwrap();
    assert_eq!(model.classifies_from_code(), classifier_from_code);
    let mut scratch = vec![0u8; model.max_scratch_len()];
    let classes = model.classes().unwrap();
    let step = model.logit_scale().unwrap();
    let mut distinct = std::collections::BTreeSet::new();
    for (i, (px, floats)) in pixels(range, 40).iter().enumerate() {
        let mut code_f = vec![0f32; model.latent_len()];
        model.encode(floats, &mut code_f, &mut scratch).unwrap();
        let mut code_b = vec![0i8; model.latent_len()];
        model.encode_bytes(px, &mut code_b, &mut scratch).unwrap();
        let from_bytes: Vec<f32> = code_b.iter().map(|&b| f32::from(b) * model.code_scale()).collect();
        assert_eq!(from_bytes, code_f, "image {i}: codes differ");

        let mut logits_f = vec![0f32; classes];
        let class_f = model.classify(floats, &mut logits_f, &mut scratch).unwrap();
        let mut logits_i = vec![0i32; classes];
        let class_i = model.classify_bytes(px, &mut logits_i, &mut scratch).unwrap();
        assert_eq!(class_i, class_f, "image {i}: classes differ");
        let scaled: Vec<f32> = logits_i.iter().map(|&v| v as f32 * step).collect();
        assert_eq!(scaled, logits_f, "image {i}: logits differ");
        distinct.insert(logits_i.clone());

        let mut logits_c = vec![0i32; classes];
        match model.classify_code(&code_b, &mut logits_c, &mut scratch) {
            Ok(class_c) => {
                assert!(classifier_from_code);
                assert_eq!((class_c, &logits_c), (class_i, &logits_i), "image {i}: classify_code differs");
            }
            Err(e) => {
                assert!(!classifier_from_code);
                assert_eq!(e, Error::ClassifierReadsImage);
            }
        }
    }
    assert!(distinct.len() > 30, "the images barely differ: {} distinct logit vectors", distinct.len());
}

#[test]
fn unit_range_pixels_fine_tuned_classifier() {
    check(InputRange::Unit, false);
}

#[test]
fn unit_range_pixels_classifier_on_the_code() {
    check(InputRange::Unit, true);
}

#[test]
fn symmetric_range_pixels() {
    check(InputRange::Symmetric, true);
}

#[test]
fn wrong_lengths_are_errors() {
    let bytes = quantize(&model(Variant::Autoencoder, true), &images(20, 1)).unwrap().bytes;
    let m = Model::parse(&bytes).unwrap();
    let mut scratch = vec![0u8; m.max_scratch_len()];
    let mut code = vec![0i8; m.latent_len()];
    assert_eq!(m.encode_bytes(&[0; 10], &mut code, &mut scratch), Err(Error::InputLength { expected: 784, found: 10 }));
    assert_eq!(
        m.encode_bytes(&[0; 784], &mut code[..2], &mut scratch),
        Err(Error::OutputLength { expected: 6, found: 2 })
    );
    let mut logits = [0i32; 3];
    assert_eq!(
        m.classify_bytes(&[0; 784], &mut logits, &mut scratch),
        Err(Error::OutputLength { expected: 10, found: 3 })
    );
}
