//! From a loaded dataset to the three sets a run uses, following the run's data settings.

use super::dataset::{Dataset, ImageSet};
use super::split::{FoldSpec, stratified_kfold, stratified_split};

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

/// Applies the limits, then holds out fold `fold.index` of `fold.k` stratified folds (seeded) of
/// the training images as the validation set.
#[must_use]
pub fn prepare_fold(
    data: &Dataset,
    limit_train: Option<usize>,
    limit_test: Option<usize>,
    fold: FoldSpec,
    seed: u64,
) -> Prepared {
    let train_all = limit_train.map_or_else(|| data.train.clone(), |n| stratified_subset(&data.train, n, seed));
    let test = limit_test.map_or_else(|| data.test.clone(), |n| stratified_subset(&data.test, n, seed));
    match stratified_kfold(&train_all.labels, fold.k, seed).ok().and_then(|folds| folds.into_iter().nth(fold.index)) {
        Some(f) => Prepared { train: train_all.subset(&f.train), valid: train_all.subset(&f.valid), test },
        // Checked when the config is read; an impossible fold trains on everything.
        None => Prepared { valid: train_all.subset(&[]), train: train_all, test },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataSource, DatasetKind, Origin};

    fn dataset() -> Dataset {
        let set = |n: usize| ImageSet {
            pixels: (0..n).flat_map(|i| [(i % 256) as u8, (i / 256) as u8, 0, 0]).collect(),
            labels: (0..n).map(|i| (i * 7 % 10) as u8).collect(),
            channels: 1,
            height: 2,
            width: 2,
        };
        Dataset {
            kind: DatasetKind::FashionMnist,
            source: DataSource { origin: Origin::Flag, dir: "x".into() },
            classes: (0..10).map(|c| c.to_string()).collect(),
            train: set(503),
            test: set(50),
        }
    }

    /// The folds of a cross-validation: every training image held out exactly once, never trained
    /// on in its own fold, and each class spread evenly.
    #[test]
    fn folds_are_disjoint_complete_and_stratified() {
        let data = dataset();
        let k = 5;
        let mut held = std::collections::BTreeMap::<Vec<u8>, usize>::new();
        for index in 0..k {
            let p = prepare_fold(&data, None, None, FoldSpec { k, index }, 3);
            assert_eq!(p.train.len() + p.valid.len(), 503);
            let train: std::collections::BTreeSet<&[u8]> = (0..p.train.len()).map(|i| p.train.image(i)).collect();
            for i in 0..p.valid.len() {
                assert!(!train.contains(p.valid.image(i)), "fold {index} trains on a held-out image");
                *held.entry(p.valid.image(i).to_vec()).or_default() += 1;
            }
            let counts = p.valid.class_counts(10);
            let total = data.train.class_counts(10);
            for (c, (&got, &all)) in counts.iter().zip(&total).enumerate() {
                assert!(got.abs_diff(all / k) <= 1, "fold {index} class {c}: {got} of {all}");
            }
        }
        assert_eq!(held.len(), 503);
        assert!(held.values().all(|&n| n == 1));
    }
}
