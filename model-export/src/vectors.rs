//! Validation vectors (`vectors.bin`, format 1): test inputs with the float trainer's outputs, so
//! that any runtime (host, wasm, firmware) can be checked against what was trained. The spec is
//! `docs/vectors-format.md`.

use bottleneck_runtime::format::crc32;

use crate::error::ExportError;

/// First four bytes.
pub const MAGIC: [u8; 4] = *b"BTNV";
/// Format version.
pub const VERSION: u16 = 1;
const HEADER_LEN: usize = 32;

/// One input and the float model's outputs for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Vector {
    /// Class label of the input.
    pub label: u32,
    /// The input image, channel-major, in the model's input range.
    pub input: Vec<f32>,
    /// The float code (a VAE's posterior mean).
    pub code: Vec<f32>,
    /// The float reconstruction.
    pub reconstruction: Vec<f32>,
    /// The float classifier's logits (empty without a classifier).
    pub logits: Vec<f32>,
}

/// A set of vectors sharing sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct Vectors {
    /// Input shape `[c, h, w]`.
    pub input_shape: [usize; 3],
    /// Code size.
    pub latent: usize,
    /// Logits per vector (0 without a classifier).
    pub classes: usize,
    /// The vectors.
    pub items: Vec<Vector>,
}

impl Vectors {
    fn input_len(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// Serialises to bytes.
    ///
    /// # Errors
    /// When a vector's lengths disagree with the set's sizes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ExportError> {
        let bad = |msg: String| ExportError::Vectors { path: "<vectors>".into(), msg };
        let n = self.input_len();
        let mut out = vec![0u8; HEADER_LEN];
        for (i, v) in self.items.iter().enumerate() {
            if v.input.len() != n
                || v.reconstruction.len() != n
                || v.code.len() != self.latent
                || v.logits.len() != self.classes
            {
                return Err(bad(format!("vector {i} has sizes that differ from the set's")));
            }
            for x in v.input.iter().chain(&v.code).chain(&v.reconstruction).chain(&v.logits) {
                out.extend_from_slice(&x.to_le_bytes());
            }
            out.extend_from_slice(&v.label.to_le_bytes());
        }
        let dims = [self.input_shape[0], self.input_shape[1], self.input_shape[2], self.latent, self.classes];
        let mut h = Vec::with_capacity(HEADER_LEN);
        h.extend_from_slice(&MAGIC);
        h.extend_from_slice(&VERSION.to_le_bytes());
        h.extend_from_slice(&(HEADER_LEN as u16).to_le_bytes());
        h.extend_from_slice(&(self.items.len() as u32).to_le_bytes());
        for d in dims {
            let d = u16::try_from(d).map_err(|_| bad(format!("size {d} exceeds 65535")))?;
            h.extend_from_slice(&d.to_le_bytes());
        }
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&crc32(&out[HEADER_LEN..]).to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        out[..HEADER_LEN].copy_from_slice(&h);
        Ok(out)
    }

    /// Parses bytes written by [`Vectors::to_bytes`]; `path` names the file in errors.
    ///
    /// # Errors
    /// [`ExportError::Vectors`] for a bad magic, version, checksum or length.
    pub fn from_bytes(bytes: &[u8], path: &str) -> Result<Self, ExportError> {
        let bad = |msg: String| ExportError::Vectors { path: path.into(), msg };
        if bytes.len() < HEADER_LEN {
            return Err(bad(format!("{} bytes is too short for a vectors file", bytes.len())));
        }
        if bytes[..4] != MAGIC {
            return Err(bad("not a vectors file (bad magic; expected BTNV)".into()));
        }
        let u16_at = |o: usize| usize::from(u16::from_le_bytes([bytes[o], bytes[o + 1]]));
        let u32_at = |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        let version = u16_at(4);
        if version != usize::from(VERSION) {
            return Err(bad(format!("vectors format {version} is not supported (expected {VERSION})")));
        }
        if u16_at(6) != HEADER_LEN {
            return Err(bad("bad header length".into()));
        }
        let count = u32_at(8) as usize;
        let shape = [u16_at(12), u16_at(14), u16_at(16)];
        let (latent, classes) = (u16_at(18), u16_at(20));
        let crc = u32_at(24);
        if crc32(&bytes[HEADER_LEN..]) != crc {
            return Err(bad("checksum mismatch (corrupt file)".into()));
        }
        let n: usize = shape.iter().product();
        let per = (2 * n + latent + classes) * 4 + 4;
        let expected = count.checked_mul(per).and_then(|v| v.checked_add(HEADER_LEN));
        if expected != Some(bytes.len()) {
            return Err(bad(format!("{} bytes, but {count} vectors of {per} bytes need {expected:?}", bytes.len())));
        }
        let floats = |b: &[u8]| -> Vec<f32> {
            b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
        };
        let items = bytes[HEADER_LEN..]
            .chunks_exact(per)
            .map(|r| {
                let (input, r) = r.split_at(n * 4);
                let (code, r) = r.split_at(latent * 4);
                let (recon, r) = r.split_at(n * 4);
                let (logits, label) = r.split_at(classes * 4);
                Vector {
                    label: u32::from_le_bytes([label[0], label[1], label[2], label[3]]),
                    input: floats(input),
                    code: floats(code),
                    reconstruction: floats(recon),
                    logits: floats(logits),
                }
            })
            .collect();
        Ok(Self { input_shape: shape, latent, classes, items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vectors {
        let v = |k: f32| Vector {
            label: k as u32,
            input: vec![k; 4],
            code: vec![-k; 2],
            reconstruction: vec![k * 0.5; 4],
            logits: vec![k, 1.0, 2.0],
        };
        Vectors { input_shape: [1, 2, 2], latent: 2, classes: 3, items: vec![v(1.0), v(2.0)] }
    }

    #[test]
    fn round_trips() {
        let s = sample();
        let b = s.to_bytes().unwrap();
        assert_eq!(Vectors::from_bytes(&b, "v").unwrap(), s);
    }

    #[test]
    fn corruption_is_detected_and_named() {
        let b = sample().to_bytes().unwrap();
        let mut flipped = b.clone();
        flipped[40] ^= 1;
        let e = Vectors::from_bytes(&flipped, "vectors.bin").unwrap_err().to_string();
        assert!(e.starts_with("vectors.bin: checksum mismatch"), "{e}");
        let e = Vectors::from_bytes(&b[..b.len() - 4], "v").unwrap_err().to_string();
        assert!(e.contains("checksum") || e.contains("bytes"), "{e}");
        let mut v2 = b.clone();
        v2[4] = 9;
        assert!(Vectors::from_bytes(&v2, "v").unwrap_err().to_string().contains("format 9"));
        assert!(Vectors::from_bytes(b"BTNV", "v").is_err());
    }
}
