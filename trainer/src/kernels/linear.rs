//! A linear layer with its activation, `y = act(x W + b)`, forward and backward, on row-major
//! `f32` slices.
//!
//! Why by hand: with burn's operations a linear layer and its ReLU are a matrix product, a
//! broadcast bias add and an activation, each allocating and recorded for autodiff; the fully
//! connected autoencoder's layers are small (8 to 784 units at batch 128), so that per-operation
//! cost, not arithmetic, was most of its epoch.

use super::gemm::{View, matmul_parallel};

/// The activation fused after the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    None,
    Relu,
    Tanh,
}

impl Activation {
    /// The number that carries it through the backend extension (whose operations take plain
    /// values): 0 none, 1 ReLU, 2 tanh.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Relu => 1,
            Self::Tanh => 2,
        }
    }

    /// The activation [`Self::code`] gave `code`; none for any other number.
    #[must_use]
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Relu,
            2 => Self::Tanh,
            _ => Self::None,
        }
    }
}

/// `e^x` for `|x| <= 20`, in operations the compiler vectorises (no libm call): `2^n e^r` with
/// `r = x - n ln 2` in [-0.35, 0.35] and `e^r` by its Taylor series to the 7th term (relative error
/// below 4e-7).
fn exp_small(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer
    let x = x.clamp(-20.0, 20.0);
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    // ln 2 in two parts (Cody and Waite), so that n * ln 2 is exact to f32 precision.
    let r = (x - n * 0.693_359_4) + n * 2.121_944_4e-4;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// `tanh(x)` as `(e^2x - 1) / (e^2x + 1)` on `|x| <= 10` (beyond, tanh is 1 in f32); absolute
/// error below 1e-6.
fn tanh_fast(x: f32) -> f32 {
    let e = exp_small(2.0 * x.clamp(-10.0, 10.0));
    (e - 1.0) / (e + 1.0)
}

/// Shape of a linear layer applied to `rows` inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinearShape {
    pub rows: usize,
    pub inputs: usize,
    pub outputs: usize,
}

fn check(what: &str, got: usize, want: usize) {
    assert_eq!(got, want, "linear: {what} has {got} values, the shape needs {want}");
}

/// `act(x W + b)`: `x` `[rows, inputs]`, `w` `[inputs, outputs]` (burn's `Linear` layout), `b`
/// `[outputs]`.
///
/// # Panics
/// When a length disagrees with `s`.
#[must_use]
pub fn forward(s: LinearShape, x: &[f32], w: &[f32], b: &[f32], act: Activation) -> Vec<f32> {
    check("the input", x.len(), s.rows * s.inputs);
    check("the weight", w.len(), s.inputs * s.outputs);
    check("the bias", b.len(), s.outputs);
    // Each row starts as the bias (a copy per row: an index modulo per value cost 5% of an FC
    // autoencoder epoch).
    let mut y: Vec<f32> = Vec::with_capacity(s.rows * s.outputs);
    for _ in 0..s.rows {
        y.extend_from_slice(b);
    }
    matmul_parallel(&mut y, s.outputs, View::rows(x, s.rows, s.inputs), View::rows(w, s.inputs, s.outputs), true);
    match act {
        Activation::None => {}
        Activation::Relu => y.iter_mut().for_each(|v| *v = v.max(0.0)),
        Activation::Tanh => y.iter_mut().for_each(|v| *v = tanh_fast(*v)),
    }
    y
}

