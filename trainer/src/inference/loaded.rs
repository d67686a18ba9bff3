//! Any trained model loaded back from its run directory, whatever its kind, for inference.
//! (Whether the int8 runtime can run it is another question, answered by `deploy::graph`.)

use std::path::Path;

use anyhow::Context as _;
use bottleneck_export::Model as Graph;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;

use super::outputs::FloatOutputs;
use crate::config::{ModelSpec, RunConfig};
use crate::data::ImageSet;
use crate::data::batch::{InputRange, image_tensor, image_values};
use crate::files;
use crate::models::Autoencoder;
use crate::models::classifier::{Classifier, Mode};
use crate::models::cnn::Cnn;
use crate::models::conv_ae::ConvAe;
use crate::models::conv_ae::ConvEncoder;
use crate::models::fc_ae::FcAe;
use crate::models::simclr::Simclr;
use crate::models::toy::ToyAe;
use crate::models::vae::ConvVae;
use crate::run_dir::RunDir;
use crate::util::to_vec;

/// The model of a run, on a plain (non-autodiff) device.
// One value at a time, never in a collection: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum LoadedModel {
    /// A convolutional autoencoder (plain or denoising).
    ConvAe(ConvAe),
    /// The fully-connected autoencoder.
    FcAe(FcAe),
    /// The convolutional VAE.
    Vae(ConvVae),
    /// An encoder + MLP classifier.
    Classifier {
        /// The classifier.
        model: Classifier,
        /// The autoencoder it was pretrained from (whose decoder it deploys with); `None` for a
        /// classifier trained from scratch, or when that run is no longer there.
        autoencoder: Option<ConvAe>,
        /// Whether its encoder was frozen (so it is the autoencoder's own).
        frozen: bool,
    },
    /// The CNN baseline.
    Cnn(Cnn),
    /// A SimCLR encoder with its projection head.
    Simclr(Simclr),
    /// A toy autoencoder on 2-D points.
    Toy(ToyAe),
    /// A model imported from ONNX, run by the exporter's float interpreter.
    Imported(Graph),
}

impl LoadedModel {
    /// Loads `model.bpk` of `run` onto `device` (and, for a classifier, its pretrained
    /// autoencoder when that run is still there).
    ///
    /// # Errors
    /// When the weights are missing, corrupt or of another architecture.
    pub fn load(run: &RunDir, config: &RunConfig, device: &Device) -> anyhow::Result<Self> {
        let path = run.model_path();
        let bad = |e| anyhow::anyhow!("{}: weights do not fit the model in config.toml: {e}", path.display());
        Ok(match &config.model {
            ModelSpec::ConvAe(c) => Self::ConvAe(c.init(device).try_load_record(record(run)?).map_err(bad)?),
            ModelSpec::DenoisingAe(d) => {
                Self::ConvAe(d.network.init(device).try_load_record(record(run)?).map_err(bad)?)
            }
            ModelSpec::FcAe(c) => Self::FcAe(c.init(device).try_load_record(record(run)?).map_err(bad)?),
            ModelSpec::ConvVae(c) => Self::Vae(c.init(device).try_load_record(record(run)?).map_err(bad)?),
            ModelSpec::Classifier(c) => {
                let pretrained = c.pretrained.as_ref().filter(|_| c.mode != Mode::Scratch);
                // A SimCLR encoder has no decoder to deploy with.
                let from_autoencoder = |p: &Path| {
                    p.join(files::CONFIG).exists()
                        && RunDir::open(p)
                            .and_then(|r| r.read_config())
                            .is_ok_and(|c| matches!(c.model, ModelSpec::ConvAe(_) | ModelSpec::DenoisingAe(_)))
                };
                let autoencoder = match pretrained {
                    Some(p) if from_autoencoder(p) => Some(load_conv_ae(p, device)?),
                    _ => None,
                };
                // Runs written before the encoder's shape was recorded have the autoencoder's.
                let shape = c.network.encoder.clone().or_else(|| autoencoder.as_ref().map(|a| a.encoder.shape()));
                let network = c.network.clone().with_encoder(shape);
                let model = network.init(None, device).try_load_record(record(run)?).map_err(bad)?;
                Self::Classifier { model, autoencoder, frozen: c.mode == Mode::Frozen }
            }
            ModelSpec::Cnn(c) => Self::Cnn(c.network.init(device).try_load_record(record(run)?).map_err(bad)?),
            ModelSpec::Simclr(c) => Self::Simclr(c.init(device).try_load_record(record(run)?).map_err(bad)?),
            ModelSpec::ToyAe(t) => Self::Toy(t.network.init(device).try_load_record(record(run)?).map_err(bad)?),
            ModelSpec::Imported(spec) => Self::Imported(super::imported::graph(run, spec, config)?),
        })
    }

