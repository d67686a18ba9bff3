//! The generic training loop every model shares, and what it keeps: typed metrics, the per-epoch
//! history, checkpoints, optimizers, and the observers that watch (and may stop) a run.

pub mod checkpoint;
pub mod epochs;
pub mod history;
pub mod init;
pub mod metrics;
pub mod objective;
pub mod observer;
pub mod optim;

pub use checkpoint::{Checkpoints, Saved};
pub use epochs::{FitError, FitHooks, FitOptions, Fitted, Stop, describe_row, fit};
pub use history::{History, Row};
pub use init::force_init;
pub use metrics::{Column, Metric, Split};
pub use objective::{Objective, columns, evaluate};
pub use observer::{Control, EpochEnd, EpochObserver, Observers, Probe};
pub use optim::{OptimConfig, Optimizer, Schedule};
