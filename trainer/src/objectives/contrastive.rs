//! SimCLR's objective: the NT-Xent loss of two augmented views of every image in a batch.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;

use super::Sets;
use crate::data::ImageShape;
use crate::data::augment::simclr_view;
use crate::data::batch::InputRange;
use crate::fit::{Metric, Objective, Split};
use crate::models::simclr::Simclr;

/// NT-Xent (normalised temperature-scaled cross-entropy) of `z`, `[2n, d]` head outputs whose rows
/// `i` and `i + n` are the two views of one image: each row's positive is its twin among the other
/// `2n - 1` rows, on cosine similarities divided by `temperature`. The mean over the `2n` rows.
pub fn nt_xent(z: Tensor<2>, temperature: f64) -> Tensor<1> {
    let device = z.device();
    let [rows, _] = z.dims();
    let n = rows / 2;
    let norm = z.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-8);
    let z = z / norm;
    let sim = z.clone().matmul(z.transpose()) / temperature;
    // A row is not its own candidate: a large negative on the diagonal removes it from the softmax.
    let mut mask = vec![0f32; rows * rows];
    for i in 0..rows {
        mask[i * rows + i] = -1e9;
    }
    let logits = sim + Tensor::<2>::from_data(TensorData::new(mask, [rows, rows]), &device);
    let twins: Vec<i64> = (0..rows).map(|i| ((i + n) % rows) as i64).collect();
    let targets = Tensor::<1, Int>::from_data(TensorData::new(twins, [rows]), &device);
    CrossEntropyLossConfig::new().init(&device).forward(logits, targets)
}

/// Two views of every image, NT-Xent on the projection head.
#[derive(Debug)]
pub struct Contrastive<'a> {
    /// The images (labels unused).
    pub sets: Sets<'a>,
    /// The loss's temperature.
    pub temperature: f64,
    /// Seeds the augmentations.
    pub seed: u64,
    /// Smallest crop of a view, as a share of the image's area.
    pub min_crop: f64,
}

impl Objective for Contrastive<'_> {
    type Model = Simclr;

    fn metrics(&self) -> Vec<Metric> {
        vec![Metric::Loss]
    }

    fn len(&self, split: Split) -> usize {
        self.sets.get(split).len()
    }

    fn losses(&self, model: &Simclr, split: Split, indices: &[usize], device: &Device, epoch: usize) -> Vec<Tensor<1>> {
        let set = self.sets.get(split);
        let shape = ImageShape { channels: set.channels, side: set.height };
        // Held-out splits get the same views every epoch, so their loss is comparable.
        let epoch = if split == Split::Train { epoch } else { 0 };
        let n = set.image_len();
        let mut values = Vec::with_capacity(2 * indices.len() * n);
        for view in 0..2 {
            for &i in indices {
                let img: Vec<f32> = set.image(i).iter().map(|&p| InputRange::Unit.value(p)).collect();
                values.extend(simclr_view(&img, shape, self.seed, epoch, i, view, self.min_crop as f32));
            }
        }
        let x = Tensor::from_data(TensorData::new(values, [2 * indices.len(), n]), device);
        vec![nt_xent(model.project(x), self.temperature)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loss(rows: &[[f32; 2]], t: f64) -> f32 {
        let device = Device::flex();
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        let z = Tensor::<2>::from_data(TensorData::new(flat, [rows.len(), 2]), &device);
        nt_xent(z, t).into_scalar::<f32>()
    }

    #[test]
    fn matches_the_formula_by_hand() {
        // Two images, views (a, b) and (c, d) with a = (1, 0), b = (1, 0), c = (0, 1), d = (0, 2):
        // cosines: a-b 1, a-c 0, a-d 0; c-d 1, c-a 0, c-b 0. Every row's loss is
        // -log(e^{1/t} / (e^{1/t} + 2 e^0)).
        let t = 0.5;
        let want = -((2.0f64).exp() / ((2.0f64).exp() + 2.0)).ln();
        let got = loss(&[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 2.0]], t);
        assert!((f64::from(got) - want).abs() < 1e-5, "{got} vs {want}");
    }

    #[test]
    fn twins_apart_cost_more_than_twins_together() {
        let together = loss(&[[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [0.1, 1.0]], 0.5);
        let swapped = loss(&[[1.0, 0.0], [0.0, 1.0], [0.1, 1.0], [1.0, 0.1]], 0.5);
        assert!(together < swapped, "{together} {swapped}");
    }
}
