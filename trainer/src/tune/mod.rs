//! Hyperparameter search, split as Optuna splits it: the study is data in a storage (SQLite or
//! PostgreSQL); a sampler proposes parameters from the finished trials alone; a pruner decides
//! from intermediate values alone; figures and tables read only the storage. Every trial is an
//! ordinary run directory. Format and options: `docs/tuning.md`.

pub mod objective;
pub mod outputs;
pub mod presets;
pub mod pruner;
#[cfg(test)]
mod pruning_savings;
pub mod sampler;
pub mod space;
pub mod storage;
pub mod study;
pub mod trial;

pub use objective::objective;
pub use pruner::PrunerKind;
pub use sampler::SamplerKind;
pub use space::{Params, SearchSpace};
pub use study::{TuneConfig, TuneReport, tune};
