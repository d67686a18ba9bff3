//! Per-image (batch 1) latency of encode, decode and classify: Bottleneck's int8 runtime next to
//! the same model in burn (flex, f32) and in tract (the exported ONNX, f32).
//!
//! `cargo bench -p bottleneck --bench inference -- RUN_DIR` (after `bottleneck export RUN_DIR
//! --onnx`); `cargo xtask bench` prepares a run and writes the table into docs/BENCHMARKS.md.
//! Prints a Markdown table. Each figure is the median over 5 rounds of the mean time per image
//! over the run's validation vectors (after a warm-up round).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use bottleneck::jobs::trained::Trained;
use bottleneck::jobs::validate::read_export;
use bottleneck::models::Autoencoder;
use bottleneck::run_dir::RunDir;
use bottleneck_runtime::{Entry, Model};
use burn::prelude::{Device, TensorData};
use tract_onnx::prelude::{DatumExt as _, Framework as _, InferenceModelExt as _, IntoRunnable as _, tvec};

type BurnTensor = burn::prelude::Tensor<2>;
type TractTensor = tract_onnx::prelude::Tensor;

const ROUNDS: usize = 5;

/// Median over rounds of the mean seconds per call of `f(i)` over `n` inputs.
fn time(n: usize, mut f: impl FnMut(usize)) -> f64 {
    for i in 0..n {
        f(i); // warm-up
    }
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            for i in 0..n {
                f(i);
            }
            t.elapsed().as_secs_f64() / n as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

fn us(s: Option<f64>) -> String {
    s.map_or_else(|| "-".into(), |s| format!("{:.1}", s * 1e6))
}

/// Mean seconds per image of the ONNX file `path` in tract (batch fixed at 1 for its optimiser),
/// or `None` when the file does not exist.
fn tract_time<'a>(
    path: &std::path::Path,
    shape: &[usize],
    n: usize,
    input: impl Fn(usize) -> &'a [f32],
) -> anyhow::Result<Option<f64>> {
    if !path.exists() {
        return Ok(None);
    }
    let mut m = tract_onnx::onnx().model_for_path(path)?;
    m.set_input_fact(0, f32::fact(shape).into())?;
    let plan = m.into_optimized()?.into_runnable()?;
    Ok(Some(time(n, |i| {
        let x = TractTensor::from_shape(shape, input(i)).unwrap();
        drop(black_box(plan.run(tvec!(x.into())).unwrap()));
    })))
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
    let n = vectors.items.len();
    let (pixels, latent) = (model.input_len(), model.latent_len());
    let classes = model.classes().unwrap_or(0);
    let export = run.root.join("export");

    // int8 runtime
    let mut scratch = vec![0u8; model.max_scratch_len()];
    let (mut code, mut image, mut logits) = (vec![0f32; latent], vec![0f32; pixels], vec![0f32; classes]);
    let rt_encode = time(n, |i| model.encode(black_box(&vectors.items[i].input), &mut code, &mut scratch).unwrap());
    let rt_decode = time(n, |i| model.decode(black_box(&vectors.items[i].code), &mut image, &mut scratch).unwrap());
    let rt_classify = (classes > 0).then(|| {
        time(n, |i| {
            black_box(model.classify(black_box(&vectors.items[i].input), &mut logits, &mut scratch).unwrap());
        })
    });

    // burn, flex backend, f32; includes moving the input in and the output out.
    let device = Device::flex();
    let trained = Trained::load(&run, &config, &device)?;
    let input_tensor =
        |i: usize| BurnTensor::from_data(TensorData::new(vectors.items[i].input.clone(), [1, pixels]), &device);
    let code_tensor =
        |i: usize| BurnTensor::from_data(TensorData::new(vectors.items[i].code.clone(), [1, latent]), &device);
    let (burn_encode, burn_decode) = match &trained {
        Trained::ConvAe(m) => (
            Some(time(n, |i| drop(black_box(m.encode(input_tensor(i)).try_into_vec_as::<f32>().unwrap())))),
            Some(time(n, |i| drop(black_box(m.decode(code_tensor(i)).try_into_vec_as::<f32>().unwrap())))),
        ),
        Trained::Imported(_) => (None, None),
    };

    // tract, the exported ONNX, f32.
    let image_shape = [1, 1, 28, 28];
    let tract_encode = tract_time(&export.join("encoder.onnx"), &image_shape, n, |i| &vectors.items[i].input)?;
    let tract_decode = tract_time(&export.join("decoder.onnx"), &[1, latent], n, |i| &vectors.items[i].code)?;
    let tract_classify = tract_time(&export.join("classifier.onnx"), &image_shape, n, |i| &vectors.items[i].input)?;

    println!(
        "Model: `{}` ({}), {n} test images, batch 1, median of {ROUNDS} rounds, microseconds per image.",
        run.root.display(),
        config.model.kind()
    );
    println!();
    println!("| operation | int8 runtime | burn flex (f32) | tract (f32 ONNX) |");
    println!("|---|---|---|---|");
    println!("| encode | {} | {} | {} |", us(Some(rt_encode)), us(burn_encode), us(tract_encode));
    println!("| decode | {} | {} | {} |", us(Some(rt_decode)), us(burn_decode), us(tract_decode));
    println!("| classify | {} | - | {} |", us(rt_classify), us(tract_classify));
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
