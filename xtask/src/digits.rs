//! `cargo xtask digits [DIR]`: scikit-learn's 8x8 handwritten digits (1,797 images, UCI's
//! optdigits test set) written out as an image folder of PNG files, for the tests of
//! `--dataset folder`. The data comes from Debian's `python3-sklearn` package, which ships it as
//! `digits.csv.gz`; only that package file is downloaded (`apt-get download`, no installation and
//! none of its dependencies). Default DIR: `~/.cache/bottleneck/sklearn-digits`.
//!
//! Layout: `train/<digit>/<row>.png` and `test/<digit>/<row>.png`; every fourth row of the CSV is
//! a test image. Pixels are the CSV's 0..=16 counts scaled to 0..=255.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};

use crate::shell;

const CSV_IN_DEB: &str = "./usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";
/// Written last: a folder without it is incomplete and is rebuilt.
const DONE: &str = "DONE";

/// The default folder.
pub fn default_dir() -> PathBuf {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(home).join(".cache/bottleneck/sklearn-digits")
}

pub fn run(args: &[String]) -> Result<(), String> {
    let dir = args.first().map_or_else(default_dir, PathBuf::from);
    ensure(&dir)?;
    eprintln!("digits: {}", dir.display());
    Ok(())
}

/// Writes the folder unless it is already complete.
pub fn ensure(dir: &Path) -> Result<(), String> {
    if dir.join(DONE).is_file() {
        return Ok(());
    }
    let work = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let csv = fetch_csv(&work)?;
    let text = read_gz(&csv)?;
    let images = work.join("images");
    let mut count = 0;
    for (row, line) in text.lines().enumerate() {
        let values: Vec<u8> = line
            .split(',')
            .map(|v| v.trim().parse::<u8>().map_err(|e| format!("{}: row {row}: {v:?}: {e}", csv.display())))
            .collect::<Result<_, _>>()?;
        let [pixels @ .., label] = values.as_slice() else { continue };
        if pixels.len() != 64 || *label > 9 || pixels.iter().any(|&p| p > 16) {
            return Err(format!("{}: row {row} is not 64 pixels in 0..=16 and a digit", csv.display()));
        }
        let split = if row % 4 == 3 { "test" } else { "train" };
        let path = images.join(split).join(label.to_string()).join(format!("{row:04}.png"));
        let grey: Vec<u8> = pixels.iter().map(|&p| ((u32::from(p) * 255 + 8) / 16) as u8).collect();
        write_png(&path, &grey)?;
        count += 1;
    }
    if count != 1797 {
        return Err(format!("{}: {count} images, expected 1797", csv.display()));
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&images, dir).map_err(|e| format!("moving {} to {}: {e}", images.display(), dir.display()))?;
    let _ = std::fs::remove_dir_all(&work);
    std::fs::write(dir.join(DONE), format!("{count} images from Debian's python3-sklearn digits.csv.gz\n"))
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// Downloads python3-sklearn's package file into `work` and takes `digits.csv.gz` out of it.
fn fetch_csv(work: &Path) -> Result<PathBuf, String> {
    let download = || {
        let mut c = shell::cmd("apt-get", &["download", "-qq", "python3-sklearn"]);
        c.current_dir(work);
        c.status().is_ok_and(|s| s.success())
    };
    if !download() {
        // A fresh machine may have no package lists yet.
        crate::install::apt_update()?;
        if !download() {
            return Err("apt-get download python3-sklearn failed".into());
        }
    }
    let deb = std::fs::read_dir(work)
        .map_err(|e| format!("{}: {e}", work.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .ok_or("apt-get download left no .deb file")?;
    let csv = work.join("digits.csv.gz");
    let script = format!("dpkg-deb --fsys-tarfile '{}' | tar -xO '{CSV_IN_DEB}' > '{}'", deb.display(), csv.display());
    shell::run("take digits.csv.gz out of python3-sklearn", shell::cmd("sh", &["-c", &script]))?;
    Ok(csv)
}

fn read_gz(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    for line in BufReader::new(flate2::read::GzDecoder::new(file)).lines() {
        text.push_str(&line.map_err(|e| format!("{}: {e}", path.display()))?);
        text.push('\n');
    }
    Ok(text)
}

fn write_png(path: &Path, grey: &[u8]) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).map_err(|e| err(&e))?;
    let file = std::fs::File::create(path).map_err(|e| err(&e))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), 8, 8);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(|e| err(&e))?;
    w.write_image_data(grey).map_err(|e| err(&e))
}
