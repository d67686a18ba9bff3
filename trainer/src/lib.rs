//! Bottleneck's trainer: data, models, training, figures, export, and the `bottleneck` command line.
//!
//! The command line (`cli`) only turns flags into the values these modules take: every command is
//! a library function over a [`config::RunConfig`] or a [`run_dir::RunDir`]. Layers, lowest first:
//! `util`, `data`, `models`, `fit` (the generic training loop), `config`, `run_dir`, `objectives`,
//! `inference` (any run loaded back), `figures`, `train` (a run config trained into a run
//! directory), `deploy` (export, validation, import), `targets` (wasm and QEMU), `serve`,
//! `studies`, `pipeline`, `cli`.

pub mod cli;
pub mod config;
pub mod cv;
pub mod data;
pub mod deploy;
pub mod device;
pub mod explore;
pub mod figures;
pub mod files;
pub mod fit;
pub mod inference;
pub mod kernels;
pub mod models;
pub mod objectives;
pub mod pipeline;
pub mod plot;
pub mod report;
pub mod run_dir;
pub mod serve;
pub mod studies;
pub mod targets;
pub mod train;
pub mod tune;
pub mod util;
