//! Per-image (batch 1) latency of encode, decode and classify: Bottleneck's int8 runtime (every
//! kernel build this CPU runs: AVX-512 VNNI, AVX2, portable) next to the same model in burn
//! (flex, f32) and in tract (the exported ONNX, f32).
//!
//! `cargo bench -p bottleneck --bench inference -- RUN_DIR` (after `bottleneck export RUN_DIR
//! --onnx`); `cargo xtask bench inference` prepares a run and writes the table into
//! docs/BENCHMARKS.md. The machine is shared and noisy, so contenders are measured in interleaved
//! rounds (each round times every contender once over all validation vectors) and each figure is
//! the best round: noise only ever adds time.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use bottleneck::deploy::read_export;
use bottleneck::inference::LoadedModel;
use bottleneck::models::Autoencoder;
use bottleneck::run_dir::RunDir;
use bottleneck_runtime::{Entry, Model, use_kernel_build};
use burn::prelude::{Device, TensorData};
use tract_onnx::prelude::{
    DatumExt as _, Framework as _, InferenceModelExt as _, IntoRunnable as _, TypedSimplePlan, tvec,
};

type BurnTensor = burn::prelude::Tensor<2>;
type TractTensor = tract_onnx::prelude::Tensor;

const ROUNDS: usize = 9;

/// One thing to time: `f(i)` runs it on validation vector `i`.
struct Contender<'a> {
    op: &'static str,
    who: usize,
    f: Box<dyn FnMut(usize) + 'a>,
}

fn tract_plan(path: &Path, shape: &[usize]) -> anyhow::Result<Option<std::sync::Arc<TypedSimplePlan>>> {
    if !path.exists() {
        return Ok(None);
    }
    let mut m = tract_onnx::onnx().model_for_path(path)?;
    m.set_input_fact(0, f32::fact(shape).into())?;
    Ok(Some(m.into_optimized()?.into_runnable()?))
}

