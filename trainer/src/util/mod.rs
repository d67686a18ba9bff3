//! Small helpers shared by every stage: atomic file writes, reading tensors back, and malloc's
//! settings for training.

pub mod atomic_write;
pub mod malloc;
pub mod tensor;

pub use atomic_write::{atomic_write, atomic_write_bytes};
pub use tensor::to_vec;
