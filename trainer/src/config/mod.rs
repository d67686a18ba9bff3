//! A run's whole configuration (`config.toml`): the model, how it trains and on what. A run is
//! reproducible from this value alone; every library entry point takes one.

pub mod data;
pub mod defaults;
pub mod model;
pub mod train;

use serde::{Deserialize, Serialize};

pub use data::{DataSelection, DataSpec, FoldSpec, ImageData, ToyData};
pub use defaults::{ModelKind, TrainDefaults};
pub use model::{ClassifierSpec, CnnSpec, DenoisingSpec, ImportedSpec, ModelSpec, ToySpec};
pub use train::{TrainOverrides, TrainSpec};

/// Version of the run-directory layout and `config.toml` schema.
pub const RUN_FORMAT: u32 = 1;

/// Everything `config.toml` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunConfig {
    /// [`RUN_FORMAT`].
    pub format: u32,
    /// The version of bottleneck that wrote it.
    pub bottleneck_version: String,
    /// The model.
    pub model: ModelSpec,
    /// Training.
    pub train: TrainSpec,
    /// Data.
    pub data: DataSpec,
}

impl RunConfig {
    /// A configuration of this version of bottleneck; an image model is fitted to the data's
    /// shape and classes ([`ModelSpec::fit_to`]).
    #[must_use]
    pub fn new(mut model: ModelSpec, train: TrainSpec, data: DataSpec) -> Self {
        if let DataSpec::Images(d) = &data {
            model.fit_to(d.shape, d.class_names().len());
        }
        Self { format: RUN_FORMAT, bottleneck_version: env!("CARGO_PKG_VERSION").to_string(), model, train, data }
    }

    /// Parses `config.toml` text; `origin` names the file in errors.
    ///
    /// # Errors
    /// When the text is not a run config, or of another format version.
    pub fn from_toml(text: &str, origin: &str) -> anyhow::Result<Self> {
        let config: Self =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: not a valid run config: {e}"))?;
        anyhow::ensure!(
            config.format == RUN_FORMAT,
            "{origin}: run format {} is not supported (this bottleneck reads {RUN_FORMAT})",
            config.format
        );
        config.check().map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        Ok(config)
    }

    /// The text of `config.toml`.
    ///
    /// # Errors
    /// When serialisation fails (it does not for values this crate builds).
    pub fn to_toml(&self) -> anyhow::Result<String> {
        let text = toml::to_string_pretty(self).map_err(|e| anyhow::anyhow!("serialising the run config: {e}"))?;
        Ok(format!("# Written by bottleneck {}; `bottleneck resume` reads it back.\n{text}", env!("CARGO_PKG_VERSION")))
    }

    /// Checks values that parse but cannot run (a hand-edited file).
    ///
    /// # Errors
    /// Naming the key and the bad value.
    pub fn check(&self) -> anyhow::Result<()> {
        let t = &self.train;
        anyhow::ensure!(t.batch_size > 0, "train.batch_size must be positive");
        anyhow::ensure!(t.optim.lr.is_finite() && t.optim.lr > 0.0, "train.lr = {} must be positive", t.optim.lr);
        anyhow::ensure!(
            t.optim.weight_decay.is_finite() && t.optim.weight_decay >= 0.0,
            "train.weight_decay = {} must not be negative",
            t.optim.weight_decay
        );
        anyhow::ensure!(
            (0.0..1.0).contains(&t.optim.momentum),
            "train.momentum = {} is outside [0, 1)",
            t.optim.momentum
        );
        if let DataSpec::Images(d) = &self.data {
            self.model.check_input(d.shape)?;
            anyhow::ensure!(
                (0.0..1.0).contains(&d.valid_fraction),
                "data.valid_fraction = {} is outside [0, 1)",
                d.valid_fraction
            );
            if let Some(f) = d.fold {
                anyhow::ensure!(
                    f.k >= 2 && f.index < f.k,
                    "data.fold: fold {} of {} does not exist (k must be at least 2, index below k)",
                    f.index,
                    f.k
                );
            }
        }
        if let DataSpec::ToyRectangle(d) = &self.data {
            anyhow::ensure!(d.points > 0 && d.test_points > 0, "data.points and data.test_points must be positive");
        }
        let smoothing = match &self.model {
            ModelSpec::Classifier(c) => Some(c.label_smoothing),
            ModelSpec::Cnn(c) => Some(c.label_smoothing),
            _ => None,
        };
        if let Some(s) = smoothing {
            anyhow::ensure!((0.0..=1.0).contains(&s), "model.label_smoothing = {s} is outside [0, 1]");
        }
        Ok(())
    }
}
