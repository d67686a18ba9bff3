//! Training objectives: how each kind of model turns a batch into losses.

pub mod reconstruction;

pub use reconstruction::Reconstruction;
