//! What a study optimises: the validation metric of the kind, never the test set.

use crate::config::{DataSpec, ModelKind, RunConfig};
use crate::fit::{Column, Metric, Split};

/// The validation column a study of `kind` minimises (or, for accuracy, maximises).
///
/// # Errors
/// For the toy models, which have no validation split.
pub fn objective(kind: ModelKind) -> anyhow::Result<Column> {
    let metric = match kind {
        ModelKind::ConvAe | ModelKind::FcAe | ModelKind::DenoisingAe => Metric::Mse,
        ModelKind::ConvVae | ModelKind::Simclr => Metric::Loss,
        ModelKind::Classifier | ModelKind::Cnn => Metric::Accuracy,
        ModelKind::ToyAe => anyhow::bail!("toy models have no validation split to tune on; tune an image model"),
    };
    Ok(Column::new(Split::Valid, metric))
}

/// Checks that runs of `config` will have a validation split to read the objective from.
///
/// # Errors
/// When the run holds out no validation images.
pub fn check_validation(config: &RunConfig) -> anyhow::Result<()> {
    match &config.data {
        DataSpec::Images(d) if d.valid_images > 0 => Ok(()),
        DataSpec::Images(_) => anyhow::bail!(
            "tuning reads the validation split, and these runs hold none out: give --valid-fraction above 0 \
             (the test set is never used to choose)"
        ),
        DataSpec::ToyRectangle(_) => anyhow::bail!("toy models have no validation split to tune on"),
    }
}
