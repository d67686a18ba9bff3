//! A burn-free description of a trained model: layers with float weights, in PyTorch/ONNX layouts.
//!
//! The trainer builds a [`Model`] from its burn modules; everything downstream (int8 quantization,
//! ONNX, safetensors, validation) works from this description, so none of it needs burn.

use crate::error::ExportError;

/// A dense float tensor, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Sizes, outermost first.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values.
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor, checking that the data fills the shape.
    ///
    /// # Errors
    /// [`ExportError::Graph`] when the lengths disagree.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Self, ExportError> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(ExportError::Graph(format!("tensor of shape {shape:?} needs {n} values, got {}", data.len())));
        }
        Ok(Self { shape, data })
    }
}

/// One layer. Weights use PyTorch's layouts (which ONNX shares).
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// 2-D convolution; `weight` is `[out, in, kh, kw]`.
    Conv2d {
        /// Kernel weights.
        weight: Tensor,
        /// One bias per output channel.
        bias: Vec<f32>,
        /// Stride, both directions.
        stride: usize,
        /// Zero padding on every side.
        padding: usize,
    },
    /// Depthwise 2-D convolution (PyTorch's `Conv2d` with `groups` equal to the channels): each
    /// channel convolved with its own kernel; `weight` is `[channels, 1, kh, kw]`.
    DepthwiseConv2d {
        /// Kernel weights.
        weight: Tensor,
        /// One bias per channel.
        bias: Vec<f32>,
        /// Stride, both directions.
        stride: usize,
        /// Zero padding on every side.
        padding: usize,
    },
    /// 2-D transposed convolution; `weight` is `[in, out, kh, kw]`.
    ConvTranspose2d {
        /// Kernel weights.
        weight: Tensor,
        /// One bias per output channel.
        bias: Vec<f32>,
        /// Stride, both directions.
        stride: usize,
        /// Padding removed from every side of the full output.
        padding: usize,
        /// Extra rows/columns at the bottom and right.
        output_padding: usize,
    },
    /// Fully connected; `weight` is `[out, in]`.
    Linear {
        /// Weights.
        weight: Tensor,
        /// One bias per output.
        bias: Vec<f32>,
    },
    /// Batch normalisation over channels, in evaluation mode (running statistics).
    BatchNorm {
        /// Scale per channel.
        gamma: Vec<f32>,
        /// Shift per channel.
        beta: Vec<f32>,
        /// Running mean per channel.
        mean: Vec<f32>,
        /// Running variance per channel.
        var: Vec<f32>,
        /// Added to the variance.
        epsilon: f32,
    },
    /// Maximum over `kernel x kernel` windows, `stride` apart, per channel (no padding).
    MaxPool2d {
        /// Window side.
        kernel: usize,
        /// Step between windows.
        stride: usize,
    },
    /// Mean over `kernel x kernel` windows, `stride` apart, per channel (no padding).
    AvgPool2d {
        /// Window side.
        kernel: usize,
        /// Step between windows.
        stride: usize,
    },
    /// A residual block: `body(x) + x` (the body keeps the shape).
    Residual {
        /// The layers whose output is added to the block's input.
        body: Network,
    },
    /// The input unchanged (the exporter marks a tensor to keep with it).
    Identity,
    /// `max(x, 0)`.
    Relu,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// Softmax over a vector (`[n, 1, 1]`): `exp(x_j) / sum exp(x)`.
    Softmax,
    /// `[c, h, w]` to `[c * h * w]`, channel-major (as `torch.flatten`).
    Flatten,
    /// `[n]` to `[c, h, w]`, channel-major.
    Unflatten {
        /// Channels.
        channels: usize,
        /// Rows.
        height: usize,
        /// Columns.
        width: usize,
    },
}

/// A shape without the batch dimension: `[channels, height, width]`; vectors are `[n, 1, 1]`.
pub type Shape = [usize; 3];

