//! Studies that compare training set-ups in one figure: optimizers on the conv autoencoder, and
//! gradient descent against stochastic gradient descent on the toy set.

pub mod gd_vs_sgd;
pub mod optimizers;

pub use gd_vs_sgd::{GdStudy, gd_vs_sgd};
pub use optimizers::{default_lr, optimizers};
