//! ONNX export: encoder, decoder, classifier, VAE encoder (mean and log-variance) and VAE decoder,
//! as standard opset-17 graphs with a dynamic batch dimension. Dropout is omitted (inference).
//!
//! Layer mapping: Conv2d -> `Conv`, ConvTranspose2d -> `ConvTranspose`, Linear -> `Gemm`
//! (transB = 1, PyTorch weight layout), BatchNorm -> `BatchNormalization`, Relu/Sigmoid/Tanh ->
//! the same ops, Flatten -> `Flatten` (axis 1), Unflatten -> `Reshape` to `[-1, c, h, w]`, the VAE's
//! mean/log-variance split -> `Split`. Initializers are named like the safetensors tensors
//! (`encoder.0.weight`, ...), see docs/onnx.md.

use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::tensor_shape_proto::Dimension;
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TypeProto, ValueInfoProto,
};

use crate::error::ExportError;
use crate::graph::{Layer, Model, Network, Shape, Variant, layer_output};

/// The ONNX operator set the files declare.
pub const OPSET: i64 = 17;
/// ONNX IR version matching opset 17 (ONNX 1.12).
pub const IR_VERSION: i64 = 8;
/// Name of the symbolic batch dimension.
pub const BATCH: &str = "batch";

/// One exported ONNX file.
#[derive(Debug, Clone)]
pub struct OnnxFile {
    /// File stem: `encoder`, `decoder`, `classifier`, `vae-encoder`, `vae-decoder`.
    pub name: &'static str,
    /// Graph input names.
    pub inputs: Vec<String>,
    /// Graph output names.
    pub outputs: Vec<String>,
    /// The serialised `ModelProto`.
    pub bytes: Vec<u8>,
}

fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::INTS.into();
    a.ints = v.to_vec();
    a
}

fn attr_int(name: &str, v: i64) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::INT.into();
    a.i = v;
    a
}

fn attr_float(name: &str, v: f32) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::FLOAT.into();
    a.f = v;
    a
}

fn f32_tensor(name: &str, dims: &[usize], data: &[f32]) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.dims = dims.iter().map(|&d| d as i64).collect();
    t.data_type = DataType::FLOAT as i32;
    t.raw_data = data.iter().flat_map(|x| x.to_le_bytes()).collect();
    t
}

fn i64_tensor(name: &str, data: &[i64]) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.dims = vec![data.len() as i64];
    t.data_type = DataType::INT64 as i32;
    t.raw_data = data.iter().flat_map(|x| x.to_le_bytes()).collect();
    t
}

/// A float tensor value with a symbolic batch dimension first.
fn value_info(name: &str, dims: &[usize]) -> ValueInfoProto {
    let mut vi = ValueInfoProto::new();
    vi.name = name.into();
    let mut tp = TypeProto::new();
    let tt = tp.mut_tensor_type();
    tt.elem_type = DataType::FLOAT as i32;
    let shape = tt.shape.mut_or_insert_default();
    let mut batch = Dimension::new();
    batch.set_dim_param(BATCH.into());
    shape.dim.push(batch);
    for &d in dims {
        let mut dim = Dimension::new();
        dim.set_dim_value(d as i64);
        shape.dim.push(dim);
    }
    vi.type_ = Some(tp).into();
    vi
}

/// Dims of a value without the batch: images `[c, h, w]`, vectors `[n]`.
fn value_dims(s: Shape) -> Vec<usize> {
    if s[1] == 1 && s[2] == 1 { vec![s[0]] } else { s.to_vec() }
}

/// Builds one graph node by node.
#[derive(Default)]
struct Builder {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

impl Builder {
    fn node(&mut self, op: &str, name: String, inputs: Vec<String>, output: String, attributes: Vec<AttributeProto>) {
        let mut n = NodeProto::new();
        n.op_type = op.into();
        n.name = name;
        n.input = inputs;
        n.output = vec![output];
        n.attribute = attributes;
        self.nodes.push(n);
    }

