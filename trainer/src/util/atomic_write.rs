//! Atomic file writes: a crash leaves the old file or the new one, never half of one.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes a file atomically: the content goes to a temporary file in the same folder, is flushed to
/// disk, then renamed over `path`. A crash leaves either the old file or the new one, never half.
///
/// # Errors
/// Any I/O error of creating, writing or renaming.
pub fn atomic_write(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    // Temporary files are private (0600) by default; the result is an ordinary file.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder.tempfile_in(dir)?;
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        write(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// [`atomic_write`] of a byte buffer.
///
/// # Errors
/// As [`atomic_write`].
pub fn atomic_write_bytes(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    atomic_write(path, |w| w.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_file_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/out.txt");
        atomic_write_bytes(&p, b"first").unwrap();
        atomic_write_bytes(&p, b"second").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second");
        // A failing writer leaves the old content in place.
        let err = atomic_write(&p, |_| Err(std::io::Error::other("boom"))).unwrap_err();
        assert_eq!(err.to_string(), "boom");
        assert_eq!(fs::read(&p).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(p.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec!["out.txt"]);
    }
}
