//! Training objectives: how each kind of model turns a batch into losses.

pub mod classification;
pub mod contrastive;
pub mod reconstruction;
pub mod sets;
pub mod toy;
pub mod vae;

pub use classification::Classification;
pub use contrastive::Contrastive;
pub use reconstruction::Reconstruction;
pub use sets::Sets;
pub use toy::Points;
pub use vae::Elbo;
