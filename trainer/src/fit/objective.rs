//! What a model is trained to do: how a batch becomes losses.

use burn::prelude::*;

use super::metrics::{Column, Metric, Split};
use super::observer::Probe;

/// What a model is trained to do: how a batch becomes losses.
pub trait Objective {
    /// The model trained.
    type Model: Module;

    /// The values [`Objective::losses`] returns, in order; the first one is minimised.
    fn metrics(&self) -> Vec<Metric>;

    /// Number of examples in `split`.
    fn len(&self, split: Split) -> usize;

    /// Batch means of every metric on examples `indices` of `split`, with tensors created on
    /// `device` (an autodiff device while training). `epoch` seeds per-epoch randomness.
    fn losses(
        &self,
        model: &Self::Model,
        split: Split,
        indices: &[usize],
        device: &Device,
        epoch: usize,
    ) -> Vec<Tensor<1>>;

    /// What an epoch observer may ask of the model (in evaluation mode); `None` when the model
    /// offers nothing beyond its metrics.
    fn probe<'m>(&self, model: &'m Self::Model) -> Option<&'m dyn Probe> {
        let _ = model;
        None
    }
}

/// The metric columns `objective` produces for the splits that have data.
pub fn columns<O: Objective>(objective: &O) -> Vec<Column> {
    let mut cols = Vec::new();
    for split in Split::ALL {
        if objective.len(split) > 0 {
            cols.extend(objective.metrics().into_iter().map(|m| Column::new(split, m)));
        }
    }
    cols
}

/// Mean of every metric over `split`, in evaluation mode.
pub fn evaluate<O: Objective>(
    objective: &O,
    model: &O::Model,
    split: Split,
    device: &Device,
    batch: usize,
) -> Vec<f64> {
    let n = objective.len(split);
    let mut sums = vec![0.0f64; objective.metrics().len()];
    let indices: Vec<usize> = (0..n).collect();
    for chunk in indices.chunks(batch.max(1)) {
        for (s, t) in sums.iter_mut().zip(objective.losses(model, split, chunk, device, 0)) {
            *s += f64::from(t.into_scalar::<f32>()) * chunk.len() as f64;
        }
    }
    sums.iter().map(|s| s / n.max(1) as f64).collect()
}