    /// Appends `net` reading `input` of `shape`; returns the output value name and shape.
    fn network(
        &mut self,
        net: &Network,
        scope: &str,
        input: &str,
        shape: Shape,
    ) -> Result<(String, Shape), ExportError> {
        let mut x = input.to_string();
        let mut s = shape;
        for (i, layer) in net.layers.iter().enumerate() {
            let out_shape = layer_output(layer, s, i)?;
            let p = format!("{scope}.{i}");
            let y = p.clone();
            match layer {
                Layer::Conv2d { weight, bias, stride, padding }
                | Layer::DepthwiseConv2d { weight, bias, stride, padding } => {
                    let (kh, kw) = (weight.shape[2] as i64, weight.shape[3] as i64);
                    self.initializers.push(f32_tensor(&format!("{p}.weight"), &weight.shape, &weight.data));
                    self.initializers.push(f32_tensor(&format!("{p}.bias"), &[bias.len()], bias));
                    let pd = *padding as i64;
                    let mut attributes = vec![
                        attr_ints("kernel_shape", &[kh, kw]),
                        attr_ints("strides", &[*stride as i64; 2]),
                        attr_ints("pads", &[pd; 4]),
                    ];
                    // A depthwise convolution is a grouped one, a group per channel.
                    if matches!(layer, Layer::DepthwiseConv2d { .. }) {
                        attributes.push(attr_int("group", bias.len() as i64));
                    }
                    self.node(
                        "Conv",
                        p.clone(),
                        vec![x, format!("{p}.weight"), format!("{p}.bias")],
                        y.clone(),
                        attributes,
                    );
                }
                Layer::ConvTranspose2d { weight, bias, stride, padding, output_padding } => {
                    let (kh, kw) = (weight.shape[2] as i64, weight.shape[3] as i64);
                    self.initializers.push(f32_tensor(&format!("{p}.weight"), &weight.shape, &weight.data));
                    self.initializers.push(f32_tensor(&format!("{p}.bias"), &[bias.len()], bias));
                    let pd = *padding as i64;
                    self.node(
                        "ConvTranspose",
                        p.clone(),
                        vec![x, format!("{p}.weight"), format!("{p}.bias")],
                        y.clone(),
                        vec![
                            attr_ints("kernel_shape", &[kh, kw]),
                            attr_ints("strides", &[*stride as i64; 2]),
                            attr_ints("pads", &[pd; 4]),
                            attr_ints("output_padding", &[*output_padding as i64; 2]),
                        ],
                    );
                }
                Layer::Linear { weight, bias } => {
                    self.initializers.push(f32_tensor(&format!("{p}.weight"), &weight.shape, &weight.data));
                    self.initializers.push(f32_tensor(&format!("{p}.bias"), &[bias.len()], bias));
                    self.node(
                        "Gemm",
                        p.clone(),
                        vec![x, format!("{p}.weight"), format!("{p}.bias")],
                        y.clone(),
                        vec![attr_int("transB", 1)],
                    );
                }
                Layer::BatchNorm { gamma, beta, mean, var, epsilon } => {
                    let c = gamma.len();
                    for (n, v) in [("weight", gamma), ("bias", beta), ("running_mean", mean), ("running_var", var)] {
                        self.initializers.push(f32_tensor(&format!("{p}.{n}"), &[c], v));
                    }
                    let ins = ["weight", "bias", "running_mean", "running_var"].iter().map(|n| format!("{p}.{n}"));
                    self.node(
                        "BatchNormalization",
                        p.clone(),
                        std::iter::once(x).chain(ins).collect(),
                        y.clone(),
                        vec![attr_float("epsilon", *epsilon)],
                    );
                }
                Layer::MaxPool2d { kernel, stride } | Layer::AvgPool2d { kernel, stride } => {
                    let op = if matches!(layer, Layer::MaxPool2d { .. }) { "MaxPool" } else { "AveragePool" };
                    self.node(
                        op,
                        p.clone(),
                        vec![x],
                        y.clone(),
                        vec![
                            attr_ints("kernel_shape", &[*kernel as i64; 2]),
                            attr_ints("strides", &[*stride as i64; 2]),
                        ],
                    );
                }
                Layer::Relu => self.node("Relu", p.clone(), vec![x], y.clone(), vec![]),
                Layer::Identity => self.node("Identity", p.clone(), vec![x], y.clone(), vec![]),
                Layer::Residual { body } => {
                    let (b, _) = self.network(body, &format!("{p}.body"), &x, s)?;
                    self.node("Add", p.clone(), vec![b, x], y.clone(), vec![]);
                }
                Layer::Sigmoid => self.node("Sigmoid", p.clone(), vec![x], y.clone(), vec![]),
                Layer::Tanh => self.node("Tanh", p.clone(), vec![x], y.clone(), vec![]),
                Layer::Softmax => self.node("Softmax", p.clone(), vec![x], y.clone(), vec![attr_int("axis", 1)]),
                Layer::Flatten => self.node("Flatten", p.clone(), vec![x], y.clone(), vec![attr_int("axis", 1)]),
                Layer::Unflatten { channels, height, width } => {
                    let shape_name = format!("{p}.shape");
                    self.initializers
                        .push(i64_tensor(&shape_name, &[-1, *channels as i64, *height as i64, *width as i64]));
                    self.node("Reshape", p.clone(), vec![x, shape_name], y.clone(), vec![]);
                }
            }
            x = y;
            s = out_shape;
        }
        Ok((x, s))
    }

