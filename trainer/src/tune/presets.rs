//! Search spaces that come with Bottleneck: the one the homework tunes for each kind, and the
//! regularisation and optimizer comparisons (grids).

use crate::config::ModelKind;

/// The spaces `--space NAME` knows besides files.
pub const NAMES: [&str; 3] = ["default", "regularisation", "optimizers"];

/// Latent size, dropout, weight decay, optimizer and learning rate: what the homework's sample
/// report tuned with Optuna. Dropout is a choice of small rates: on reconstruction it mostly costs
/// accuracy, and a continuous range up to 0.5 spends most trials where it does.
const AUTOENCODER: &str = r#"[params]
"model.latent" = { int = [4, 64], log = true }
"model.dropout" = { choice = [0.0, 0.1, 0.2] }
"train.weight_decay" = { float = [1e-6, 1e-3], log = true }
"train.optimizer" = { choice = ["adam", "sgd"] }
"train.lr" = { float = [1e-4, 1e-2], log = true }
"#;

const FC_AE: &str = r#"[params]
"model.dropout" = { float = [0.0, 0.5] }
"train.weight_decay" = { float = [1e-6, 1e-3], log = true }
"train.lr" = { float = [1e-4, 1e-2], log = true }
"train.batch_size" = { choice = [64, 128, 256] }
"#;

const DENOISING: &str = r#"[params]
"model.network.latent" = { int = [4, 64], log = true }
"model.noise_std" = { float = [0.1, 0.5] }
"train.weight_decay" = { float = [1e-6, 1e-3], log = true }
"train.lr" = { float = [1e-4, 1e-2], log = true }
"#;

const VAE: &str = r#"[params]
"model.latent" = { int = [2, 64], log = true }
"model.beta" = { float = [0.25, 4.0], log = true }
"train.lr" = { float = [1e-4, 1e-2], log = true }
"#;

const CLASSIFIER: &str = r#"[params]
"model.network.hidden1" = { int = [16, 256], log = true }
"model.network.hidden2" = { int = [16, 256], log = true }
"model.network.dropout" = { float = [0.0, 0.5] }
"train.weight_decay" = { float = [1e-6, 1e-3], log = true }
"train.lr" = { float = [1e-4, 1e-2], log = true }
"#;

const CNN: &str = r#"[params]
"model.network.dropout" = { float = [0.0, 0.5] }
"model.label_smoothing" = { float = [0.0, 0.2] }
"train.weight_decay" = { float = [1e-6, 1e-3], log = true }
"train.lr" = { float = [5e-4, 5e-3], log = true }
"#;

/// Dropout x weight decay x batch norm on the conv autoencoder: 8 configurations.
const REGULARISATION: &str = r#"[params]
"model.dropout" = { float = [0.0, 0.5], grid = [0.0, 0.2] }
"train.weight_decay" = { float = [0.0, 0.001], grid = [0.0, 0.0001] }
"model.batch_norm" = { choice = [false, true] }
"#;

/// The six optimizers, each at a learning rate that suits it.
const OPTIMIZERS: &str = r#"[params]
"train" = { choice = [
    { optimizer = "sgd", lr = 0.05 },
    { optimizer = "momentum", lr = 0.01 },
    { optimizer = "nesterov", lr = 0.01 },
    { optimizer = "adam", lr = 0.001 },
    { optimizer = "adamw", lr = 0.001 },
    { optimizer = "rmsprop", lr = 0.001 },
] }
"#;

/// The text of space `name` for `kind`, when `name` is one of [`NAMES`].
///
/// # Errors
/// For a kind without a default space, or a comparison that does not apply to it.
pub fn preset(name: &str, kind: ModelKind) -> anyhow::Result<Option<&'static str>> {
    Ok(Some(match (name, kind) {
        ("default", ModelKind::ConvAe) => AUTOENCODER,
        ("default", ModelKind::FcAe) => FC_AE,
        ("default", ModelKind::DenoisingAe) => DENOISING,
        ("default", ModelKind::ConvVae) => VAE,
        ("default", ModelKind::Classifier) => CLASSIFIER,
        ("default", ModelKind::Cnn) => CNN,
        ("regularisation", ModelKind::ConvAe) => REGULARISATION,
        ("optimizers", _) => OPTIMIZERS,
        ("default" | "regularisation", k) => {
            anyhow::bail!("there is no {name} space for {k}; write one (see `bottleneck tune conv-ae --print-space`)")
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DataSelection, DataSpec, ModelSpec, RunConfig, ToyData, TrainOverrides, TrainSpec};
    use crate::tune::space::{SearchSpace, apply};

    /// Every preset parses, and its keys exist in the kind's configuration.
    #[test]
    fn presets_parse_and_apply_to_their_kind() {
        let _ = DataSelection::default();
        for kind in ModelKind::ALL {
            for name in NAMES {
                let Ok(Some(text)) = preset(name, kind) else { continue };
                let space = SearchSpace::from_toml(text, name).unwrap();
                let data = DataSpec::ToyRectangle(ToyData::DEFAULT);
                let base = RunConfig::new(
                    ModelSpec::default_for(kind),
                    TrainSpec::resolve(kind, &TrainOverrides::default(), 1),
                    data,
                );
                let points = space.grid().unwrap_or_else(|_| {
                    (0..3).map(|n| crate::tune::sampler::Random { seed: 1 }.sample_params(&space, n)).collect()
                });
                for p in points {
                    apply(&base, &p).unwrap_or_else(|e| panic!("{name} on {kind}: {e:#}"));
                }
            }
        }
    }
}
