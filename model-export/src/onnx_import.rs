//! Reading outside ONNX files into the layer description, for `bottleneck import`.
//!
//! Supported: a single chain of `Conv`, `ConvTranspose`, `Gemm` (alpha = beta = 1), `MatMul`
//! followed by `Add`, `BatchNormalization`, `Relu`, `Sigmoid`, `Tanh`, `Flatten` (axis 1),
//! `Reshape` to `[batch, c, h, w]` or `[batch, n]` with a constant shape, and `Dropout` / `Identity`
//! (skipped). Anything else is refused with the operator's and the node's name.

use std::collections::HashMap;

use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::{AttributeProto, Message, ModelProto, NodeProto, TensorProto};

use crate::error::ExportError;
use crate::graph::{Layer, Network, Shape, Tensor, layer_output};

/// The operators `import` understands.
pub const SUPPORTED_OPS: &[&str] = &[
    "Conv",
    "ConvTranspose",
    "Gemm",
    "MatMul",
    "Add",
    "BatchNormalization",
    "Relu",
    "Sigmoid",
    "Tanh",
    "Flatten",
    "Reshape",
    "Dropout",
    "Identity",
];

/// A chain of layers read from an ONNX graph.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedNetwork {
    /// The layers.
    pub network: Network,
    /// Input shape without the batch.
    pub input: Shape,
    /// Output shape without the batch.
    pub output: Shape,
    /// Output shape after each layer.
    pub shapes: Vec<Shape>,
}

fn unsupported(what: &str, msg: String) -> ExportError {
    ExportError::Unsupported(format!("{what}: {msg}"))
}

enum Init {
    F32(Vec<usize>, Vec<f32>),
    I64(Vec<i64>),
}

fn read_init(t: &TensorProto) -> Option<Init> {
    let dims: Vec<usize> = t.dims.iter().map(|&d| usize::try_from(d).ok()).collect::<Option<_>>()?;
    if t.data_type == DataType::FLOAT as i32 {
        let data = if t.raw_data.is_empty() {
            t.float_data.clone()
        } else {
            t.raw_data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
        };
        (data.len() == dims.iter().product::<usize>()).then_some(Init::F32(dims, data))
    } else if t.data_type == DataType::INT64 as i32 {
        let data = if t.raw_data.is_empty() {
            t.int64_data.clone()
        } else {
            t.raw_data.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect()
        };
        Some(Init::I64(data))
    } else {
        None
    }
}

fn attr<'a>(n: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

fn attr_i(n: &NodeProto, name: &str, default: i64) -> i64 {
    attr(n, name).map_or(default, |a| a.i)
}

fn attr_f(n: &NodeProto, name: &str, default: f32) -> f32 {
    attr(n, name).map_or(default, |a| a.f)
}

fn attr_ints(n: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(n, name).map(|a| a.ints.clone())
}

/// One value for all directions, or an error naming the attribute.
fn uniform(n: &NodeProto, name: &str, default: i64, what: &str) -> Result<usize, ExportError> {
    match attr_ints(n, name) {
        None => Ok(default as usize),
        Some(v) if !v.is_empty() && v.iter().all(|&x| x == v[0] && x >= 0) => Ok(v[0] as usize),
        Some(v) => Err(unsupported(
            what,
            format!("node '{}' ({}): {name} {v:?} must be the same in every direction", n.name, n.op_type),
        )),
    }
}

