//! The three image sets an objective reads.

use crate::data::ImageSet;
use crate::fit::Split;

/// The three image sets of a run.
#[derive(Debug, Clone, Copy)]
pub struct Sets<'a> {
    /// Images trained on.
    pub train: &'a ImageSet,
    /// Validation images (may be empty).
    pub valid: &'a ImageSet,
    /// Test images.
    pub test: &'a ImageSet,
}

impl<'a> Sets<'a> {
    /// The set behind `split`.
    #[must_use]
    pub fn get(&self, split: Split) -> &'a ImageSet {
        match split {
            Split::Train => self.train,
            Split::Valid => self.valid,
            Split::Test => self.test,
        }
    }
}