/// Output shape of `layer` on `input`.
///
/// # Errors
/// [`ExportError::Graph`] when the layer cannot take that input.
pub fn layer_output(layer: &Layer, input: Shape, index: usize) -> Result<Shape, ExportError> {
    let bad = |msg: String| ExportError::Graph(format!("layer {index}: {msg}"));
    let [c, h, w] = input;
    match layer {
        Layer::Conv2d { weight, bias, stride, padding } => {
            let [o, i, kh, kw] = dims4(weight).map_err(bad)?;
            if i != c || bias.len() != o || *stride == 0 {
                return Err(bad(format!(
                    "conv weight {:?} / bias {} do not fit input {input:?}",
                    weight.shape,
                    bias.len()
                )));
            }
            let out = |n: usize, k: usize| (n + 2 * padding).checked_sub(k).map(|v| v / stride + 1);
            match (out(h, kh), out(w, kw)) {
                (Some(oh), Some(ow)) => Ok([o, oh, ow]),
                _ => Err(bad(format!("kernel {kh}x{kw} larger than padded input {input:?}"))),
            }
        }
        Layer::DepthwiseConv2d { weight, bias, stride, padding } => {
            let [o, one, kh, kw] = dims4(weight).map_err(bad)?;
            if o != c || one != 1 || bias.len() != o || *stride == 0 {
                return Err(bad(format!("depthwise weight {:?} does not fit input {input:?}", weight.shape)));
            }
            let out = |n: usize, k: usize| (n + 2 * padding).checked_sub(k).map(|v| v / stride + 1);
            match (out(h, kh), out(w, kw)) {
                (Some(oh), Some(ow)) => Ok([o, oh, ow]),
                _ => Err(bad(format!("kernel {kh}x{kw} larger than padded input {input:?}"))),
            }
        }
        Layer::ConvTranspose2d { weight, bias, stride, padding, output_padding } => {
            let [i, o, kh, kw] = dims4(weight).map_err(bad)?;
            if i != c || bias.len() != o || *stride == 0 || *output_padding >= (*stride).max(1) && *output_padding != 0
            {
                return Err(bad(format!("transposed conv weight {:?} does not fit input {input:?}", weight.shape)));
            }
            let out = |n: usize, k: usize| ((n - 1) * stride + k + output_padding).checked_sub(2 * padding);
            match (out(h, kh), out(w, kw)) {
                (Some(oh), Some(ow)) if oh > 0 && ow > 0 => Ok([o, oh, ow]),
                _ => Err(bad("padding larger than the output".into())),
            }
        }
        Layer::Linear { weight, bias } => {
            let (o, i) = match weight.shape.as_slice() {
                [o, i] => (*o, *i),
                s => return Err(bad(format!("linear weight should be 2-D, is {s:?}"))),
            };
            if input != [i, 1, 1] || bias.len() != o {
                return Err(bad(format!("linear {i}->{o} does not fit input {input:?}")));
            }
            Ok([o, 1, 1])
        }
        Layer::BatchNorm { gamma, beta, mean, var, .. } => {
            if [gamma.len(), beta.len(), mean.len(), var.len()].iter().any(|&n| n != c) {
                return Err(bad(format!("batch norm over {} channels does not fit input {input:?}", gamma.len())));
            }
            Ok(input)
        }
        Layer::MaxPool2d { kernel, stride } | Layer::AvgPool2d { kernel, stride } => {
            let out = |n: usize| n.checked_sub(*kernel).filter(|_| *kernel > 0 && *stride > 0).map(|v| v / stride + 1);
            match (out(h), out(w)) {
                (Some(oh), Some(ow)) => Ok([c, oh, ow]),
                _ => Err(bad(format!("pooling {kernel}x{kernel} stride {stride} does not fit input {input:?}"))),
            }
        }
        Layer::Relu | Layer::Sigmoid | Layer::Tanh | Layer::Identity => Ok(input),
        Layer::Residual { body } => {
            let out = body.output_shape(input)?;
            if out != input {
                return Err(bad(format!("a residual body gives {out:?}, not its input's shape {input:?}")));
            }
            Ok(input)
        }
        Layer::Softmax => {
            if h != 1 || w != 1 {
                return Err(bad(format!("softmax over a vector, not {input:?} (flatten first)")));
            }
            Ok(input)
        }
        Layer::Flatten => Ok([c * h * w, 1, 1]),
        Layer::Unflatten { channels, height, width } => {
            if c * h * w != channels * height * width || h != 1 || w != 1 {
                return Err(bad(format!("cannot unflatten {input:?} to {channels}x{height}x{width}")));
            }
            Ok([*channels, *height, *width])
        }
    }
}

