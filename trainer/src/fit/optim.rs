//! Optimizers and learning-rate schedules (T1), and weight decay (T2).

use std::fmt;

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, RmsPropConfig, SgdConfig};
use serde::{Deserialize, Serialize};

/// Which optimizer updates the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Optimizer {
    /// Plain stochastic gradient descent.
    Sgd,
    /// SGD with (heavy-ball) momentum `--momentum`.
    Momentum,
    /// SGD with Nesterov momentum `--momentum`.
    Nesterov,
    /// Adam; weight decay is coupled L2, as `torch.optim.Adam`.
    Adam,
    /// AdamW: decoupled weight decay.
    Adamw,
    /// RMSprop (no momentum unless `--momentum` is given).
    Rmsprop,
}

impl fmt::Display for Optimizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sgd => "sgd",
            Self::Momentum => "momentum",
            Self::Nesterov => "nesterov",
            Self::Adam => "adam",
            Self::Adamw => "adamw",
            Self::Rmsprop => "rmsprop",
        })
    }
}

/// How the learning rate changes over training; a pure function of the step, so a resumed run
/// continues exactly where it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// The same rate throughout.
    Constant,
    /// Cosine annealing from `--lr` to 0 over all steps.
    Cosine,
    /// Multiply by 0.1 at 50% and 75% of the epochs.
    Step,
    /// Multiply by 0.95 every epoch.
    Exponential,
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Constant => "constant",
            Self::Cosine => "cosine",
            Self::Step => "step",
            Self::Exponential => "exponential",
        })
    }
}

/// Optimizer settings, as saved in a run's config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimConfig {
    /// Which optimizer.
    pub optimizer: Optimizer,
    /// Base learning rate.
    pub lr: f64,
    /// L2 penalty (coupled for SGD, Adam and RMSprop; decoupled for AdamW).
    pub weight_decay: f64,
    /// Momentum for `momentum`, `nesterov` and `rmsprop`.
    pub momentum: f64,
    /// Learning-rate schedule.
    pub schedule: Schedule,
}

impl OptimConfig {
    /// Builds the burn optimizer. Epsilon is PyTorch's 1e-8 (burn's default is 1e-5) so that
    /// results compare with the PyTorch reference.
    #[must_use]
    pub fn build(&self) -> ModuleOptimizer {
        let wd = (self.weight_decay > 0.0).then(|| WeightDecayConfig::new(self.weight_decay as f32));
        let momentum = |nesterov| {
            Some(MomentumConfig::new().with_momentum(self.momentum).with_dampening(0.0).with_nesterov(nesterov))
        };
        match self.optimizer {
            Optimizer::Sgd => SgdConfig::new().with_weight_decay(wd).init(),
            Optimizer::Momentum => SgdConfig::new().with_weight_decay(wd).with_momentum(momentum(false)).init(),
            Optimizer::Nesterov => SgdConfig::new().with_weight_decay(wd).with_momentum(momentum(true)).init(),
            Optimizer::Adam => AdamConfig::new().with_epsilon(1e-8).with_weight_decay(wd).init(),
            Optimizer::Adamw => {
                AdamWConfig::new().with_epsilon(1e-8).with_weight_decay(self.weight_decay as f32).init()
            }
            Optimizer::Rmsprop => {
                RmsPropConfig::new().with_epsilon(1e-8).with_momentum(self.momentum as f32).with_weight_decay(wd).init()
            }
        }
    }

    /// Learning rate for step `step` (0-based) of `total` steps spread over `epochs` epochs.
    #[must_use]
    pub fn lr_at(&self, step: usize, total: usize, epochs: usize) -> f64 {
        let total = total.max(1);
        let progress = step as f64 / total as f64;
        let epoch = (progress * epochs as f64).floor();
        match self.schedule {
            Schedule::Constant => self.lr,
            Schedule::Cosine => 0.5 * self.lr * (1.0 + (std::f64::consts::PI * progress).cos()),
            Schedule::Step => {
                let drops = [0.5, 0.75].iter().filter(|&&m| progress >= m).count();
                self.lr * 0.1f64.powi(drops as i32)
            }
            Schedule::Exponential => self.lr * 0.95f64.powf(epoch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(schedule: Schedule) -> OptimConfig {
        OptimConfig { optimizer: Optimizer::Adam, lr: 0.1, weight_decay: 0.0, momentum: 0.9, schedule }
    }

    #[test]
    fn schedules_start_at_lr_and_decay() {
        for s in [Schedule::Constant, Schedule::Cosine, Schedule::Step, Schedule::Exponential] {
            assert!((cfg(s).lr_at(0, 100, 10) - 0.1).abs() < 1e-12, "{s:?}");
        }
        assert!(cfg(Schedule::Cosine).lr_at(99, 100, 10) < 0.001);
        assert!((cfg(Schedule::Cosine).lr_at(50, 100, 10) - 0.05).abs() < 1e-12);
        assert!((cfg(Schedule::Step).lr_at(60, 100, 10) - 0.01).abs() < 1e-12);
        assert!((cfg(Schedule::Step).lr_at(80, 100, 10) - 0.001).abs() < 1e-12);
        assert!((cfg(Schedule::Exponential).lr_at(25, 100, 10) - 0.1 * 0.95 * 0.95).abs() < 1e-12);
    }
}
