//! From a loaded dataset to the three sets a run uses, following the run's data settings.

use super::dataset::{Dataset, ImageSet};
use super::split::stratified_split;

/// Train, validation and test images of a run.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Images trained on.
    pub train: ImageSet,
    /// Held-out part of the training split (empty when the fraction is 0).
    pub valid: ImageSet,
    /// Test images.
    pub test: ImageSet,
}

/// A stratified subset of about `n` images of `set` (all of them when `n >= len`).
#[must_use]
pub fn stratified_subset(set: &ImageSet, n: usize, seed: u64) -> ImageSet {
    if n >= set.len() {
        return set.clone();
    }
    let fold = stratified_split(&set.labels, n as f64 / set.len() as f64, seed ^ 0x5eed);
    set.subset(&fold.valid)
}

/// Applies the limits, then holds out `valid_fraction` of the training images (stratified, seeded).
#[must_use]
pub fn prepare(
    data: &Dataset,
    limit_train: Option<usize>,
    limit_test: Option<usize>,
    valid_fraction: f64,
    seed: u64,
) -> Prepared {
    let train_all = limit_train.map_or_else(|| data.train.clone(), |n| stratified_subset(&data.train, n, seed));
    let test = limit_test.map_or_else(|| data.test.clone(), |n| stratified_subset(&data.test, n, seed));
    let fold = stratified_split(&train_all.labels, valid_fraction, seed);
    Prepared { train: train_all.subset(&fold.train), valid: train_all.subset(&fold.valid), test }
}
