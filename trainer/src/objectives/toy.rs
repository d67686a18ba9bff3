//! Reconstruction of 2-D points (seed 003's toy set).

use burn::prelude::*;

use crate::fit::{Metric, Objective, Split};
use crate::models::toy::ToyAe;

/// Points to reconstruct; metric `mse`.
#[derive(Debug)]
pub struct Points<'a> {
    /// Points trained on.
    pub train: &'a [[f32; 2]],
    /// Held-out points from the same rectangle.
    pub test: &'a [[f32; 2]],
}

/// `[B, 2]` tensor of the points at `indices`.
#[must_use]
pub fn points_tensor(points: &[[f32; 2]], indices: &[usize], device: &Device) -> Tensor<2> {
    let v: Vec<f32> = indices.iter().flat_map(|&i| points[i]).collect();
    Tensor::from_data(TensorData::new(v, [indices.len(), 2]), device)
}

impl Objective for Points<'_> {
    type Model = ToyAe;

    fn metrics(&self) -> Vec<Metric> {
        vec![Metric::Mse]
    }

    fn len(&self, split: Split) -> usize {
        match split {
            Split::Train => self.train.len(),
            Split::Valid => 0,
            Split::Test => self.test.len(),
        }
    }

    fn losses(&self, model: &ToyAe, split: Split, indices: &[usize], device: &Device, _epoch: usize) -> Vec<Tensor<1>> {
        let pts = if split == Split::Train { self.train } else { self.test };
        let x = points_tensor(pts, indices, device);
        vec![(model.decode(model.encode(x.clone())) - x).square().mean()]
    }
}
