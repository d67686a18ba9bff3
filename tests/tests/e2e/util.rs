//! Finding the binary, running it, and the bundled sample.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// The bundled Fashion-MNIST sample.
pub fn sample() -> PathBuf {
    repo().join("data/fashion-mnist-sample")
}

/// The `bottleneck` binary: `$BOTTLENECK_BIN`, or the one built next to this test binary.
pub fn bin() -> PathBuf {
    if let Some(p) = std::env::var_os("BOTTLENECK_BIN") {
        return p.into();
    }
    // This test runs from <target>/<profile>/deps/e2e-<hash>; the binary is <target>/<profile>/bottleneck.
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let bin = profile_dir.join(format!("bottleneck{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} not found: build it first with `cargo build -p bottleneck` in the same profile (or set BOTTLENECK_BIN)",
        bin.display()
    );
    bin
}

/// Runs `bottleneck args...` in `dir` with no inherited data variable.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin()).args(args).current_dir(dir).env_remove("BOTTLENECK_DATA").output().expect("start bottleneck")
}

/// Runs and asserts success; returns stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "bottleneck {args:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs and asserts failure with `code`; returns stderr.
pub fn fails(dir: &Path, args: &[&str], code: i32) -> String {
    let out = run(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "bottleneck {args:?}: expected exit {code}\nstderr:\n{stderr}");
    stderr
}

/// A copy of the bundled sample in a fresh folder, for tests that damage files.
pub fn sample_copy(dir: &Path) -> PathBuf {
    let dst = dir.join("data");
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(sample()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    dst
}

/// Reads a column of a run's metrics.csv.
pub fn metric(run: &Path, column: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let c = header.iter().position(|h| *h == column).unwrap_or_else(|| panic!("no column {column} in {header:?}"));
    lines.map(|l| l.split(',').nth(c).unwrap().parse().unwrap()).collect()
}
