//! Image folders: one sub-folder per class, or `train/` and `test/` each with one sub-folder per
//! class, of PNG or JPEG files. Class names are the sub-folders' names in sorted order.
//!
//! Without `train/` and `test/`, every fifth file of each class (in name order) is held out as the
//! test split: deterministic, stratified and independent of any seed, so every run of a folder
//! sees the same test images.

use std::path::{Path, PathBuf};

use image::DynamicImage;

use super::dataset::ImageSet;
use super::error::DataError;
use super::resize::square;

/// File extensions read as images (compared without case).
const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];
/// In a one-level folder, file `i` of a class goes to the test split when `i % TEST_EVERY` is
/// `TEST_EVERY - 1`.
const TEST_EVERY: usize = 5;

/// The classes and both splits of the folder `dir`, resized to `image_size` (or the images' own
/// size when they all share one square size).
///
/// # Errors
/// A folder without classes or a class without images, an unreadable image (named), images of
/// different sizes without `image_size`, a test class the training split lacks.
pub fn load(dir: &Path, image_size: Option<usize>) -> Result<(Vec<String>, ImageSet, ImageSet), DataError> {
    let (train_dir, test_dir) = (dir.join("train"), dir.join("test"));
    let (classes, train_files, test_files) = if train_dir.is_dir() && test_dir.is_dir() {
        let (classes, train) = list_classes(&train_dir)?;
        let (test_classes, test_by_class) = list_classes(&test_dir)?;
        let mut test = Vec::new();
        for (name, files) in test_classes.iter().zip(test_by_class) {
            let label = classes
                .iter()
                .position(|c| c == name)
                .ok_or_else(|| DataError::UnknownClass { dir: test_dir.join(name), train: train_dir.clone() })?;
            test.extend(files.into_iter().map(|f| (f, label)));
        }
        (classes, labelled(train), test)
    } else {
        let (classes, by_class) = list_classes(dir)?;
        let (mut train, mut test) = (Vec::new(), Vec::new());
        for (label, files) in by_class.into_iter().enumerate() {
            for (i, f) in files.into_iter().enumerate() {
                if i % TEST_EVERY == TEST_EVERY - 1 { &mut test } else { &mut train }.push((f, label));
            }
        }
        (classes, train, test)
    };
    if classes.len() > 256 {
        return Err(DataError::TooManyClasses { dir: dir.into(), classes: classes.len() });
    }
    let train = decode_all(&train_files)?;
    let test = decode_all(&test_files)?;
    let colour = train.iter().chain(&test).any(|img| img.color().has_color());
    let side = match image_size {
        Some(s) => s,
        None => {
            common_side(train_files.iter().chain(&test_files).map(|(p, _)| p.as_path()).zip(train.iter().chain(&test)))?
        }
    };
    let channels = if colour { 3 } else { 1 };
    Ok((classes, to_set(&train, &train_files, channels, side), to_set(&test, &test_files, channels, side)))
}

/// Sorted class sub-folders of `dir` and the sorted image files of each.
fn list_classes(dir: &Path) -> Result<(Vec<String>, Vec<Vec<PathBuf>>), DataError> {
    let io = |source| DataError::Io { path: dir.into(), source };
    let mut classes = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.path().is_dir() {
            classes.push(name);
        }
    }
    classes.sort();
    if classes.is_empty() {
        return Err(DataError::NoClasses { dir: dir.into() });
    }
    let mut files = Vec::with_capacity(classes.len());
    for class in &classes {
        let class_dir = dir.join(class);
        let io = |source| DataError::Io { path: class_dir.clone(), source };
        let mut list = Vec::new();
        for entry in std::fs::read_dir(&class_dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let image = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)));
            if image && path.is_file() {
                list.push(path);
            }
        }
        if list.is_empty() {
            return Err(DataError::EmptyClass { dir: class_dir });
        }
        list.sort();
        files.push(list);
    }
    Ok((classes, files))
}

fn labelled(by_class: Vec<Vec<PathBuf>>) -> Vec<(PathBuf, usize)> {
    by_class.into_iter().enumerate().flat_map(|(label, files)| files.into_iter().map(move |f| (f, label))).collect()
}

fn decode_all(files: &[(PathBuf, usize)]) -> Result<Vec<DynamicImage>, DataError> {
    files
        .iter()
        .map(|(path, _)| {
            let bad = |source| DataError::Image { path: path.clone(), source };
            image::ImageReader::open(path)
                .map_err(|source| DataError::Io { path: path.clone(), source })?
                .with_guessed_format()
                .map_err(|source| DataError::Io { path: path.clone(), source })?
                .decode()
                .map_err(bad)
        })
        .collect()
}

