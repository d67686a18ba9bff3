//! Seed 003's toy study: a 1-D bottleneck autoencoder on points of the rectangle
//! [-2, 2] x [-1, 1], its embedding, its decoder curve before and after training, and (with
//! `retrain_encoder`) a fresh encoder trained against the frozen decoder, shown as arrows.

use anyhow::Context as _;
use burn::prelude::*;

use super::job::Job;
use super::options::Outcome;
use crate::config::{DataSpec, RunConfig, ToySpec};
use crate::data::toy::rectangle;
use crate::figures::toy as fig;
use crate::figures::toy::Point;
use crate::files;
use crate::fit::{FitHooks, FitOptions, fit, force_init};
use crate::models::toy::ToyAe;
use crate::objectives::Points;
use crate::objectives::toy::points_tensor;
use crate::plot::lines::Series;
use crate::util::{atomic_write_bytes, to_vec};

/// The training and test points of a toy run.
///
/// # Errors
/// When the run does not train on the toy set.
pub fn points(config: &RunConfig) -> anyhow::Result<(Vec<Point>, Vec<Point>)> {
    let DataSpec::ToyRectangle(d) = &config.data else { anyhow::bail!("a toy run needs the toy rectangle data") };
    let seed = config.train.seed;
    Ok((rectangle(d.points, seed), rectangle(d.test_points, seed ^ 0xdead_beef)))
}

/// Codes and reconstructions of `pts`.
pub fn run_model(model: &ToyAe, pts: &[Point], device: &Device) -> anyhow::Result<(Vec<f32>, Vec<f32>)> {
    let idx: Vec<usize> = (0..pts.len()).collect();
    let z = model.encode(points_tensor(pts, &idx, device));
    Ok((to_vec(z.clone())?, to_vec(model.decode(z))?))
}

/// The decoder's image of `steps` codes evenly spaced in `[lo, hi]`.
fn decoder_curve(model: &ToyAe, lo: f32, hi: f32, steps: usize, device: &Device) -> anyhow::Result<Vec<(f64, f64)>> {
    let z: Vec<f32> = (0..steps).map(|i| lo + (hi - lo) * i as f32 / (steps - 1) as f32).collect();
    let out = to_vec(model.decode(Tensor::from_data(TensorData::new(z, [steps, 1]), device)))?;
    Ok(out.chunks(2).map(|p| (f64::from(p[0]), f64::from(p[1]))).collect())
}

/// The decoder's curve over the codes of `pts` (their range widened by 20%), as a named line.
fn curve_over_codes(name: &str, model: &ToyAe, pts: &[Point], steps: usize, device: &Device) -> anyhow::Result<Series> {
    let (codes, _) = run_model(model, pts, device)?;
    let (lo, hi) = codes.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &z| (a.min(z), b.max(z)));
    let pad = (hi - lo).max(1e-3) * 0.2;
    Ok(Series { name: name.into(), points: decoder_curve(model, lo - pad, hi + pad, steps, device)? })
}

