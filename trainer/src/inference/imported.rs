//! An imported run's model: its ONNX files read back into the export graph, which the exporter's
//! float interpreter runs.

use std::path::Path;

use anyhow::Context as _;
use bottleneck_export::graph::{InputRange, Variant};
use bottleneck_export::onnx_import::{import_network, split_at_bottleneck};
use bottleneck_export::{Classifier, Model as Graph};

use crate::config::{ImportedSpec, RunConfig};
use crate::run_dir::RunDir;

fn read(run: &RunDir, rel: &Path) -> anyhow::Result<(Vec<u8>, String)> {
    let path = run.root.join(rel);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok((bytes, path.display().to_string()))
}

/// Builds the model description of an imported run from its ONNX files.
///
/// # Errors
/// When a file is missing, not ONNX, uses an unsupported operator, or the parts do not fit.
pub fn graph(run: &RunDir, spec: &ImportedSpec, config: &RunConfig) -> anyhow::Result<Graph> {
    let (bytes, name) = read(run, &spec.autoencoder)?;
    let first = import_network(&bytes, &name)?;
    let (encoder, decoder, latent) = match &spec.decoder {
        Some(d) => {
            let (bytes, dname) = read(run, d)?;
            let dec = import_network(&bytes, &dname)?;
            anyhow::ensure!(
                first.output[1] == 1 && first.output[2] == 1 && dec.input == first.output,
                "{name} outputs {:?} but {dname} takes {:?}: they do not make an autoencoder",
                first.output,
                dec.input
            );
            (first.network, dec.network, first.output[0])
        }
        None => split_at_bottleneck(&first, &name)?,
    };
    let classifier = match &spec.classifier {
        Some(c) => {
            let (bytes, cname) = read(run, c)?;
            let net = import_network(&bytes, &cname)?;
            anyhow::ensure!(
                net.input == first.input,
                "{cname} takes {:?}, the autoencoder {:?}",
                net.input,
                first.input
            );
            // The classifier keeps its own layers: its "encoder" is everything up to the point
            // where its features have the code's size, or, failing that, its first layer.
            let cut = net.shapes.iter().position(|s| *s == [latent, 1, 1]);
            let (enc, head) = match cut {
                Some(i) if i + 1 < net.network.layers.len() => net.network.layers.split_at(i + 1),
                _ => anyhow::bail!(
                    "{cname}: no layer produces a vector of the code size {latent}; the runtime runs a classifier as \
                     encoder + head on a {latent}-value code"
                ),
            };
            Some(Classifier {
                encoder: Some(bottleneck_export::Network { layers: enc.to_vec() }),
                head: bottleneck_export::Network { layers: head.to_vec() },
            })
        }
        None => None,
    };
    let g = Graph {
        name: "imported".into(),
        variant: Variant::Autoencoder,
        input: first.input,
        input_range: if spec.symmetric_input { InputRange::Symmetric } else { InputRange::Unit },
        latent,
        encoder,
        decoder,
        classifier,
        classes: config.data.images()?.class_names(),
        latent_stats: None,
        metadata: Vec::new(),
    };
    g.validate().with_context(|| format!("{} does not describe a usable model", run.root.display()))?;
    Ok(g)
}
