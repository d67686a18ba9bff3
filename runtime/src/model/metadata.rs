//! The metadata section: the model's name, its class names and its input range, checked at parse
//! and read in place by the accessors.

use super::Model;
use crate::Error;
use crate::format::{
    self, LAYER_LEN, META_CLASS_NAMES, META_ENTRY_HEADER, META_INPUT_RANGE, META_NAME, META_OPTIONAL, TABLE_ALIGN,
};

/// One entry: its tag, its value, and the file offset of its tag (for errors).
struct Entry<'a> {
    tag: u16,
    value: &'a [u8],
    at: usize,
}

impl<'a> Model<'a> {
    /// The entries' bytes (after the section's length word), or `None` when the file has no
    /// metadata.
    fn metadata_bytes(&self) -> Result<Option<(&'a [u8], usize)>, Error> {
        let start = self.header.metadata as usize;
        if start == 0 {
            return Ok(None);
        }
        let bad = Error::BadHeader { offset: format::at::METADATA };
        let table_end = self.header.layer_table as usize + usize::from(self.header.layer_count) * LAYER_LEN;
        if !start.is_multiple_of(TABLE_ALIGN) || start < table_end {
            return Err(bad);
        }
        let len = format::read_u32(self.bytes, start).ok_or(bad)? as usize;
        let body = start + 4;
        let entries = self.bytes.get(body..body.checked_add(len).ok_or(bad)?).ok_or(bad)?;
        Ok(Some((entries, body)))
    }

    /// Walks the entries; an entry that does not fit, or whose padding is not zero, is an error.
    fn metadata_entries(&self, mut visit: impl FnMut(Entry<'a>) -> Result<(), Error>) -> Result<(), Error> {
        let Some((mut rest, mut at)) = self.metadata_bytes()? else { return Ok(()) };
        while !rest.is_empty() {
            let bad = Error::BadMetadata { offset: at };
            let tag = format::read_u16(rest, 0).ok_or(bad)?;
            let len = usize::from(format::read_u16(rest, 2).ok_or(bad)?);
            let padded = (META_ENTRY_HEADER + len).next_multiple_of(TABLE_ALIGN);
            let entry = rest.get(..padded).ok_or(bad)?;
            let (value, padding) = entry.get(META_ENTRY_HEADER..).ok_or(bad)?.split_at_checked(len).ok_or(bad)?;
            if padding.iter().any(|&b| b != 0) {
                return Err(bad);
            }
            visit(Entry { tag, value, at })?;
            rest = rest.get(padded..).unwrap_or_default();
            at += padded;
        }
        Ok(())
    }

    /// The value of the entry tagged `tag`, if any.
    fn metadata_value(&self, tag: u16) -> Option<&'a [u8]> {
        let mut found = None;
        let _ = self.metadata_entries(|e| {
            if e.tag == tag && found.is_none() {
                found = Some(e.value);
            }
            Ok(())
        });
        found
    }

    /// Checks every entry: known tags once each with valid values, unknown tags only optional.
    pub(super) fn check_metadata(&self) -> Result<(), Error> {
        let mut seen = [false; 3];
        self.metadata_entries(|e| {
            let bad = Error::BadMetadata { offset: e.at };
            let slot = match e.tag {
                META_NAME => 0,
                META_CLASS_NAMES => 1,
                META_INPUT_RANGE => 2,
                tag if tag & META_OPTIONAL != 0 => return Ok(()),
                _ => return Err(bad),
            };
            match seen.get_mut(slot) {
                Some(s) if !*s => *s = true,
                _ => return Err(bad),
            }
            let ok = match e.tag {
                META_NAME => !e.value.is_empty() && is_utf8(e.value),
                META_CLASS_NAMES => {
                    // Names each ended by a newline, none empty: as many newlines as classes, the
                    // last byte one, and no newline right after another (or first).
                    let v = e.value;
                    let names = v.iter().filter(|&&b| b == b'\n').count();
                    let empty = v.first() == Some(&b'\n') || v.windows(2).any(|w| w == b"\n\n");
                    names == usize::from(self.header.classes) && v.last() == Some(&b'\n') && !empty && is_utf8(v)
                }
                _ => matches!(input_range(e.value), Some((lo, hi)) if lo.is_finite() && hi.is_finite() && lo < hi),
            };
            if ok { Ok(()) } else { Err(bad) }
        })
    }

