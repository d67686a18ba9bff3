//! Why a dataset could not be loaded: each error names the file or folder and the fix.

use std::path::PathBuf;

use super::dataset::DatasetKind;
use super::idx::IdxError;
use super::origin::{DATA_ENV, DEBIAN_DIR};

/// Why a dataset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error(
        "{dir} (from {origin}) has no {stem} (looked for {stem}.gz, {stem} and the '.idx' \
         spelling); point it at a folder holding the four IDX files"
    )]
    Missing { dir: PathBuf, origin: &'static str, stem: &'static str },
    #[error(
        "no {kind} files found: {kind} has no Debian package and no bundled sample; pass --data DIR \
         or set {DATA_ENV} to {}",
        what_to_bring(*kind)
    )]
    NoSource { kind: DatasetKind },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a readable image ({source}); remove or replace the file")]
    Image { path: PathBuf, source: image::ImageError },
    #[error(
        "{dir} has no class sub-folders; an image folder holds one sub-folder of PNG or JPEG files per \
         class (or train/ and test/, each with class sub-folders)"
    )]
    NoClasses { dir: PathBuf },
    #[error("{dir}: the class folder holds no PNG or JPEG file")]
    EmptyClass { dir: PathBuf },
    #[error("{dir}: this test class has no folder in {train}; both splits must use the training split's classes")]
    UnknownClass { dir: PathBuf, train: PathBuf },
    #[error("{dir}: {classes} classes; at most 256 are supported (labels are bytes)")]
    TooManyClasses { dir: PathBuf, classes: usize },
    #[error("the image folder holds no image")]
    NoImages,
    #[error(
        "images differ in size ({first} is {}x{}, {other} is {}x{}); pass --image-size N to resize them all \
         to NxN",
        first_size.0, first_size.1, other_size.0, other_size.1
    )]
    MixedSizes { first: PathBuf, first_size: (u32, u32), other: PathBuf, other_size: (u32, u32) },
    #[error("{path}: images are {}x{}, not square; pass --image-size N to centre-crop and resize them to NxN", size.0, size.1)]
    NotSquare { path: PathBuf, size: (u32, u32) },
    #[error(
        "{dir}: no CIFAR-10 binary batches (data_batch_1.bin .. data_batch_5.bin and test_batch.bin) in \
         it or in its cifar-10-batches-bin/; unpack cifar-10-binary.tar.gz there"
    )]
    NoCifar { dir: PathBuf },
    #[error(
        "{path}: {len} bytes is not a whole number of CIFAR-10 records (3073 bytes each); the file is truncated or not a CIFAR-10 batch"
    )]
    BadCifar { path: PathBuf, len: usize },
    #[error("--image-size {0} is too small (at least 4 pixels)")]
    TinySize(usize),
    #[error(
        "no Fashion-MNIST found: neither {DEBIAN_DIR} nor the bundled sample at {sample} exists; \
         run `apt-get install dataset-fashion-mnist`, pass --data DIR, or set {DATA_ENV}"
    )]
    NoSample { sample: PathBuf },
    #[error(transparent)]
    Idx(#[from] IdxError),
    #[error("{images}: holds {n_images} images but {labels} holds {n_labels} labels")]
    CountMismatch { images: PathBuf, labels: PathBuf, n_images: usize, n_labels: usize },
    #[error("{path}: label {label} at index {index} is out of range (this dataset has {classes} classes)")]
    BadLabel { path: PathBuf, index: usize, label: u8, classes: usize },
    #[error("{test}: images are {test_h}x{test_w} but the training images in {train} are {train_h}x{train_w}")]
    ShapeMismatch { train: PathBuf, test: PathBuf, train_h: usize, train_w: usize, test_h: usize, test_w: usize },
}

/// What a user must point `--data` at for `kind`.
fn what_to_bring(kind: DatasetKind) -> &'static str {
    match kind {
        DatasetKind::FashionMnist | DatasetKind::Mnist => {
            "a folder holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz \
             and t10k-labels-idx1-ubyte.gz"
        }
        DatasetKind::Cifar10 => "the folder where cifar-10-binary.tar.gz was unpacked",
        DatasetKind::Folder => "an image folder (one sub-folder of PNG or JPEG files per class)",
    }
}
