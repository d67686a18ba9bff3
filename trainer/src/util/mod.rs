//! Small helpers shared by every stage: atomic file writes and reading tensors back.

pub mod atomic_write;
pub mod tensor;

pub use atomic_write::{atomic_write, atomic_write_bytes};
pub use tensor::to_vec;
