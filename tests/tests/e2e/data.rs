//! `bottleneck data`: sources, counts and errors on bad files.

use super::util::{fails, ok, sample, sample_copy};

#[test]
fn reports_source_and_counts_of_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let out = ok(dir.path(), &["data", "--data", s.to_str().unwrap()]);
    assert!(out.contains("(from --data)"), "{out}");
    assert!(out.contains("train 5800 (of which 580 held out"), "{out}");
    assert!(out.contains("test 1000"), "{out}");
    assert!(out.contains("9 Ankle boot"), "{out}");
    // 580 per class: 522 trained on, 58 held out, 100 test.
    assert!(
        out.lines().any(|l| l.starts_with("0 T-shirt/top")
            && l.split_whitespace().rev().take(3).collect::<Vec<_>>() == ["100", "58", "522"]),
        "{out}"
    );
}

#[test]
fn environment_variable_is_used_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(super::util::bin())
        .args(["data"])
        .current_dir(dir.path())
        .env("BOTTLENECK_DATA", sample())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("(from BOTTLENECK_DATA)"), "{stdout}");
}

#[test]
fn truncated_file_is_named_with_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample_copy(dir.path());
    let f = data.join("train-images-idx3-ubyte.gz");
    let bytes = std::fs::read(&f).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() / 3]).unwrap();
    let err = fails(dir.path(), &["data", "--data", data.to_str().unwrap()], 1);
    assert!(err.contains("train-images-idx3-ubyte.gz"), "{err}");
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn missing_file_and_mismatched_counts_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample_copy(dir.path());
    // Test labels replaced by the training labels: 5800 labels for 1000 images.
    std::fs::copy(data.join("train-labels-idx1-ubyte.gz"), data.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let err = fails(dir.path(), &["data", "--data", data.to_str().unwrap()], 1);
    assert!(err.contains("holds 1000 images but") && err.contains("5800 labels"), "{err}");
    std::fs::remove_file(data.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let err = fails(dir.path(), &["data", "--data", data.to_str().unwrap()], 1);
    assert!(err.contains("has no t10k-labels-idx1-ubyte"), "{err}");
}

#[test]
fn mnist_without_a_folder_says_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(dir.path(), &["data", "--dataset", "mnist"], 1);
    assert!(err.contains("pass --data DIR"), "{err}");
}

#[test]
fn bad_arguments_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(dir.path(), &["data", "--valid-fraction", "2"], 2);
    assert!(err.contains("not in [0, 1)"), "{err}");
}