    /// How the model maps pixels (toy models take points, not pixels: `Unit` is returned).
    #[must_use]
    pub fn range(&self) -> InputRange {
        match self {
            Self::FcAe(_) => InputRange::Symmetric,
            Self::Imported(g) => g.input_range,
            _ => InputRange::Unit,
        }
    }

    /// Code size, for models with a code.
    #[must_use]
    pub fn latent(&self) -> Option<usize> {
        match self {
            Self::ConvAe(m) => Some(m.latent()),
            Self::FcAe(m) => Some(m.latent()),
            Self::Vae(m) => Some(m.latent()),
            Self::Classifier { model, .. } => Some(model.fc1.weight.dims()[0]),
            Self::Toy(_) => Some(1),
            Self::Cnn(_) => None,
            Self::Simclr(m) => Some(m.latent()),
            Self::Imported(g) => Some(g.latent),
        }
    }

    /// Number of parameters (weights and biases; batch-norm statistics not counted).
    #[must_use]
    pub fn parameters(&self) -> usize {
        match self {
            Self::ConvAe(m) => m.num_params(),
            Self::FcAe(m) => m.num_params(),
            Self::Vae(m) => m.num_params(),
            Self::Classifier { model, .. } => model.num_params(),
            Self::Cnn(m) => m.num_params(),
            Self::Simclr(m) => m.num_params(),
            Self::Toy(m) => m.num_params(),
            Self::Imported(g) => {
                g.encoder.parameters()
                    + g.decoder.parameters()
                    + g.classifier.as_ref().map_or(0, |c| {
                        c.head.parameters() + c.encoder.as_ref().map_or(0, bottleneck_export::Network::parameters)
                    })
            }
        }
    }

    /// Codes, reconstructions and logits of `indices` of `set`, in batches of 1000; each vector is
    /// empty where the model has no such output.
    ///
    /// # Errors
    /// For a toy model (it takes points, not images), or when outputs cannot be read back.
    pub fn outputs(&self, set: &ImageSet, indices: &[usize], device: &Device) -> anyhow::Result<FloatOutputs> {
        fn through<M: Autoencoder>(m: &M, x: Tensor<2>, out: &mut FloatOutputs) -> anyhow::Result<()> {
            let z = m.encode(x);
            out.codes.extend(to_vec(z.clone())?);
            out.reconstructions.extend(to_vec(m.decode(z))?);
            Ok(())
        }
        match self {
            Self::Imported(g) => return imported_outputs(g, set, indices),
            Self::Toy(_) => anyhow::bail!("a toy autoencoder takes 2-D points, not images"),
            _ => {}
        }
        let mut out = FloatOutputs::default();
        for chunk in indices.chunks(1000) {
            let x = image_tensor(set, chunk, self.range(), device);
            match self {
                Self::ConvAe(m) => through(m, x, &mut out)?,
                Self::FcAe(m) => through(m, x, &mut out)?,
                Self::Vae(m) => through(m, x, &mut out)?,
                Self::Classifier { model, autoencoder, .. } => {
                    match autoencoder {
                        Some(ae) => through(ae, x.clone(), &mut out)?,
                        None => out.codes.extend(to_vec(model.encoder.forward(x.clone()))?),
                    }
                    out.logits.extend(to_vec(model.forward(x))?);
                }
                Self::Cnn(m) => out.logits.extend(to_vec(m.forward(x))?),
                Self::Simclr(m) => out.codes.extend(to_vec(m.encoder.forward(x))?),
                Self::Toy(_) | Self::Imported(_) => {}
            }
        }
        Ok(out)
    }
}

/// Loads the encoder of the run directory `path` (a `conv-ae`, `denoising-ae` or `simclr` run),
/// for a classifier to start from.
///
/// # Errors
/// When the directory is not such a finished run.
pub fn load_encoder(path: &Path, device: &Device) -> anyhow::Result<ConvEncoder> {
    let run = RunDir::open(path)?;
    let config = run.read_config()?;
    match &config.model {
        ModelSpec::Simclr(_) => match LoadedModel::load(&run, &config, device)? {
            LoadedModel::Simclr(m) => Ok(m.encoder),
            _ => anyhow::bail!("{}: not a SimCLR encoder", path.display()),
        },
        _ => Ok(load_conv_ae(path, device)?.encoder),
    }
}

