//! The report's sections, from what the pipeline's run directories hold. A run or file that is
//! missing leaves its part out; numbers in sentences are read from the runs, never written here.

use std::path::{Path, PathBuf};

use super::html::Doc;
use crate::config::{DataSpec, ModelSpec, RunConfig};
use crate::fit::{Column, History, Metric, Split};
use crate::models::fc_ae::FcAeConfig;
use crate::run_dir::RunDir;

/// A run of the pipeline, when it is there.
struct Run {
    dir: RunDir,
    config: RunConfig,
    history: Option<History>,
}

impl Run {
    fn open(root: &Path, name: &str) -> Option<Self> {
        let dir = RunDir::open(&root.join(name)).ok()?;
        let config = dir.read_config().ok()?;
        let history = dir.read_metrics().ok();
        Some(Self { dir, config, history })
    }

    fn fig(&self, name: &str) -> PathBuf {
        self.dir.figure(name)
    }

    fn last(&self, split: Split, metric: Metric) -> Option<f64> {
        self.history.as_ref()?.last(Column::new(split, metric))
    }

    fn file(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.root.join(rel)).ok()
    }

    fn epochs(&self) -> usize {
        self.history.as_ref().map_or(0, |h| h.rows.len())
    }

    fn seconds(&self) -> f64 {
        self.history.as_ref().map_or(0.0, History::total_seconds)
    }
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// One row of the hyperparameter table.
fn hyper_row(name: &str, r: &Run) -> String {
    let t = &r.config.train;
    let extra = match &r.config.model {
        ModelSpec::ConvAe(c) => format!("code {}, dropout {}, batch norm {}", c.latent, c.dropout, c.batch_norm),
        ModelSpec::DenoisingAe(d) => format!("code {}, noise std {}", d.network.latent, d.noise_std),
        ModelSpec::ConvVae(c) => format!("code {}, beta {}", c.latent, c.beta),
        ModelSpec::FcAe(FcAeConfig { noise: Some(n), .. }) if *n > 0.0 => format!("code 8, input noise std {n}"),
        ModelSpec::FcAe(c) => format!("code 8, dropout {}", c.dropout),
        ModelSpec::Classifier(c) => format!("{}, head {}-{}", c.mode, c.network.hidden1, c.network.hidden2),
        ModelSpec::Cnn(c) => format!("mirror augmentation, label smoothing {}", c.label_smoothing),
        ModelSpec::Simclr(c) => {
            format!("code {}, projection {}, temperature {}", c.latent, c.projection, c.temperature)
        }
        ModelSpec::ToyAe(s) => format!("{} network", s.network.arch),
        ModelSpec::Imported(_) => "imported".into(),
    };
    format!(
        "| {name} | {} | {} | {} | {} | {} | {} | {extra} |",
        t.epochs, t.batch_size, t.optim.optimizer, t.optim.lr, t.optim.weight_decay, t.optim.schedule
    )
}

