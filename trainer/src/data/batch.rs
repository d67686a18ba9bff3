//! Turning images into tensors.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::dataset::ImageSet;

/// How pixel bytes map to model inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputRange {
    /// `p / 255`, in [0, 1] (sigmoid outputs).
    Unit,
    /// `p / 127.5 - 1`, in [-1, 1] (tanh outputs; PyTorch's `Normalize(0.5, 0.5)`).
    Symmetric,
}

impl InputRange {
    /// The model input for pixel byte `p`.
    #[must_use]
    pub fn value(self, p: u8) -> f32 {
        match self {
            Self::Unit => f32::from(p) / 255.0,
            Self::Symmetric => f32::from(p) / 127.5 - 1.0,
        }
    }

    /// The pixel byte nearest to model output `v` (clamped), for pictures.
    #[must_use]
    pub fn to_byte(self, v: f32) -> u8 {
        let unit = match self {
            Self::Unit => v,
            Self::Symmetric => (v + 1.0) / 2.0,
        };
        (unit.clamp(0.0, 1.0) * 255.0).round() as u8
    }

    /// Lowest and highest model input.
    #[must_use]
    pub fn bounds(self) -> (f32, f32) {
        match self {
            Self::Unit => (0.0, 1.0),
            Self::Symmetric => (-1.0, 1.0),
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_map_bytes_and_back() {
        assert_eq!(InputRange::Unit.value(255), 1.0);
        assert_eq!(InputRange::Symmetric.value(0), -1.0);
        assert_eq!(InputRange::Symmetric.value(255), 1.0);
        for p in [0u8, 1, 127, 128, 254, 255] {
            for r in [InputRange::Unit, InputRange::Symmetric] {
                assert_eq!(r.to_byte(r.value(p)), p);
            }
        }
    }
}
