//! Training: the shared loop, optimizers, metrics and checkpoints.

pub mod checkpoint;
pub mod fit;
pub mod history;
pub mod optim;

pub use checkpoint::Checkpoints;
pub use fit::{FitOptions, Fitted, Objective, Split, fit};
pub use history::History;
pub use optim::{OptimConfig, Optimizer, Schedule};
