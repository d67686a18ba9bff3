//! A loaded model as the burn-free graph the exporter writes (ONNX, safetensors, int8), for the
//! kinds the int8 runtime can run: autoencoders, VAEs, classifiers that come with the autoencoder
//! whose decoder they deploy with, and the CNN (a classifier alone).

use anyhow::Context as _;
use bottleneck_export::graph::{InputRange, Variant};
use bottleneck_export::{Classifier as ExportClassifier, LatentStats, Model as Graph};

use crate::config::RunConfig;
use crate::inference::LoadedModel;
use crate::models::Autoencoder;

/// Whether the int8 runtime can run `model` (of the run `config`).
///
/// # Errors
/// Saying why not: toy models, a SimCLR encoder alone.
pub fn check_exportable(model: &LoadedModel, config: &RunConfig) -> anyhow::Result<()> {
    let why = match model {
        LoadedModel::Toy(_) => "toy models take 2-D points, not images",
        LoadedModel::Simclr(_) => {
            "a SimCLR encoder has neither decoder nor classes; train a classifier on it (`bottleneck train classifier \
             --pretrained RUN`) and export that"
        }
        _ => return Ok(()),
    };
    anyhow::bail!(
        "a {} run cannot be exported: {why} (the int8 runtime deploys autoencoders, with or without a classifier \
         head, and the CNN)",
        config.model.kind()
    )
}

/// The graph of `model` (of the run `config`), with `stats` of its training codes.
///
/// # Errors
/// When the runtime cannot run the kind (toy models, a classifier without its autoencoder),
/// weights cannot be read, or a layer cannot be described.
pub fn graph(
    model: &LoadedModel,
    config: &RunConfig,
    classes: &[String],
    stats: Option<LatentStats>,
) -> anyhow::Result<Graph> {
    let metadata = vec![
        ("bottleneck.version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        ("bottleneck.config".to_string(), toml::to_string(config).context("serialising the config")?),
    ];
    let shape = config.data.images().map(|d| d.shape).unwrap_or_default();
    let base = |variant, input_range, latent, encoder, decoder, classifier| Graph {
        name: config.model.kind().to_string(),
        variant,
        input: [shape.channels, shape.side, shape.side],
        input_range,
        latent,
        encoder,
        decoder,
        classifier,
        classes: classes.to_vec(),
        latent_stats: stats.clone(),
        metadata: metadata.clone(),
    };
    // A classifier alone: no code, one network from image to logits.
    let alone = |network| Graph {
        latent_stats: None,
        ..base(
            Variant::Autoencoder,
            InputRange::Unit,
            0,
            Default::default(),
            Default::default(),
            Some(ExportClassifier { encoder: Some(network), head: Default::default() }),
        )
    };
    check_exportable(model, config)?;
    let graph = match model {
        LoadedModel::Imported(g) => Graph { latent_stats: stats.clone(), metadata: metadata.clone(), ..g.clone() },
        LoadedModel::ConvAe(m) => {
            base(Variant::Autoencoder, InputRange::Unit, m.latent(), m.encoder.network()?, m.decoder.network()?, None)
        }
        LoadedModel::FcAe(m) => base(
            Variant::Autoencoder,
            InputRange::Symmetric,
            m.latent(),
            m.encoder_network()?,
            m.decoder_network()?,
            None,
        ),
        LoadedModel::Vae(m) => {
            base(Variant::Variational, InputRange::Unit, m.latent(), m.encoder.network()?, m.decoder.network()?, None)
        }
        LoadedModel::Classifier { model, autoencoder: Some(autoencoder), frozen } => {
            let classifier = ExportClassifier {
                encoder: if *frozen { None } else { Some(model.encoder.network()?) },
                head: model.head_network()?,
            };
            base(
                Variant::Autoencoder,
                InputRange::Unit,
                autoencoder.latent(),
                autoencoder.encoder.network()?,
                autoencoder.decoder.network()?,
                Some(classifier),
            )
        }
        LoadedModel::Cnn(m) => alone(m.network()?),
        // Without an autoencoder (from scratch, or from a SimCLR encoder) the classifier deploys
        // alone, like the CNN: its encoder and head as one network from image to logits.
        LoadedModel::Classifier { model, autoencoder: None, .. } => {
            let mut whole = model.encoder.network()?;
            whole.layers.extend(model.head_network()?.layers);
            alone(whole)
        }
        LoadedModel::Toy(_) | LoadedModel::Simclr(_) => {
            anyhow::bail!("{} cannot be exported", config.model.kind())
        }
    };
    graph.validate()?;
    Ok(graph)
}
