//! Seeded, stratified train/validation splits and k-fold cross-validation folds.

use serde::{Deserialize, Serialize};

use super::rng::SplitMix64;

/// Indices of one fold: the examples to train on and the held-out ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// Indices to train on, ascending.
    pub train: Vec<usize>,
    /// Held-out indices, ascending.
    pub valid: Vec<usize>,
}

/// One fold of a k-fold cross-validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldSpec {
    /// Folds in all (at least 2).
    pub k: usize,
    /// The held-out fold, 0-based.
    pub index: usize,
}

/// Indices of each class, each list shuffled by `seed`.
fn shuffled_by_class(labels: &[u8], seed: u64) -> Vec<Vec<usize>> {
    let classes = labels.iter().map(|&l| usize::from(l) + 1).max().unwrap_or(0);
    let mut by_class = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        by_class[usize::from(l)].push(i);
    }
    let mut rng = SplitMix64::derive(seed, "split");
    for members in &mut by_class {
        rng.shuffle(members);
    }
    by_class
}

/// Holds out `valid_fraction` of every class (rounded to the nearest example).
///
/// The same labels, fraction and seed always give the same split. A fraction of 0 gives an empty
/// validation set.
#[must_use]
pub fn stratified_split(labels: &[u8], valid_fraction: f64, seed: u64) -> Fold {
    let fraction = valid_fraction.clamp(0.0, 1.0);
    let mut fold = Fold { train: Vec::new(), valid: Vec::new() };
    for members in shuffled_by_class(labels, seed) {
        let n_valid = (members.len() as f64 * fraction).round() as usize;
        fold.valid.extend_from_slice(&members[..n_valid]);
        fold.train.extend_from_slice(&members[n_valid..]);
    }
    fold.train.sort_unstable();
    fold.valid.sort_unstable();
    fold
}

/// `k` stratified folds: every example is held out exactly once, and each class is spread over the
/// folds as evenly as possible.
///
/// # Errors
/// When `k < 2` or there are fewer examples than folds.
pub fn stratified_kfold(labels: &[u8], k: usize, seed: u64) -> Result<Vec<Fold>, String> {
    if k < 2 {
        return Err(format!("k-fold needs at least 2 folds, got {k}"));
    }
    if labels.len() < k {
        return Err(format!("{k} folds need at least {k} examples, got {}", labels.len()));
    }
    let mut assignment = vec![0usize; labels.len()];
    // Deal each class round-robin, continuing where the previous class stopped so that fold sizes
    // differ by at most one overall.
    let mut next = 0usize;
    for members in shuffled_by_class(labels, seed) {
        for i in members {
            assignment[i] = next % k;
            next += 1;
        }
    }
    Ok((0..k)
        .map(|f| {
            let (valid, train): (Vec<usize>, Vec<usize>) = (0..labels.len()).partition(|&i| assignment[i] == f);
            Fold { train, valid }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<u8> {
        (0..1000).map(|i| (i % 10) as u8).collect()
    }

    #[test]
    fn split_is_stratified_disjoint_and_complete() {
        let l = labels();
        let f = stratified_split(&l, 0.2, 3);
        assert_eq!(f.valid.len(), 200);
        assert_eq!(f.train.len(), 800);
        for c in 0..10u8 {
            assert_eq!(f.valid.iter().filter(|&&i| l[i] == c).count(), 20);
        }
        let mut all: Vec<usize> = f.train.iter().chain(&f.valid).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn split_depends_on_seed_only() {
        let l = labels();
        assert_eq!(stratified_split(&l, 0.1, 1), stratified_split(&l, 0.1, 1));
        assert_ne!(stratified_split(&l, 0.1, 1), stratified_split(&l, 0.1, 2));
        assert!(stratified_split(&l, 0.0, 1).valid.is_empty());
    }

    #[test]
    fn kfold_holds_each_example_out_once() {
        let l: Vec<u8> = (0..103).map(|i| (i % 7) as u8).collect();
        let folds = stratified_kfold(&l, 5, 9).unwrap();
        assert_eq!(folds.len(), 5);
        let mut seen = vec![0; l.len()];
        for f in &folds {
            assert_eq!(f.train.len() + f.valid.len(), l.len());
            assert!(f.valid.len() == 20 || f.valid.len() == 21, "{}", f.valid.len());
            assert!(f.valid.iter().all(|i| f.train.binary_search(i).is_err()));
            for &i in &f.valid {
                seen[i] += 1;
            }
        }
        assert!(seen.iter().all(|&s| s == 1));
    }

    #[test]
    fn kfold_rejects_bad_k() {
        assert!(stratified_kfold(&labels(), 1, 0).is_err());
        assert!(stratified_kfold(&[0, 1], 3, 0).is_err());
    }
}
