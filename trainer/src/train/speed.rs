//! A classifier's learning speed: epochs and seconds until it first reaches a target accuracy.

use crate::fit::{Column, History, Metric, Split};
use crate::run_dir::LearningSpeed;
use crate::run_dir::summary::TrackedSplit;

/// Epochs and seconds to reach `target` on the tracked split (validation when the run holds one
/// out, else test).
#[must_use]
pub fn learning_speed(history: &History, target: f64) -> LearningSpeed {
    let valid = Column::new(Split::Valid, Metric::Accuracy);
    let test = Column::new(Split::Test, Metric::Accuracy);
    let (tracked_split, column) =
        if history.has(valid) { (TrackedSplit::Valid, valid) } else { (TrackedSplit::Test, test) };
    let series = history.series(column);
    let hit = series.iter().find(|(_, a)| *a >= target).map(|&(e, _)| e);
    let seconds = hit.map(|e| history.rows.iter().take_while(|r| r.epoch <= e).map(|r| r.seconds).sum());
    LearningSpeed {
        tracked_split,
        target_accuracy: target,
        epochs_to_target: hit,
        seconds_to_target: seconds,
        final_test_accuracy: history.last(test),
        best_accuracy: series.iter().map(|&(_, a)| a).fold(None, |b: Option<f64>, a| Some(b.map_or(a, |b| b.max(a)))),
        epochs: history.rows.len(),
        total_seconds: history.total_seconds(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::Row;

    #[test]
    fn learning_speed_finds_the_first_crossing() {
        let mut h =
            History::new(vec![Column::new(Split::Train, Metric::Accuracy), Column::new(Split::Test, Metric::Accuracy)]);
        for (e, (s, a)) in [(10.0, 0.80), (11.0, 0.90), (9.0, 0.93), (10.0, 0.92)].iter().enumerate() {
            h.rows.push(Row { epoch: e + 1, seconds: *s, lr: 1e-3, values: vec![Some(0.9), Some(*a)] });
        }
        let s = learning_speed(&h, 0.9);
        assert_eq!(s.tracked_split, TrackedSplit::Test);
        assert_eq!(s.epochs_to_target, Some(2));
        assert_eq!(s.seconds_to_target, Some(21.0));
        assert_eq!(s.best_accuracy, Some(0.93));
        assert_eq!(s.final_test_accuracy, Some(0.92));
        assert_eq!(learning_speed(&h, 0.99).epochs_to_target, None);
    }
}