/// Writes every section; returns the conclusion's sentences.
pub fn all(root: &Path, doc: &mut Doc) -> anyhow::Result<Vec<String>> {
    let get = |name: &str| Run::open(root, name);
    let (ae, fc, den, vae) = (get("conv-ae"), get("fc-ae"), get("denoising-ae"), get("conv-vae"));
    let (ft, frozen, scratch, cnn) =
        (get("classifier-finetune"), get("classifier-frozen"), get("classifier-scratch"), get("cnn"));
    let (ae2, vae2) = (get("ae-2d"), get("vae-2d"));
    let wide = get("conv-ae-wide");
    let fc_den = get("denoising-fc-ae");
    let mut conclusions = Vec::new();

    // Introduction.
    doc.h2("1. Introduction");
    doc.p("This report trains, explores and compares autoencoders on Fashion-MNIST (28x28 grey images of \
         garments in ten classes): a convolutional autoencoder, its encoder fine-tuned for classification, \
         a denoising and a fully-connected autoencoder, a variational autoencoder, two-dimensional codes, and \
         toy autoencoders with a one-dimensional code. Hyperparameters are searched with a TPE sampler and a \
         median pruner, final accuracy is cross-validated, and optimizers and regularisers are compared. \
         Everything was produced by one command, `bottleneck run`, with the Rust toolkit Bottleneck; every \
         number below is read from the run directories it wrote.");
    if let Some(DataSpec::Images(d)) = ae.as_ref().map(|r| &r.config.data) {
        doc.p(&format!(
            "Data: {} from {}: {} training images ({} more held out for validation, stratified) and {} test images. \
             The test set is never used to choose anything.",
            d.dataset,
            d.dir.display(),
            d.train_images,
            d.valid_images,
            d.test_images
        ));
        if d.train_images + d.valid_images < 20_000 {
            doc.note(
                "These runs used a small sample of Fashion-MNIST, not the full 60,000 training images: the \
                 figures show the method, and the numbers are far from what the full data gives.",
            );
        }
    }

    // Method.
    doc.h2("2. Method");
    doc.p("Each model is trained by the same loop: seeded shuffling, mini-batch steps, validation and test metrics \
         after every epoch, checkpoints. Autoencoders minimise the mean squared error per pixel (pixels in [0, 1]; \
         the fully-connected one works on [-1, 1] as its exercise asks); the VAE minimises the binary cross-entropy \
         of the reconstruction plus beta times the KL divergence of the posterior from N(0, I); classifiers \
         minimise the cross-entropy. The classifier is the autoencoder's encoder followed by an MLP head, \
         fine-tuned from the trained autoencoder, trained with the encoder frozen, or trained from scratch; a \
         plain CNN trained from scratch is the earlier homework's baseline.");
    let mut rows = vec![
        "| model | epochs | batch | optimizer | lr | weight decay | schedule | other |".to_string(),
        "|---|---|---|---|---|---|---|---|".to_string(),
    ];
    for (name, r) in [
        ("conv autoencoder", &ae),
        ("autoencoder behind the classifiers", &wide),
        ("denoising autoencoder", &den),
        ("fully-connected autoencoder", &fc),
        ("fully-connected, denoising", &fc_den),
        ("VAE", &vae),
        ("classifier (fine-tuned)", &ft),
        ("CNN from scratch", &cnn),
    ] {
        if let Some(r) = r {
            rows.push(hyper_row(name, r));
        }
    }
    if let Some(ModelSpec::ConvAe(w)) = wide.as_ref().map(|r| &r.config.model) {
        doc.p(&format!(
            "On the full data the classifiers stand on a wider autoencoder than the one above ({} channels, batch \
             norm, a code of {}): the seed-002 encoder (8, 16, 32 channels) underfits below 90% accuracy when \
             fine-tuned. Its classifier head has 128 and 64 units with dropout 0.2 and trains on mirrored images.",
            w.widths.map_or_else(|| "8, 16, 32".to_string(), |[a, b, c]| format!("{a}, {b}, {c}")),
            w.latent
        ));
    }
    let hyper = rows.join("\n");
    let arch = |r: &Option<Run>| r.as_ref().and_then(|r| r.file("explore/architecture.md"));
    let mut tables: Vec<(String, String)> = vec![(hyper, "Hyperparameters of each model.".into())];
    for (name, r) in [("convolutional autoencoder", &ae), ("classifier", &ft), ("VAE", &vae), ("CNN", &cnn)] {
        if let Some(a) = arch(r) {
            tables.push((a, format!("Architecture of the {name}: output shape per image and parameters.")));
        }
    }
    let refs: Vec<(&str, &str)> = tables.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    doc.tables(&refs);
    let tune_dir = root.join("tune-conv-ae");
    if let Ok(space) = std::fs::read_to_string(tune_dir.join("best.toml")) {
        let _ = space;
        doc.p("Hyperparameter search (study tune-conv-ae): the code size (4 to 64, log scale), dropout (0 to 0.5), \
             weight decay (1e-6 to 1e-3, log scale), the optimizer (Adam or SGD) and the learning rate (1e-4 to \
             1e-2, log scale) of the convolutional autoencoder, on the validation MSE. The first trials are random; \
             later ones are drawn by a tree-structured Parzen estimator where good trials are dense; a trial worse \
             than the median of the complete trials at the same epoch is stopped.");
    }

    // Results.
    doc.h2("3. Results");
    doc.h3("3.1 Convolutional autoencoder, optimizers and regularisation");
    if let Some(r) = &ae {
        doc.figures(&[
            (&r.fig("loss.png"), "Convolutional autoencoder: reconstruction MSE per epoch on each split."),
            (&r.fig("reconstructions.png"), "Test images (top) and their reconstructions (bottom)."),
        ]);
        if let (Some(v), Some(t)) = (r.last(Split::Valid, Metric::Mse), r.last(Split::Test, Metric::Mse)) {
            conclusions.push(format!(
                "The convolutional autoencoder reached a validation MSE of {v:.4} and a test MSE of {t:.4} after {} epochs \
                 ({:.0} s of training).",
                r.epochs(),
                r.seconds()
            ));
        }
    }
    doc.figures(&[
        (
            &root.join("study-optimizers/figures/curves.png"),
            "Validation MSE per epoch with each optimizer (grid study).",
        ),
        (
            &root.join("study-regularisation/figures/params.png"),
            "Validation MSE against dropout, weight decay and batch norm (grid of 8).",
        ),
    ]);
    conclusions.extend(study_sentence(&root.join("study-optimizers"), "Of the optimizers"));
    conclusions.extend(study_sentence(&root.join("study-regularisation"), "Of the regularisation settings"));
    doc.figures(&[
        (
            &tune_dir.join("figures/history.png"),
            "Hyperparameter search: validation MSE per trial; crosses were pruned.",
        ),
        (&tune_dir.join("figures/params.png"), "Hyperparameter search: validation MSE against each parameter."),
    ]);
    if let Some(line) = study_sentence(&tune_dir, "In the hyperparameter search") {
        // The study trains fewer epochs on fewer images than the default run: not comparable, so
        // no comparison is made here.
        conclusions.push(line);
    }

    doc.h3("3.2 Fine-tuning for classification");
    let mut tables: Vec<(String, String)> = Vec::new();
    if let Ok(s) = std::fs::read_to_string(root.join("learning-speed.md")) {
        tables.push((
            s,
            "Learning speed: epochs and training seconds until 90% validation accuracy, and final test accuracy."
                .into(),
        ));
    }
    if let Some(t) = ft.as_ref().and_then(|r| r.file("explore/classification.md")) {
        tables.push((t, "Fine-tuned classifier: precision, recall and F1 per class on the test set.".into()));
    }
    let cv_folds = (1..).take_while(|k| root.join(format!("cv-classifier/fold-{k}")).is_dir()).count();
    let cv_epochs = Run::open(root, "cv-classifier/fold-1").map_or(0, |r| r.config.train.epochs);
    if let Ok(cv) = std::fs::read_to_string(root.join("cv-classifier/cv.md")) {
        tables.push((
            cv,
            format!(
                "Fine-tuned classifier, {cv_folds}-fold cross-validation on the training images, {cv_epochs} epochs per fold."
            ),
        ));
    }
    let refs: Vec<(&str, &str)> = tables.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    if !refs.is_empty() {
        doc.tables(&refs);
    }
    if let Some(r) = &ft {
        doc.figures(&[
            (&r.fig("accuracy.png"), "Fine-tuned classifier: accuracy per epoch."),
            (&r.fig("confusion.png"), "Fine-tuned classifier: confusion matrix on the test set."),
            (&root.join("cv-classifier/figures/cv.png"), "Cross-validated validation accuracy per fold."),
        ]);
    }
    let acc = |r: &Option<Run>| {
        r.as_ref().and_then(|r| r.last(Split::Test, Metric::Accuracy).map(|a| (a, r.epochs(), r.seconds())))
    };
    if let (Some((a, e, s)), Some((b, _, _))) = (acc(&ft), acc(&scratch)) {
        let mut line = format!(
            "The fine-tuned classifier reached {} test accuracy after {e} epochs ({s:.0} s), against {} for the same network \
             trained from scratch",
            pct(a),
            pct(b)
        );
        if let Some((f, _, _)) = acc(&frozen) {
            line.push_str(&format!(" and {} with the encoder frozen", pct(f)));
        }
        if let Some((c, ce, cs)) = acc(&cnn) {
            line.push_str(&format!("; the CNN from scratch reached {} in {ce} epochs ({cs:.0} s)", pct(c)));
        }
        line.push('.');
        conclusions.push(line);
    }
    if let Ok(cv) = std::fs::read_to_string(root.join("cv-classifier/cv.md"))
        && let Some(mean) = cv.lines().find(|l| l.contains("mean ± std"))
    {
        let value = mean.split('|').nth(2).unwrap_or("").trim().to_string();
        conclusions.push(format!(
            "Cross-validated over {cv_folds} folds of {cv_epochs} epochs each, its validation accuracy is {value} (mean ± \
             standard deviation)."
        ));
    }

    doc.h3("3.3 Latent space, denoising and new samples");
    let tsne = |r: &Option<Run>| r.as_ref().map(|r| r.fig("tsne.png")).unwrap_or_default();
    let pca = |r: &Option<Run>| r.as_ref().map(|r| r.fig("pca.png")).unwrap_or_default();
    doc.figures(&[
        (&pca(&ae), "PCA of test codes: convolutional autoencoder."),
        (&pca(&den), "PCA of test codes: denoising autoencoder."),
        (&pca(&vae), "PCA of test codes: VAE (posterior means)."),
    ]);
    doc.figures(&[
        (&tsne(&ae), "t-SNE of test codes: convolutional autoencoder."),
        (&tsne(&den), "t-SNE of test codes: denoising autoencoder."),
        (&tsne(&vae), "t-SNE of test codes: VAE."),
    ]);
    if let (Some(a), Some(d)) = (&ae, &den)
        && let (Some(ta), Some(td)) = (trust(a), trust(d))
    {
        conclusions.push(format!(
            "The t-SNE maps keep neighbourhoods of the codes with a trustworthiness of {ta:.3} (plain autoencoder) and \
             {td:.3} (denoising)."
        ));
    }
    let fig = |r: &Option<Run>, f: &str| r.as_ref().map(|r| r.fig(f)).unwrap_or_default();
    doc.figures(&[
        (&fig(&ae, "interpolation.png"), "Autoencoder: decoding the line between two test images' codes."),
        (&fig(&vae, "interpolation.png"), "VAE: the same interpolation."),
        (&fig(&fc, "reconstructions.png"), "Fully-connected autoencoder: test images and reconstructions."),
        (&fig(&fc, "loss.png"), "Fully-connected autoencoder: MSE per epoch (pixels in [-1, 1])."),
    ]);
    doc.figures(&[
        (&fig(&ae, "traversal.png"), "Autoencoder: the square between four test images' codes."),
        (&fig(&vae, "traversal.png"), "VAE: the same square."),
        (&fig(&ae, "samples.png"), "Autoencoder: codes drawn from a Gaussian fitted to the training codes, decoded."),
        (&fig(&vae, "samples.png"), "VAE: codes drawn from N(0, I), decoded."),
    ]);
    doc.figures(&[
        (&fig(&den, "denoising.png"), "Convolutional denoising autoencoder: noisy test images, outputs, originals."),
        (&fig(&fc_den, "denoising.png"), "Fully-connected denoising autoencoder: the same."),
        (&tsne(&fc), "t-SNE of test codes: fully-connected autoencoder."),
        (&tsne(&fc_den), "t-SNE of test codes: the same network trained to denoise."),
    ]);
    if let (Some(a), Some(d)) = (&fc, &fc_den)
        && let (Some(ta), Some(td)) = (trust(a), trust(d))
        && let (Some(ma), Some(md)) = (a.last(Split::Test, Metric::Mse), d.last(Split::Test, Metric::Mse))
    {
        conclusions.push(format!(
            "Trained to remove noise, the fully-connected autoencoder's t-SNE map has a trustworthiness of {td:.3} \
             (plain: {ta:.3}) and its test MSE on noisy inputs is {md:.4} (plain, on clean inputs: {ma:.4}; pixels in \
             [-1, 1])."
        ));
    }
    if let (Some(v), Some(a)) = (&vae, &ae)
        && let (Some(mv), Some(ma)) = (v.last(Split::Test, Metric::Mse), a.last(Split::Test, Metric::Mse))
    {
        conclusions.push(format!(
            "The VAE's reconstructions (of the posterior means) have a test MSE of {mv:.4}, against {ma:.4} for the plain \
             autoencoder of the same architecture."
        ));
    }
    doc.figures(&[
        (&fig(&ae2, "latent.png"), "Autoencoder with a 2-D code: test codes by class."),
        (&fig(&ae2, "latent-grid.png"), "Autoencoder with a 2-D code: a 10x10 grid of decoded codes."),
        (&fig(&vae2, "latent.png"), "VAE with a 2-D code: test codes by class."),
        (&fig(&vae2, "latent-grid.png"), "VAE with a 2-D code: decoded grid."),
    ]);

    doc.h3("3.4 Toy autoencoders with a one-dimensional code");
    let toy = |n: &str, f: &str| root.join(n).join("figures").join(f);
    doc.figures(&[
        (&toy("toy-small", "embedding.png"), "Small network: each point coloured by its 1-D code."),
        (
            &toy("toy-small", "decoder-curves.png"),
            "Small network: the decoder's image of a code interval, before and after training.",
        ),
        (&toy("toy-large", "decoder-curves.png"), "Large network: decoder curves."),
        (&toy("toy-linear", "decoder-curves.png"), "Linear network: its decoder is PCA's first principal line."),
    ]);
    doc.figures(&[
        (&toy("toy-large", "retrain-arrows.png"), "Frozen decoder, new encoder: each point to its reconstruction."),
        (
            &root.join("study-gd-vs-sgd/gd-vs-sgd.png"),
            "Full-batch against stochastic gradient descent: loss over examples seen.",
        ),
    ]);

    doc.h2("4. Conclusion");
    if conclusions.is_empty() {
        doc.p("No run finished, so there is nothing measured to conclude.");
    }
    for c in &conclusions {
        doc.p(c);
    }

    if let Some(code) = ft.as_ref().or(ae.as_ref()).and_then(|r| r.file("export/model.py")) {
        doc.appendix(
            "Appendix: the model in PyTorch",
            "`bottleneck export --pytorch` writes the trained model as torch.nn modules; load() returns them with \
             the weights of model.safetensors (a test checks that they compute what the Rust trainer computed, to 1e-4).",
            &code,
        );
    }
    Ok(conclusions)
}

/// The t-SNE map's trustworthiness, from `explore/summary.toml`.
fn trust(r: &Run) -> Option<f64> {
    r.file("explore/summary.toml")?
        .lines()
        .find_map(|l| l.strip_prefix("trustworthiness = "))
        .and_then(|v| v.trim().parse().ok())
}

/// A sentence about a study's best trial, from its `trials.csv` and `best.toml`.
fn study_sentence(dir: &Path, lead: &str) -> Option<String> {
    let best = std::fs::read_to_string(dir.join("best.toml")).ok()?;
    // `# The best trial of study "NAME": trial 5 (valid_mse 0.031019) with PARAMS.`
    let first = best.lines().next()?.trim_start_matches("# ").trim().trim_end_matches('.');
    let trial = first.split_once("\": ").map_or(first, |(_, t)| t);
    let csv = std::fs::read_to_string(dir.join("trials.csv")).ok()?;
    let n = csv.lines().count().saturating_sub(1);
    let pruned = csv.lines().filter(|l| l.contains(",pruned,")).count();
    Some(format!("{lead} ({n} trials, {pruned} pruned), the best was {trial}."))
}