/// The side all images share when they are all square and of one size.
fn common_side<'a>(mut images: impl Iterator<Item = (&'a Path, &'a DynamicImage)>) -> Result<usize, DataError> {
    let Some((first, img)) = images.next() else { return Err(DataError::NoImages) };
    let size = (img.width(), img.height());
    if let Some((other, o)) = images.find(|(_, o)| (o.width(), o.height()) != size) {
        return Err(DataError::MixedSizes {
            first: first.into(),
            first_size: size,
            other: other.into(),
            other_size: (o.width(), o.height()),
        });
    }
    if size.0 != size.1 {
        return Err(DataError::NotSquare { path: first.into(), size });
    }
    Ok(size.0 as usize)
}

/// The decoded images as a channel-major set of `side x side` images.
fn to_set(images: &[DynamicImage], files: &[(PathBuf, usize)], channels: usize, side: usize) -> ImageSet {
    let mut pixels = Vec::with_capacity(images.len() * channels * side * side);
    for img in images {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let planar: Vec<u8> = if channels == 1 {
            img.to_luma8().into_raw()
        } else {
            let rgb = img.to_rgb8();
            let raw = rgb.as_raw();
            (0..3).flat_map(|c| raw.iter().skip(c).step_by(3).copied()).collect()
        };
        pixels.extend(square(&planar, channels, h, w, side));
    }
    let labels = files.iter().map(|&(_, l)| l as u8).collect();
    ImageSet { pixels, labels, channels, height: side, width: side }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(path: &Path, w: u32, h: u32, rgb: Option<[u8; 3]>, v: u8) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        match rgb {
            Some(c) => image::RgbImage::from_pixel(w, h, image::Rgb(c)).save(path).unwrap(),
            None => image::GrayImage::from_pixel(w, h, image::Luma([v])).save(path).unwrap(),
        }
    }

    #[test]
    fn one_level_folder_holds_out_every_fifth_file_per_class() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..10 {
            write_png(&dir.path().join(format!("cat/{i:02}.png")), 4, 4, None, 10 * i);
            write_png(&dir.path().join(format!("ant/{i:02}.PNG")), 4, 4, None, 200);
        }
        std::fs::write(dir.path().join("cat/notes.txt"), "not an image").unwrap();
        let (classes, train, test) = load(dir.path(), None).unwrap();
        assert_eq!(classes, ["ant", "cat"]);
        assert_eq!((train.len(), test.len(), train.channels, train.height), (16, 4, 1, 4));
        assert_eq!(test.labels, [0, 0, 1, 1]);
        // cat/04.png and cat/09.png are the held-out cats.
        assert_eq!((test.image(2)[0], test.image(3)[0]), (40, 90));
    }

    #[test]
    fn colour_anywhere_makes_the_set_rgb_and_sizes_are_resized() {
        let dir = tempfile::tempdir().unwrap();
        write_png(&dir.path().join("train/red/a.png"), 6, 6, Some([255, 0, 0]), 0);
        write_png(&dir.path().join("train/grey/a.png"), 8, 8, None, 90);
        write_png(&dir.path().join("test/red/b.png"), 6, 12, Some([250, 0, 0]), 0);
        let err = load(dir.path(), None).unwrap_err();
        assert!(matches!(err, DataError::MixedSizes { .. }), "{err}");
        let (classes, train, test) = load(dir.path(), Some(4)).unwrap();
        assert_eq!(classes, ["grey", "red"]);
        assert_eq!((train.channels, train.height, test.len()), (3, 4, 1));
        assert_eq!(test.labels, [1]);
        let red = test.image(0);
        assert!(red[..16].iter().all(|&v| v == 250) && red[16..].iter().all(|&v| v == 0), "{red:?}");
        assert!(train.image(0).iter().all(|&v| v == 90), "grey stays grey in RGB");
    }

    #[test]
    fn errors_name_the_file_or_folder() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(load(dir.path(), None), Err(DataError::NoClasses { .. })));
        std::fs::create_dir_all(dir.path().join("empty")).unwrap();
        let err = load(dir.path(), None).unwrap_err();
        assert!(matches!(err, DataError::EmptyClass { .. }) && err.to_string().contains("empty"), "{err}");
        write_png(&dir.path().join("empty/ok.png"), 4, 4, None, 1);
        std::fs::write(dir.path().join("empty/broken.png"), b"\x89PNG not really").unwrap();
        let err = load(dir.path(), None).unwrap_err();
        assert!(err.to_string().contains("broken.png"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        write_png(&dir.path().join("train/a/x.png"), 4, 4, None, 1);
        write_png(&dir.path().join("test/b/x.png"), 4, 4, None, 1);
        let err = load(dir.path(), None).unwrap_err();
        assert!(matches!(err, DataError::UnknownClass { .. }), "{err}");
    }
}
