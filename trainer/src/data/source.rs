//! Finding and loading a dataset: `--data`, then `BOTTLENECK_DATA`, then (for Fashion-MNIST)
//! Debian's `dataset-fashion-mnist`, then the sample shipped in the repository; IDX files here,
//! CIFAR-10 batches and image folders in their own modules.

use std::path::{Path, PathBuf};

use super::dataset::{Dataset, DatasetKind, ImageSet};
pub use super::error::DataError;
use super::idx::IdxArray;
pub use super::origin::{DATA_ENV, DEBIAN_DIR, DataSource, Origin};
/// The stratified sample of the real Fashion-MNIST kept in this repository
/// (made by `cargo xtask sample-data`; see `data/README.md`).
pub const SAMPLE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/fashion-mnist-sample");

const STEMS: [(&str, &str); 4] = [
    ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
];

/// The path of one IDX file in `dir`, trying the gzip and raw names and the dotted spelling.
fn find_file(dir: &Path, stems: (&'static str, &'static str)) -> Option<PathBuf> {
    [stems.0, stems.1]
        .iter()
        .flat_map(|s| [format!("{s}.gz"), (*s).to_string()])
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
}

fn has_all_files(dir: &Path) -> bool {
    STEMS.iter().all(|&s| find_file(dir, s).is_some())
}

/// Chooses the data folder for `kind`: `flag`, then `env` (the value of `BOTTLENECK_DATA`), then, for
/// Fashion-MNIST, Debian's package folder and the bundled sample.
///
/// A folder named by the flag or the variable is used even if files are missing there, so that the
/// error names it, rather than silently falling back to other data.
///
/// # Errors
/// [`DataError::NoSource`] / [`DataError::NoSample`] when nothing is found.
pub fn locate(kind: DatasetKind, flag: Option<&Path>, env: Option<&Path>) -> Result<DataSource, DataError> {
    if let Some(dir) = flag {
        return Ok(DataSource { origin: Origin::Flag, dir: dir.into() });
    }
    if let Some(dir) = env.filter(|d| !d.as_os_str().is_empty()) {
        return Ok(DataSource { origin: Origin::Env, dir: dir.into() });
    }
    if kind != DatasetKind::FashionMnist {
        return Err(DataError::NoSource { kind });
    }
    let debian = Path::new(DEBIAN_DIR);
    if has_all_files(debian) {
        return Ok(DataSource { origin: Origin::Debian, dir: debian.into() });
    }
    let sample = Path::new(SAMPLE_DIR);
    if has_all_files(sample) {
        return Ok(DataSource { origin: Origin::Sample, dir: sample.into() });
    }
    Err(DataError::NoSample { sample: sample.into() })
}

fn origin_name(origin: Origin) -> &'static str {
    match origin {
        Origin::Flag => "--data",
        Origin::Env => DATA_ENV,
        Origin::Debian => "the Debian package",
        Origin::Sample => "the bundled sample",
        Origin::Run => "the run's config.toml; pass --data DIR to use another folder",
    }
}

fn load_split(
    source: &DataSource,
    images: (&'static str, &'static str),
    labels: (&'static str, &'static str),
    classes: usize,
) -> Result<(ImageSet, PathBuf), DataError> {
    let find = |stems: (&'static str, &'static str)| {
        find_file(&source.dir, stems).ok_or_else(|| DataError::Missing {
            dir: source.dir.clone(),
            origin: origin_name(source.origin),
            stem: stems.0,
        })
    };
    let (img_path, lbl_path) = (find(images)?, find(labels)?);
    let img = IdxArray::read(&img_path)?;
    img.expect_rank(&img_path, 3, "images: count, rows, columns")?;
    let lbl = IdxArray::read(&lbl_path)?;
    lbl.expect_rank(&lbl_path, 1, "labels: count")?;
    if img.dims[0] != lbl.dims[0] {
        return Err(DataError::CountMismatch {
            images: img_path,
            labels: lbl_path,
            n_images: img.dims[0],
            n_labels: lbl.dims[0],
        });
    }
    if let Some((index, &label)) = lbl.data.iter().enumerate().find(|(_, l)| usize::from(**l) >= classes) {
        return Err(DataError::BadLabel { path: lbl_path, index, label, classes });
    }
    let set = ImageSet { pixels: img.data, labels: lbl.data, channels: 1, height: img.dims[1], width: img.dims[2] };
    Ok((set, img_path))
}