    /// Renames the value `from` (the last node's output) to `to`.
    fn rename_last(&mut self, from: &str, to: &str) {
        if let Some(n) = self.nodes.iter_mut().rev().find(|n| n.output.iter().any(|o| o == from)) {
            for o in &mut n.output {
                if o == from {
                    *o = to.into();
                }
            }
        }
    }

    fn finish(
        self,
        model: &Model,
        graph_name: &str,
        inputs: Vec<ValueInfoProto>,
        outputs: Vec<ValueInfoProto>,
    ) -> ModelProto {
        let mut g = GraphProto::new();
        g.name = graph_name.into();
        g.node = self.nodes;
        g.initializer = self.initializers;
        g.input = inputs;
        g.output = outputs;
        let mut m = ModelProto::new();
        m.ir_version = IR_VERSION;
        m.producer_name = "bottleneck".into();
        m.producer_version = env!("CARGO_PKG_VERSION").into();
        m.domain = "org.bottleneck".into();
        m.doc_string = format!("{} of the {} model exported by Bottleneck", graph_name, model.name);
        let mut op = OperatorSetIdProto::new();
        op.version = OPSET;
        m.opset_import.push(op);
        for (k, v) in metadata(model) {
            let mut e = StringStringEntryProto::new();
            e.key = k;
            e.value = v;
            m.metadata_props.push(e);
        }
        m.graph = Some(g).into();
        m
    }
}

/// Key/value pairs stored in every exported file.
#[must_use]
pub fn metadata(model: &Model) -> Vec<(String, String)> {
    let mut kv = vec![
        ("bottleneck.model".to_string(), model.name.clone()),
        ("bottleneck.latent".to_string(), model.latent.to_string()),
        (
            "bottleneck.input_range".to_string(),
            match model.input_range {
                crate::graph::InputRange::Unit => "0..1".to_string(),
                crate::graph::InputRange::Symmetric => "-1..1".to_string(),
            },
        ),
        ("bottleneck.classes".to_string(), model.classes.join(",")),
    ];
    kv.extend(model.metadata.iter().cloned());
    kv
}

fn serialise(name: &'static str, m: &ModelProto) -> Result<OnnxFile, ExportError> {
    let g = m.graph.as_ref().cloned().unwrap_or_default();
    let bytes = m.write_to_bytes().map_err(|e| ExportError::Graph(format!("serialising {name}.onnx: {e}")))?;
    Ok(OnnxFile {
        name,
        inputs: g.input.iter().map(|v| v.name.clone()).collect(),
        outputs: g.output.iter().map(|v| v.name.clone()).collect(),
        bytes,
    })
}

/// One network as a standalone ONNX file (input `input`, output `output`), e.g. a whole
/// autoencoder as one graph.
///
/// # Errors
/// [`ExportError::Graph`] when the network does not fit `shape`.
pub fn network_file(model: &Model, net: &Network, shape: Shape, name: &'static str) -> Result<OnnxFile, ExportError> {
    let mut b = Builder::default();
    let (out, s) = b.network(net, name, "input", shape)?;
    b.rename_last(&out, "output");
    let m = b.finish(
        model,
        name,
        vec![value_info("input", &value_dims(shape))],
        vec![value_info("output", &value_dims(s))],
    );
    serialise(name, &m)
}

/// Every ONNX file the model has: encoder and decoder (`vae-encoder`, `vae-decoder` for a VAE),
/// and `classifier` when it has one (the only file of a classifier alone).
///
/// # Errors
/// [`ExportError::Graph`] when the model is inconsistent.
pub fn export(model: &Model) -> Result<Vec<OnnxFile>, ExportError> {
    model.validate()?;
    let vae = model.variant == Variant::Variational;
    let image_dims = model.input.to_vec();
    let mut files = Vec::new();

    // A classifier alone (a CNN) has no encoder or decoder file.
    if model.has_autoencoder() {
        // Encoder: image -> code, or image -> (mean, log_var).
        let mut b = Builder::default();
        let (out, _) = b.network(&model.encoder, "encoder", "image", model.input)?;
        let (name, outputs) = if vae {
            let split = "encoder.split".to_string();
            b.initializers.push(i64_tensor(&split, &[model.latent as i64, model.latent as i64]));
            let mut n = NodeProto::new();
            n.op_type = "Split".into();
            n.name = "encoder.mean_log_var".into();
            n.input = vec![out, split];
            n.output = vec!["mean".into(), "log_var".into()];
            n.attribute = vec![attr_int("axis", 1)];
            b.nodes.push(n);
            ("vae-encoder", vec![value_info("mean", &[model.latent]), value_info("log_var", &[model.latent])])
        } else {
            b.rename_last(&out, "code");
            ("encoder", vec![value_info("code", &[model.latent])])
        };
        let m = b.finish(model, name, vec![value_info("image", &image_dims)], outputs);
        files.push(serialise(name, &m)?);

        // Decoder: code -> image.
        let mut b = Builder::default();
        let (out, _) = b.network(&model.decoder, "decoder", "code", [model.latent, 1, 1])?;
        b.rename_last(&out, "image");
        let name = if vae { "vae-decoder" } else { "decoder" };
        let m =
            b.finish(model, name, vec![value_info("code", &[model.latent])], vec![value_info("image", &image_dims)]);
        files.push(serialise(name, &m)?);
    }

    // Classifier: image -> logits.
    if let Some(c) = &model.classifier {
        let mut b = Builder::default();
        let (code, code_shape) = match &c.encoder {
            Some(enc) => b.network(enc, "classifier.encoder", "image", model.input)?,
            None if !vae => b.network(&model.encoder, "encoder", "image", model.input)?,
            None => return Err(ExportError::Unsupported("a classifier on a VAE's shared encoder".into())),
        };
        let (out, s) = b.network(&c.head, "classifier.head", &code, code_shape)?;
        b.rename_last(&out, "logits");
        let m = b.finish(
            model,
            "classifier",
            vec![value_info("image", &image_dims)],
            vec![value_info("logits", &value_dims(s))],
        );
        files.push(serialise("classifier", &m)?);
    }
    Ok(files)
}
