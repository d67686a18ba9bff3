//! How much the pipeline trains: epochs per model, images, trials and folds, for a full dataset,
//! for `--quick`, and for a small dataset such as the bundled sample.

/// Below this many training images a dataset counts as small.
pub const SMALL_DATASET: usize = 20_000;

/// What each stage trains. The full budget is sized to finish within 45 minutes on 2 CPU cores
/// (docs/BENCHMARKS.md, "The pipeline"); `--quick` within 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Training images at most (`None`: every one the data selection gives).
    pub limit_train: Option<usize>,
    /// Epochs of the conv, denoising and variational autoencoders (seed 002 trains 10).
    pub autoencoder_epochs: usize,
    /// Epochs of the autoencoders with a 2-D code.
    pub latent_2d_epochs: usize,
    /// Epochs of the fully-connected autoencoder (seed 001's exercise asks for 50).
    pub fc_ae_epochs: usize,
    /// Whether the classifiers stand on a wider autoencoder (32/64/128 channels, batch norm,
    /// latent 64) than seed 002's 8/16/32 one, which underfits below 90% (docs/BENCHMARKS.md,
    /// M7). Its int8 export (600 KB) is too large for the firmware, so small datasets, whose
    /// exports the firmware tests flash, keep seed 002's.
    pub wide_classifier: bool,
    /// Epochs of the wide autoencoder the classifiers start from.
    pub wide_ae_epochs: usize,
    /// Epochs of the SimCLR encoder a last classifier starts from (the wide shape on full data,
    /// pretrained as long as the wide autoencoder).
    pub simclr_epochs: usize,
    /// Epochs of the encoder + MLP classifiers.
    pub classifier_epochs: usize,
    /// Epochs of the CNN baseline.
    pub cnn_epochs: usize,
    /// Images and epochs of each trial of the grid studies and the TPE study.
    pub study_images: usize,
    pub study_epochs: usize,
    /// Trials of the TPE study.
    pub tune_trials: u32,
    /// Folds and epochs per fold of the classifier's cross-validation.
    pub cv_folds: usize,
    pub cv_epochs: usize,
}

impl Budget {
    /// A full dataset: homework-grade results (fine-tuned classifier above seed 002's 90.08%).
    pub const FULL: Self = Self {
        limit_train: None,
        autoencoder_epochs: 10,
        latent_2d_epochs: 5,
        fc_ae_epochs: 50,
        wide_classifier: true,
        wide_ae_epochs: 5,
        simclr_epochs: 5,
        classifier_epochs: 10,
        cnn_epochs: 4,
        study_images: 12_000,
        study_epochs: 3,
        tune_trials: 12,
        cv_folds: 3,
        cv_epochs: 5,
    };

    /// `--quick`: every stage and the whole report, on 12,000 training images with a few epochs.
    pub const QUICK: Self = Self {
        limit_train: Some(12_000),
        autoencoder_epochs: 3,
        latent_2d_epochs: 3,
        fc_ae_epochs: 10,
        wide_classifier: true,
        wide_ae_epochs: 2,
        simclr_epochs: 2,
        classifier_epochs: 3,
        cnn_epochs: 2,
        study_images: 3_000,
        study_epochs: 2,
        tune_trials: 6,
        cv_folds: 3,
        cv_epochs: 2,
    };

    /// A small dataset (such as the bundled sample): more epochs, each of them short.
    pub const SMALL: Self = Self {
        limit_train: None,
        autoencoder_epochs: 20,
        latent_2d_epochs: 20,
        fc_ae_epochs: 50,
        wide_classifier: false,
        wide_ae_epochs: 20,
        simclr_epochs: 20,
        classifier_epochs: 20,
        cnn_epochs: 20,
        study_images: 12_000,
        study_epochs: 3,
        tune_trials: 12,
        cv_folds: 3,
        cv_epochs: 20,
    };

    /// The budget for `train_images` training images.
    #[must_use]
    pub fn for_data(train_images: usize, quick: bool) -> Self {
        if train_images < SMALL_DATASET {
            Self::SMALL
        } else if quick {
            Self::QUICK
        } else {
            Self::FULL
        }
    }

    /// Every model trains `epochs` epochs (`bottleneck run --epochs`); the toy models keep
    /// theirs.
    #[must_use]
    pub fn with_epochs(self, epochs: usize) -> Self {
        Self {
            autoencoder_epochs: epochs,
            latent_2d_epochs: epochs,
            fc_ae_epochs: epochs,
            wide_ae_epochs: epochs,
            simclr_epochs: epochs,
            classifier_epochs: epochs,
            cnn_epochs: epochs,
            study_epochs: epochs,
            cv_epochs: epochs,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_follows_the_data_and_the_flags() {
        assert_eq!(Budget::for_data(2_000, true), Budget::SMALL, "a small dataset is never cut further");
        assert_eq!(Budget::for_data(60_000, false), Budget::FULL);
        assert_eq!(Budget::for_data(60_000, true), Budget::QUICK);
        let b = Budget::FULL.with_epochs(2);
        assert_eq!((b.fc_ae_epochs, b.cnn_epochs, b.cv_epochs, b.study_epochs), (2, 2, 2, 2));
        assert_eq!((b.tune_trials, b.cv_folds, b.limit_train), (12, 3, None));
    }
}
