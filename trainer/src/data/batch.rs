//! Turning images into tensors.

pub use bottleneck_export::InputRange;
use burn::prelude::*;

use super::dataset::ImageSet;

/// The images at `indices` as model inputs, row-major `[indices.len() * image_len]`.
#[must_use]
pub fn image_values(set: &ImageSet, indices: &[usize], range: InputRange) -> Vec<f32> {
    let mut out = Vec::with_capacity(indices.len() * set.image_len());
    for &i in indices {
        out.extend(set.image(i).iter().map(|&p| range.value(p)));
    }
    out
}

/// The images at `indices` as a `[B, image_len]` tensor on `device`.
#[must_use]
pub fn image_tensor(set: &ImageSet, indices: &[usize], range: InputRange, device: &Device) -> Tensor<2> {
    let values = image_values(set, indices, range);
    Tensor::from_data(TensorData::new(values, [indices.len(), set.image_len()]), device)
}

/// The labels at `indices` as a `[B]` integer tensor on `device`.
#[must_use]
pub fn label_tensor(set: &ImageSet, indices: &[usize], device: &Device) -> Tensor<1, Int> {
    let labels: Vec<i64> = indices.iter().map(|&i| i64::from(set.labels[i])).collect();
    Tensor::from_data(TensorData::new(labels, [indices.len()]), device)
}
