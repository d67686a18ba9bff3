//! CIFAR-10's binary batches: `data_batch_1.bin` .. `data_batch_5.bin` and `test_batch.bin`, each a
//! run of 3073-byte records (a label byte, then the 32x32 red, green and blue planes), in the
//! folder or in its `cifar-10-batches-bin/` (how the archive unpacks).

use std::path::{Path, PathBuf};

use super::dataset::{CIFAR10_CLASSES, ImageSet};
use super::error::DataError;

const SIDE: usize = 32;
const RECORD: usize = 1 + 3 * SIDE * SIDE;
const TRAIN_FILES: [&str; 5] =
    ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
const TEST_FILE: &str = "test_batch.bin";

/// The folder holding the batches: `dir` or `dir/cifar-10-batches-bin`.
fn batches_dir(dir: &Path) -> Result<PathBuf, DataError> {
    [dir.to_path_buf(), dir.join("cifar-10-batches-bin")]
        .into_iter()
        .find(|d| d.join(TEST_FILE).is_file() && TRAIN_FILES.iter().all(|f| d.join(f).is_file()))
        .ok_or_else(|| DataError::NoCifar { dir: dir.into() })
}

/// Class names (from `batches.meta.txt` when present) and both splits.
///
/// # Errors
/// Missing batches, a file whose size is not a whole number of records, a label out of range.
pub fn load(dir: &Path) -> Result<(Vec<String>, ImageSet, ImageSet), DataError> {
    let dir = batches_dir(dir)?;
    let classes = match std::fs::read_to_string(dir.join("batches.meta.txt")) {
        Ok(text) => text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
        Err(_) => CIFAR10_CLASSES.iter().map(|c| (*c).to_string()).collect(),
    };
    let classes: Vec<String> = classes;
    let mut train = empty();
    for f in TRAIN_FILES {
        read_batch(&dir.join(f), classes.len(), &mut train)?;
    }
    let mut test = empty();
    read_batch(&dir.join(TEST_FILE), classes.len(), &mut test)?;
    Ok((classes, train, test))
}

fn empty() -> ImageSet {
    ImageSet { pixels: Vec::new(), labels: Vec::new(), channels: 3, height: SIDE, width: SIDE }
}

fn read_batch(path: &Path, classes: usize, set: &mut ImageSet) -> Result<(), DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io { path: path.into(), source })?;
    if bytes.is_empty() || bytes.len() % RECORD != 0 {
        return Err(DataError::BadCifar { path: path.into(), len: bytes.len() });
    }
    for (index, record) in bytes.chunks_exact(RECORD).enumerate() {
        let label = record[0];
        if usize::from(label) >= classes {
            return Err(DataError::BadLabel { path: path.into(), index, label, classes });
        }
        set.labels.push(label);
        set.pixels.extend_from_slice(&record[1..]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_batches(dir: &Path, per_file: usize) {
        std::fs::create_dir_all(dir).unwrap();
        for (f, name) in TRAIN_FILES.iter().chain([&TEST_FILE]).enumerate() {
            let mut bytes = Vec::new();
            for i in 0..per_file {
                bytes.push(((f + i) % 10) as u8);
                bytes.extend((0..RECORD - 1).map(|p| (p + i) as u8));
            }
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }

    #[test]
    fn reads_the_batches_where_the_archive_unpacks_them() {
        let root = tempfile::tempdir().unwrap();
        write_batches(&root.path().join("cifar-10-batches-bin"), 3);
        let (classes, train, test) = load(root.path()).unwrap();
        assert_eq!(classes[9], "truck");
        assert_eq!((train.len(), test.len(), train.channels, train.height), (15, 3, 3, 32));
        assert_eq!(train.labels[..4], [0, 1, 2, 1]);
        assert_eq!(test.image(1)[..3], [1, 2, 3]);
    }

    #[test]
    fn a_truncated_batch_and_a_bad_label_are_named() {
        let root = tempfile::tempdir().unwrap();
        assert!(matches!(load(root.path()), Err(DataError::NoCifar { .. })));
        write_batches(root.path(), 2);
        let test = root.path().join(TEST_FILE);
        let mut bytes = std::fs::read(&test).unwrap();
        bytes.pop();
        std::fs::write(&test, &bytes).unwrap();
        let err = load(root.path()).unwrap_err();
        assert!(err.to_string().contains("test_batch.bin"), "{err}");
        bytes[0] = 10;
        bytes.truncate(RECORD);
        std::fs::write(&test, &bytes).unwrap();
        assert!(matches!(load(root.path()), Err(DataError::BadLabel { label: 10, .. })));
    }
}
