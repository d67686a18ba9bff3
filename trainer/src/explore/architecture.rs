//! The architecture table of a model, as torchinfo prints it: one row per layer with its output
//! shape and parameter count, the total at the foot.

use std::fmt::Write as _;

use burn::module::Module;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::nn::{BatchNorm, Linear, PaddingConfig2d};

use crate::inference::LoadedModel;
use crate::models::conv_ae::{ConvDecoder, ConvEncoder};

/// One layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRow {
    /// `encoder.conv1`, ...
    pub name: String,
    /// `Conv2d 4x4 /2`, `Linear`, `ReLU`, ...
    pub kind: String,
    /// `8x14x14`, `64`.
    pub output: String,
    /// Trainable parameters.
    pub params: usize,
}

/// A shape being tracked through the layers: channels x height x width, or a vector.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Image(usize, usize, usize),
    Vector(usize),
}

impl Shape {
    fn text(self) -> String {
        match self {
            Self::Image(c, h, w) => format!("{c}x{h}x{w}"),
            Self::Vector(n) => n.to_string(),
        }
    }
}

struct Table {
    rows: Vec<LayerRow>,
    shape: Shape,
}

impl Table {
    fn new(shape: Shape) -> Self {
        Self { rows: Vec::new(), shape }
    }

    fn push(&mut self, name: &str, kind: String, params: usize) {
        self.rows.push(LayerRow { name: name.into(), kind, output: self.shape.text(), params });
    }

    fn conv(&mut self, name: &str, c: &Conv2d) {
        let [out, _, kh, _] = c.weight.dims();
        let p = match c.padding {
            PaddingConfig2d::Explicit(t, ..) => t,
            _ => 0,
        };
        if let Shape::Image(_, h, w) = self.shape {
            let f = |x: usize| (x + 2 * p).saturating_sub(kh) / c.stride[0] + 1;
            self.shape = Shape::Image(out, f(h), f(w));
        }
        self.push(name, format!("Conv2d {kh}x{kh} stride {} pad {p}", c.stride[0]), c.num_params());
    }

    fn deconv(&mut self, name: &str, c: &ConvTranspose2d) {
        let [_, out, kh, _] = c.weight.dims();
        let p = c.padding[0];
        if let Shape::Image(_, h, w) = self.shape {
            let f = |x: usize| ((x - 1) * c.stride[0] + kh + c.padding_out[0]).saturating_sub(2 * p);
            self.shape = Shape::Image(out, f(h), f(w));
        }
        self.push(name, format!("ConvTranspose2d {kh}x{kh} stride {} pad {p}", c.stride[0]), c.num_params());
    }

    fn linear(&mut self, name: &str, l: &Linear) {
        let [_, out] = l.weight.dims();
        self.shape = Shape::Vector(out);
        self.push(name, "Linear".into(), l.num_params());
    }

    fn bn(&mut self, name: &str, b: Option<&BatchNorm>) {
        if let Some(b) = b {
            self.push(name, "BatchNorm".into(), b.num_params());
        }
    }

    fn act(&mut self, name: &str, kind: &str) {
        self.push(name, kind.into(), 0);
    }

    fn flatten(&mut self) {
        if let Shape::Image(c, h, w) = self.shape {
            self.shape = Shape::Vector(c * h * w);
        }
    }

    fn encoder(&mut self, e: &ConvEncoder, prefix: &str) {
        self.conv(&format!("{prefix}.conv1"), &e.conv1);
        self.bn(&format!("{prefix}.bn1"), e.bn1.as_ref());
        self.act(&format!("{prefix}.relu1"), "ReLU");
        self.conv(&format!("{prefix}.conv2"), &e.conv2);
        self.bn(&format!("{prefix}.bn2"), e.bn2.as_ref());
        self.act(&format!("{prefix}.relu2"), "ReLU");
        self.conv(&format!("{prefix}.conv3"), &e.conv3);
        self.flatten();
        self.linear(&format!("{prefix}.fc1"), &e.fc1);
        self.act(&format!("{prefix}.relu3"), "ReLU");
        self.linear(&format!("{prefix}.fc2"), &e.fc2);
    }

    fn decoder(&mut self, d: &ConvDecoder) {
        self.linear("decoder.fc1", &d.fc1);
        self.act("decoder.relu1", "ReLU");
        self.linear("decoder.fc2", &d.fc2);
        self.act("decoder.relu2", "ReLU");
        let [c, ..] = d.deconv1.weight.dims();
        if let Shape::Vector(n) = self.shape {
            let side = ((n / c.max(1)) as f64).sqrt().round() as usize;
            self.shape = Shape::Image(c, side, side);
        }
        self.act("decoder.unflatten", "Unflatten");
        self.deconv("decoder.deconv1", &d.deconv1);
        self.bn("decoder.bn1", d.bn1.as_ref());
        self.act("decoder.relu3", "ReLU");
        self.deconv("decoder.deconv2", &d.deconv2);
        self.bn("decoder.bn2", d.bn2.as_ref());
        self.act("decoder.relu4", "ReLU");
        self.deconv("decoder.deconv3", &d.deconv3);
        self.act("decoder.sigmoid", "Sigmoid");
    }
}