/// Reads `bytes` as an ONNX model whose graph is a single chain of supported operators.
///
/// # Errors
/// [`ExportError::Unsupported`] naming the operator and node that cannot be imported, or what
/// else is wrong (several inputs, a branch, a missing initializer); [`ExportError::Graph`] for an
/// unreadable file.
pub fn import_network(bytes: &[u8], what: &str) -> Result<ImportedNetwork, ExportError> {
    let model = ModelProto::parse_from_bytes(bytes)
        .map_err(|e| ExportError::Graph(format!("{what}: not an ONNX model: {e}")))?;
    let g = model.graph.as_ref().ok_or_else(|| ExportError::Graph(format!("{what}: the model has no graph")))?;
    let mut inits: HashMap<&str, Init> = HashMap::new();
    for t in &g.initializer {
        let v = read_init(t)
            .ok_or_else(|| unsupported(what, format!("initializer '{}' is not a float or int64 tensor", t.name)))?;
        inits.insert(t.name.as_str(), v);
    }
    // Constant nodes are initializers too.
    for n in g.node.iter().filter(|n| n.op_type == "Constant") {
        if let (Some(out), Some(t)) = (n.output.first(), attr(n, "value").and_then(|a| a.t.as_ref())) {
            let v = read_init(t)
                .ok_or_else(|| unsupported(what, format!("constant '{}' is not a float or int64 tensor", n.name)))?;
            inits.insert(out.as_str(), v);
        }
    }
    let inputs: Vec<_> = g.input.iter().filter(|i| !inits.contains_key(i.name.as_str())).collect();
    let [input] = inputs.as_slice() else {
        return Err(unsupported(
            what,
            format!("the graph has {} inputs; import takes one image or code input", inputs.len()),
        ));
    };
    let dims: Vec<Option<usize>> = input
        .type_
        .as_ref()
        .and_then(|t| t.tensor_type().shape.as_ref())
        .map(|s| {
            s.dim.iter().map(|d| if d.has_dim_value() { usize::try_from(d.dim_value()).ok() } else { None }).collect()
        })
        .unwrap_or_default();
    let shape: Shape = match dims.as_slice() {
        [_, Some(c), Some(h), Some(w)] => [*c, *h, *w],
        [_, Some(n)] => [*n, 1, 1],
        other => {
            return Err(unsupported(
                what,
                format!("input '{}' has shape {other:?}; expected [batch, c, h, w] or [batch, n]", input.name),
            ));
        }
    };

    let f32_init = |name: &str, node: &NodeProto| -> Result<(Vec<usize>, Vec<f32>), ExportError> {
        match inits.get(name) {
            Some(Init::F32(d, v)) => Ok((d.clone(), v.clone())),
            _ => Err(unsupported(
                what,
                format!("node '{}' ({}): '{name}' must be a constant float tensor", node.name, node.op_type),
            )),
        }
    };

    let mut layers = Vec::new();
    let mut shapes = Vec::new();
    let mut current = input.name.clone();
    let mut s = shape;
    let mut pending_matmul: Option<(Vec<usize>, Vec<f32>)> = None;
    for n in g.node.iter().filter(|n| n.op_type != "Constant") {
        let op = n.op_type.as_str();
        if !SUPPORTED_OPS.contains(&op) {
            return Err(unsupported(
                what,
                format!("unsupported ONNX op '{op}' (node '{}'); supported: {}", n.name, SUPPORTED_OPS.join(", ")),
            ));
        }
        if n.input.first() != Some(&current) {
            return Err(unsupported(
                what,
                format!(
                    "node '{}' ({op}) does not read the previous output '{current}': only single chains are supported",
                    n.name
                ),
            ));
        }
        let bias_or_zero = |idx: usize, len: usize| -> Result<Vec<f32>, ExportError> {
            match n.input.get(idx).filter(|s| !s.is_empty()) {
                Some(b) => Ok(f32_init(b, n)?.1),
                None => Ok(vec![0.0; len]),
            }
        };
        let layer = match op {
            "Conv" | "ConvTranspose" => {
                if attr_i(n, "group", 1) != 1 || uniform(n, "dilations", 1, what)? != 1 {
                    return Err(unsupported(what, format!("node '{}' ({op}): groups and dilation must be 1", n.name)));
                }
                if attr(n, "auto_pad").is_some_and(|a| !a.s.is_empty() && a.s != b"NOTSET")
                    || attr(n, "output_shape").is_some()
                {
                    return Err(unsupported(
                        what,
                        format!(
                            "node '{}' ({op}): auto_pad / output_shape are not supported; use explicit pads",
                            n.name
                        ),
                    ));
                }
                let (wd, w) = f32_init(n.input.get(1).map_or("", String::as_str), n)?;
                let out = if op == "Conv" { wd[0] } else { wd.get(1).copied().unwrap_or(0) };
                let weight = Tensor::new(wd, w)?;
                let (stride, padding) = (uniform(n, "strides", 1, what)?, uniform(n, "pads", 0, what)?);
                let bias = bias_or_zero(2, out)?;
                if op == "Conv" {
                    Some(Layer::Conv2d { weight, bias, stride, padding })
                } else {
                    let output_padding = uniform(n, "output_padding", 0, what)?;
                    Some(Layer::ConvTranspose2d { weight, bias, stride, padding, output_padding })
                }
            }
            "Gemm" => {
                if attr_f(n, "alpha", 1.0) != 1.0 || attr_f(n, "beta", 1.0) != 1.0 || attr_i(n, "transA", 0) != 0 {
                    return Err(unsupported(
                        what,
                        format!("node '{}' (Gemm): only alpha = beta = 1 and transA = 0", n.name),
                    ));
                }
                let (wd, w) = f32_init(n.input.get(1).map_or("", String::as_str), n)?;
                let weight = if attr_i(n, "transB", 0) == 1 { Tensor::new(wd, w)? } else { transpose(&wd, &w)? };
                let bias = bias_or_zero(2, weight.shape[0])?;
                Some(Layer::Linear { weight, bias })
            }
            "MatMul" => {
                pending_matmul = Some(f32_init(n.input.get(1).map_or("", String::as_str), n)?);
                None
            }
            "Add" => {
                let (wd, w) = pending_matmul.take().ok_or_else(|| {
                    unsupported(
                        what,
                        format!("node '{}' (Add) must follow a MatMul (as a linear layer's bias)", n.name),
                    )
                })?;
                let weight = transpose(&wd, &w)?;
                let bias = f32_init(n.input.get(1).map_or("", String::as_str), n)?.1;
                Some(Layer::Linear { weight, bias })
            }
            "BatchNormalization" => {
                let get = |i: usize| f32_init(n.input.get(i).map_or("", String::as_str), n).map(|v| v.1);
                Some(Layer::BatchNorm {
                    gamma: get(1)?,
                    beta: get(2)?,
                    mean: get(3)?,
                    var: get(4)?,
                    epsilon: attr_f(n, "epsilon", 1e-5),
                })
            }
            "Relu" => Some(Layer::Relu),
            "Sigmoid" => Some(Layer::Sigmoid),
            "Tanh" => Some(Layer::Tanh),
            "Flatten" => {
                if attr_i(n, "axis", 1) != 1 {
                    return Err(unsupported(what, format!("node '{}' (Flatten): only axis 1", n.name)));
                }
                Some(Layer::Flatten)
            }
            "Reshape" => {
                let target = match n.input.get(1).and_then(|t| inits.get(t.as_str())) {
                    Some(Init::I64(v)) => v.clone(),
                    _ => {
                        return Err(unsupported(
                            what,
                            format!("node '{}' (Reshape): the shape must be a constant", n.name),
                        ));
                    }
                };
                match target.as_slice() {
                    [_, c, h, w] if *c > 0 && *h > 0 && *w > 0 => {
                        Some(Layer::Unflatten { channels: *c as usize, height: *h as usize, width: *w as usize })
                    }
                    [_, _] => Some(Layer::Flatten),
                    other => {
                        return Err(unsupported(
                            what,
                            format!(
                                "node '{}' (Reshape): target {other:?} is not [batch, c, h, w] or [batch, n]",
                                n.name
                            ),
                        ));
                    }
                }
            }
            _ => None, // Dropout, Identity: nothing at inference.
        };
        if pending_matmul.is_some() && op != "MatMul" {
            return Err(unsupported(what, format!("a MatMul must be followed by its bias Add, found '{op}'")));
        }
        if let Some(layer) = layer {
            s = layer_output(&layer, s, layers.len())?;
            shapes.push(s);
            layers.push(layer);
        }
        current = n.output.first().cloned().unwrap_or_default();
    }
    if pending_matmul.is_some() {
        return Err(unsupported(what, "a MatMul without bias Add ends the graph".into()));
    }
    if layers.is_empty() {
        return Err(unsupported(what, "the graph has no layers".into()));
    }
    Ok(ImportedNetwork { network: Network { layers }, input: shape, output: s, shapes })
}

