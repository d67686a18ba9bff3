//! The line every target prints at the end of the standard check (`firmware-demo/wasm/check.mjs`,
//! the Cortex-M4 firmware): `digest 0x<8 hex digits> vectors <n>`, and the firmware's
//! `instructions: ...` line. One parser for both; the format is part of `docs/firmware.md`.

/// What a target reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// The CRC-32 digest of every output of the check sequence.
    pub digest: u32,
    /// Vectors the target checked.
    pub vectors: usize,
    /// The firmware's instruction counts line, when printed.
    pub instructions: Option<String>,
}

impl CheckReport {
    /// Parses a target's output; `what` names the target in errors.
    ///
    /// # Errors
    /// When no well-formed `digest` line is present.
    pub fn parse(text: &str, what: &str) -> anyhow::Result<Self> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("digest "))
            .ok_or_else(|| anyhow::anyhow!("{what} printed no digest line:\n{text}"))?;
        let bad = || anyhow::anyhow!("{what}: expected `digest 0x<hex> vectors <n>`, got {line:?}");
        let words: Vec<&str> = line.split_whitespace().collect();
        let [_, hex, label, count] = words[..] else { return Err(bad()) };
        let digest = hex.strip_prefix("0x").and_then(|h| u32::from_str_radix(h, 16).ok()).ok_or_else(bad)?;
        let vectors = if label == "vectors" { count.parse().map_err(|_| bad())? } else { return Err(bad()) };
        let instructions = text.lines().map(str::trim).find(|l| l.starts_with("instructions:")).map(str::to_string);
        Ok(Self { digest, vectors, instructions })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_digest_line_and_rejects_others() {
        let r = CheckReport::parse("x\ninstructions: encode 1\ndigest 0x00c0ffee vectors 32\n", "fw").unwrap();
        assert_eq!(
            r,
            CheckReport { digest: 0xc0ffee, vectors: 32, instructions: Some("instructions: encode 1".into()) }
        );
        for bad in ["", "digest c0ffee vectors 3", "digest 0xzz vectors 3", "digest 0x1 vectors", "digest 0x1 images 3"]
        {
            assert!(CheckReport::parse(bad, "t").is_err(), "{bad:?}");
        }
    }
}
