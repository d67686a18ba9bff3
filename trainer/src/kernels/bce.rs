//! Binary cross-entropy on logits, summed per row, as one pass forward and one backward.
//!
//! Why by hand: written with burn's tensor operations (`x * log_sigmoid(l) + (1 - x) *
//! log_sigmoid(-l)`), the VAE's reconstruction loss is about ten element-wise passes over the
//! decoder's output, each allocating and each recorded for autodiff; on flex that was about two
//! seconds of a VAE epoch that the conv autoencoder does not pay.

use rayon::prelude::*;

/// `-(x log s(l) + (1 - x) log (1 - s(l)))`, `s` the sigmoid, computed without overflow as
/// `max(l, 0) - x l + ln(1 + e^-|l|)`.
fn term(l: f32, x: f32) -> f32 {
    l.max(0.0) - x * l + (-l.abs()).exp().ln_1p()
}

fn sigmoid(l: f32) -> f32 {
    1.0 / (1.0 + (-l).exp())
}

fn check(logits: usize, targets: usize, row: usize) {
    assert_eq!(logits, targets, "binary cross-entropy: {logits} logits against {targets} targets");
    assert!(row > 0 && logits.is_multiple_of(row), "binary cross-entropy: {logits} values are not rows of {row}");
}

/// The loss of each row of `logits` (`[rows, row]`) against `targets` in [0, 1].
///
/// # Panics
/// When the lengths disagree.
#[must_use]
pub fn forward(logits: &[f32], targets: &[f32], row: usize) -> Vec<f32> {
    check(logits.len(), targets.len(), row);
    logits
        .par_chunks(row)
        .zip(targets.par_chunks(row))
        .map(|(l, x)| l.iter().zip(x).map(|(l, x)| f64::from(term(*l, *x))).sum::<f64>() as f32)
        .collect()
}

/// Gradients of [`forward`] given the gradient `g` of each row's loss: with respect to the
/// logits, `(s(l) - x) g`, and to the targets, `-l g`.
///
/// # Panics
/// When the lengths disagree.
#[must_use]
pub fn backward(logits: &[f32], targets: &[f32], row: usize, g: &[f32]) -> (Vec<f32>, Vec<f32>) {
    check(logits.len(), targets.len(), row);
    assert_eq!(
        g.len(),
        logits.len() / row,
        "binary cross-entropy: {} row gradients for {} rows",
        g.len(),
        logits.len() / row
    );
    let mut dl = vec![0.0; logits.len()];
    let mut dx = vec![0.0; logits.len()];
    dl.par_chunks_mut(row)
        .zip(dx.par_chunks_mut(row))
        .zip(logits.par_chunks(row).zip(targets.par_chunks(row)))
        .zip(g)
        .for_each(|(((dl, dx), (l, x)), g)| {
            for (((dl, dx), l), x) in dl.iter_mut().zip(dx.iter_mut()).zip(l).zip(x) {
                *dl = (sigmoid(*l) - x) * g;
                *dx = -l * g;
            }
        });
    (dl, dx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_definition_and_finite_differences() {
        let row = 7;
        let logits: Vec<f32> = (0..21).map(|i| (i as f32 - 10.0) * 0.9).collect();
        let targets: Vec<f32> = (0..21).map(|i| (i % 5) as f32 / 4.0).collect();
        let loss = forward(&logits, &targets, row);
        for (r, got) in loss.iter().enumerate() {
            let want: f64 = (r * row..(r + 1) * row)
                .map(|i| {
                    let (l, x) = (f64::from(logits[i]), f64::from(targets[i]));
                    let s = 1.0 / (1.0 + (-l).exp());
                    -(x * s.ln() + (1.0 - x) * (1.0 - s).ln())
                })
                .sum();
            assert!((f64::from(*got) - want).abs() < 1e-4 * (1.0 + want), "row {r}: {got} against {want}");
        }
        // Large logits neither overflow nor lose the loss.
        assert!(forward(&[200.0, -200.0], &[0.0, 1.0], 2)[0] > 399.0);

        let g = [0.5, -1.0, 2.0];
        let (dl, dx) = backward(&logits, &targets, row, &g);
        let h = 1e-2_f32;
        for i in 0..21 {
            let bump = |v: &mut Vec<f32>, d: f32| {
                v[i] += d;
            };
            let total =
                |l: &[f32], x: &[f32]| forward(l, x, row).iter().zip(&g).map(|(a, b)| f64::from(a * b)).sum::<f64>();
            let (mut up, mut down) = (logits.clone(), logits.clone());
            bump(&mut up, h);
            bump(&mut down, -h);
            let want = (total(&up, &targets) - total(&down, &targets)) / (2.0 * f64::from(h));
            assert!((f64::from(dl[i]) - want).abs() < 1e-2 * (1.0 + want.abs()), "dl[{i}] {} against {want}", dl[i]);
            let (mut up, mut down) = (targets.clone(), targets.clone());
            bump(&mut up, h);
            bump(&mut down, -h);
            let want = (total(&logits, &up) - total(&logits, &down)) / (2.0 * f64::from(h));
            assert!((f64::from(dx[i]) - want).abs() < 1e-2 * (1.0 + want.abs()), "dx[{i}] {} against {want}", dx[i]);
        }
    }
}