fn dims4(t: &Tensor) -> Result<[usize; 4], String> {
    match t.shape.as_slice() {
        [a, b, c, d] => Ok([*a, *b, *c, *d]),
        s => Err(format!("expected a 4-D weight, got {s:?}")),
    }
}

/// A chain of layers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Network {
    /// The layers, first applied first.
    pub layers: Vec<Layer>,
}

impl Network {
    /// Output shape for `input`, checking every layer.
    ///
    /// # Errors
    /// [`ExportError::Graph`] naming the first layer that does not fit.
    pub fn output_shape(&self, input: Shape) -> Result<Shape, ExportError> {
        self.layers.iter().enumerate().try_fold(input, |s, (i, l)| layer_output(l, s, i))
    }

    /// Number of weights and biases.
    #[must_use]
    pub fn parameters(&self) -> usize {
        self.layers
            .iter()
            .map(|l| match l {
                Layer::Conv2d { weight, bias, .. }
                | Layer::DepthwiseConv2d { weight, bias, .. }
                | Layer::ConvTranspose2d { weight, bias, .. }
                | Layer::Linear { weight, bias } => weight.data.len() + bias.len(),
                Layer::BatchNorm { gamma, .. } => 2 * gamma.len(),
                Layer::Residual { body } => body.parameters(),
                _ => 0,
            })
            .sum()
    }
}

/// How pixel bytes map to model inputs (the trainer, the exporter and the tests share this one
/// definition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputRange {
    /// `p / 255`, in `[0, 1]` (sigmoid decoders).
    Unit,
    /// `p / 127.5 - 1`, in `[-1, 1]` (tanh decoders; PyTorch's `Normalize(0.5, 0.5)`).
    Symmetric,
}

impl InputRange {
    /// The model input for pixel byte `p`.
    #[must_use]
    pub fn value(self, p: u8) -> f32 {
        match self {
            Self::Unit => f32::from(p) / 255.0,
            Self::Symmetric => f32::from(p) / 127.5 - 1.0,
        }
    }

    /// The pixel byte nearest to model output `v` (clamped), for pictures.
    #[must_use]
    pub fn to_byte(self, v: f32) -> u8 {
        let unit = match self {
            Self::Unit => v,
            Self::Symmetric => (v + 1.0) / 2.0,
        };
        (unit.clamp(0.0, 1.0) * 255.0).round() as u8
    }

    /// Lowest and highest model input.
    #[must_use]
    pub fn bounds(self) -> (f32, f32) {
        match self {
            Self::Unit => (0.0, 1.0),
            Self::Symmetric => (-1.0, 1.0),
        }
    }
}

/// Plain or variational.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Encoder output is the code.
    Autoencoder,
    /// Encoder output is `[mean, log-variance]`, each `latent` long.
    Variational,
}

/// A classifier on top of an encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    /// Its own encoder (fine-tuned or trained from scratch), or `None` when it uses the model's
    /// encoder unchanged (a frozen encoder).
    pub encoder: Option<Network>,
    /// Code to logits.
    pub head: Network,
}

/// Per-dimension statistics of the training codes (for sampling a plain autoencoder).
#[derive(Debug, Clone, PartialEq)]
pub struct LatentStats {
    /// Mean per dimension.
    pub mean: Vec<f32>,
    /// Standard deviation per dimension.
    pub std: Vec<f32>,
}

