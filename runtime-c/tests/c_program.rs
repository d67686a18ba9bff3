//! The C library as a C program uses it: the committed header is the one cbindgen makes of the
//! source, and a C program (tests/c/check.c with main_host.c) compiled by the system's C compiler
//! against `libbottleneck_c.a` computes the same digest as the Rust runtime on the firmware's model
//! and images, and on a small CNN (a classifier alone, with max pooling). (`cargo xtask firmware`
//! runs the same C check on a Cortex-M4 in QEMU.)

use std::path::PathBuf;
use std::process::Command;

use bottleneck_export::validate::check;
use bottleneck_export::vectors::Vectors;
use bottleneck_runtime::Model;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn header_is_current() {
    let config = cbindgen::Config::from_file(crate_dir().join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir())
        .with_config(config)
        .generate()
        .expect("cbindgen could not read src/lib.rs")
        .write(&mut generated);
    let path = crate_dir().join("include/bottleneck.h");
    if std::env::var_os("BOTTLENECK_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is not what cbindgen makes of src/lib.rs: run `BOTTLENECK_BLESS=1 cargo test -p bottleneck-runtime-c \
         --test c_program header_is_current` and commit it",
        path.display()
    );
}

/// The Rust runtime's digest of the check sequence over every vector of `vectors` (what
/// `bottleneck validate` prints), and the number of vectors.
fn rust_digest(model: &[u8], vectors: &[u8]) -> (u32, usize) {
    let m = Model::parse(model).unwrap();
    let v = Vectors::from_bytes(vectors, "vectors.bin").unwrap();
    (check(&m, &v).unwrap().digest, v.items.len())
}

/// Builds `libbottleneck_c.a` for the host and returns its path. `cargo test` links its tests with
/// the rlib only, so the static library is built here, by the same cargo, in a folder of its own
/// (the test's cargo may still hold the usual one).
fn static_library() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-library");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(crate_dir())
        .args(["rustc", "--release", "--lib", "--crate-type", "staticlib", "--target-dir"])
        .arg(&dir)
        .output()
        .expect("cannot start cargo");
    assert!(out.status.success(), "building libbottleneck_c.a failed:\n{}", String::from_utf8_lossy(&out.stderr));
    dir.join("release/libbottleneck_c.a")
}

/// A small CNN with random weights (conv, batch norm, ReLU, max pooling, a depthwise convolution,
/// a residual block, linear, softmax), quantized, and
/// its vectors: a classifier-only file for the C check. Returns the two paths.
fn cnn_files() -> (PathBuf, PathBuf) {
    use bottleneck_export::graph::{Classifier, InputRange, Layer, Model as Graph, Network, Tensor, Variant};
    use bottleneck_export::vectors::Vector;
    use bottleneck_export::{quantize, reference};
    let mut rng = bottleneck_runtime::Rng::new(17);
    let mut values = |n: usize, scale: f32| -> Vec<f32> { (0..n).map(|_| rng.normal() * scale).collect() };
    let net = Network {
        layers: vec![
            Layer::Conv2d {
                weight: Tensor::new(vec![6, 1, 3, 3], values(54, 0.4)).unwrap(),
                bias: values(6, 0.1),
                stride: 1,
                padding: 1,
            },
            Layer::BatchNorm {
                gamma: vec![1.2; 6],
                beta: values(6, 0.1),
                mean: values(6, 0.1),
                var: vec![0.8; 6],
                epsilon: 1e-5,
            },
            Layer::Relu,
            Layer::MaxPool2d { kernel: 2, stride: 2 },
            Layer::DepthwiseConv2d {
                weight: Tensor::new(vec![6, 1, 3, 3], values(54, 0.4)).unwrap(),
                bias: values(6, 0.1),
                stride: 1,
                padding: 1,
            },
            Layer::Relu,
            Layer::Residual {
                body: Network {
                    layers: vec![
                        Layer::Conv2d {
                            weight: Tensor::new(vec![6, 6, 3, 3], values(324, 0.2)).unwrap(),
                            bias: values(6, 0.1),
                            stride: 1,
                            padding: 1,
                        },
                        Layer::Relu,
                    ],
                },
            },
            Layer::Relu,
            Layer::Conv2d {
                weight: Tensor::new(vec![8, 6, 3, 3], values(432, 0.2)).unwrap(),
                bias: values(8, 0.1),
                stride: 1,
                padding: 1,
            },
            Layer::Relu,
            Layer::MaxPool2d { kernel: 2, stride: 2 },
            Layer::Flatten,
            Layer::Linear { weight: Tensor::new(vec![10, 392], values(3920, 0.05)).unwrap(), bias: values(10, 0.1) },
            Layer::Softmax,
        ],
    };
    let graph = Graph {
        name: "cnn".into(),
        variant: Variant::Autoencoder,
        input: [1, 28, 28],
        input_range: InputRange::Unit,
        latent: 0,
        encoder: Network::default(),
        decoder: Network::default(),
        classifier: Some(Classifier { encoder: Some(net.clone()), head: Network::default() }),
        classes: (0..10).map(|c| format!("class {c}")).collect(),
        latent_stats: None,
        metadata: Vec::new(),
    };
    let images: Vec<Vec<f32>> =
        (0..24).map(|i| (0..784).map(|p| ((p * 7 + i * 131) % 256) as f32 / 255.0).collect()).collect();
    let bnq = quantize(&graph, &images).unwrap().bytes;
    let items = images
        .iter()
        .enumerate()
        .map(|(i, x)| Vector {
            label: (i % 10) as u32,
            input: x.clone(),
            code: Vec::new(),
            reconstruction: vec![0.0; 784],
            logits: reference::forward(&net, x, [1, 28, 28]).unwrap().0,
        })
        .collect();
    let vectors = Vectors { input_shape: [1, 28, 28], latent: 0, classes: 10, items }.to_bytes().unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let (m, v) = (dir.join("cnn.bnq"), dir.join("cnn-vectors.bin"));
    std::fs::write(&m, bnq).unwrap();
    std::fs::write(&v, vectors).unwrap();
    (m, v)
}

#[test]
fn c_program_matches_the_rust_runtime() {
    let assets = crate_dir().join("../firmware-demo/cortex-m4/assets");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-check");
    // The system libraries Rust's standard library needs in a static link (`rustc --print
    // native-static-libs` on Linux).
    let compile = Command::new("cc")
        .args(["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg(crate_dir().join("tests/c/check.c"))
        .arg(crate_dir().join("tests/c/main_host.c"))
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg(static_library())
        .args(["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc", "-o"])
        .arg(&out)
        .output()
        .expect("no C compiler (cc): install Debian's build-essential");
    assert!(compile.status.success(), "cc failed:\n{}", String::from_utf8_lossy(&compile.stderr));

    let (cnn_model, cnn_vectors) = cnn_files();
    for (model, vectors) in [(assets.join("model.bnq"), assets.join("vectors.bin")), (cnn_model, cnn_vectors)] {
        let (digest, count) = rust_digest(&std::fs::read(&model).unwrap(), &std::fs::read(&vectors).unwrap());
        let run = Command::new(&out).arg(&model).arg(&vectors).output().unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(run.status.success(), "the C check failed:\n{stdout}{}", String::from_utf8_lossy(&run.stderr));
        let expected = format!("digest {digest:#010x} vectors {count}");
        assert!(stdout.lines().any(|l| l == expected), "C printed:\n{stdout}\nRust computed: {expected}");
    }
}
