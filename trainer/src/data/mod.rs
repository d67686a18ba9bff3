//! Datasets: IDX files, where to find them, splits, the toy set.

pub mod augment;
pub mod batch;
pub mod dataset;
pub mod idx;
pub mod origin;
pub mod prepare;
pub mod rng;
pub mod source;
pub mod split;
pub mod toy;

pub use batch::InputRange;
pub use dataset::{Dataset, DatasetKind, ImageSet};
pub use origin::{DataSource, Origin};
pub use prepare::{Prepared, prepare, stratified_subset};
