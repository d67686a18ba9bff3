//! Cross-entropy classification; metrics `loss` and `accuracy`.

use std::marker::PhantomData;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;

use super::sets::Sets;
use crate::data::augment::shift_and_flip;
use crate::data::batch::{InputRange, image_values, label_tensor};
use crate::fit::{Metric, Objective, Split};
use crate::models::classifier::Classifier;
use crate::models::cnn::Cnn;

/// A model that maps images to class logits.
pub trait Classify: Module {
    /// `[B, 784]` images in [0, 1] to `[B, classes]` logits.
    fn logits(&self, images: Tensor<2>) -> Tensor<2>;
}

impl Classify for Classifier {
    fn logits(&self, images: Tensor<2>) -> Tensor<2> {
        self.forward(images)
    }
}

impl Classify for Cnn {
    fn logits(&self, images: Tensor<2>) -> Tensor<2> {
        self.forward(images)
    }
}

/// Predict the label.
#[derive(Debug)]
pub struct Classification<'a, M> {
    /// The images.
    pub sets: Sets<'a>,
    /// Mirror training images and shift them by up to this many pixels (seeded per example and
    /// epoch); `None`: no augmentation.
    pub augment: Option<usize>,
    /// Seed of the augmentation.
    pub seed: u64,
    /// Label smoothing of the training loss; evaluation always reports plain cross-entropy.
    pub label_smoothing: f64,
    /// The model type.
    pub model: PhantomData<M>,
}

impl<M: Classify> Objective for Classification<'_, M> {
    type Model = M;

    fn metrics(&self) -> Vec<Metric> {
        vec![Metric::Loss, Metric::Accuracy]
    }

    fn len(&self, split: Split) -> usize {
        self.sets.get(split).len()
    }

    fn losses(&self, model: &M, split: Split, indices: &[usize], device: &Device, epoch: usize) -> Vec<Tensor<1>> {
        let set = self.sets.get(split);
        let n = set.image_len();
        let mut v = image_values(set, indices, InputRange::Unit);
        if let Some(shift) = self.augment.filter(|_| split == Split::Train) {
            for (img, &i) in v.chunks_mut(n).zip(indices) {
                shift_and_flip(img, set.width, shift, self.seed, epoch, i);
            }
        }
        let x = Tensor::from_data(TensorData::new(v, [indices.len(), n]), device);
        let y = label_tensor(set, indices, device);
        let logits = model.logits(x);
        let smoothing = (split == Split::Train && self.label_smoothing > 0.0).then_some(self.label_smoothing as f32);
        let loss =
            CrossEntropyLossConfig::new().with_smoothing(smoothing).init(device).forward(logits.clone(), y.clone());
        let [b, _] = logits.dims();
        let predicted = logits.argmax(1).reshape([b]);
        let accuracy = predicted.equal(y).float().mean();
        vec![loss, accuracy]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::ImageSet;
    use crate::models::cnn::CnnConfig;

    fn set() -> ImageSet {
        let pixels = (0..4 * 784).map(|i| (i * 7 % 251) as u8).collect();
        ImageSet { pixels, labels: vec![0, 3, 7, 9], channels: 1, height: 28, width: 28 }
    }

    #[test]
    fn label_smoothing_changes_the_training_loss_only() {
        let device = Device::flex();
        let images = set();
        let model = CnnConfig::new().with_widths(vec![4]).with_hidden(8).with_dropout(0.0).init(&device);
        let loss = |smoothing: f64, split: Split| {
            let sets = Sets { train: &images, valid: &images, test: &images };
            let objective =
                Classification { sets, augment: None, seed: 1, label_smoothing: smoothing, model: PhantomData };
            objective.losses(&model.valid(), split, &[0, 1, 2, 3], &device, 0)[0].clone().into_scalar::<f32>()
        };
        assert!((loss(0.3, Split::Train) - loss(0.0, Split::Train)).abs() > 1e-4);
        assert_eq!(loss(0.3, Split::Test), loss(0.0, Split::Test));
    }
}
