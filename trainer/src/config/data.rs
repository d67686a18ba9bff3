//! What a run trains on: an image dataset (with its limits and split) or the toy point set; and
//! loading it again for an existing run.

use std::path::{Path, PathBuf};

use anyhow::bail;
use serde::{Deserialize, Serialize};

use crate::data::prepare::prepare_fold;
use crate::data::source::{self, DATA_ENV};
pub use crate::data::split::FoldSpec;
use crate::data::{DataSource, Dataset, DatasetKind, ImageShape, Origin, Prepared, prepare};

/// What a run trains on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum DataSpec {
    /// An image dataset.
    Images(ImageData),
    /// Seed 003's points in [-2, 2] x [-1, 1].
    ToyRectangle(ToyData),
}

/// Points of the toy set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToyData {
    /// Points trained on (seed 003 uses 100).
    pub points: usize,
    /// Held-out points for the test loss.
    pub test_points: usize,
}

impl DataSpec {
    /// The image settings.
    ///
    /// # Errors
    /// For a run that trains on the toy set.
    pub fn images(&self) -> anyhow::Result<&ImageData> {
        match self {
            Self::Images(d) => Ok(d),
            Self::ToyRectangle(_) => bail!("this run trains on the toy point set, not images"),
        }
    }
}

/// Which images, and how many.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageData {
    /// Dataset name.
    pub dataset: DatasetKind,
    /// The folder the files came from (informative; `--data` on resume overrides it).
    pub dir: PathBuf,
    /// Share of the training split held out for validation.
    pub valid_fraction: f64,
    /// Use at most this many training images (before the validation split).
    pub limit_train: Option<usize>,
    /// Use at most this many test images.
    pub limit_test: Option<usize>,
    /// Images trained on.
    pub train_images: usize,
    /// Images held out for validation.
    pub valid_images: usize,
    /// Test images.
    pub test_images: usize,
    /// Cross-validation: hold out fold `index` of `k` stratified folds of the training images as
    /// the validation split, instead of `valid_fraction`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold: Option<FoldSpec>,
    /// Images resized to this side (`--image-size`); `None`: their own size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<usize>,
    /// The images' shape as the models take them (runs written before it was recorded: 28x28 grey).
    #[serde(default)]
    pub shape: ImageShape,
    /// Class names by label (runs written before they were recorded: the dataset's fixed names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
}

impl ImageData {
    /// The three sets of the run: limits applied, then the validation split (`seed` is the run's).
    #[must_use]
    pub fn prepare(&self, data: &Dataset, seed: u64) -> Prepared {
        match self.fold {
            Some(f) => prepare_fold(data, self.limit_train, self.limit_test, f, seed),
            None => prepare(data, self.limit_train, self.limit_test, self.valid_fraction, seed),
        }
    }

    /// Sets the image counts for `data` and `seed` (after changing the split).
    pub fn count(&mut self, data: &Dataset, seed: u64) {
        let p = self.prepare(data, seed);
        (self.train_images, self.valid_images, self.test_images) = (p.train.len(), p.valid.len(), p.test.len());
    }

    /// Loads the dataset the run recorded, or the one in `override_dir`. Errors name `config`
    /// (the run's `config.toml`) when the recorded folder is the one that fails.
    ///
    /// # Errors
    /// When the files are missing or corrupt.
    pub fn load(&self, override_dir: Option<&Path>, config: &Path) -> anyhow::Result<Dataset> {
        let source = match override_dir {
            Some(dir) => DataSource { origin: Origin::Flag, dir: dir.into() },
            None => DataSource { origin: Origin::Run, dir: self.dir.clone() },
        };
        let from_run = source.origin == Origin::Run;
        source::load(self.dataset, source, self.image_size).map_err(|e| {
            let e = anyhow::Error::new(e);
            if from_run { e.context(format!("loading the data recorded in {}", config.display())) } else { e }
        })
    }

    /// Class names by label: the recorded ones, or the dataset's fixed names for older runs.
    #[must_use]
    pub fn class_names(&self) -> Vec<String> {
        if self.classes.is_empty() {
            self.dataset.known_classes().unwrap_or_default().iter().map(|c| (*c).to_string()).collect()
        } else {
            self.classes.clone()
        }
    }
}

/// The images a new run asks for (what `--dataset`, `--data`, `--limit-*` and
/// `--valid-fraction` say).
#[derive(Debug, Clone, PartialEq)]
pub struct DataSelection {
    /// Dataset.
    pub dataset: DatasetKind,
    /// Folder of the files; `None`: `BOTTLENECK_DATA`, Debian's package, the bundled sample.
    pub dir: Option<PathBuf>,
    /// At most this many training images.
    pub limit_train: Option<usize>,
    /// At most this many test images.
    pub limit_test: Option<usize>,
    /// Share of the training images held out for validation.
    pub valid_fraction: f64,
    /// Resize the images to this side (`--image-size`).
    pub image_size: Option<usize>,
}

impl Default for DataSelection {
    fn default() -> Self {
        Self {
            dataset: DatasetKind::FashionMnist,
            dir: None,
            limit_train: None,
            limit_test: None,
            valid_fraction: Self::DEFAULT_VALID_FRACTION,
            image_size: None,
        }
    }
}

impl DataSelection {
    /// Share held out for validation unless asked otherwise.
    pub const DEFAULT_VALID_FRACTION: f64 = 0.1;

    /// Finds and loads the dataset (`dir`, then `BOTTLENECK_DATA`, then Debian's package, then the
    /// bundled sample).
    ///
    /// # Errors
    /// When nothing is found or a file is corrupt.
    pub fn load(&self) -> anyhow::Result<Dataset> {
        let env = std::env::var_os(DATA_ENV).map(PathBuf::from);
        let src = source::locate(self.dataset, self.dir.as_deref(), env.as_deref())?;
        Ok(source::load(self.dataset, src, self.image_size)?)
    }

    /// The run's record of this selection on `data`, with the split sizes for `seed`.
    ///
    /// # Errors
    /// When the images are not square (the models take square images).
    pub fn spec(&self, data: &Dataset, seed: u64) -> anyhow::Result<ImageData> {
        let mut spec = ImageData {
            dataset: data.kind,
            dir: data.source.dir.clone(),
            valid_fraction: self.valid_fraction,
            limit_train: self.limit_train,
            limit_test: self.limit_test,
            train_images: 0,
            valid_images: 0,
            test_images: 0,
            fold: None,
            image_size: self.image_size,
            shape: data.train.shape()?,
            classes: data.classes.clone(),
        };
        spec.count(data, seed);
        Ok(spec)
    }
}

impl ToyData {
    /// Seed 003's 100 training points and 1000 held-out ones.
    pub const DEFAULT: Self = Self { points: 100, test_points: 1000 };
}
