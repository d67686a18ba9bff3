//! Exported ONNX files run in an independent runtime (tract) and agree with the float reference
//! interpreter to 1e-4, for every file kind: encoder, decoder, classifier, VAE encoder and decoder.

mod common;

use bottleneck_export::reference::forward;
use bottleneck_export::{Model, Network, Variant, onnx};
use common::{classifier_alone, images, model, residual_classifier};
use tract_onnx::prelude::*;

const TOLERANCE: f32 = 1e-4;

fn run(bytes: &[u8], input: &[f32], dims: &[usize]) -> Vec<Vec<f32>> {
    let m = tract_onnx::onnx().model_for_read(&mut std::io::Cursor::new(bytes)).expect("tract reads the file");
    let plan = m.into_optimized().expect("tract optimises it").into_runnable().expect("runnable");
    let x = Tensor::from_shape(dims, input).unwrap();
    let out = plan.run(tvec!(x.into())).expect("tract runs it");
    out.iter().map(|t| t.try_as_plain_ram().unwrap().as_slice::<f32>().unwrap().to_vec()).collect()
}

fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let worst = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst <= TOLERANCE, "{what}: max difference {worst}");
}

fn reference(net: &Network, x: &[f32], shape: [usize; 3]) -> Vec<f32> {
    forward(net, x, shape).unwrap().0
}

/// A batch of 3 images, to exercise the dynamic batch dimension.
fn batch() -> (Vec<Vec<f32>>, Vec<f32>) {
    let imgs = images(3, 9);
    let flat = imgs.concat();
    (imgs, flat)
}

fn check(m: &Model) {
    let files = onnx::export(m).unwrap();
    let (imgs, flat) = batch();
    let l = m.latent;
    for f in &files {
        match f.name {
            "encoder" | "vae-encoder" => {
                let outs = run(&f.bytes, &flat, &[3, 1, 28, 28]);
                let want: Vec<f32> = imgs.iter().flat_map(|x| reference(&m.encoder, x, m.input)).collect();
                if f.name == "encoder" {
                    assert_eq!(f.outputs, ["code"]);
                    assert_close("code", &outs[0], &want);
                } else {
                    assert_eq!(f.outputs, ["mean", "log_var"]);
                    let mean: Vec<f32> = want.chunks(2 * l).flat_map(|c| c[..l].to_vec()).collect();
                    let log_var: Vec<f32> = want.chunks(2 * l).flat_map(|c| c[l..].to_vec()).collect();
                    assert_close("mean", &outs[0], &mean);
                    assert_close("log_var", &outs[1], &log_var);
                }
            }
            "decoder" | "vae-decoder" => {
                let codes: Vec<f32> = (0..3 * l).map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.3).collect();
                let outs = run(&f.bytes, &codes, &[3, l]);
                let want: Vec<f32> = codes.chunks(l).flat_map(|z| reference(&m.decoder, z, [l, 1, 1])).collect();
                assert_close("image", &outs[0], &want);
            }
            "classifier" => {
                let outs = run(&f.bytes, &flat, &[3, 1, 28, 28]);
                let c = m.classifier.as_ref().unwrap();
                let mut net = c.encoder.clone().unwrap_or_else(|| m.encoder.clone());
                net.layers.extend(c.head.layers.clone());
                let want: Vec<f32> = imgs.iter().flat_map(|x| reference(&net, x, m.input)).collect();
                assert_close("logits", &outs[0], &want);
            }
            other => panic!("unexpected file {other}"),
        }
    }
}

#[test]
fn autoencoder_and_classifier_files_agree_with_the_reference() {
    let m = model(Variant::Autoencoder, true);
    let names: Vec<&str> = onnx::export(&m).unwrap().iter().map(|f| f.name).collect();
    assert_eq!(names, ["encoder", "decoder", "classifier"]);
    check(&m);
}

/// A classifier alone (batch norm, max and average pooling, a depthwise convolution as a grouped
/// `Conv`): one file, which tract runs to the reference's logits.
#[test]
fn classifier_alone_file_agrees_with_the_reference() {
    let mut m = classifier_alone();
    let names: Vec<&str> = onnx::export(&m).unwrap().iter().map(|f| f.name).collect();
    assert_eq!(names, ["classifier"]);
    check(&m);
    // A residual block (ONNX `Add`).
    check(&residual_classifier());
    // With a softmax at the end (ONNX `Softmax`, axis 1).
    m.classifier.as_mut().unwrap().encoder.as_mut().unwrap().layers.push(bottleneck_export::Layer::Softmax);
    check(&m);
}

#[test]
fn vae_files_agree_with_the_reference() {
    let m = model(Variant::Variational, false);
    let names: Vec<&str> = onnx::export(&m).unwrap().iter().map(|f| f.name).collect();
    assert_eq!(names, ["vae-encoder", "vae-decoder"]);
    check(&m);
}

#[test]
fn files_carry_opset_producer_and_metadata() {
    use onnx_protobuf::{Message, ModelProto};
    let m = model(Variant::Autoencoder, false);
    let f = &onnx::export(&m).unwrap()[0];
    let proto = ModelProto::parse_from_bytes(&f.bytes).unwrap();
    assert_eq!(proto.opset_import[0].version, 17);
    assert_eq!(proto.producer_name, "bottleneck");
    assert!(proto.metadata_props.iter().any(|e| e.key == "bottleneck.latent" && e.value == "6"));
    let g = proto.graph.as_ref().unwrap();
    assert_eq!(g.input[0].name, "image");
    assert!(g.initializer.iter().any(|t| t.name == "encoder.0.weight"));
}

#[test]
fn safetensors_names_and_shapes() {
    let m = model(Variant::Autoencoder, true);
    let bytes = bottleneck_export::safetensors::export(&m).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let t = st.tensor("encoder.0.weight").unwrap();
    assert_eq!(t.shape(), [8, 1, 4, 4]);
    assert_eq!(st.tensor("decoder.5.weight").unwrap().shape(), [32, 16, 3, 3]); // ConvTranspose: [in, out, k, k]
    assert_eq!(st.tensor("encoder.6.weight").unwrap().shape(), [64, 288]); // Linear: [out, in]
    assert!(st.tensor("classifier.head.2.bias").is_ok());
}
