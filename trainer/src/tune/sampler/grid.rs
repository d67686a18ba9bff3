//! Grid search: every point of the grid exactly once, whichever worker takes it.

use super::Sampler;
use crate::tune::space::SearchSpace;
use crate::tune::storage::Sample;
use crate::tune::trial::TrialRecord;

/// The next grid point no trial holds (a crashed trial's re-run keeps its point).
#[derive(Debug, Clone, Copy)]
pub struct Grid;

impl Sampler for Grid {
    fn sample(&self, space: &SearchSpace, trials: &[TrialRecord], _number: u32) -> anyhow::Result<Option<Sample>> {
        let points = space.grid()?;
        let taken: std::collections::BTreeSet<u32> = trials.iter().filter_map(|t| t.grid).collect();
        Ok((0..points.len() as u32)
            .find(|i| !taken.contains(i))
            .map(|i| Sample { params: points[i as usize].clone(), grid: Some(i) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::trial::TrialState;

    #[test]
    fn covers_every_point_once_then_stops() {
        let s =
            SearchSpace::from_toml("[params]\n\"a\" = { choice = [1, 2, 3] }\n\"b\" = { int = [0, 1] }", "s").unwrap();
        let mut trials = Vec::new();
        while let Some(sample) = Grid.sample(&s, &trials, trials.len() as u32).unwrap() {
            let mut t = TrialRecord::new(trials.len() as u32, TrialState::Complete, sample.params);
            t.grid = sample.grid;
            trials.push(t);
        }
        assert_eq!(trials.len(), 6);
        let mut seen: Vec<String> = trials.iter().map(|t| crate::tune::space::describe(&t.params)).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 6, "{seen:?}");
    }
}
