//! End-to-end tests: the real `bottleneck` binary on small data in temporary folders.
//!
//! Build the binary first (`cargo build --release -p bottleneck`; `cargo xtask ci` does), or point
//! `BOTTLENECK_BIN` at one.

mod data;
mod explore;
mod export;
mod folders;
mod onnx;
mod pytorch;
mod report;
mod simclr;
mod targets;
mod train;
mod tune;
mod util;
