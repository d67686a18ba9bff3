//! Reader and writer for the IDX format of MNIST and Fashion-MNIST.
//!
//! An IDX file is a 4-byte magic (`00 00 <type> <ndims>`), `ndims` big-endian `u32` sizes and the
//! data, row-major. Only type `0x08` (unsigned bytes) is used by these datasets. Files may be gzip
//! compressed; compression is recognised by the gzip magic, not by the file name, so a file named
//! `.gz` that is not gzip is reported as such.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const TYPE_U8: u8 = 0x08;
/// Largest size accepted in any dimension; a larger one is a corrupt header, not a dataset.
const MAX_DIM: usize = 1 << 28;

/// An IDX tensor of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Sizes, outermost first (e.g. `[60000, 28, 28]`).
    pub dims: Vec<usize>,
    /// The elements, row-major.
    pub data: Vec<u8>,
}

/// Everything that can be wrong with an IDX file; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    #[error("{path}: cannot read the file: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "{path}: the name ends in .gz but the file is not gzip (it starts with {found:02x?}); \
         decompress it under a name without .gz, or fetch the file again"
    )]
    NotGzip { path: PathBuf, found: Vec<u8> },
    #[error("{path}: corrupt or truncated gzip stream ({source}); fetch the file again")]
    Gzip { path: PathBuf, source: std::io::Error },
    #[error("{path}: the file is {len} bytes, too short for an IDX header; fetch the file again")]
    TooShort { path: PathBuf, len: usize },
    #[error(
        "{path}: bad IDX magic {found:02x?}: expected 00 00 08 0N (unsigned bytes, N dimensions); \
         is this an IDX file?"
    )]
    BadMagic { path: PathBuf, found: [u8; 4] },
    #[error("{path}: expected {expected} dimensions ({what}), the header says {found}")]
    Rank { path: PathBuf, what: &'static str, expected: usize, found: usize },
    #[error("{path}: dimension {index} is {value}, which no dataset of this kind has")]
    BadDim { path: PathBuf, index: usize, value: usize },
    #[error(
        "{path}: truncated: the header promises {expected} bytes of data, the file holds {found}; \
         fetch the file again"
    )]
    Truncated { path: PathBuf, expected: usize, found: usize },
    #[error("{path}: {extra} unexpected bytes after the {expected} bytes of data the header promises")]
    Trailing { path: PathBuf, expected: usize, extra: usize },
}

impl IdxArray {
    /// Reads and checks an IDX file (raw or gzip).
    ///
    /// # Errors
    /// Any [`IdxError`]: unreadable file, bad gzip, bad magic, impossible sizes, truncation or
    /// trailing bytes.
    pub fn read(path: &Path) -> Result<Self, IdxError> {
        let raw = fs::read(path).map_err(|source| IdxError::Io { path: path.into(), source })?;
        Self::from_bytes(path, &raw)
    }

    /// Parses IDX bytes (raw or gzip); `path` is only used in errors.
    ///
    /// # Errors
    /// As [`IdxArray::read`].
    pub fn from_bytes(path: &Path, raw: &[u8]) -> Result<Self, IdxError> {
        let named_gz = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        let bytes = if raw.starts_with(&GZIP_MAGIC) {
            let mut out = Vec::with_capacity(raw.len() * 2);
            GzDecoder::new(raw).read_to_end(&mut out).map_err(|source| IdxError::Gzip { path: path.into(), source })?;
            out
        } else if named_gz {
            return Err(IdxError::NotGzip { path: path.into(), found: raw.iter().take(4).copied().collect() });
        } else {
            raw.to_vec()
        };
        Self::parse_uncompressed(path, bytes)
    }

    fn parse_uncompressed(path: &Path, mut bytes: Vec<u8>) -> Result<Self, IdxError> {
        let Some(magic) = bytes.first_chunk::<4>().copied() else {
            return Err(IdxError::TooShort { path: path.into(), len: bytes.len() });
        };
        if magic[0] != 0 || magic[1] != 0 || magic[2] != TYPE_U8 || magic[3] == 0 || magic[3] > 4 {
            return Err(IdxError::BadMagic { path: path.into(), found: magic });
        }
        let rank = usize::from(magic[3]);
        let header_len = 4 + 4 * rank;
        if bytes.len() < header_len {
            return Err(IdxError::TooShort { path: path.into(), len: bytes.len() });
        }
        let mut dims = Vec::with_capacity(rank);
        for index in 0..rank {
            let at = 4 + 4 * index;
            let value = u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
            if value > MAX_DIM {
                return Err(IdxError::BadDim { path: path.into(), index, value });
            }
            dims.push(value);
        }
        let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or(IdxError::BadDim {
            path: path.into(),
            index: 0,
            value: dims[0],
        })?;
        let found = bytes.len() - header_len;
        if found < expected {
            return Err(IdxError::Truncated { path: path.into(), expected, found });
        }
        if found > expected {
            return Err(IdxError::Trailing { path: path.into(), expected, extra: found - expected });
        }
        bytes.drain(..header_len);
        Ok(Self { dims, data: bytes })
    }

