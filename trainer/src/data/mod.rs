//! Datasets: IDX files, CIFAR-10 batches and image folders, where to find them, resizing, splits,
//! the toy set.

pub mod augment;
pub mod batch;
pub mod cifar;
pub mod dataset;
pub mod error;
pub mod folder;
pub mod idx;
pub mod origin;
pub mod prepare;
pub mod resize;
pub mod rng;
pub mod source;
pub mod split;
pub mod toy;

pub use batch::InputRange;
pub use dataset::{Dataset, DatasetKind, ImageSet, ImageShape};
pub use origin::{DataSource, Origin};
pub use prepare::{Prepared, prepare, stratified_subset};
