//! `cargo xtask sample-data`: the stratified Fashion-MNIST sample kept in the repository.

use crate::shell;

/// Rebuilds `data/fashion-mnist-sample/` (5,800 training and 1,000 test images, 580 and 100 per
/// class) from the full dataset (Debian's `dataset-fashion-mnist`, or the folder given).
pub fn run(args: &[String]) -> Result<(), String> {
    crate::install::apt(&[("dataset-fashion-mnist", "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")])?;
    let from = args.first().map_or("/usr/share/datasets/fashion-mnist", String::as_str);
    let out = shell::root().join("data/fashion-mnist-sample");
    let out = out.to_string_lossy();
    shell::run(
        "make the sample",
        shell::cargo(&[
            "run",
            "--release",
            "-p",
            "bottleneck",
            "--",
            "data",
            "--data",
            from,
            "sample",
            "--out",
            &out,
            "--train",
            "5800",
            "--test",
            "1000",
        ]),
    )
}
