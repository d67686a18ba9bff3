//! Choosing the burn backend at run time.

use std::fmt;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// The compute backends the trainer can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// burn-flex: pure-Rust CPU backend with SIMD and threads (the default: fastest CPU backend here).
    Flex,
    /// burn-ndarray: the older CPU backend (deprecated by burn; much slower for transposed convs).
    Ndarray,
    /// burn-cuda: NVIDIA GPUs (needs a build with `--features cuda`).
    Cuda,
}

impl Backend {
    /// The name used on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
            Self::Cuda => "cuda",
        }
    }

    /// The burn device for this backend (without autodiff).
    ///
    /// # Errors
    /// When the backend was not compiled in (CUDA without the `cuda` feature).
    pub fn device(self) -> anyhow::Result<Device> {
        match self {
            Self::Flex => Ok(Device::flex()),
            #[allow(deprecated)] // still a supported choice here, for comparison and fallback
            Self::Ndarray => Ok(Device::ndarray()),
            Self::Cuda => cuda_device(),
        }
    }
}

#[cfg(feature = "cuda")]
fn cuda_device() -> anyhow::Result<Device> {
    Ok(Device::cuda(0))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device() -> anyhow::Result<Device> {
    anyhow::bail!(
        "this bottleneck was built without CUDA; rebuild with `cargo build --release --features cuda` \
         (see docs/cuda.md), or use --device flex"
    )
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
