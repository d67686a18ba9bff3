//! A linear probe of codes: how much of the class a linear map reads off them, the usual measure
//! of a self-supervised or autoencoder representation. Multinomial logistic regression (a softmax
//! over one linear map per class, a small L2 penalty) on standardized codes, trained full-batch
//! with Adam and scored by stratified k-fold cross-validation on the codes given.
//!
//! Written here rather than taken from a crate: the problem is a few thousand codes of at most a
//! few hundred values, and the crates that fit it (linfa-logistic) would bring an `ndarray` +
//! BLAS stack for about a hundred lines of arithmetic.

/// Steps of full-batch Adam per fold.
const STEPS: usize = 300;
/// Adam's step size on standardized codes.
const LR: f32 = 0.05;
/// L2 penalty on the weights (not the biases).
const L2: f32 = 1e-4;

/// Mean held-out accuracy of a linear classifier over `folds` stratified folds of `codes`
/// (`labels.len()` rows of `dim` values) with labels in `0..classes`. `None` when there is not
/// at least one code of each fold to hold out or nothing to learn from.
#[must_use]
pub fn linear_probe(codes: &[f32], dim: usize, labels: &[u8], classes: usize, folds: usize) -> Option<f64> {
    let n = labels.len();
    if dim == 0 || classes < 2 || folds < 2 || n < 2 * folds || codes.len() < n * dim {
        return None;
    }
    // The j-th code of each class goes to fold j mod `folds`: every fold has every class in
    // proportion.
    let mut seen = vec![0usize; classes];
    let fold: Vec<usize> = labels
        .iter()
        .map(|&l| {
            let c = usize::from(l).min(classes - 1);
            let f = seen[c] % folds;
            seen[c] += 1;
            f
        })
        .collect();
    let mut total = 0.0;
    for f in 0..folds {
        let train: Vec<usize> = (0..n).filter(|&i| fold[i] != f).collect();
        let test: Vec<usize> = (0..n).filter(|&i| fold[i] == f).collect();
        if train.is_empty() || test.is_empty() {
            return None;
        }
        let model = Softmax::fit(codes, dim, labels, classes, &train);
        let correct =
            test.iter().filter(|&&i| model.predict(&codes[i * dim..(i + 1) * dim]) == usize::from(labels[i])).count();
        total += correct as f64 / test.len() as f64;
    }
    Some(total / folds as f64)
}

/// A softmax classifier on standardized inputs.
struct Softmax {
    dim: usize,
    classes: usize,
    mean: Vec<f32>,
    scale: Vec<f32>,
    /// `classes x dim` weights, then `classes` biases.
    params: Vec<f32>,
}

impl Softmax {
    fn fit(codes: &[f32], dim: usize, labels: &[u8], classes: usize, rows: &[usize]) -> Self {
        let m = rows.len() as f32;
        let mut mean = vec![0f32; dim];
        for &i in rows {
            for (a, &x) in mean.iter_mut().zip(&codes[i * dim..(i + 1) * dim]) {
                *a += x / m;
            }
        }
        let mut var = vec![0f32; dim];
        for &i in rows {
            for ((v, &x), &mu) in var.iter_mut().zip(&codes[i * dim..(i + 1) * dim]).zip(&mean) {
                *v += (x - mu) * (x - mu) / m;
            }
        }
        // A constant value is left at zero instead of divided by zero.
        let scale: Vec<f32> = var.iter().map(|&v| if v > 1e-12 { 1.0 / v.sqrt() } else { 0.0 }).collect();
        let xs: Vec<f32> = rows
            .iter()
            .flat_map(|&i| {
                codes[i * dim..(i + 1) * dim].iter().zip(&mean).zip(&scale).map(|((&x, &mu), &s)| (x - mu) * s)
            })
            .collect();
        let p = classes * dim + classes;
        let (mut params, mut grad) = (vec![0f32; p], vec![0f32; p]);
        let (mut m1, mut m2) = (vec![0f32; p], vec![0f32; p]);
        let mut prob = vec![0f32; classes];
        for step in 1..=STEPS {
            grad.iter_mut().for_each(|g| *g = 0.0);
            for (x, &i) in xs.chunks_exact(dim).zip(rows) {
                softmax(&params, dim, classes, x, &mut prob);
                let y = usize::from(labels[i]).min(classes - 1);
                for (c, &pc) in prob.iter().enumerate() {
                    // d(cross-entropy)/d(logit c) = p_c - [c == y], averaged over the rows.
                    let d = (pc - f32::from(u8::from(c == y))) / m;
                    for (g, &xv) in grad[c * dim..(c + 1) * dim].iter_mut().zip(x) {
                        *g += d * xv;
                    }
                    grad[classes * dim + c] += d;
                }
            }
            for (g, &w) in grad[..classes * dim].iter_mut().zip(&params[..classes * dim]) {
                *g += L2 * w;
            }
            let (b1, b2) = (0.9f32, 0.999f32);
            let (c1, c2) = (1.0 - b1.powi(step as i32), 1.0 - b2.powi(step as i32));
            for (((w, &g), a), b) in params.iter_mut().zip(&grad).zip(&mut m1).zip(&mut m2) {
                *a = b1 * *a + (1.0 - b1) * g;
                *b = b2 * *b + (1.0 - b2) * g * g;
                *w -= LR * (*a / c1) / ((*b / c2).sqrt() + 1e-8);
            }
        }
        Self { dim, classes, mean, scale, params }
    }

