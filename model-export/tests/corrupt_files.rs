//! Damaged model files: each kind of damage gets its own error, and no damage causes a panic or an
//! out-of-bounds access (the runtime denies indexing and unwrapping; this checks behaviour).

mod common;

use bottleneck_export::{Variant, quantize};
use bottleneck_runtime::format::{HEADER_LEN, LAYER_LEN, at, crc32};
use bottleneck_runtime::{Error, Model, Rng};
use common::{images, model};

fn valid() -> Vec<u8> {
    quantize(&model(Variant::Autoencoder, true), &images(20, 1)).unwrap().bytes
}

/// Recomputes the checksum so that damage behind it is what gets reported.
fn fix_crc(b: &mut [u8]) {
    let c = crc32(&b[16..]);
    b[at::CRC32..at::CRC32 + 4].copy_from_slice(&c.to_le_bytes());
}

fn layer_at(i: usize) -> usize {
    HEADER_LEN + i * LAYER_LEN
}

fn parse_err(b: &[u8]) -> Error {
    match Model::parse(b) {
        Ok(m) => panic!("damaged file was accepted: {m:?}"),
        Err(e) => e,
    }
}

#[test]
fn valid_file_parses() {
    let b = valid();
    let m = Model::parse(&b).unwrap();
    assert_eq!(m.classes(), Some(10));
}

#[test]
fn truncated_and_padded_files() {
    let b = valid();
    assert_eq!(parse_err(&b[..b.len() - 1]), Error::LengthMismatch { expected: b.len(), found: b.len() - 1 });
    assert_eq!(parse_err(&b[..HEADER_LEN - 1]), Error::TooShort { len: HEADER_LEN - 1 });
    assert_eq!(parse_err(&[]), Error::TooShort { len: 0 });
    let mut padded = b.clone();
    padded.push(0);
    assert!(matches!(parse_err(&padded), Error::LengthMismatch { .. }));
}

#[test]
fn bad_magic_and_unknown_version() {
    let mut b = valid();
    b[0] = b'X';
    assert_eq!(parse_err(&b), Error::BadMagic);
    let mut b = valid();
    b[at::VERSION] = 3;
    assert_eq!(parse_err(&b), Error::UnsupportedVersion { found: 3 });
    // Version 1 (unaligned tables, plain weight rows) is refused with the way out in the message.
    b[at::VERSION] = 1;
    let e = parse_err(&b);
    assert_eq!(e, Error::UnsupportedVersion { found: 1 });
    assert!(e.to_string().contains("bottleneck export RUN_DIR"), "{e}");
}

#[test]
fn metadata_names_the_model_and_its_classes() {
    let b = valid();
    let m = Model::parse(&b).unwrap();
    assert!(m.name().is_some_and(|n| !n.is_empty()), "{:?}", m.name());
    let names: Vec<&str> = (0..10).filter_map(|c| m.class_name(c)).collect();
    assert_eq!(names.len(), 10, "{names:?}");
    assert_eq!(m.class_name(10), None);
    assert_eq!(m.input_range(), Some((0.0, 1.0)));
    // A class-name entry with one name too few is refused, naming the entry's offset.
    let meta = u32::from_le_bytes(b[at::METADATA..at::METADATA + 4].try_into().unwrap()) as usize;
    let mut at_entry = meta + 4;
    loop {
        let tag = u16::from_le_bytes([b[at_entry], b[at_entry + 1]]);
        let len = usize::from(u16::from_le_bytes([b[at_entry + 2], b[at_entry + 3]]));
        if tag == bottleneck_runtime::format::META_CLASS_NAMES {
            let mut bad = b.clone();
            let last_newline = at_entry + 4 + len - 1;
            bad[last_newline] = b'x';
            fix_crc(&mut bad);
            assert_eq!(parse_err(&bad), Error::BadMetadata { offset: at_entry });
            break;
        }
        at_entry += (4 + len).next_multiple_of(4);
    }
}

