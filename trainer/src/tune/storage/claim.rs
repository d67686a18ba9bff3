//! The claim, independent of the database: what to fail, what to queue again, and which trial
//! this worker takes. Each storage runs it inside its own transaction.

use crate::tune::space::Params;
use crate::tune::trial::{TrialRecord, TrialState, Worker};

/// A new trial's parameters, with its grid point when the sampler is a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The parameters.
    pub params: Params,
    /// The grid point's index.
    pub grid: Option<u32>,
}

/// Proposes a new trial's parameters from every trial so far and the new trial's number.
pub type SampleFn<'a> = dyn FnMut(&[TrialRecord], u32) -> anyhow::Result<Option<Sample>> + 'a;

/// The study's limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClaimRules {
    /// Trials to end in all (complete, pruned, or failed and not re-run).
    pub budget: u32,
    /// A running trial whose worker has been silent this many seconds is failed and re-run.
    pub stale_after: f64,
}

/// What a claim changes.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Plan {
    /// Running trials to mark failed, with why.
    pub fail: Vec<(u32, String)>,
    /// Waiting trials to insert: re-runs of the failed ones.
    pub retries: Vec<TrialRecord>,
    /// The trial this worker takes, and whether it is new (to insert) or waiting (to update).
    pub take: Option<(TrialRecord, bool)>,
}

/// Plans a claim on `trials` (all of the study's) at time `now`.
pub(crate) fn plan(
    trials: &[TrialRecord],
    me: &Worker,
    rules: &ClaimRules,
    now: f64,
    sample: &mut SampleFn<'_>,
) -> anyhow::Result<Plan> {
    let mut all = trials.to_vec();
    let mut plan = Plan::default();
    let mut next = all.iter().map(|t| t.number + 1).max().unwrap_or(0);
    let dead: Vec<(usize, String)> = all
        .iter()
        .enumerate()
        .filter(|(_, t)| t.state == TrialState::Running)
        .filter_map(|(i, t)| {
            let gone = Worker::parse(&t.worker).is_some_and(|w| w.is_gone(me));
            let silent = now - t.heartbeat;
            if gone {
                Some((i, format!("its worker {} is no longer running", t.worker)))
            } else if silent > rules.stale_after {
                Some((i, format!("its worker {} sent no heartbeat for {silent:.0} s", t.worker)))
            } else {
                None
            }
        })
        .collect();
    for (i, why) in dead {
        let t = &mut all[i];
        t.state = TrialState::Failed;
        t.note = format!("{why}; re-run as trial {next}");
        plan.fail.push((t.number, t.note.clone()));
        let mut retry = TrialRecord::new(next, TrialState::Waiting, t.params.clone());
        retry.retry_of = Some(t.number);
        retry.grid = t.grid;
        all.push(retry.clone());
        plan.retries.push(retry);
        next += 1;
    }
    if let Some(w) = all.iter().filter(|t| t.state == TrialState::Waiting).min_by_key(|t| t.number) {
        let mut t = w.clone();
        t.state = TrialState::Running;
        t.worker = me.to_string();
        t.heartbeat = now;
        plan.take = Some((t, false));
        return Ok(plan);
    }
    let ended = all.iter().filter(|t| t.ended(&all)).count();
    let running = all.iter().filter(|t| t.state == TrialState::Running).count();
    if ended + running >= rules.budget as usize {
        return Ok(plan);
    }
    if let Some(s) = sample(&all, next)? {
        let mut t = TrialRecord::new(next, TrialState::Running, s.params);
        t.grid = s.grid;
        t.worker = me.to_string();
        t.heartbeat = now;
        plan.take = Some((t, true));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(pid: u32) -> Worker {
        Worker { host: "elsewhere".into(), pid }
    }

    fn running(number: u32, w: &Worker, heartbeat: f64) -> TrialRecord {
        let mut t = TrialRecord::new(number, TrialState::Running, Params::new());
        t.worker = w.to_string();
        t.heartbeat = heartbeat;
        t
    }

    #[test]
    fn silent_workers_trials_fail_and_are_run_again_first() {
        let me = worker(1);
        let rules = ClaimRules { budget: 3, stale_after: 30.0 };
        let mut done = TrialRecord::new(0, TrialState::Complete, Params::new());
        done.value = Some(1.0);
        let trials = vec![done, running(1, &worker(2), 100.0), running(2, &worker(3), 125.0)];
        let mut sampled = 0;
        let p = plan(&trials, &me, &rules, 140.0, &mut |_, _| {
            sampled += 1;
            Ok(Some(Sample { params: Params::new(), grid: None }))
        })
        .unwrap();
        assert_eq!(p.fail.len(), 1);
        assert_eq!(p.fail[0].0, 1);
        assert_eq!(p.retries.len(), 1);
        assert_eq!((p.retries[0].number, p.retries[0].retry_of), (3, Some(1)));
        let (t, new) = p.take.unwrap();
        assert_eq!((t.number, new, t.state), (3, false, TrialState::Running));
        assert_eq!(sampled, 0, "a waiting re-run comes before a new trial");
    }

    #[test]
    fn the_budget_counts_ended_and_running_trials() {
        let me = worker(1);
        let rules = ClaimRules { budget: 2, stale_after: 30.0 };
        let trials = vec![TrialRecord::new(0, TrialState::Pruned, Params::new()), running(1, &worker(2), 100.0)];
        let p = plan(&trials, &me, &rules, 110.0, &mut |_, _| panic!("must not sample")).unwrap();
        assert_eq!(p, Plan::default());
        let rules = ClaimRules { budget: 3, ..rules };
        let p = plan(&trials, &me, &rules, 110.0, &mut |_, n| {
            assert_eq!(n, 2);
            Ok(Some(Sample { params: Params::new(), grid: Some(7) }))
        })
        .unwrap();
        let (t, new) = p.take.unwrap();
        assert_eq!((t.number, new, t.grid, t.worker.as_str()), (2, true, Some(7), "elsewhere:1"));
    }
}