    fn predict(&self, code: &[f32]) -> usize {
        let x: Vec<f32> = code.iter().zip(&self.mean).zip(&self.scale).map(|((&v, &mu), &s)| (v - mu) * s).collect();
        let mut prob = vec![0f32; self.classes];
        softmax(&self.params, self.dim, self.classes, &x, &mut prob);
        bottleneck_runtime::argmax(prob.iter().copied())
    }
}

/// The class probabilities of standardized input `x` into `prob`.
fn softmax(params: &[f32], dim: usize, classes: usize, x: &[f32], prob: &mut [f32]) {
    for (c, p) in prob.iter_mut().enumerate() {
        let w = &params[c * dim..(c + 1) * dim];
        *p = params[classes * dim + c] + w.iter().zip(x).map(|(a, b)| a * b).sum::<f32>();
    }
    let top = prob.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for p in prob.iter_mut() {
        *p = (*p - top).exp();
        sum += *p;
    }
    prob.iter_mut().for_each(|p| *p /= sum);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes of three classes around three distant points, and a fourth dimension of noise.
    fn blobs(n: usize, spread: f32) -> (Vec<f32>, Vec<u8>) {
        let mut rng = bottleneck_runtime::Rng::new(3);
        let centres = [[3.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 3.0]];
        let (mut codes, mut labels) = (Vec::new(), Vec::new());
        for i in 0..n {
            for &v in &centres[i % 3] {
                codes.push(v + spread * rng.normal());
            }
            codes.push(rng.normal());
            labels.push((i % 3) as u8);
        }
        (codes, labels)
    }

    #[test]
    fn separable_classes_are_read_off_and_random_labels_are_not() {
        let (codes, labels) = blobs(300, 0.5);
        let probe = linear_probe(&codes, 4, &labels, 3, 5).unwrap();
        assert!(probe > 0.98, "separable blobs: {probe}");
        // The same codes with labels that ignore them: near chance (1/3).
        let mut rng = bottleneck_runtime::Rng::new(9);
        let shuffled: Vec<u8> = labels.iter().map(|_| (rng.next_u32() % 3) as u8).collect();
        let chance = linear_probe(&codes, 4, &shuffled, 3, 5).unwrap();
        assert!(chance < 0.45, "random labels: {chance}");
    }

    #[test]
    fn overlapping_classes_score_between_chance_and_one() {
        let (codes, labels) = blobs(600, 2.5);
        let probe = linear_probe(&codes, 4, &labels, 3, 5).unwrap();
        assert!((0.45..0.95).contains(&probe), "overlapping blobs: {probe}");
    }

    #[test]
    fn too_few_codes_or_classes_give_none() {
        let (codes, labels) = blobs(6, 0.5);
        assert_eq!(linear_probe(&codes, 4, &labels, 3, 5), None);
        assert_eq!(linear_probe(&codes, 4, &labels, 1, 2), None);
        assert_eq!(linear_probe(&codes, 0, &labels, 3, 2), None);
    }
}