#[test]
fn bad_checksum() {
    let mut b = valid();
    let last = b.len() - 1;
    b[last] ^= 0x40;
    assert!(matches!(parse_err(&b), Error::BadChecksum { .. }));
}

/// Without the checksum, the damage above goes through (the caller vouches for the bytes), but
/// structural damage is refused as before.
#[test]
fn parse_skipping_checksum_still_checks_the_structure() {
    let mut b = valid();
    // A weight of the first layer: any byte is a valid weight, only the checksum notices.
    let weights = u32::from_le_bytes(b[layer_at(0) + 24..layer_at(0) + 28].try_into().unwrap()) as usize;
    b[weights + 3] ^= 0x40;
    assert!(matches!(parse_err(&b), Error::BadChecksum { .. }));
    assert!(Model::parse_skipping_checksum(&b).is_ok());
    let mut b = valid();
    b[layer_at(0)] = 99; // an unknown layer kind
    assert_eq!(Model::parse_skipping_checksum(&b).unwrap_err(), Error::UnknownLayer { layer: 0, kind: 99 });
    let b = valid();
    assert!(matches!(Model::parse_skipping_checksum(&b[..b.len() - 1]), Err(Error::LengthMismatch { .. })));
}

#[test]
fn layer_sizes_that_do_not_add_up() {
    // Layer 0 is conv1: claim a 15x14 output.
    let mut b = valid();
    b[layer_at(0) + 16] = 15;
    fix_crc(&mut b);
    assert_eq!(parse_err(&b), Error::BadShape { layer: 0 });
    // Layer 1 (conv2) claims 9 input channels: the chain from layer 0 breaks.
    let mut b = valid();
    b[layer_at(1) + 8] = 9;
    fix_crc(&mut b);
    assert!(matches!(parse_err(&b), Error::OutOfBounds { layer: 1 } | Error::BadSection { section: 0 }));
}

#[test]
fn out_of_range_shapes() {
    let mut b = valid();
    b[at::INPUT_C..at::INPUT_C + 2].copy_from_slice(&0u16.to_le_bytes());
    fix_crc(&mut b);
    assert_eq!(parse_err(&b), Error::BadHeader { offset: at::INPUT_C });
    let mut b = valid();
    b[layer_at(2) + 14..layer_at(2) + 16].copy_from_slice(&60_000u16.to_le_bytes());
    fix_crc(&mut b);
    assert_eq!(parse_err(&b), Error::BadShape { layer: 2 });
}

#[test]
fn tables_outside_the_file() {
    let mut b = valid();
    let end = ((b.len() as u32 - 10) / 16 * 16).to_le_bytes();
    b[layer_at(4) + 24..layer_at(4) + 28].copy_from_slice(&end); // linear weights near the end
    fix_crc(&mut b);
    assert_eq!(parse_err(&b), Error::OutOfBounds { layer: 4 });
    // Layer 3 is a reshape: it has no tables, and pointing at one is damage too.
    let mut b = valid();
    b[layer_at(3) + 24..layer_at(3) + 28].copy_from_slice(&200u32.to_le_bytes());
    fix_crc(&mut b);
    assert_eq!(parse_err(&b), Error::OutOfBounds { layer: 3 });
    let mut b = valid();
    b[layer_at(0) + 28..layer_at(0) + 32].copy_from_slice(&8u32.to_le_bytes()); // bias inside the header
    fix_crc(&mut b);
    assert_eq!(parse_err(&b), Error::OutOfBounds { layer: 0 });
}

#[test]
fn unknown_layer_kind() {
    let mut b = valid();
    b[layer_at(4)] = 77;
    fix_crc(&mut b);
    assert_eq!(parse_err(&b), Error::UnknownLayer { layer: 4, kind: 77 });
}

