//! How a run trains: epochs, batches, optimizer, seed and backend.

use serde::{Deserialize, Serialize};

use super::defaults::ModelKind;
use crate::device::Backend;
use crate::fit::OptimConfig;

/// Training settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainSpec {
    /// Epochs in total.
    pub epochs: usize,
    /// Examples per step.
    pub batch_size: usize,
    /// Optimizer, learning rate, schedule, weight decay.
    #[serde(flatten)]
    pub optim: OptimConfig,
    /// Early-stopping patience in epochs (needs a validation split).
    pub patience: Option<usize>,
    /// Seed of weights, data order, split and noise.
    pub seed: u64,
    /// Backend.
    pub device: Backend,
}

/// Training settings a caller may set; everything unset takes the model kind's default
/// ([`ModelKind::train_defaults`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainOverrides {
    /// Epochs.
    pub epochs: Option<usize>,
    /// Examples per step.
    pub batch_size: Option<usize>,
    /// Optimizer.
    pub optimizer: Option<crate::fit::Optimizer>,
    /// Learning rate.
    pub lr: Option<f64>,
    /// Weight decay.
    pub weight_decay: Option<f64>,
    /// Momentum (momentum, nesterov, rmsprop).
    pub momentum: Option<f64>,
    /// Learning-rate schedule.
    pub schedule: Option<crate::fit::Schedule>,
    /// Early-stopping patience.
    pub patience: Option<usize>,
    /// Seed.
    pub seed: Option<u64>,
    /// Backend.
    pub device: Option<Backend>,
}

impl TrainSpec {
    /// Seed of every run unless asked otherwise.
    pub const DEFAULT_SEED: u64 = 42;
    /// Momentum unless asked otherwise.
    pub const DEFAULT_MOMENTUM: f64 = 0.9;

    /// The settings of a `kind` run: `overrides` where given, else the kind's defaults.
    /// `full_batch` is the number of training examples, the batch of full-batch kinds (the toy
    /// models).
    #[must_use]
    pub fn resolve(kind: ModelKind, overrides: &TrainOverrides, full_batch: usize) -> Self {
        let d = kind.train_defaults();
        Self {
            epochs: overrides.epochs.unwrap_or(d.epochs),
            batch_size: overrides.batch_size.unwrap_or_else(|| d.batch_size.unwrap_or(full_batch)),
            optim: OptimConfig {
                optimizer: overrides.optimizer.unwrap_or(d.optimizer),
                lr: overrides.lr.unwrap_or(d.lr),
                weight_decay: overrides.weight_decay.unwrap_or(d.weight_decay),
                momentum: overrides.momentum.unwrap_or(Self::DEFAULT_MOMENTUM),
                schedule: overrides.schedule.unwrap_or(d.schedule),
            },
            patience: overrides.patience,
            seed: overrides.seed.unwrap_or(Self::DEFAULT_SEED),
            device: overrides.device.unwrap_or(Backend::Flex),
        }
    }
}