    /// Checks the rank, naming `what` the file should hold in the error.
    ///
    /// # Errors
    /// [`IdxError::Rank`] when the file has another number of dimensions.
    pub fn expect_rank(&self, path: &Path, rank: usize, what: &'static str) -> Result<(), IdxError> {
        if self.dims.len() == rank {
            Ok(())
        } else {
            Err(IdxError::Rank { path: path.into(), what, expected: rank, found: self.dims.len() })
        }
    }

    /// Serialises to IDX bytes (uncompressed).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + 4 * self.dims.len() + self.data.len());
        out.extend_from_slice(&[0, 0, TYPE_U8, self.dims.len() as u8]);
        for &d in &self.dims {
            out.extend_from_slice(&(d as u32).to_be_bytes());
        }
        out.extend_from_slice(&self.data);
        out
    }

    /// Writes the array gzip-compressed (best compression) to any writer.
    ///
    /// # Errors
    /// Any I/O error of the writer.
    pub fn write_gz(&self, writer: impl Write) -> std::io::Result<()> {
        let mut enc = flate2::write::GzEncoder::new(writer, flate2::Compression::best());
        enc.write_all(&self.to_bytes())?;
        enc.finish()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(n: usize) -> IdxArray {
        IdxArray { dims: vec![n, 2, 3], data: (0..n * 6).map(|i| i as u8).collect() }
    }

    fn gz(a: &IdxArray) -> Vec<u8> {
        let mut out = Vec::new();
        a.write_gz(&mut out).unwrap();
        out
    }

    #[test]
    fn round_trips_raw_and_gzip() {
        let a = images(4);
        let raw = IdxArray::from_bytes(Path::new("x-idx3-ubyte"), &a.to_bytes()).unwrap();
        assert_eq!(raw, a);
        let z = IdxArray::from_bytes(Path::new("x-idx3-ubyte.gz"), &gz(&a)).unwrap();
        assert_eq!(z, a);
    }

    #[test]
    fn truncated_data_is_reported_with_sizes() {
        let mut bytes = images(4).to_bytes();
        bytes.truncate(bytes.len() - 5);
        let err = IdxArray::from_bytes(Path::new("t.idx"), &bytes).unwrap_err();
        assert!(matches!(err, IdxError::Truncated { expected: 24, found: 19, .. }), "{err}");
        assert!(err.to_string().starts_with("t.idx: truncated"), "{err}");
    }

    #[test]
    fn truncated_header_is_too_short() {
        let err = IdxArray::from_bytes(Path::new("t.idx"), &[0, 0, 8, 3, 0, 0]).unwrap_err();
        assert!(matches!(err, IdxError::TooShort { len: 6, .. }), "{err}");
        let err = IdxArray::from_bytes(Path::new("t.idx"), &[0, 0]).unwrap_err();
        assert!(matches!(err, IdxError::TooShort { len: 2, .. }), "{err}");
    }

    #[test]
    fn truncated_gzip_is_a_gzip_error() {
        let z = gz(&images(50));
        let err = IdxArray::from_bytes(Path::new("t.gz"), &z[..z.len() / 2]).unwrap_err();
        assert!(matches!(err, IdxError::Gzip { .. }), "{err}");
    }

    #[test]
    fn wrong_magic_is_rejected() {
        let mut bytes = images(2).to_bytes();
        bytes[2] = 0x0d; // float data, not bytes
        let err = IdxArray::from_bytes(Path::new("t.idx"), &bytes).unwrap_err();
        assert!(matches!(err, IdxError::BadMagic { found: [0, 0, 0x0d, 3], .. }), "{err}");
        let err = IdxArray::from_bytes(Path::new("t.idx"), b"PK\x03\x04zipfile").unwrap_err();
        assert!(matches!(err, IdxError::BadMagic { .. }), "{err}");
    }

    #[test]
    fn wrong_count_leaves_trailing_bytes() {
        // A header that claims 3 images while 4 follow.
        let mut bytes = images(4).to_bytes();
        bytes[7] = 3;
        let err = IdxArray::from_bytes(Path::new("t.idx"), &bytes).unwrap_err();
        assert!(matches!(err, IdxError::Trailing { expected: 18, extra: 6, .. }), "{err}");
        // And one that claims 5.
        bytes[7] = 5;
        let err = IdxArray::from_bytes(Path::new("t.idx"), &bytes).unwrap_err();
        assert!(matches!(err, IdxError::Truncated { expected: 30, found: 24, .. }), "{err}");
    }

    #[test]
    fn absurd_dimension_is_rejected_before_allocating() {
        let bytes = [0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff];
        let err = IdxArray::from_bytes(Path::new("t.idx"), &bytes).unwrap_err();
        assert!(matches!(err, IdxError::BadDim { index: 0, .. }), "{err}");
    }

    #[test]
    fn gz_name_without_gzip_content_is_not_gzip() {
        let bytes = images(2).to_bytes();
        let err = IdxArray::from_bytes(Path::new("train.gz"), &bytes).unwrap_err();
        assert!(matches!(err, IdxError::NotGzip { .. }), "{err}");
        assert!(err.to_string().contains("train.gz"), "{err}");
    }

    #[test]
    fn rank_is_checked() {
        let a = images(1);
        assert!(a.expect_rank(Path::new("l"), 3, "images").is_ok());
        let err = a.expect_rank(Path::new("l"), 1, "labels").unwrap_err();
        assert!(matches!(err, IdxError::Rank { expected: 1, found: 3, .. }), "{err}");
    }
}
