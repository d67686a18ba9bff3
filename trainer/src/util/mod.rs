//! Small helpers shared by every stage: atomic file writes, reading tensors back, and the
//! process's malloc and thread-pool settings for training.

pub mod atomic_write;
pub mod malloc;
pub mod tensor;
pub mod threads;

pub use atomic_write::{atomic_write, atomic_write_bytes};
pub use tensor::to_vec;