/// Gradients of [`forward`] with respect to `x`, `w` and `b`, from the output `y` it returned
/// and the output gradient `dy`.
///
/// # Panics
/// When a length disagrees with `s`.
#[must_use]
pub fn backward(
    s: LinearShape,
    x: &[f32],
    w: &[f32],
    y: &[f32],
    dy: &[f32],
    act: Activation,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    check("the input", x.len(), s.rows * s.inputs);
    check("the weight", w.len(), s.inputs * s.outputs);
    check("the output", y.len(), s.rows * s.outputs);
    check("the output gradient", dy.len(), s.rows * s.outputs);
    let g: Vec<f32> = match act {
        Activation::None => dy.to_vec(),
        Activation::Relu => dy.iter().zip(y).map(|(d, y)| if *y > 0.0 { *d } else { 0.0 }).collect(),
        Activation::Tanh => dy.iter().zip(y).map(|(d, y)| d * (1.0 - y * y)).collect(),
    };
    let gv = View::rows(&g, s.rows, s.outputs);
    let mut dx = vec![0.0; s.rows * s.inputs];
    matmul_parallel(&mut dx, s.inputs, gv, View::rows(w, s.inputs, s.outputs).t(), false);
    let mut dw = vec![0.0; s.inputs * s.outputs];
    matmul_parallel(&mut dw, s.outputs, View::rows(x, s.rows, s.inputs).t(), gv, false);
    let mut db = vec![0.0_f32; s.outputs];
    for row in g.chunks_exact(s.outputs) {
        db.iter_mut().zip(row).for_each(|(a, v)| *a += v);
    }
    (dx, dw, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_codes_round_trip() {
        for a in [Activation::None, Activation::Relu, Activation::Tanh] {
            assert_eq!(Activation::from_code(a.code()), a);
        }
    }

    #[test]
    fn fast_exp_and_tanh_are_close_to_libm() {
        for i in -4000..=4000 {
            let x = i as f32 * 0.005;
            let (e, want) = (exp_small(x), x.exp());
            assert!((e - want).abs() <= 4e-7 * want, "exp({x}): {e} against {want}");
            let (t, want) = (tanh_fast(x), x.tanh());
            assert!((t - want).abs() <= 1e-6, "tanh({x}): {t} against {want}");
        }
        assert_eq!(tanh_fast(1e30), 1.0);
        assert_eq!(tanh_fast(-1e30), -1.0);
        assert!(tanh_fast(f32::NAN).is_nan());
    }

    #[test]
    fn forward_and_gradients_match_the_definition() {
        let s = LinearShape { rows: 5, inputs: 7, outputs: 3 };
        let f = |n: usize, k: f32| (0..n).map(|i| (i as f32 * k).sin()).collect::<Vec<f32>>();
        let (x, w, b, dy) = (f(35, 0.7), f(21, 1.3), f(3, 2.1), f(15, 0.4));
        for act in [Activation::None, Activation::Relu, Activation::Tanh] {
            let y = forward(s, &x, &w, &b, act);
            let (dx, dw, db) = backward(s, &x, &w, &y, &dy, act);
            let (mut wdx, mut wdw, mut wdb) = (vec![0.0_f32; 35], vec![0.0_f32; 21], vec![0.0_f32; 3]);
            for r in 0..5 {
                for o in 0..3 {
                    let pre: f32 = b[o] + (0..7).map(|i| x[r * 7 + i] * w[i * 3 + o]).sum::<f32>();
                    let want = match act {
                        Activation::None => pre,
                        Activation::Relu => pre.max(0.0),
                        Activation::Tanh => pre.tanh(),
                    };
                    assert!((y[r * 3 + o] - want).abs() < 1e-5);
                    let g = match act {
                        Activation::None => dy[r * 3 + o],
                        Activation::Relu => {
                            if pre > 0.0 {
                                dy[r * 3 + o]
                            } else {
                                0.0
                            }
                        }
                        Activation::Tanh => dy[r * 3 + o] * (1.0 - want * want),
                    };
                    wdb[o] += g;
                    for i in 0..7 {
                        wdx[r * 7 + i] += g * w[i * 3 + o];
                        wdw[i * 3 + o] += g * x[r * 7 + i];
                    }
                }
            }
            for (got, want) in [(&dx, &wdx), (&dw, &wdw), (&db, &wdb)] {
                for (a, b) in got.iter().zip(want) {
                    assert!((a - b).abs() < 1e-5, "{a} against {b}");
                }
            }
        }
    }
}