fn transpose(dims: &[usize], w: &[f32]) -> Result<Tensor, ExportError> {
    let [rows, cols] = dims else { return Err(ExportError::Graph(format!("expected a 2-D weight, got {dims:?}"))) };
    let mut t = vec![0f32; w.len()];
    for r in 0..*rows {
        for c in 0..*cols {
            t[c * rows + r] = w[r * cols + c];
        }
    }
    Tensor::new(vec![*cols, *rows], t)
}

/// Splits an autoencoder chain at its bottleneck: after the first layer whose output is the
/// smallest vector. Returns (encoder, decoder, code size).
///
/// # Errors
/// [`ExportError::Unsupported`] when no vector layer lies strictly inside the chain.
pub fn split_at_bottleneck(net: &ImportedNetwork, what: &str) -> Result<(Network, Network, usize), ExportError> {
    let last = net.shapes.len().saturating_sub(1);
    let best = net
        .shapes
        .iter()
        .enumerate()
        .filter(|(i, s)| *i < last && s[1] == 1 && s[2] == 1)
        .min_by_key(|(i, s)| (s[0], *i))
        .map(|(i, s)| (i, s[0]))
        .ok_or_else(|| unsupported(what, "no vector layer inside the graph to serve as the code".into()))?;
    let (enc, dec) = net.network.layers.split_at(best.0 + 1);
    Ok((Network { layers: enc.to_vec() }, Network { layers: dec.to_vec() }, best.1))
}