/// Loads both official splits of `kind` from `source`, checking every file, and resizes the
/// images to `image_size x image_size` when given (centre-cropped to a square first).
///
/// # Errors
/// Any [`DataError`]: a missing file, a corrupt IDX file or image, counts or shapes that disagree,
/// a label out of range.
pub fn load(kind: DatasetKind, source: DataSource, image_size: Option<usize>) -> Result<Dataset, DataError> {
    if let Some(s) = image_size.filter(|&s| s < 4) {
        return Err(DataError::TinySize(s));
    }
    let (classes, train, test) = match kind {
        DatasetKind::FashionMnist | DatasetKind::Mnist => load_idx(kind, &source)?,
        DatasetKind::Cifar10 => super::cifar::load(&source.dir)?,
        DatasetKind::Folder => super::folder::load(&source.dir, image_size)?,
    };
    let (train, test) = match image_size {
        Some(side) => (train.resized(side), test.resized(side)),
        None => (train, test),
    };
    Ok(Dataset { kind, source, classes, train, test })
}

/// The two splits of an IDX dataset.
fn load_idx(kind: DatasetKind, source: &DataSource) -> Result<(Vec<String>, ImageSet, ImageSet), DataError> {
    let names = kind.known_classes().unwrap_or_default();
    let classes = names.len();
    let (train, train_path) = load_split(source, STEMS[0], STEMS[1], classes)?;
    let (test, test_path) = load_split(source, STEMS[2], STEMS[3], classes)?;
    if (train.height, train.width) != (test.height, test.width) {
        return Err(DataError::ShapeMismatch {
            train: train_path,
            test: test_path,
            train_h: train.height,
            train_w: train.width,
            test_h: test.height,
            test_w: test.width,
        });
    }
    Ok((names.iter().map(|c| (*c).to_string()).collect(), train, test))
}

/// Writes a split as gzip IDX files named like the originals (`prefix` is `train` or `t10k`).
///
/// # Errors
/// Any I/O error, naming the file.
pub fn write_split(dir: &Path, prefix: &str, set: &ImageSet) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let images = IdxArray { dims: vec![set.len(), set.height, set.width], data: set.pixels.clone() };
    let labels = IdxArray { dims: vec![set.len()], data: set.labels.clone() };
    for (name, array) in [("images-idx3-ubyte.gz", images), ("labels-idx1-ubyte.gz", labels)] {
        let path = dir.join(format!("{prefix}-{name}"));
        crate::util::atomic_write(&path, |w| array.write_gz(w))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_set(dir: &Path, n_train: usize, n_test: usize) {
        let set = |n: usize| ImageSet {
            pixels: (0..n * 16).map(|i| i as u8).collect(),
            labels: (0..n).map(|i| (i % 10) as u8).collect(),
            channels: 1,
            height: 4,
            width: 4,
        };
        write_split(dir, "train", &set(n_train)).unwrap();
        write_split(dir, "t10k", &set(n_test)).unwrap();
    }

    #[test]
    fn flag_wins_over_env_and_is_not_second_guessed() {
        let s = locate(DatasetKind::Mnist, Some(Path::new("/a")), Some(Path::new("/b"))).unwrap();
        assert_eq!(s, DataSource { origin: Origin::Flag, dir: "/a".into() });
        let s = locate(DatasetKind::Mnist, None, Some(Path::new("/b"))).unwrap();
        assert_eq!(s.origin, Origin::Env);
        assert!(matches!(locate(DatasetKind::Mnist, None, None), Err(DataError::NoSource { .. })));
    }

    #[test]
    fn loads_a_folder_and_reports_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), 30, 10);
        let src = DataSource { origin: Origin::Flag, dir: dir.path().into() };
        let ds = load(DatasetKind::FashionMnist, src.clone(), None).unwrap();
        assert_eq!((ds.train.len(), ds.test.len(), ds.train.height), (30, 10, 4));
        assert_eq!(ds.train.class_counts(10), vec![3; 10]);
        std::fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte.gz")).unwrap();
        let err = load(DatasetKind::FashionMnist, src, None).unwrap_err();
        assert!(matches!(err, DataError::Missing { stem: "t10k-labels-idx1-ubyte", .. }), "{err}");
    }

    #[test]
    fn count_mismatch_names_both_files() {
        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), 30, 10);
        let labels = IdxArray { dims: vec![29], data: vec![0; 29] };
        let path = dir.path().join("train-labels-idx1-ubyte.gz");
        labels.write_gz(std::fs::File::create(&path).unwrap()).unwrap();
        let src = DataSource { origin: Origin::Flag, dir: dir.path().into() };
        let err = load(DatasetKind::FashionMnist, src, None).unwrap_err();
        assert!(matches!(err, DataError::CountMismatch { n_images: 30, n_labels: 29, .. }), "{err}");
    }

    #[test]
    fn out_of_range_label_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_set(dir.path(), 12, 10);
        let labels = IdxArray { dims: vec![12], data: vec![3, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0] };
        labels.write_gz(std::fs::File::create(dir.path().join("train-labels-idx1-ubyte.gz")).unwrap()).unwrap();
        let src = DataSource { origin: Origin::Flag, dir: dir.path().into() };
        let err = load(DatasetKind::FashionMnist, src, None).unwrap_err();
        assert!(matches!(err, DataError::BadLabel { index: 2, label: 12, .. }), "{err}");
    }
}