/// The layers of `model`, whose input is `channels x side x side` images (2-D points for a toy
/// model); `None` for an imported model (see its ONNX files).
#[must_use]
pub fn architecture(model: &LoadedModel, channels: usize, side: usize) -> Option<Vec<LayerRow>> {
    let image = Shape::Image(channels, side, side);
    let mut t = Table::new(image);
    match model {
        LoadedModel::ConvAe(m) => {
            t.encoder(&m.encoder, "encoder");
            t.decoder(&m.decoder);
        }
        LoadedModel::Vae(m) => {
            t.encoder(&m.encoder, "encoder");
            if let Some(last) = t.rows.last_mut() {
                last.kind = "Linear (mean and log-variance)".into();
            }
            t.decoder(&m.decoder);
        }
        LoadedModel::Classifier { model, .. } => {
            t.encoder(&model.encoder, "encoder");
            t.linear("head.fc1", &model.fc1);
            t.act("head.relu1", "ReLU");
            t.linear("head.fc2", &model.fc2);
            t.act("head.relu2", "ReLU");
            t.linear("head.out", &model.out);
        }
        LoadedModel::Simclr(m) => {
            t.encoder(&m.encoder, "encoder");
            t.linear("projection.fc1", &m.proj1);
            t.bn("projection.bn", m.proj_bn.as_ref());
            t.act("projection.relu", "ReLU");
            t.linear("projection.fc2", &m.proj2);
        }
        LoadedModel::Cnn(m) => {
            for (i, ((conv, norm), &pool)) in m.convs.iter().zip(&m.norms).zip(&m.pool_after).enumerate() {
                t.conv(&format!("conv{}", i + 1), conv);
                t.bn(&format!("bn{}", i + 1), Some(norm));
                t.act(&format!("relu{}", i + 1), "ReLU");
                if pool {
                    if let Shape::Image(c, h, w) = t.shape {
                        t.shape = Shape::Image(c, h / 2, w / 2);
                    }
                    t.act(&format!("pool{}", i + 1), "MaxPool2d 2x2");
                }
            }
            t.flatten();
            t.linear("fc1", &m.fc1);
            t.act("relu", "ReLU");
            t.linear("fc2", &m.fc2);
        }
        LoadedModel::FcAe(m) => {
            t.flatten();
            for (i, l) in m.encoder.iter().enumerate() {
                t.linear(&format!("encoder.{i}"), l);
                t.act(&format!("encoder.relu{i}"), "ReLU");
            }
            for (i, l) in m.decoder.iter().enumerate() {
                t.linear(&format!("decoder.{i}"), l);
                let last = i + 1 == m.decoder.len();
                t.act(
                    &format!("decoder.{}{i}", if last { "tanh" } else { "relu" }),
                    if last { "Tanh" } else { "ReLU" },
                );
            }
        }
        LoadedModel::Toy(m) => {
            t.shape = Shape::Vector(2);
            for (part, layers) in [("encoder", &m.encoder), ("decoder", &m.decoder)] {
                for (i, l) in layers.iter().enumerate() {
                    t.linear(&format!("{part}.{i}"), l);
                    if i + 1 < layers.len() {
                        t.act(&format!("{part}.relu{i}"), "ReLU");
                    }
                }
            }
        }
        LoadedModel::Imported(_) => return None,
    }
    Some(t.rows)
}

/// The table as Markdown, with the total.
#[must_use]
pub fn to_markdown(rows: &[LayerRow]) -> String {
    let mut s = String::from("| layer | kind | output | parameters |\n|---|---|---|---|\n");
    for r in rows {
        let p = if r.params == 0 { String::new() } else { r.params.to_string() };
        let _ = writeln!(s, "| {} | {} | {} | {p} |", r.name, r.kind, r.output);
    }
    let total: usize = rows.iter().map(|r| r.params).sum();
    let _ = writeln!(s, "| **total** | | | **{total}** |");
    s
}

#[cfg(test)]
mod tests {
    use burn::prelude::*;

    use super::*;
    use crate::models::cnn::CnnConfig;
    use crate::models::conv_ae::ConvAeConfig;

    #[test]
    fn shapes_and_totals_match_the_model() {
        let d = Device::flex();
        let m = ConvAeConfig::new().with_latent(16).init(&d);
        let total = m.num_params();
        let rows = architecture(&LoadedModel::ConvAe(m), 1, 28).unwrap();
        let out = |n: &str| rows.iter().find(|r| r.name == n).unwrap().output.clone();
        assert_eq!(out("encoder.conv1"), "8x14x14");
        assert_eq!(out("encoder.conv3"), "32x3x3");
        assert_eq!(out("encoder.fc2"), "16");
        assert_eq!(out("decoder.deconv1"), "16x7x7");
        assert_eq!(out("decoder.deconv3"), "1x28x28");
        assert_eq!(rows.iter().map(|r| r.params).sum::<usize>(), total);
        let cnn = CnnConfig::new().init(&d);
        let total = cnn.num_params();
        let rows = architecture(&LoadedModel::Cnn(cnn), 1, 28).unwrap();
        assert_eq!(rows.iter().map(|r| r.params).sum::<usize>(), total);
        assert_eq!(rows.iter().find(|r| r.name == "pool3").unwrap().output, "32x7x7");
        assert_eq!(rows.iter().find(|r| r.name == "pool5").unwrap().output, "64x3x3");
        assert!(to_markdown(&rows).contains(&format!("**{total}**")));
    }
}