/// Loads the conv autoencoder of the run directory `path` (a `conv-ae` or `denoising-ae` run).
///
/// # Errors
/// When the directory is not such a finished run.
pub fn load_conv_ae(path: &Path, device: &Device) -> anyhow::Result<ConvAe> {
    let run = RunDir::open(path)?;
    let config = run.read_config()?;
    match &config.model {
        ModelSpec::ConvAe(_) | ModelSpec::DenoisingAe(_) => {}
        other => {
            anyhow::bail!("{} holds a {} run; a conv-ae or denoising-ae run is needed", path.display(), other.kind())
        }
    }
    match LoadedModel::load(&run, &config, device)? {
        LoadedModel::ConvAe(m) => Ok(m),
        _ => anyhow::bail!("{}: not a convolutional autoencoder", path.display()),
    }
}

impl LoadedModel {
    /// The decoder's images of `codes` (`latent` values each), for models with a decoder.
    ///
    /// # Errors
    /// For a model without a decoder (the CNN, a classifier without its autoencoder, a toy model
    /// on points), or when outputs cannot be read back.
    pub fn decode(&self, codes: &[f32], device: &Device) -> anyhow::Result<Vec<f32>> {
        let latent = self.latent().context("the model has no code")?;
        let n = codes.len() / latent.max(1);
        let z = || Tensor::<2>::from_data(burn::tensor::TensorData::new(codes.to_vec(), [n, latent]), device);
        match self {
            Self::ConvAe(m) => to_vec(m.decode(z())),
            Self::FcAe(m) => to_vec(m.decode(z())),
            Self::Vae(m) => to_vec(m.decode(z())),
            Self::Classifier { autoencoder: Some(ae), .. } => to_vec(ae.decode(z())),
            Self::Imported(g) => {
                let mut out = Vec::new();
                for c in codes.chunks(latent) {
                    out.extend(bottleneck_export::reference::forward(&g.decoder, c, [latent, 1, 1])?.0);
                }
                Ok(out)
            }
            Self::Classifier { autoencoder: None, .. } | Self::Cnn(_) | Self::Simclr(_) | Self::Toy(_) => {
                anyhow::bail!("this model has no decoder")
            }
        }
    }

    /// Whether [`LoadedModel::decode`] works.
    #[must_use]
    pub fn has_decoder(&self) -> bool {
        matches!(self, Self::ConvAe(_) | Self::FcAe(_) | Self::Vae(_) | Self::Imported(_))
            || matches!(self, Self::Classifier { autoencoder: Some(_), .. })
    }

    /// Whether it outputs class logits.
    #[must_use]
    pub fn has_classifier(&self) -> bool {
        matches!(self, Self::Classifier { .. } | Self::Cnn(_))
            || matches!(self, Self::Imported(g) if g.classifier.is_some())
    }
}

/// The burn record in `model.bpk` of `run`.
fn record(run: &RunDir) -> anyhow::Result<ModuleRecord> {
    let path = run.model_path();
    let bytes = std::fs::read(&path).with_context(|| {
        format!("reading {} (is the run finished? `bottleneck resume` completes it)", path.display())
    })?;
    ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| anyhow::anyhow!("{}: not a burn model file: {e}", path.display()))
}

/// Float outputs of an imported graph, from the exporter's reference interpreter.
fn imported_outputs(g: &Graph, set: &ImageSet, indices: &[usize]) -> anyhow::Result<FloatOutputs> {
    use bottleneck_export::reference::forward;
    let mut out = FloatOutputs::default();
    let l = g.latent;
    for &i in indices {
        let x = image_values(set, &[i], g.input_range);
        let (enc, _) = forward(&g.encoder, &x, g.input)?;
        let code = &enc[..l];
        out.codes.extend_from_slice(code);
        out.reconstructions.extend(forward(&g.decoder, code, [l, 1, 1])?.0);
        if let Some(c) = &g.classifier {
            let start = match &c.encoder {
                Some(e) => forward(e, &x, g.input)?.0,
                None => code.to_vec(),
            };
            out.logits.extend(forward(&c.head, &start, [l, 1, 1])?.0);
        }
    }
    Ok(out)
}
