//! `summary.toml`: what a classifier run records about its learning speed.

use serde::{Deserialize, Serialize};

/// The split whose accuracy a classifier run tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackedSplit {
    /// The validation split (when the run holds one out).
    Valid,
    /// The test split (runs without a validation split).
    Test,
}

impl TrackedSplit {
    /// `valid` or `test`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Test => "test",
        }
    }
}

/// What a classifier run records about its learning speed (`summary.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearningSpeed {
    /// The split whose accuracy is tracked: `valid` when there is one, else `test`.
    pub tracked_split: TrackedSplit,
    /// The accuracy to reach.
    pub target_accuracy: f64,
    /// First epoch at or above the target on the tracked split, if any.
    pub epochs_to_target: Option<usize>,
    /// Training seconds until then.
    pub seconds_to_target: Option<f64>,
    /// Last test accuracy.
    pub final_test_accuracy: Option<f64>,
    /// Best accuracy on the tracked split.
    pub best_accuracy: Option<f64>,
    /// Epochs trained.
    pub epochs: usize,
    /// Total training seconds.
    pub total_seconds: f64,
}

impl LearningSpeed {
    /// The text of `summary.toml`.
    ///
    /// # Errors
    /// When serialisation fails.
    pub fn to_toml(&self) -> anyhow::Result<String> {
        toml::to_string_pretty(self).map_err(|e| anyhow::anyhow!("serialising the summary: {e}"))
    }

    /// Parses `summary.toml` text; `origin` names the file in errors.
    ///
    /// # Errors
    /// When the text is not a learning-speed summary.
    pub fn from_toml(text: &str, origin: &str) -> anyhow::Result<Self> {
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: not a learning-speed summary: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_older_files() {
        let s = LearningSpeed {
            tracked_split: TrackedSplit::Valid,
            target_accuracy: 0.9,
            epochs_to_target: None,
            seconds_to_target: None,
            final_test_accuracy: Some(0.91),
            best_accuracy: Some(0.92),
            epochs: 5,
            total_seconds: 12.5,
        };
        assert_eq!(LearningSpeed::from_toml(&s.to_toml().unwrap(), "x").unwrap(), s);
        // What earlier versions wrote (integers where a float was whole).
        let old = "tracked_split = \"test\"\ntarget_accuracy = 0.9\nepochs_to_target = 2\n\
                   seconds_to_target = 21.0\nepochs = 4\ntotal_seconds = 40.0\n";
        let o = LearningSpeed::from_toml(old, "old").unwrap();
        assert_eq!((o.tracked_split, o.epochs_to_target), (TrackedSplit::Test, Some(2)));
        assert!(LearningSpeed::from_toml("epochs = \"x\"", "bad").unwrap_err().to_string().starts_with("bad:"));
    }
}