/// A trained model, ready for export.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Short name, e.g. `conv-ae`.
    pub name: String,
    /// Plain or variational.
    pub variant: Variant,
    /// Input image shape.
    pub input: Shape,
    /// Pixel mapping.
    pub input_range: InputRange,
    /// Code size.
    pub latent: usize,
    /// Image to code (VAE: to mean and log-variance, concatenated).
    pub encoder: Network,
    /// Code to image.
    pub decoder: Network,
    /// Optional classifier.
    pub classifier: Option<Classifier>,
    /// Class names (for the classifier and for reports).
    pub classes: Vec<String>,
    /// Training-code statistics.
    pub latent_stats: Option<LatentStats>,
    /// Free-form key/value pairs (the run's configuration), copied into exported files.
    pub metadata: Vec<(String, String)>,
}

impl Model {
    /// Whether the model has an encoder and a decoder; without them it is a classifier alone (a
    /// CNN), whose `classifier.encoder` is its network.
    #[must_use]
    pub fn has_autoencoder(&self) -> bool {
        !self.encoder.layers.is_empty()
    }

    /// Checks that every part fits together.
    ///
    /// # Errors
    /// [`ExportError::Graph`] describing the first mismatch.
    pub fn validate(&self) -> Result<(), ExportError> {
        let err = |m: String| Err(ExportError::Graph(format!("{}: {m}", self.name)));
        if !self.has_autoencoder() {
            // A classifier alone: its own encoder (the whole network, or its features) and head.
            let Some(Classifier { encoder: Some(enc), head }) = &self.classifier else {
                return err("a model without an encoder must be a classifier with its own network".into());
            };
            if !self.decoder.layers.is_empty() || self.latent != 0 || self.latent_stats.is_some() {
                return err("a classifier alone has no decoder, code size or code statistics".into());
            }
            let h = head.output_shape(enc.output_shape(self.input)?)?;
            if h != [self.classes.len(), 1, 1] {
                return err(format!("the classifier gives {h:?}, expected [{}, 1, 1]", self.classes.len()));
            }
            return Ok(());
        }
        let enc_out = if self.variant == Variant::Variational { 2 * self.latent } else { self.latent };
        let e = self.encoder.output_shape(self.input)?;
        if e != [enc_out, 1, 1] {
            return err(format!("encoder gives {e:?}, expected [{enc_out}, 1, 1]"));
        }
        let d = self.decoder.output_shape([self.latent, 1, 1])?;
        if d != self.input {
            return err(format!("decoder gives {d:?}, expected the input shape {:?}", self.input));
        }
        if let Some(c) = &self.classifier {
            if let Some(enc) = &c.encoder {
                let s = enc.output_shape(self.input)?;
                if s != [self.latent, 1, 1] {
                    return err(format!("classifier encoder gives {s:?}, expected [{}, 1, 1]", self.latent));
                }
            }
            let h = c.head.output_shape([self.latent, 1, 1])?;
            if h != [self.classes.len(), 1, 1] {
                return err(format!("classifier head gives {h:?}, expected [{}, 1, 1]", self.classes.len()));
            }
        }
        if let Some(s) = &self.latent_stats
            && (s.mean.len() != self.latent || s.std.len() != self.latent)
        {
            return err("latent statistics do not match the code size".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod input_range_tests {
    use super::InputRange;

    #[test]
    fn ranges_map_bytes_and_back() {
        assert_eq!(InputRange::Unit.value(255), 1.0);
        assert_eq!(InputRange::Symmetric.value(0), -1.0);
        assert_eq!(InputRange::Symmetric.value(255), 1.0);
        for p in [0u8, 1, 127, 128, 254, 255] {
            for r in [InputRange::Unit, InputRange::Symmetric] {
                assert_eq!(r.to_byte(r.value(p)), p);
            }
        }
    }
}
