//! In-memory image sets and the datasets the trainer knows by name.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::origin::DataSource;

/// A dataset the trainer can find by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// Zalando's Fashion-MNIST: 28x28 grey garments, 10 classes.
    FashionMnist,
    /// LeCun's MNIST digits (same file format; bring the files with `--data`).
    Mnist,
}

impl DatasetKind {
    /// Class names, by label.
    #[must_use]
    pub fn classes(self) -> &'static [&'static str] {
        match self {
            Self::FashionMnist => &[
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ],
            Self::Mnist => &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        }
    }

    /// The name used on the command line and in run directories.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::FashionMnist => "fashion-mnist",
            Self::Mnist => "mnist",
        }
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Images of one split with their labels, stored as bytes (0..=255), channel-major per image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSet {
    /// `len * channels * height * width` pixels.
    pub pixels: Vec<u8>,
    /// One label per image.
    pub labels: Vec<u8>,
    /// Channels per image (1 for the MNIST family).
    pub channels: usize,
    /// Rows per image.
    pub height: usize,
    /// Columns per image.
    pub width: usize,
}

impl ImageSet {
    /// Number of images.
    #[must_use]
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set holds no image.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Values per image.
    #[must_use]
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// The pixels of image `i`.
    #[must_use]
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.image_len();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// A new set holding the given images, in the given order.
    #[must_use]
    pub fn subset(&self, indices: &[usize]) -> Self {
        let mut pixels = Vec::with_capacity(indices.len() * self.image_len());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        Self {
            pixels,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            channels: self.channels,
            height: self.height,
            width: self.width,
        }
    }

    /// The first `n` images (all of them when `n` is larger).
    #[must_use]
    pub fn take(&self, n: usize) -> Self {
        let idx: Vec<usize> = (0..n.min(self.len())).collect();
        self.subset(&idx)
    }

    /// Images per class, indexed by label.
    #[must_use]
    pub fn class_counts(&self, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for &l in &self.labels {
            if let Some(c) = counts.get_mut(usize::from(l)) {
                *c += 1;
            }
        }
        counts
    }
}

/// A dataset as loaded: where it came from and its two official splits.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Which dataset.
    pub kind: DatasetKind,
    /// Where the files were found.
    pub source: DataSource,
    /// The official training split (validation sets are carved out of it).
    pub train: ImageSet,
    /// The official test split, never trained on.
    pub test: ImageSet,
}

impl Dataset {
    /// Class names, by label.
    #[must_use]
    pub fn classes(&self) -> &'static [&'static str] {
        self.kind.classes()
    }
}
