//! Typed metric names: a [`Column`] of `metrics.csv` is a [`Split`] and a [`Metric`], written
//! `<split>_<metric>` (`train_mse`, `valid_accuracy`, ...).

use std::fmt;
use std::str::FromStr;

/// The parts of a dataset a metric is computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// Examples trained on.
    Train,
    /// Held-out part of the training split (may be empty).
    Valid,
    /// The official test split.
    Test,
}

impl Split {
    /// Every split, in column order.
    pub const ALL: [Self; 3] = [Self::Train, Self::Valid, Self::Test];

    /// Prefix of this split's metric columns.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Valid => "valid",
            Self::Test => "test",
        }
    }
}

/// What a value measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Mean squared error per pixel (autoencoders; the VAE's posterior-mean reconstruction).
    Mse,
    /// The minimised loss: cross-entropy for classifiers, reconstruction + beta KL for the VAE.
    Loss,
    /// Share of correctly classified examples.
    Accuracy,
    /// The VAE's reconstruction term per image.
    Recon,
    /// The VAE's KL divergence per image.
    Kl,
}

impl Metric {
    /// Every metric.
    pub const ALL: [Self; 5] = [Self::Mse, Self::Loss, Self::Accuracy, Self::Recon, Self::Kl];

    /// The name in column headers.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Mse => "mse",
            Self::Loss => "loss",
            Self::Accuracy => "accuracy",
            Self::Recon => "recon",
            Self::Kl => "kl",
        }
    }

    /// Whether larger values are better (accuracy) rather than smaller (losses).
    #[must_use]
    pub fn maximise(self) -> bool {
        self == Self::Accuracy
    }
}

/// One metric column: a metric on a split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Column {
    /// The split.
    pub split: Split,
    /// The metric.
    pub metric: Metric,
}

impl Column {
    /// `metric` on `split`.
    #[must_use]
    pub const fn new(split: Split, metric: Metric) -> Self {
        Self { split, metric }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.split.name(), self.metric.name())
    }
}

impl FromStr for Column {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (split, metric) = s.split_once('_').ok_or_else(|| format!("{s:?} is not a <split>_<metric> column"))?;
        let split = Split::ALL
            .into_iter()
            .find(|x| x.name() == split)
            .ok_or_else(|| format!("{s:?}: unknown split {split:?} (train, valid or test)"))?;
        let metric = Metric::ALL.into_iter().find(|m| m.name() == metric).ok_or_else(|| {
            let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
            format!("{s:?}: unknown metric {metric:?} (one of {})", names.join(", "))
        })?;
        Ok(Self { split, metric })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_print_and_parse() {
        for split in Split::ALL {
            for metric in Metric::ALL {
                let c = Column::new(split, metric);
                assert_eq!(c.to_string().parse::<Column>(), Ok(c));
            }
        }
        assert_eq!(Column::new(Split::Valid, Metric::Accuracy).to_string(), "valid_accuracy");
        assert!("train".parse::<Column>().is_err());
        assert!("dev_mse".parse::<Column>().is_err());
        assert!("train_bleu".parse::<Column>().is_err());
    }
}