fn main() -> anyhow::Result<()> {
    let run_path: PathBuf = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .or_else(|| std::env::var("BOTTLENECK_BENCH_RUN").ok())
        .map(PathBuf::from)
        .ok_or_else(|| anyhow::anyhow!("usage: cargo bench -p bottleneck --bench inference -- RUN_DIR"))?;
    let run = RunDir::open(&run_path)?;
    let config = run.read_config()?;
    let (bnq, vectors) = read_export(&run)?;
    let model = Model::parse(&bnq).map_err(|e| anyhow::anyhow!("{e}"))?;
    let v = &vectors.items;
    let n = v.len();
    let (pixels, latent) = (model.input_len(), model.latent_len());
    let classes = model.classes().unwrap_or(0);
    let export = run.root.join("export");
    // Every kernel build this CPU runs (VNNI, AVX2, portable on these machines), then burn and
    // tract.
    let builds: Vec<&'static str> = bottleneck_runtime::kernel_builds().collect();
    let mut names: Vec<String> = builds.iter().map(|b| format!("int8 runtime ({b})")).collect();
    let (burn_who, tract_who) = (names.len(), names.len() + 1);
    names.extend(["burn flex (f32)".into(), "tract (f32 ONNX)".into()]);

    let device = Device::flex();
    let trained = LoadedModel::load(&run, &config, &device)?;
    let image_shape = [1, 1, 28, 28];
    let tract_enc = tract_plan(&export.join("encoder.onnx"), &image_shape)?;
    let tract_dec = tract_plan(&export.join("decoder.onnx"), &[1, latent])?;
    let tract_cls = tract_plan(&export.join("classifier.onnx"), &image_shape)?;

    let mut contenders: Vec<Contender<'_>> = Vec::new();
    // The int8 runtime, each build; each keeps its own buffers.
    for (who, &build) in builds.iter().enumerate() {
        let m = &model;
        let buffers = || (vec![0u8; m.max_scratch_len()], vec![0f32; latent], vec![0f32; pixels], vec![0f32; classes]);
        let (mut s, mut c, _, _) = buffers();
        contenders.push(Contender {
            op: "encode",
            who,
            f: Box::new(move |i| {
                use_kernel_build(build);
                m.encode(black_box(&v[i].input), &mut c, &mut s).unwrap();
            }),
        });
        let (mut s, _, mut img, _) = buffers();
        contenders.push(Contender {
            op: "decode",
            who,
            f: Box::new(move |i| {
                use_kernel_build(build);
                m.decode(black_box(&v[i].code), &mut img, &mut s).unwrap();
            }),
        });
        if classes > 0 {
            let (mut s, _, _, mut l) = buffers();
            contenders.push(Contender {
                op: "classify",
                who,
                f: Box::new(move |i| {
                    use_kernel_build(build);
                    black_box(m.classify(black_box(&v[i].input), &mut l, &mut s).unwrap());
                }),
            });
        }
    }
    // burn, flex backend, f32; moving the input in and the output out included. A classifier run
    // deploys its autoencoder's encoder and decoder and its own classifier.
    let (ae, head) = match &trained {
        LoadedModel::ConvAe(m) => (Some(m), None),
        LoadedModel::Classifier { model, autoencoder, .. } => (autoencoder.as_ref(), Some(model)),
        _ => (None, None),
    };
    if let Some(head) = head {
        let d = &device;
        contenders.push(Contender {
            op: "classify",
            who: burn_who,
            f: Box::new(move |i| {
                let x = BurnTensor::from_data(TensorData::new(v[i].input.clone(), [1, pixels]), d);
                black_box(head.forward(x).try_into_vec_as::<f32>().unwrap());
            }),
        });
    }
    if let Some(m) = ae {
        let d = &device;
        contenders.push(Contender {
            op: "encode",
            who: burn_who,
            f: Box::new(move |i| {
                let x = BurnTensor::from_data(TensorData::new(v[i].input.clone(), [1, pixels]), d);
                black_box(m.encode(x).try_into_vec_as::<f32>().unwrap());
            }),
        });
        contenders.push(Contender {
            op: "decode",
            who: burn_who,
            f: Box::new(move |i| {
                let z = BurnTensor::from_data(TensorData::new(v[i].code.clone(), [1, latent]), d);
                black_box(m.decode(z).try_into_vec_as::<f32>().unwrap());
            }),
        });
    }
    // tract, the exported ONNX, batch fixed at 1 for its optimiser.
    for (op, plan, shape, from_code) in [
        ("encode", &tract_enc, image_shape.to_vec(), false),
        ("decode", &tract_dec, vec![1, latent], true),
        ("classify", &tract_cls, image_shape.to_vec(), false),
    ] {
        if let Some(p) = plan {
            contenders.push(Contender {
                op,
                who: tract_who,
                f: Box::new(move |i| {
                    let data = if from_code { &v[i].code } else { &v[i].input };
                    let x = TractTensor::from_shape(&shape, data).unwrap();
                    black_box(p.run(tvec!(x.into())).unwrap());
                }),
            });
        }
    }

    // Warm up, then interleaved rounds; keep each contender's best mean time per image.
    let mut best = vec![f64::INFINITY; contenders.len()];
    for round in 0..=ROUNDS {
        for (c, b) in contenders.iter_mut().zip(&mut best) {
            let t = Instant::now();
            for i in 0..n {
                (c.f)(i);
            }
            if round > 0 {
                *b = b.min(t.elapsed().as_secs_f64() / n as f64);
            }
        }
    }
    use_kernel_build("");

    let cell = |op: &str, who: usize| {
        contenders
            .iter()
            .zip(&best)
            .find(|(c, _)| c.op == op && c.who == who)
            .map_or_else(|| "-".to_string(), |(_, s)| format!("{:.1}", s * 1e6))
    };
    println!(
        "Model: {}, {n} test images, batch 1; microseconds per image, best of {ROUNDS} interleaved rounds.",
        config.model.kind()
    );
    println!();
    // The fastest int8 build against burn in the same round: a ratio travels between machines
    // (and through a busy one) better than a time.
    let secs =
        |op: &str, who: usize| contenders.iter().zip(&best).find(|(c, _)| c.op == op && c.who == who).map(|(_, s)| *s);
    let ratio = |op: &str| match (secs(op, 0), secs(op, burn_who)) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "-".to_string(),
    };
    let fastest = builds.first().copied().unwrap_or("int8");
    println!("| operation | {} | {fastest} / burn |", names.join(" | "));
    println!("|---|{}---|", "---|".repeat(names.len()));
    for op in ["encode", "decode", "classify"] {
        println!(
            "| {op} | {} | {} |",
            (0..names.len()).map(|w| cell(op, w)).collect::<Vec<_>>().join(" | "),
            ratio(op)
        );
    }
    println!();
    println!(
        "int8 file {} bytes; scratch bytes: encode {}, decode {}, classify {}, sample {}.",
        bnq.len(),
        model.scratch_len(Entry::Encode),
        model.scratch_len(Entry::Decode),
        model.scratch_len(Entry::Classify),
        model.scratch_len(Entry::Sample)
    );
    let onnx_sizes: Vec<String> = ["encoder.onnx", "decoder.onnx", "classifier.onnx"]
        .iter()
        .filter_map(|f| std::fs::metadata(export.join(f)).ok().map(|m| format!("{f} {} bytes", m.len())))
        .collect();
    if !onnx_sizes.is_empty() {
        println!("f32 ONNX files: {}.", onnx_sizes.join(", "));
    }
    Ok(())
}
