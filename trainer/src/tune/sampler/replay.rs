//! Another study's parameters, in order: the same trials under another pruner.

use super::Sampler;
use crate::tune::space::{Params, SearchSpace};
use crate::tune::storage::Sample;
use crate::tune::trial::TrialRecord;

/// Replays `params`: the k-th new trial (re-runs of crashed trials aside) gets the k-th set.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The parameter sets, in order.
    pub params: Vec<Params>,
}

impl Sampler for Replay {
    fn sample(&self, _space: &SearchSpace, trials: &[TrialRecord], _number: u32) -> anyhow::Result<Option<Sample>> {
        let k = trials.iter().filter(|t| t.retry_of.is_none()).count();
        Ok(self.params.get(k).map(|p| Sample { params: p.clone(), grid: None }))
    }
}
