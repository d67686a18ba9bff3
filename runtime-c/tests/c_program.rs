//! The C library as a C program uses it: the committed header is the one cbindgen makes of the
//! source, and a C program (tests/c/check.c with main_host.c) compiled by the system's C compiler
//! against `libbottleneck_c.a` computes the same digest as the Rust runtime on the firmware's model
//! and images. (`cargo xtask firmware` runs the same C check on a Cortex-M4 in QEMU.)

use std::path::PathBuf;
use std::process::Command;

use bottleneck_runtime::Model;
use bottleneck_runtime::check::{self, Buffers};
use bottleneck_runtime::format::Crc32;

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

/// The Rust runtime's digest of the check sequence over every vector of `vectors`.
fn rust_digest(model: &[u8], vectors: &[u8]) -> (u32, usize) {
    let m = Model::parse(model).unwrap();
    let u16_at = |o: usize| usize::from(u16::from_le_bytes([vectors[o], vectors[o + 1]]));
    let count = u32::from_le_bytes(vectors[8..12].try_into().unwrap()) as usize;
    let pixels = u16_at(12) * u16_at(14) * u16_at(16);
    let (latent, classes) = (u16_at(18), u16_at(20));
    let record = (2 * pixels + latent + classes) * 4 + 4;
    let floats = |at: usize, n: usize| -> Vec<f32> {
        (0..n).map(|k| f32::from_le_bytes(vectors[at + 4 * k..at + 4 * k + 4].try_into().unwrap())).collect()
    };
    let (mut code, mut image, mut roundtrip) = (vec![0f32; latent], vec![0f32; pixels], vec![0f32; pixels]);
    let mut logits = vec![0f32; m.classes().unwrap_or(0)];
    let mut scratch = vec![0u8; m.max_scratch_len()];
    let mut crc = Crc32::new();
    for i in 0..count {
        let at = 32 + i * record;
        let mut b = Buffers {
            code: &mut code,
            image: &mut image,
            roundtrip: &mut roundtrip,
            logits: &mut logits,
            scratch: &mut scratch,
        };
        check::vector(&m, &floats(at, pixels), &floats(at + 4 * pixels, latent), &mut b, &mut crc).unwrap();
    }
    let mut b = Buffers {
        code: &mut code,
        image: &mut image,
        roundtrip: &mut roundtrip,
        logits: &mut logits,
        scratch: &mut scratch,
    };
    check::samples(&m, check::SAMPLE_SEED, check::SAMPLE_COUNT, &mut b, &mut crc).unwrap();
    (crc.finish(), count)
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

#[test]
fn c_program_matches_the_rust_runtime() {
    let assets = crate_dir().join("../firmware-demo/cortex-m4/assets");
    let (model, vectors) = (assets.join("model.bnq"), assets.join("vectors.bin"));
    let (digest, count) = rust_digest(&std::fs::read(&model).unwrap(), &std::fs::read(&vectors).unwrap());

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

    let run = Command::new(&out).arg(&model).arg(&vectors).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "the C check failed:\n{stdout}{}", String::from_utf8_lossy(&run.stderr));
    let expected = format!("digest {digest:#010x} vectors {count}");
    assert!(stdout.lines().any(|l| l == expected), "C printed:\n{stdout}\nRust computed: {expected}");
}
