//! Reading ONNX back: Bottleneck's own files import to the same layers; outside-style graphs
//! (MatMul + Add, Reshape) import; unsupported operators and branches are refused by name.

mod common;

use bottleneck_export::graph::Network;
use bottleneck_export::onnx::{self, network_file};
use bottleneck_export::onnx_import::{import_network, split_at_bottleneck};
use bottleneck_export::{Layer, Variant};
use common::model;
use onnx_protobuf::{Message, ModelProto};

#[test]
fn own_files_import_to_the_same_layers() {
    let m = model(Variant::Autoencoder, true);
    for f in onnx::export(&m).unwrap() {
        let imported = import_network(&f.bytes, f.name).unwrap();
        let want = match f.name {
            "encoder" => m.encoder.clone(),
            "decoder" => m.decoder.clone(),
            _ => {
                let c = m.classifier.as_ref().unwrap();
                let mut n = c.encoder.clone().unwrap();
                n.layers.extend(c.head.layers.clone());
                n
            }
        };
        // Unflatten comes back as Unflatten, Flatten as Flatten, weights bit for bit.
        assert_eq!(imported.network, want, "{}", f.name);
    }
}

#[test]
fn a_whole_autoencoder_splits_at_its_bottleneck() {
    let m = model(Variant::Autoencoder, false);
    let mut whole = m.encoder.clone();
    whole.layers.extend(m.decoder.layers.clone());
    let f = network_file(&m, &whole, m.input, "autoencoder").unwrap();
    let imported = import_network(&f.bytes, "ae.onnx").unwrap();
    assert_eq!(imported.output, [1, 28, 28]);
    let (enc, dec, latent) = split_at_bottleneck(&imported, "ae.onnx").unwrap();
    assert_eq!(latent, m.latent);
    assert_eq!(enc, m.encoder);
    assert_eq!(dec, m.decoder);
}

fn edit(bytes: &[u8], f: impl FnOnce(&mut ModelProto)) -> Vec<u8> {
    let mut p = ModelProto::parse_from_bytes(bytes).unwrap();
    f(&mut p);
    p.write_to_bytes().unwrap()
}

#[test]
fn unsupported_ops_and_branches_are_refused_by_name() {
    let m = model(Variant::Autoencoder, false);
    let enc = &onnx::export(&m).unwrap()[0];
    let leaky = edit(&enc.bytes, |p| p.graph.as_mut().unwrap().node[1].op_type = "LeakyRelu".into());
    let err = import_network(&leaky, "outside.onnx").unwrap_err().to_string();
    assert!(err.contains("outside.onnx: unsupported ONNX op 'LeakyRelu' (node 'encoder.1')"), "{err}");
    assert!(err.contains("supported: Conv, ConvTranspose"), "{err}");

    let branch = edit(&enc.bytes, |p| p.graph.as_mut().unwrap().node[2].input[0] = "image".into());
    let err = import_network(&branch, "b.onnx").unwrap_err().to_string();
    assert!(err.contains("node 'encoder.2' (Conv) does not read the previous output"), "{err}");

    let err = import_network(b"not a model at all", "junk.onnx").unwrap_err().to_string();
    assert!(err.starts_with("model graph: junk.onnx: not an ONNX model"), "{err}");
}

#[test]
fn matmul_plus_add_is_a_linear_layer() {
    // Gemm -> MatMul + Add with the weight transposed, as some exporters write linear layers.
    let m = model(Variant::Autoencoder, false);
    let dec = &onnx::export(&m).unwrap()[1];
    let rewritten = edit(&dec.bytes, |p| {
        let g = p.graph.as_mut().unwrap();
        let gemm = g.node.iter().position(|n| n.op_type == "Gemm").unwrap();
        let (x, w, b, y) = {
            let n = &g.node[gemm];
            (n.input[0].clone(), n.input[1].clone(), n.input[2].clone(), n.output[0].clone())
        };
        // Transpose the [out, in] initializer to [in, out].
        let t = g.initializer.iter_mut().find(|t| t.name == w).unwrap();
        let (o, i) = (t.dims[0] as usize, t.dims[1] as usize);
        let v: Vec<f32> = t.raw_data.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
        let mut tr = vec![0f32; v.len()];
        for r in 0..o {
            for c in 0..i {
                tr[c * o + r] = v[r * i + c];
            }
        }
        t.dims = vec![i as i64, o as i64];
        t.raw_data = tr.iter().flat_map(|x| x.to_le_bytes()).collect();
        let mut mm = g.node[gemm].clone();
        mm.op_type = "MatMul".into();
        mm.input = vec![x, w];
        mm.output = vec![format!("{y}.mm")];
        mm.attribute.clear();
        let mut add = mm.clone();
        add.op_type = "Add".into();
        add.input = vec![format!("{y}.mm"), b];
        add.output = vec![y];
        g.node.splice(gemm..=gemm, [mm, add]);
    });
    let imported = import_network(&rewritten, "mm.onnx").unwrap();
    assert_eq!(imported.network, m.decoder);
    assert!(matches!(imported.network.layers[0], Layer::Linear { .. }));
    let _: Network = imported.network;
}
