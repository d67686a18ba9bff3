//! Pruners stop unpromising trials early, from intermediate values alone: the median rule and
//! asynchronous successive halving, as Optuna defines them.

use std::fmt;

use super::trial::{TrialRecord, TrialState};

/// Decides after each epoch whether a trial goes on.
pub trait Pruner: Send {
    /// Why trial `number` should stop after `epoch` with `value`, given every trial's
    /// intermediate values (its own included); `None` to go on.
    fn prune(&self, number: u32, epoch: u32, value: f64, trials: &[TrialRecord], maximise: bool) -> Option<String>;
}

/// The pruners `bottleneck tune --pruner` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PrunerKind {
    /// Never stop a trial early.
    None,
    /// Stop a trial whose value at epoch k is worse than the median of the complete trials at k
    /// (after the warm-up epochs and the first complete trials).
    Median,
    /// Asynchronous successive halving: at epochs 1, 3, 9, ... keep only the best third of the
    /// trials that got there.
    Halving,
}

impl fmt::Display for PrunerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::Median => "median",
            Self::Halving => "halving",
        })
    }
}

/// `a` is worse than `b`.
fn worse(a: f64, b: f64, maximise: bool) -> bool {
    if maximise { a < b } else { a > b }
}

fn value_at(t: &TrialRecord, epoch: u32) -> Option<f64> {
    t.intermediate.iter().find(|(e, _)| *e == epoch).map(|&(_, v)| v)
}

/// Never prunes.
#[derive(Debug, Clone, Copy)]
pub struct NoPruner;

impl Pruner for NoPruner {
    fn prune(&self, _: u32, _: u32, _: f64, _: &[TrialRecord], _: bool) -> Option<String> {
        None
    }
}

/// The median rule.
#[derive(Debug, Clone, Copy)]
pub struct Median {
    /// Complete trials needed before anything is pruned.
    pub startup_trials: usize,
    /// Epochs never pruned at (the first ones, where curves cross).
    pub warmup_epochs: u32,
}

impl Default for Median {
    fn default() -> Self {
        Self { startup_trials: 5, warmup_epochs: 1 }
    }
}

impl Pruner for Median {
    fn prune(&self, number: u32, epoch: u32, value: f64, trials: &[TrialRecord], maximise: bool) -> Option<String> {
        if epoch <= self.warmup_epochs {
            return None;
        }
        let mut at: Vec<f64> = trials
            .iter()
            .filter(|t| t.state == TrialState::Complete && t.number != number)
            .filter_map(|t| value_at(t, epoch))
            .collect();
        if at.len() < self.startup_trials.max(1) {
            return None;
        }
        at.sort_by(f64::total_cmp);
        let n = at.len();
        let median = if n % 2 == 1 { at[n / 2] } else { 0.5 * (at[n / 2 - 1] + at[n / 2]) };
        worse(value, median, maximise)
            .then(|| format!("{value:.5} at epoch {epoch} is worse than the median {median:.5} of {n} complete trials"))
    }
}

/// Asynchronous successive halving.
#[derive(Debug, Clone, Copy)]
pub struct Halving {
    /// The first rung's epoch.
    pub min_epochs: u32,
    /// Each rung keeps the best 1/`reduction` (3).
    pub reduction: u32,
}

impl Default for Halving {
    fn default() -> Self {
        Self { min_epochs: 1, reduction: 3 }
    }
}

impl Halving {
    /// Whether `epoch` is a rung: `min_epochs * reduction^k`.
    #[must_use]
    pub fn is_rung(&self, epoch: u32) -> bool {
        let mut r = self.min_epochs.max(1);
        while r < epoch {
            r = r.saturating_mul(self.reduction.max(2));
        }
        r == epoch
    }
}

impl Pruner for Halving {
    fn prune(&self, number: u32, epoch: u32, value: f64, trials: &[TrialRecord], maximise: bool) -> Option<String> {
        if !self.is_rung(epoch) {
            return None;
        }
        // Every trial that reached this rung competes, this one included.
        let mut competing: Vec<f64> = trials
            .iter()
            .filter(|t| t.number != number && t.state != TrialState::Waiting)
            .filter_map(|t| value_at(t, epoch))
            .chain(std::iter::once(value))
            .collect();
        competing.sort_by(|a, b| if maximise { b.total_cmp(a) } else { a.total_cmp(b) });
        let keep = (competing.len() / self.reduction.max(2) as usize).max(1);
        let bar = competing[keep - 1];
        worse(value, bar, maximise).then(|| {
            format!(
                "{value:.5} at epoch {epoch} is outside the best {keep} of the {} trials that reached this rung",
                competing.len()
            )
        })
    }
}

/// The pruner of `kind`, with its settings.
#[must_use]
pub fn make(kind: PrunerKind, median: Median) -> Box<dyn Pruner> {
    match kind {
        PrunerKind::None => Box::new(NoPruner),
        PrunerKind::Median => Box::new(median),
        PrunerKind::Halving => Box::new(Halving::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::space::Params;

    /// A trial with a learning curve.
    fn curve(number: u32, state: TrialState, values: &[f64]) -> TrialRecord {
        let mut t = TrialRecord::new(number, state, Params::new());
        t.intermediate = values.iter().enumerate().map(|(i, &v)| (i as u32 + 1, v)).collect();
        t
    }

    #[test]
    fn median_prunes_below_the_median_after_warmup_and_startup() {
        let done: Vec<TrialRecord> =
            (0..5).map(|i| curve(i, TrialState::Complete, &[1.0, 0.5 + 0.1 * i as f64, 0.4])).collect();
        let m = Median::default();
        // Epoch 2's complete values: 0.5, 0.6, 0.7, 0.8, 0.9; median 0.7.
        assert!(m.prune(9, 2, 0.75, &done, false).is_some());
        assert!(m.prune(9, 2, 0.65, &done, false).is_none());
        assert!(m.prune(9, 1, 5.0, &done, false).is_none(), "warm-up epoch");
        assert!(m.prune(9, 2, 0.75, &done[..4], false).is_none(), "fewer than 5 complete trials");
        // Accuracy: larger is better.
        assert!(m.prune(9, 2, 0.65, &done, true).is_some());
        // Pruned and running trials do not set the median.
        let mut mixed = done.clone();
        mixed.push(curve(7, TrialState::Pruned, &[9.0, 9.0]));
        assert!(m.prune(9, 2, 0.65, &mixed, false).is_none());
    }

    #[test]
    fn halving_keeps_the_best_third_at_each_rung() {
        let h = Halving::default();
        assert!(h.is_rung(1) && h.is_rung(3) && h.is_rung(9) && !h.is_rung(2) && !h.is_rung(4));
        let others: Vec<TrialRecord> =
            (0..5).map(|i| curve(i, TrialState::Complete, &[0.1 * (i + 1) as f64; 3])).collect();
        // With this trial, 6 reached epoch 1; the best 2 go on: 0.1, 0.2.
        assert!(h.prune(9, 1, 0.15, &others, false).is_none());
        assert!(h.prune(9, 1, 0.25, &others, false).is_some());
        assert!(h.prune(9, 2, 9.0, &others, false).is_none(), "not a rung");
        // The first trial at a rung always goes on.
        assert!(h.prune(9, 3, 9.0, &[], false).is_none());
    }
}
