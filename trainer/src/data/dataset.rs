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
    /// CIFAR-10's binary batches (`data_batch_1.bin` .. `data_batch_5.bin`, `test_batch.bin`):
    /// 32x32 colour images, 10 classes; bring the files with `--data`.
    Cifar10,
    /// An image folder: one sub-folder per class (or `train/` and `test/`, each with class
    /// sub-folders) of PNG or JPEG files; class names are the folder names.
    Folder,
}

impl DatasetKind {
    /// Class names, by label, for datasets whose classes are fixed (`None` for a folder, whose
    /// classes are its sub-folders).
    #[must_use]
    pub fn known_classes(self) -> Option<&'static [&'static str]> {
        Some(match self {
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
            Self::Cifar10 => &CIFAR10_CLASSES,
            Self::Folder => return None,
        })
    }

    /// The name used on the command line and in run directories.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::FashionMnist => "fashion-mnist",
            Self::Mnist => "mnist",
            Self::Cifar10 => "cifar10",
            Self::Folder => "folder",
        }
    }
}

/// CIFAR-10's classes, by label (as its `batches.meta.txt` lists them).
pub const CIFAR10_CLASSES: [&str; 10] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/// Channels and side of the square images a model takes (its input shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageShape {
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// Rows and columns.
    pub side: usize,
}

impl ImageShape {
    /// Fashion-MNIST's 28x28 grey images (what run directories written before the shape was
    /// recorded were trained on).
    pub const FASHION_MNIST: Self = Self { channels: 1, side: 28 };

    /// Values per image.
    #[must_use]
    pub fn len(self) -> usize {
        self.channels * self.side * self.side
    }

    /// Whether an image holds no value.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

impl Default for ImageShape {
    fn default() -> Self {
        Self::FASHION_MNIST
    }
}

impl fmt::Display for ImageShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.channels == 1 { "grey".to_string() } else { format!("{}-channel", self.channels) };
        write!(f, "{}x{} {what}", self.side, self.side)
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

    /// The images' shape, or why a model cannot take them (they are not square).
    ///
    /// # Errors
    /// For images that are not square.
    pub fn shape(&self) -> anyhow::Result<ImageShape> {
        anyhow::ensure!(
            self.height == self.width,
            "the images are {}x{} but the models take square images; pass --image-size N to resize them",
            self.height,
            self.width
        );
        Ok(ImageShape { channels: self.channels, side: self.height })
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
    /// Class names, by label.
    pub classes: Vec<String>,
    /// The official training split (validation sets are carved out of it).
    pub train: ImageSet,
    /// The official test split, never trained on.
    pub test: ImageSet,
}

impl Dataset {
    /// Class names, by label.
    #[must_use]
    pub fn classes(&self) -> &[String] {
        &self.classes
    }
}
