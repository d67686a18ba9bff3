//! Weights as safetensors, named so that a PyTorch `nn.Sequential` of the same layers loads them
//! with `load_state_dict` (see docs/onnx.md for the names and the PyTorch code).

use std::collections::HashMap;

use safetensors::tensor::{Dtype, TensorView};

use crate::error::ExportError;
use crate::graph::{Layer, Model, Network};

/// Named tensors of one network: `(name, shape, little-endian bytes, dtype)`.
fn network_tensors(net: &Network, scope: &str, out: &mut Vec<(String, Vec<usize>, Vec<u8>, Dtype)>) {
    let f32s = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    for (i, layer) in net.layers.iter().enumerate() {
        let p = format!("{scope}.{i}");
        match layer {
            Layer::Conv2d { weight, bias, .. }
            | Layer::DepthwiseConv2d { weight, bias, .. }
            | Layer::ConvTranspose2d { weight, bias, .. }
            | Layer::Linear { weight, bias } => {
                out.push((format!("{p}.weight"), weight.shape.clone(), f32s(&weight.data), Dtype::F32));
                out.push((format!("{p}.bias"), vec![bias.len()], f32s(bias), Dtype::F32));
            }
            Layer::Residual { body } => network_tensors(body, &format!("{p}.body"), out),
            Layer::BatchNorm { gamma, beta, mean, var, .. } => {
                for (n, v) in [("weight", gamma), ("bias", beta), ("running_mean", mean), ("running_var", var)] {
                    out.push((format!("{p}.{n}"), vec![v.len()], f32s(v), Dtype::F32));
                }
                // PyTorch keeps this counter in the state dict; strict loading expects it.
                out.push((format!("{p}.num_batches_tracked"), vec![], 0i64.to_le_bytes().to_vec(), Dtype::I64));
            }
            _ => {}
        }
    }
}

/// The model's weights as a safetensors file, with the model's metadata in `__metadata__`.
///
/// # Errors
/// [`ExportError::Graph`] when serialisation fails.
pub fn export(model: &Model) -> Result<Vec<u8>, ExportError> {
    let mut tensors = Vec::new();
    network_tensors(&model.encoder, "encoder", &mut tensors);
    network_tensors(&model.decoder, "decoder", &mut tensors);
    if let Some(c) = &model.classifier {
        if let Some(e) = &c.encoder {
            network_tensors(e, "classifier.encoder", &mut tensors);
        }
        network_tensors(&c.head, "classifier.head", &mut tensors);
    }
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, shape, bytes, dtype)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|v| (n.clone(), v))
                .map_err(|e| ExportError::Graph(format!("{n}: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let meta: HashMap<String, String> = crate::onnx::metadata(model).into_iter().collect();
    safetensors::serialize(views, Some(meta)).map_err(|e| ExportError::Graph(format!("safetensors: {e}")))
}