fn write_csv(path: &std::path::Path, header: &str, rows: impl Iterator<Item = String>) -> anyhow::Result<()> {
    let mut text = format!("{header}\n");
    for r in rows {
        text.push_str(&r);
        text.push('\n');
    }
    atomic_write_bytes(path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// Trains a toy run and writes its figures and data files.
pub(crate) fn train(job: &mut Job<'_, '_>, spec: &ToySpec) -> anyhow::Result<Outcome> {
    let (train_pts, test_pts) = points(job.config)?;
    let model = spec.network.init(&job.autodiff());
    force_init(&model);
    let initial = model.valid();
    let objective = Points { train: &train_pts, test: &test_pts };
    let f = job.fit(&objective, model)?;
    let (run, device) = (job.run, &job.device);

    let trained = f.model.valid();
    let arch = spec.network.arch;
    fig::loss(run, &f.history, &format!("Toy autoencoder ({arch}): reconstruction MSE"), "loss.png")?;
    let (codes, recon) = run_model(&trained, &train_pts, device)?;
    write_csv(
        &run.file(files::TOY_POINTS),
        "x,y,code,x_hat,y_hat",
        train_pts
            .iter()
            .zip(codes.iter())
            .zip(recon.chunks(2))
            .map(|((p, z), r)| format!("{},{},{},{},{}", p[0], p[1], z, r[0], r[1])),
    )?;
    fig::embedding(run, arch, &train_pts, &codes)?;
    // At initialisation the decoder maps the interval to a short stroke: 40 points, which the chart
    // draws with markers, keep it visible.
    let curves = vec![
        curve_over_codes("after training", &trained, &train_pts, 200, device)?,
        curve_over_codes("at initialisation", &initial, &train_pts, 40, device)?,
    ];
    fig::decoder_curves(run, arch, &curves, &train_pts)?;

    if spec.retrain_encoder {
        retrain_encoder(job, spec, &trained, &train_pts, &test_pts)?;
    }
    Ok(Outcome { history: f.history, stopped: f.stopped })
}

/// Seed 003 f/g: keep the trained decoder fixed, train a new encoder from scratch, and show where
/// each point now lands (arrows from the point to its new reconstruction).
fn retrain_encoder(
    job: &Job<'_, '_>,
    spec: &ToySpec,
    trained: &ToyAe,
    train_pts: &[Point],
    test_pts: &[Point],
) -> anyhow::Result<()> {
    let (run, device) = (job.run, &job.device);
    let ad = job.autodiff();
    // A fresh encoder, drawn from another stream of the seed.
    ad.seed(job.config.train.seed ^ 0x5eed_f00d);
    let fresh = spec.network.init(&ad);
    force_init(&fresh);
    let model = ToyAe { encoder: fresh.encoder, decoder: trained.decoder.clone().fork(&ad).no_grad() };
    let objective = Points { train: train_pts, test: test_pts };
    let label = format!("{} (new encoder, frozen decoder)", job.opts.label);
    let f = fit(&objective, model, &FitOptions { label, ..job.opts.clone() }, device, FitHooks::default())?;
    atomic_write_bytes(&run.file(files::TOY_RETRAIN_METRICS), f.history.to_csv().as_bytes())
        .with_context(|| format!("writing {}", run.file(files::TOY_RETRAIN_METRICS).display()))?;
    fig::loss(run, &f.history, "New encoder against the frozen decoder: reconstruction MSE", "retrain-loss.png")?;
    let retrained = f.model.valid();
    let (_, recon) = run_model(&retrained, train_pts, device)?;
    write_csv(
        &run.file(files::TOY_ARROWS),
        "x,y,x_hat,y_hat",
        train_pts.iter().zip(recon.chunks(2)).map(|(p, r)| format!("{},{},{},{}", p[0], p[1], r[0], r[1])),
    )?;
    let (codes, _) = run_model(&retrained, train_pts, device)?;
    fig::retrain_arrows(run, train_pts, &recon, &codes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::{Column, Metric, OptimConfig, Optimizer, Schedule, Split};
    use crate::models::toy::{ToyAeConfig, ToyArch};

    /// The linear autoencoder learns the principal line: its decoder's direction matches the
    /// leading eigenvector of the data covariance, and the line passes through the mean.
    #[test]
    fn linear_autoencoder_learns_the_first_principal_component() {
        // An elongated cloud, rotated by 30 degrees and shifted, so the answer is not an axis.
        let (c, s) = (30f32.to_radians().cos(), 30f32.to_radians().sin());
        let pts: Vec<Point> = rectangle(400, 3)
            .iter()
            .map(|p| {
                let (x, y) = (p[0], p[1] * 0.3);
                [c * x - s * y + 1.0, s * x + c * y - 0.5]
            })
            .collect();
        let n = pts.len() as f64;
        let mean = pts.iter().fold([0f64; 2], |m, p| [m[0] + f64::from(p[0]) / n, m[1] + f64::from(p[1]) / n]);
        let (mut sxx, mut sxy, mut syy) = (0f64, 0f64, 0f64);
        for p in &pts {
            let (dx, dy) = (f64::from(p[0]) - mean[0], f64::from(p[1]) - mean[1]);
            sxx += dx * dx;
            sxy += dx * dy;
            syy += dy * dy;
        }
        // Leading eigenvector of [[sxx, sxy], [sxy, syy]].
        let l = 0.5 * (sxx + syy) + (0.25 * (sxx - syy).powi(2) + sxy * sxy).sqrt();
        let (ex, ey) = (sxy, l - sxx);
        let norm = (ex * ex + ey * ey).sqrt();
        let pca = (ex / norm, ey / norm);

        let device = Device::flex();
        device.seed(1);
        let model = ToyAeConfig::new().with_arch(ToyArch::Linear).init(&device.clone().autodiff());
        force_init(&model);
        let objective = Points { train: &pts, test: &pts };
        let opts = FitOptions {
            epochs: 3000,
            batch_size: pts.len(),
            eval_batch_size: pts.len(),
            seed: 1,
            optim: OptimConfig {
                optimizer: Optimizer::Adam,
                lr: 1e-2,
                weight_decay: 0.0,
                momentum: 0.9,
                schedule: Schedule::Constant,
            },
            patience: None,
            progress: false,
            label: "pca".into(),
        };
        let f = fit(&objective, model, &opts, &device, FitHooks::default()).unwrap();
        let m = f.model.valid();
        // The decoder maps z to b + w z: its direction is w, and b + w z0 is the mean's image.
        let w: Vec<f32> = m.decoder[0].weight.val().try_into_vec_as().unwrap();
        let wn = (f64::from(w[0]).powi(2) + f64::from(w[1]).powi(2)).sqrt();
        let cos = (f64::from(w[0]) * pca.0 + f64::from(w[1]) * pca.1) / wn;
        assert!(cos.abs() > 0.999, "decoder direction {w:?} vs PCA {pca:?}: |cos| {}", cos.abs());
        let (_, recon) = run_model(&m, &[[mean[0] as f32, mean[1] as f32]], &device).unwrap();
        let miss = ((f64::from(recon[0]) - mean[0]).powi(2) + (f64::from(recon[1]) - mean[1]).powi(2)).sqrt();
        assert!(miss < 0.02, "the mean reconstructs {miss} away from itself");
        // And the reconstruction error is PCA's: the variance off the principal line.
        let pca_mse = (sxx + syy - l) / n / 2.0;
        let mse = f.history.last(Column::new(Split::Train, Metric::Mse)).unwrap();
        assert!((mse - pca_mse).abs() / pca_mse < 0.02, "mse {mse} vs PCA {pca_mse}");
    }
}