    /// The model's name (e.g. the run's name), when the file stores one.
    #[must_use]
    pub fn name(&self) -> Option<&'a str> {
        self.metadata_value(META_NAME).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// The name of class `class` (`0..classes`), when the file stores class names.
    #[must_use]
    pub fn class_name(&self, class: usize) -> Option<&'a str> {
        let name = self.metadata_value(META_CLASS_NAMES)?.split(|&b| b == b'\n').nth(class)?;
        // The entry ends with a newline: the piece after it is empty, not a name.
        core::str::from_utf8(name).ok().filter(|n| !n.is_empty())
    }

    /// The real values of the darkest and the brightest input (`(0, 1)` or `(-1, 1)` for the
    /// trainer's images), when the file stores them: how a sensor's bytes map to the model's
    /// inputs.
    #[must_use]
    pub fn input_range(&self) -> Option<(f32, f32)> {
        input_range(self.metadata_value(META_INPUT_RANGE)?)
    }
}

/// Whether `bytes` are UTF-8 (RFC 3629: shortest forms only, no surrogates, nothing above
/// U+10FFFF), the same answer as `core::str::from_utf8`. Written out because this is all the
/// parse needs: `from_utf8` and its tables cost the firmware about 600 bytes of flash.
fn is_utf8(bytes: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        // The continuation bytes a lead byte takes, and the range of the first of them (which
        // rules out overlong forms, surrogates and code points above U+10FFFF).
        let (more, lo, hi) = match b {
            0x00..=0x7f => (0, 0x80, 0xbf),
            0xc2..=0xdf => (1, 0x80, 0xbf),
            0xe0 => (2, 0xa0, 0xbf),
            0xe1..=0xec | 0xee..=0xef => (2, 0x80, 0xbf),
            0xed => (2, 0x80, 0x9f),
            0xf0 => (3, 0x90, 0xbf),
            0xf1..=0xf3 => (3, 0x80, 0xbf),
            0xf4 => (3, 0x80, 0x8f),
            _ => return false,
        };
        for k in 1..=more {
            let (lo, hi) = if k == 1 { (lo, hi) } else { (0x80, 0xbf) };
            if !bytes.get(i + k).is_some_and(|c| (lo..=hi).contains(c)) {
                return false;
            }
        }
        i += 1 + more;
    }
    true
}

fn input_range(value: &[u8]) -> Option<(f32, f32)> {
    if value.len() != 8 {
        return None;
    }
    Some((format::read_f32(value, 0)?, format::read_f32(value, 4)?))
}

#[cfg(test)]
mod tests {
    use super::is_utf8;

    /// The hand-written check agrees with `core::str::from_utf8` on every 1- and 2-byte string,
    /// on the boundaries of each form, and on random strings of 3 to 6 bytes biased to lead and
    /// continuation bytes.
    #[test]
    fn is_utf8_agrees_with_core() {
        for a in 0..=255u8 {
            assert_eq!(is_utf8(&[a]), core::str::from_utf8(&[a]).is_ok(), "{a:#x}");
            for b in 0..=255u8 {
                assert_eq!(is_utf8(&[a, b]), core::str::from_utf8(&[a, b]).is_ok(), "{a:#x} {b:#x}");
            }
        }
        let mut r = crate::Rng::new(3);
        let pick = [
            0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee,
            0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
        ];
        for n in 0..400_000u32 {
            let len = 3 + (n % 4) as usize;
            let mut s = [0u8; 6];
            for b in s.iter_mut().take(len) {
                let v = r.next_u32();
                *b = if v.is_multiple_of(4) { (v >> 8) as u8 } else { pick[(v >> 8) as usize % pick.len()] };
            }
            let s = &s[..len];
            assert_eq!(is_utf8(s), core::str::from_utf8(s).is_ok(), "{s:x?}");
        }
    }
}
