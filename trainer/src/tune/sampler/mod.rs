//! Samplers propose a new trial's parameters from the study's trials alone, so any number of
//! workers can share one storage: grid (every point once), random (reproducible from the seed and
//! the trial number), TPE (a tree-structured Parzen estimator, after Bergstra et al. 2011 and
//! Optuna's defaults), and replay (another study's parameters, in order, to compare pruners on the
//! same trials).

mod grid;
pub mod parzen;
mod random;
mod replay;
mod tpe;

use std::fmt;

use super::space::{Params, SearchSpace};
use super::storage::Sample;
use super::trial::TrialRecord;
pub use grid::Grid;
pub use random::{Random, draw};
pub use replay::Replay;
pub use tpe::Tpe;

/// Proposes parameters.
pub trait Sampler: Send {
    /// Parameters of trial `number`, given every trial so far; `None` when the sampler has nothing
    /// left (a grid that is covered, a replay that is done).
    ///
    /// # Errors
    /// When the space does not suit the sampler (a grid over a float range without grid values).
    fn sample(&self, space: &SearchSpace, trials: &[TrialRecord], number: u32) -> anyhow::Result<Option<Sample>>;
}

/// The samplers `bottleneck tune --sampler` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SamplerKind {
    /// Every grid point once (choices, small integer ranges, or each parameter's `grid`).
    Grid,
    /// Independent draws, reproducible from --seed.
    Random,
    /// Tree-structured Parzen estimator: random for the first 10 trials, then draws where good
    /// trials are dense and bad ones sparse.
    Tpe,
}

impl fmt::Display for SamplerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Grid => "grid",
            Self::Random => "random",
            Self::Tpe => "tpe",
        })
    }
}

/// The sampler of `kind`.
#[must_use]
pub fn make(kind: SamplerKind, seed: u64, maximise: bool) -> Box<dyn Sampler> {
    match kind {
        SamplerKind::Grid => Box::new(Grid),
        SamplerKind::Random => Box::new(Random { seed }),
        SamplerKind::Tpe => Box::new(Tpe::new(seed, maximise)),
    }
}

/// A replay of `params`, in order.
#[must_use]
pub fn replay(params: Vec<Params>) -> Box<dyn Sampler> {
    Box::new(Replay { params })
}
