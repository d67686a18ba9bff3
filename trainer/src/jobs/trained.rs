//! A trained model loaded back from its run directory, whatever its kind.

use anyhow::Context as _;
use bottleneck_export::graph::{InputRange as GRange, Variant};
use bottleneck_export::{Classifier as ExportClassifier, LatentStats, Model as Graph};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;

use crate::data::ImageSet;
use crate::data::batch::{InputRange, image_tensor};
use crate::models::Autoencoder;
use crate::models::classifier::{Classifier, Mode};
use crate::models::conv_ae::ConvAe;
use crate::models::fc_ae::FcAe;
use crate::models::vae::ConvVae;
use crate::run_dir::{ModelSpec, RunConfig, RunDir};

/// The model of a run, on a plain (non-autodiff) device.
// One value at a time, never in a collection: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Trained {
    /// A convolutional autoencoder (plain or denoising).
    ConvAe(ConvAe),
    /// The fully-connected autoencoder.
    FcAe(FcAe),
    /// The convolutional VAE.
    Vae(ConvVae),
    /// A classifier with the autoencoder it was pretrained from (whose decoder it shares).
    Classifier {
        /// The classifier.
        model: Classifier,
        /// The pretrained autoencoder.
        autoencoder: ConvAe,
        /// Whether its encoder was frozen (so it is the autoencoder's own).
        frozen: bool,
    },
    /// A model imported from ONNX, run by the exporter's float interpreter.
    Imported(Graph),
}

/// Float outputs for a batch of images.
#[derive(Debug, Clone, Default)]
pub struct FloatOutputs {
    /// Codes, `latent` per image (a VAE's mean).
    pub codes: Vec<f32>,
    /// Reconstructions, `pixels` per image.
    pub reconstructions: Vec<f32>,
    /// Logits, `classes` per image (empty without a classifier).
    pub logits: Vec<f32>,
}

fn to_vec(t: Tensor<2>) -> anyhow::Result<Vec<f32>> {
    t.try_into_vec_as::<f32>().map_err(|e| anyhow::anyhow!("reading outputs: {e:?}"))
}

