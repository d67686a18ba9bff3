//! The model as PyTorch code: `model.py` builds the same layers as `torch.nn` modules (one
//! `nn.Sequential` per network, named as `model.safetensors` names its tensors) and `load()`
//! returns them with the trained weights, for courses that ask for PyTorch.

use std::fmt::Write as _;

use crate::error::ExportError;
use crate::graph::{Layer, Model, Network, Shape, Variant, layer_output};

/// Python for one network, given its input shape; one layer per line, the closing parenthesis
/// at `indent` spaces.
fn sequential(net: &Network, mut shape: Shape, indent: usize) -> Result<String, ExportError> {
    let mut lines = Vec::new();
    for (i, layer) in net.layers.iter().enumerate() {
        let line = match layer {
            Layer::Conv2d { weight, stride, padding, .. } => {
                let s = &weight.shape;
                format!("nn.Conv2d({}, {}, kernel_size={}, stride={stride}, padding={padding})", s[1], s[0], s[2])
            }
            Layer::DepthwiseConv2d { weight, stride, padding, .. } => {
                let s = &weight.shape;
                format!(
                    "nn.Conv2d({0}, {0}, kernel_size={1}, stride={stride}, padding={padding}, groups={0})",
                    s[0], s[2]
                )
            }
            Layer::ConvTranspose2d { weight, stride, padding, output_padding, .. } => {
                let s = &weight.shape;
                format!(
                    "nn.ConvTranspose2d({}, {}, kernel_size={}, stride={stride}, padding={padding}, output_padding={output_padding})",
                    s[0], s[1], s[2]
                )
            }
            Layer::Linear { weight, .. } => format!("nn.Linear({}, {})", weight.shape[1], weight.shape[0]),
            Layer::BatchNorm { gamma, epsilon, .. } => {
                let bn = if shape[1] == 1 && shape[2] == 1 && i > 0 && matches!(net.layers[i - 1], Layer::Linear { .. })
                {
                    "BatchNorm1d"
                } else {
                    "BatchNorm2d"
                };
                format!("nn.{bn}({}, eps={epsilon:e})", gamma.len())
            }
            Layer::MaxPool2d { kernel, stride } => format!("nn.MaxPool2d({kernel}, stride={stride})"),
            Layer::AvgPool2d { kernel, stride } => format!("nn.AvgPool2d({kernel}, stride={stride})"),
            Layer::Relu => "nn.ReLU()".into(),
            Layer::Identity => "nn.Identity()".into(),
            Layer::Residual { body } => format!("Residual({})", sequential(body, shape, indent + 4)?),
            Layer::Sigmoid => "nn.Sigmoid()".into(),
            Layer::Tanh => "nn.Tanh()".into(),
            Layer::Softmax => "nn.Softmax(dim=1)".into(),
            Layer::Flatten => "nn.Flatten()".into(),
            Layer::Unflatten { channels, height, width } => format!("nn.Unflatten(1, ({channels}, {height}, {width}))"),
        };
        lines.push(format!("{:w$}{line},  # {i}", "", w = indent + 4));
        shape = layer_output(layer, shape, i)?;
    }
    Ok(format!("nn.Sequential(\n{}\n{:indent$})", lines.join("\n"), ""))
}

/// `model.py` for `model`.
///
/// # Errors
/// [`ExportError::Graph`] when a layer does not fit its input.
pub fn export(model: &Model) -> Result<String, ExportError> {
    let latent_in: Shape = [model.latent, 1, 1];
    let [c, h, w] = model.input;
    let range = match model.input_range {
        crate::graph::InputRange::Unit => "[0, 1] (pixel / 255)",
        crate::graph::InputRange::Symmetric => "[-1, 1] (pixel / 127.5 - 1)",
    };
    let mut s = String::new();
    let _ = write!(
        s,
        r#""""The {name} model exported by Bottleneck, as PyTorch modules.

Inputs are float tensors of shape (batch, {c}, {h}, {w}) with pixels in {range}.
`load(export_dir)` returns the modules with their trained weights from model.safetensors.
Written by `bottleneck export --pytorch`; the weights are Bottleneck's, the code is generated.
"""

import os

from torch import nn
from safetensors.torch import load_file


class Residual(nn.Module):
    """body(x) + x, as Bottleneck's residual blocks."""

    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return self.body(x) + x

LATENT = {latent}
CLASSES = {classes:?}


def build():
    """The networks, untrained: a ModuleDict keyed encoder, decoder (and classifier)."""
    modules = {{
        "encoder": {encoder},
        "decoder": {decoder},
    }}
"#,
        name = model.name,
        latent = model.latent,
        classes = model.classes,
        encoder = sequential(&model.encoder, model.input, 8)?,
        decoder = sequential(&model.decoder, latent_in, 8)?,
    );
    if let Some(clf) = &model.classifier {
        let _ = writeln!(s, "    classifier = {{}}");
        if let Some(e) = &clf.encoder {
            let _ = writeln!(s, "    classifier[\"encoder\"] = {}", sequential(e, model.input, 4)?);
        }
        let _ = writeln!(s, "    classifier[\"head\"] = {}", sequential(&clf.head, latent_in, 4)?);
        let _ = writeln!(s, "    modules[\"classifier\"] = nn.ModuleDict(classifier)");
    }
    let variational = model.variant == Variant::Variational;
    let _ = write!(
        s,
        r#"    return nn.ModuleDict(modules)


def load(export_dir="."):
    """The networks with the trained weights of export_dir/model.safetensors, in eval mode."""
    model = build()
    model.load_state_dict(load_file(os.path.join(export_dir, "model.safetensors")))
    return model.eval()


def encode(model, images):
    """Codes (batch, LATENT){vae_doc}."""
    out = model["encoder"](images)
    return out{vae_slice}


def decode(model, codes):
    """Images (batch, {c}, {h}, {w}) from codes."""
    return model["decoder"](codes)
"#,
        vae_doc = if variational { ": the posterior means" } else { "" },
        vae_slice = if variational { "[:, :LATENT]" } else { "" },
    );
    if let Some(clf) = &model.classifier {
        let features =
            if clf.encoder.is_some() { "model[\"classifier\"][\"encoder\"](images)" } else { "encode(model, images)" };
        let _ = write!(
            s,
            r#"

def classify(model, images):
    """Class logits (batch, len(CLASSES))."""
    return model["classifier"]["head"]({features})
"#
        );
    }
    Ok(s)
}
