//! Bottleneck's trainer: data, models, training, figures and the `bottleneck` command line.

pub mod cli;
pub mod data;
pub mod device;
pub mod jobs;
pub mod models;
pub mod objectives;
pub mod plot;
pub mod run_dir;
pub mod train;
pub mod util;