impl Trained {
    /// Loads `model.bpk` of `run` onto `device` (and, for a classifier, its pretrained
    /// autoencoder).
    ///
    /// # Errors
    /// When the weights are missing, corrupt or of another architecture, or the kind has nothing
    /// to export (the CNN baseline, toy models, a classifier trained from scratch).
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
                let pretrained = c.pretrained.as_ref().filter(|_| c.mode != Mode::Scratch).with_context(|| {
                    format!(
                        "{} is a classifier trained from scratch: it has no autoencoder (no decoder) to deploy with; \
                         export a fine-tuned or frozen classifier, or the autoencoder run",
                        run.root.display()
                    )
                })?;
                let autoencoder = crate::jobs::train::load_conv_ae(pretrained, device)?;
                // Runs written before the encoder's shape was recorded have the autoencoder's.
                let network = c
                    .network
                    .clone()
                    .with_encoder(Some(c.network.encoder.clone().unwrap_or_else(|| autoencoder.encoder.shape())));
                let model = network.init(None, device).try_load_record(record(run)?).map_err(bad)?;
                Self::Classifier { model, autoencoder, frozen: c.mode == Mode::Frozen }
            }
            ModelSpec::Imported(spec) => Self::Imported(crate::jobs::import::graph(run, spec, config)?),
            ModelSpec::Cnn(_) | ModelSpec::ToyAe(_) => anyhow::bail!(
                "{} holds a {} run, which has no autoencoder to export (the runtime deploys autoencoders, with or \
                 without a classifier)",
                run.root.display(),
                config.model.kind()
            ),
        })
    }

    /// How the model maps pixels.
    #[must_use]
    pub fn range(&self) -> InputRange {
        match self {
            Self::FcAe(_) => InputRange::Symmetric,
            Self::Imported(g) => match g.input_range {
                GRange::Unit => InputRange::Unit,
                GRange::Symmetric => InputRange::Symmetric,
            },
            _ => InputRange::Unit,
        }
    }

    /// Code size.
    #[must_use]
    pub fn latent(&self) -> usize {
        match self {
            Self::ConvAe(m) => m.latent(),
            Self::FcAe(m) => m.latent(),
            Self::Vae(m) => m.latent(),
            Self::Classifier { autoencoder, .. } => autoencoder.latent(),
            Self::Imported(g) => g.latent,
        }
    }

    /// Codes, reconstructions (and logits) of `indices` of `set`, in batches.
    ///
    /// # Errors
    /// When outputs cannot be read back.
    pub fn outputs(&self, set: &ImageSet, indices: &[usize], device: &Device) -> anyhow::Result<FloatOutputs> {
        if let Self::Imported(g) = self {
            return imported_outputs(g, set, indices, self.range());
        }
        fn through<M: Autoencoder>(m: &M, x: Tensor<2>, out: &mut FloatOutputs) -> anyhow::Result<()> {
            let z = m.encode(x);
            out.codes.extend(to_vec(z.clone())?);
            out.reconstructions.extend(to_vec(m.decode(z))?);
            Ok(())
        }
        let mut out = FloatOutputs::default();
        for chunk in indices.chunks(1000) {
            let x = image_tensor(set, chunk, self.range(), device);
            match self {
                Self::ConvAe(m) => through(m, x, &mut out)?,
                Self::FcAe(m) => through(m, x, &mut out)?,
                Self::Vae(m) => through(m, x, &mut out)?,
                Self::Classifier { model, autoencoder, .. } => {
                    through(autoencoder, x.clone(), &mut out)?;
                    out.logits.extend(to_vec(model.forward(x))?);
                }
                Self::Imported(_) => {}
            }
        }
        Ok(out)
    }

    /// The burn-free description of the model for export, with `stats` of its training codes.
    ///
    /// # Errors
    /// When weights cannot be read or a layer cannot be described.
    pub fn graph(&self, config: &RunConfig, classes: &[&str], stats: Option<LatentStats>) -> anyhow::Result<Graph> {
        let metadata = vec![
            ("bottleneck.version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
            ("bottleneck.config".to_string(), toml::to_string(config).context("serialising the config")?),
        ];
        let base = |variant, input_range, latent, encoder, decoder, classifier| Graph {
            name: config.model.kind().to_string(),
            variant,
            input: [1, 28, 28],
            input_range,
            latent,
            encoder,
            decoder,
            classifier,
            classes: classes.iter().map(|c| (*c).to_string()).collect(),
            latent_stats: stats.clone(),
            metadata: metadata.clone(),
        };
        let graph = match self {
            Self::Imported(g) => Graph { latent_stats: stats.clone(), metadata: metadata.clone(), ..g.clone() },
            Self::ConvAe(m) => {
                base(Variant::Autoencoder, GRange::Unit, m.latent(), m.encoder.network()?, m.decoder.network()?, None)
            }
            Self::FcAe(m) => base(
                Variant::Autoencoder,
                GRange::Symmetric,
                m.latent(),
                m.encoder_network()?,
                m.decoder_network()?,
                None,
            ),
            Self::Vae(m) => {
                base(Variant::Variational, GRange::Unit, m.latent(), m.encoder.network()?, m.decoder.network()?, None)
            }
            Self::Classifier { model, autoencoder, frozen } => {
                let classifier = ExportClassifier {
                    encoder: if *frozen { None } else { Some(model.encoder.network()?) },
                    head: model.head_network()?,
                };
                base(
                    Variant::Autoencoder,
                    GRange::Unit,
                    autoencoder.latent(),
                    autoencoder.encoder.network()?,
                    autoencoder.decoder.network()?,
                    Some(classifier),
                )
            }
        };
        graph.validate()?;
        Ok(graph)
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
fn imported_outputs(g: &Graph, set: &ImageSet, indices: &[usize], range: InputRange) -> anyhow::Result<FloatOutputs> {
    use bottleneck_export::reference::forward;
    let mut out = FloatOutputs::default();
    let l = g.latent;
    for &i in indices {
        let x = crate::data::batch::image_values(set, &[i], range);
        let (enc, _) = forward(&g.encoder, &x, g.input)?;
        let code = &enc[..l];
        out.codes.extend_from_slice(code);
        out.reconstructions.extend(forward(&g.decoder, code, [l, 1, 1])?.0);
        if let Some(c) = &g.classifier {
            let (start, shape) = match &c.encoder {
                Some(e) => (forward(e, &x, g.input)?.0, [l, 1, 1]),
                None => (code.to_vec(), [l, 1, 1]),
            };
            out.logits.extend(forward(&c.head, &start, shape)?.0);
        }
    }
    Ok(out)
}

/// Per-dimension mean and standard deviation of `codes` (`latent` values per row).
#[must_use]
pub fn latent_stats(codes: &[f32], latent: usize) -> LatentStats {
    let n = (codes.len() / latent.max(1)).max(1) as f64;
    let mut mean = vec![0f64; latent];
    for row in codes.chunks(latent) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0f64; latent];
    for row in codes.chunks(latent) {
        for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (f64::from(v) - m).powi(2);
        }
    }
    LatentStats {
        mean: mean.iter().map(|&m| m as f32).collect(),
        std: var.iter().map(|&s| (s / n).sqrt() as f32).collect(),
    }
}
