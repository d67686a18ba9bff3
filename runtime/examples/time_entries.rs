//! Microseconds per image of encode, decode and classify at batch 1, with every kernel build this
//! CPU runs, on a model file (default: the firmware's):
//!
//! ```sh
//! cargo run --release -p bottleneck-runtime --features std --example time_entries [MODEL.bnq] [--layers]
//! ```
//!
//! `--layers` also prints each layer's share of encode and decode with the fastest build
//! (`Model::profile`, averaged over 2,000 calls). `--calls N` instead runs exactly N encodes and
//! N decodes with the fastest build and prints nothing: a fixed workload for `perf stat -e
//! instructions,cycles`, `perf record` or `valgrind --tool=cachegrind`, whose counts a busy
//! machine does not disturb as it does times. A classifier-only file (no autoencoder) is timed,
//! profiled and run as classify instead.
//!
//! A quick loop for kernel work; the figures in docs/BENCHMARKS.md come from `cargo xtask bench
//! inference`, beside tract and burn.

use std::time::Instant;

use bottleneck_runtime::{Entry, Model, Step, kernel_builds, use_kernel_build};

/// Median microseconds per call of `f` over 9 rounds of at least 0.1 s.
fn time(mut f: impl FnMut()) -> f64 {
    let mut n = 1u32;
    loop {
        let t = Instant::now();
        (0..n).for_each(|_| f());
        if t.elapsed().as_secs_f64() > 0.1 {
            break;
        }
        n *= 2;
    }
    let mut rounds: Vec<f64> = (0..9)
        .map(|_| {
            let t = Instant::now();
            (0..n).for_each(|_| f());
            t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[4]
}

/// Average nanoseconds per step of `entry` over `calls` calls of `Model::profile`.
fn layer_times(m: &Model<'_>, entry: Entry, input: &[f32], output: &mut [f32], scratch: &mut [u8]) {
    let calls = 2000;
    let mut total: Vec<(Step, f64)> = Vec::new();
    for _ in 0..calls {
        let mut last = Instant::now();
        let mut i = 0;
        m.profile(entry, input, output, scratch, &mut |step| {
            let now = Instant::now();
            let ns = (now - last).as_secs_f64() * 1e9;
            match total.get_mut(i) {
                Some(t) => t.1 += ns,
                None => total.push((step, ns)),
            }
            i += 1;
            last = Instant::now();
        })
        .unwrap();
    }
    for (step, ns) in total {
        let what = match step {
            Step::Layer(l) => {
                let rec = m.layer(l).unwrap();
                let (i, o) = (rec.input, rec.output);
                format!("layer {l:2} {:<17} {}x{}x{} -> {}x{}x{}", rec.kind.name(), i.c, i.h, i.w, o.c, o.h, o.w)
            }
            other => format!("{other:?}"),
        };
        println!("  {what:<52} {:8.0} ns", ns / f64::from(calls));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let layers = args.iter().any(|a| a == "--layers");
    let calls: Option<u32> = args.iter().position(|a| a == "--calls").map(|i| {
        args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("--calls takes a number of calls"))
    });
    let path = args
        .iter()
        .enumerate()
        .find(|&(i, a)| !a.starts_with("--") && (i == 0 || args[i - 1] != "--calls"))
        .map(|(_, a)| a.clone())
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../firmware-demo/cortex-m4/assets/model.bnq").into());
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let m = Model::parse(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    let image: Vec<f32> = (0..m.input_len()).map(|i| (i % 251) as f32 / 250.0).collect();
    let mut scratch = vec![0u8; m.max_scratch_len()];
    let mut code = vec![0f32; m.latent_len()];
    let mut out = vec![0f32; m.input_len()];
    let mut logits = vec![0f32; m.classes().unwrap_or(0)];
    // A classifier-only file has no encode or decode: its workload and timings are classify's.
    let autoencoder = m.has_autoencoder();
    if let Some(n) = calls {
        for _ in 0..n {
            if autoencoder {
                m.encode(&image, &mut code, &mut scratch).unwrap();
                m.decode(&code, &mut out, &mut scratch).unwrap();
            } else {
                m.classify(&image, &mut logits, &mut scratch).unwrap();
            }
        }
        return;
    }
    for build in kernel_builds() {
        use_kernel_build(build);
        let (encode, decode) = if autoencoder {
            (
                time(|| m.encode(&image, &mut code, &mut scratch).unwrap()),
                time(|| m.decode(&code, &mut out, &mut scratch).unwrap()),
            )
        } else {
            (f64::NAN, f64::NAN)
        };
        let classify = if logits.is_empty() {
            f64::NAN
        } else {
            time(|| {
                m.classify(&image, &mut logits, &mut scratch).unwrap();
            })
        };
        println!("{build:<20} encode {encode:6.1} us  decode {decode:6.1} us  classify {classify:6.1} us");
    }
    if layers {
        use_kernel_build("");
        println!("per layer, {}:", bottleneck_runtime::kernel_name());
        if autoencoder {
            layer_times(&m, Entry::Encode, &image, &mut code, &mut scratch);
            layer_times(&m, Entry::Decode, &code.clone(), &mut out, &mut scratch);
        } else {
            layer_times(&m, Entry::Classify, &image, &mut logits, &mut scratch);
        }
    }
}