#[test]
fn invalid_quantization() {
    let b0 = valid();
    // Requantization table of layer 0: read its offset and zero the first shift.
    let req = u32::from_le_bytes(b0[layer_at(0) + 32..layer_at(0) + 36].try_into().unwrap()) as usize;
    let mut b = b0.clone();
    b[req + 4..req + 8].copy_from_slice(&0i32.to_le_bytes());
    fix_crc(&mut b);
    assert_eq!(parse_err(&b), Error::BadQuantization { layer: 0 });
    // A zero output scale.
    let mut b = b0;
    b[layer_at(0) + 20..layer_at(0) + 24].copy_from_slice(&0f32.to_le_bytes());
    fix_crc(&mut b);
    assert_eq!(parse_err(&b), Error::BadQuantization { layer: 0 });
}

#[test]
fn broken_section_chain() {
    // An encoder without a decoder: a file has both (an autoencoder) or neither (a classifier).
    let mut b = valid();
    b[at::DECODER + 2..at::DECODER + 4].copy_from_slice(&0u16.to_le_bytes());
    fix_crc(&mut b);
    assert_eq!(parse_err(&b), Error::BadHeader { offset: at::DECODER });
    // A decoder that runs past the layer table.
    let mut b = valid();
    let count = u16::from_le_bytes([b[at::LAYER_COUNT], b[at::LAYER_COUNT + 1]]);
    b[at::DECODER + 2..at::DECODER + 4].copy_from_slice(&count.to_le_bytes());
    fix_crc(&mut b);
    assert_eq!(parse_err(&b), Error::BadSection { section: 1 });
}

#[test]
fn wrong_buffer_sizes_are_errors() {
    let b = valid();
    let m = Model::parse(&b).unwrap();
    let mut scratch = vec![0u8; m.max_scratch_len()];
    let mut code = vec![0f32; m.latent_len()];
    assert_eq!(m.encode(&[0.0; 10], &mut code, &mut scratch), Err(Error::InputLength { expected: 784, found: 10 }));
    assert_eq!(m.encode(&[0.0; 784], &mut code[..2], &mut scratch), Err(Error::OutputLength { expected: 6, found: 2 }));
    assert!(matches!(m.decode(&code, &mut [0.0; 784], &mut scratch[..10]), Err(Error::ScratchTooSmall { .. })));
    let mut logits = [0f32; 3];
    assert_eq!(m.classify(&[0.0; 784], &mut logits, &mut scratch), Err(Error::OutputLength { expected: 10, found: 3 }));
}

/// Every single-byte change in the header and layer table, and a spread of changes in the data,
/// with the checksum fixed so that validation (not the checksum) must catch them: parsing and, when
/// the file still parses, running every entry point must never panic.
#[test]
fn no_single_byte_change_panics() {
    let b0 = valid();
    let table_end = HEADER_LEN + LAYER_LEN * usize::from(Model::parse(&b0).unwrap().header().layer_count);
    let positions: Vec<usize> = (0..table_end).chain((table_end..b0.len()).step_by(97)).collect();
    let x = vec![0.5f32; 784];
    let mut accepted = 0;
    for &p in &positions {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut b = b0.clone();
            b[p] ^= flip;
            fix_crc(&mut b);
            if let Ok(m) = Model::parse(&b) {
                accepted += 1;
                let mut scratch = vec![0u8; m.max_scratch_len()];
                let mut code = vec![0f32; m.latent_len()];
                let mut img = vec![0f32; m.input_len()];
                let _ = m.encode(&x[..m.input_len().min(784)], &mut code, &mut scratch);
                let _ = m.decode(&code, &mut img, &mut scratch);
                let _ = m.sample(&mut Rng::new(1), &mut code, &mut img, &mut scratch);
                if let Some(c) = m.classes() {
                    let _ = m.classify(&x[..m.input_len().min(784)], &mut vec![0f32; c], &mut scratch);
                }
            }
        }
    }
    // Changes to weights and scales still give valid files; structure changes must not.
    assert!(accepted > 0 && accepted < positions.len() * 3, "{accepted} of {} accepted", positions.len() * 3);
}
