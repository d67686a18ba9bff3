//! Any bytes given to `Model::parse`, and every entry point of any model that parses, must return
//! (a value or an `Error`) without panicking or reading out of bounds.
//!
//! Each input is tried twice: as it is, and (when they differ) on a copy whose header length and
//! CRC-32 fields are recomputed. Most mutations break the checksum, so without the second pass the
//! fuzzer would rarely get past it to the layer, section and quantization checks.
#![no_main]

use bottleneck_runtime::format::{self, LAYER_LEN, LayerRecord};
use bottleneck_runtime::{Entry, Error, Model, Rng};
use libfuzzer_sys::fuzz_target;

/// Models needing more scratch than this are parsed but not run (keeps each execution small).
const MAX_SCRATCH: usize = 1 << 20;
/// Nor are models with larger inputs.
const MAX_INPUT: usize = 65_536;
/// Nor models whose layers add up to more multiply-accumulates than this (the seed has ~0.9 M).
const MAX_MACS: u64 = 1 << 22;

fuzz_target!(|data: &[u8]| {
    exercise(data, data);
    if data.len() >= format::HEADER_LEN {
        let mut fixed = data.to_vec();
        let len = u32::try_from(fixed.len()).unwrap_or(u32::MAX);
        fixed[format::at::FILE_LEN..format::at::FILE_LEN + 4].copy_from_slice(&len.to_le_bytes());
        let crc = format::crc32(&fixed[format::at::FLAGS..]);
        fixed[format::at::CRC32..format::at::CRC32 + 4].copy_from_slice(&crc.to_le_bytes());
        if fixed != data {
            exercise(&fixed, data);
        }
    }
});

fn exercise(bytes: &[u8], data: &[u8]) {
    // Without the checksum the same structure checks run: whatever parses fully parses so too.
    let unchecked = Model::parse_skipping_checksum(bytes);
    let Ok(model) = Model::parse(bytes) else { return };
    assert!(unchecked.is_ok(), "parse accepted what parse_skipping_checksum refused: {unchecked:?}");
    let (n_in, n_code) = (model.input_len(), model.latent_len());
    assert_eq!(n_in, model.input_shape().len());
    let entries = [Entry::Encode, Entry::Decode, Entry::Classify, Entry::Sample];
    assert!(entries.iter().all(|&e| model.scratch_len(e) <= model.max_scratch_len()));
    let classes = model.classes();

    wrong_sizes(&model, data);

    if model.max_scratch_len() > MAX_SCRATCH || n_in > MAX_INPUT || macs(&model, bytes) > MAX_MACS {
        return;
    }
    let mut scratch = vec![0u8; model.max_scratch_len()];
    let image = input(&model, data);
    let mut code = vec![0f32; n_code];
    let mut out = vec![0f32; n_in];
    let _ = model.encode(&image, &mut code, &mut scratch);
    let zeros = vec![0f32; n_code];
    let _ = model.decode(&zeros, &mut out, &mut scratch);
    let _ = model.decode(&code, &mut out, &mut scratch);
    if let Some(k) = classes {
        let mut logits = vec![0f32; k];
        if let Ok(class) = model.classify(&image, &mut logits, &mut scratch) {
            assert!(class < k, "class {class} of {k}");
        }
    }
    let seed = data.iter().fold(0u64, |h, &b| h.rotate_left(5) ^ u64::from(b));
    let _ = model.sample(&mut Rng::new(seed), &mut code, &mut out, &mut scratch);

    // The integer entry points on 8-bit pixels from the fuzz bytes, and the profile, which must
    // give the entry point's outputs.
    let pixels: Vec<u8> = (0..n_in).map(|i| data.get(i % data.len().max(1)).copied().unwrap_or(0)).collect();
    let mut code_bytes = vec![0i8; n_code];
    let encoded = model.encode_bytes(&pixels, &mut code_bytes, &mut scratch);
    if let Some(k) = classes {
        let mut logits = vec![0i32; k];
        if let Ok(class) = model.classify_bytes(&pixels, &mut logits, &mut scratch) {
            assert!(class < k, "class {class} of {k}");
        }
        match model.classify_code(&code_bytes, &mut logits, &mut scratch) {
            Ok(class) => assert!(class < k && model.classifies_from_code() && encoded.is_ok()),
            Err(Error::ClassifierReadsImage) => assert!(!model.classifies_from_code()),
            Err(_) => {}
        }
    }
    let mut profiled = vec![0f32; n_code];
    let mut steps = 0usize;
    if model.profile(Entry::Encode, &image, &mut profiled, &mut scratch, &mut |_| steps += 1).is_ok() {
        model.encode(&image, &mut code, &mut scratch).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&profiled), bits(&code), "profile changed the code");
        assert!(steps >= 3, "{steps} profile steps");
    }
}

/// Calls with a buffer of the wrong size: each must fail with the matching error, before running
/// anything (so these are cheap even for models too large to run).
fn wrong_sizes(model: &Model<'_>, data: &[u8]) {
    let (n_in, n_code) = (model.input_len(), model.latent_len());
    let image = input(model, data);
    let short = |e: Entry| vec![0u8; model.scratch_len(e).saturating_sub(1)];
    let full = |e: Entry| vec![0u8; model.scratch_len(e)];
    let mut code = vec![0f32; n_code];
    let mut out = vec![0f32; n_in];
    let mut big = vec![0u8; model.max_scratch_len().min(MAX_SCRATCH)];
    if model.has_autoencoder() {
        autoencoder_sizes(model, &image, &mut big);
    } else {
        // A classifier alone: no code, and the code's entry points refuse whatever the sizes.
        assert_eq!(n_code, 0);
        let no = |r: Result<(), Error>| assert!(matches!(r, Err(Error::NoAutoencoder)), "{r:?}");
        no(model.encode(&image, &mut code, &mut big));
        no(model.decode(&code.clone(), &mut out, &mut big));
        no(model.sample(&mut Rng::new(1), &mut code, &mut out, &mut big));
        no(model.encode_bytes(&vec![0u8; n_in], &mut [], &mut big));
        assert!(model.classes().is_some(), "a classifier alone without classes");
    }
    match model.classes() {
        None => {
            let r = model.classify(&image, &mut [0f32; 4], &mut big);
            assert!(matches!(r, Err(Error::NoClassifier)), "{r:?}");
        }
        Some(k) => {
            let mut logits = vec![0f32; k];
            expect_scratch(model.classify(&image, &mut logits, &mut short(Entry::Classify)));
            let mut wrong = vec![0f32; k + 1];
            expect_output(model.classify(&image, &mut wrong, &mut big));
            if model.scratch_len(Entry::Classify) <= MAX_SCRATCH {
                let mut s = full(Entry::Classify);
                let bad = vec![0.5f32; n_in + 1];
                expect_input(model.classify(&bad, &mut logits, &mut s), n_in + 1);
            }
        }
    }
}

/// The wrong-size calls of the code's entry points (encode, decode, sample).
fn autoencoder_sizes(model: &Model<'_>, image: &[f32], big: &mut [u8]) {
    let (n_in, n_code) = (model.input_len(), model.latent_len());
    let short = |e: Entry| vec![0u8; model.scratch_len(e).saturating_sub(1)];
    let full = |e: Entry| vec![0u8; model.scratch_len(e)];
    let mut code = vec![0f32; n_code];
    let mut out = vec![0f32; n_in];
    // Too little scratch, every other size right.
    expect_scratch(model.encode(image, &mut code, &mut short(Entry::Encode)));
    expect_scratch(model.decode(&code.clone(), &mut out, &mut short(Entry::Decode)));
    expect_scratch(model.sample(&mut Rng::new(1), &mut code, &mut out, &mut short(Entry::Sample)));
    expect_scratch(model.encode(image, &mut code, &mut []));
    // Wrong input lengths (one short, one long, empty), scratch right.
    if model.scratch_len(Entry::Encode) <= MAX_SCRATCH {
        let mut s = full(Entry::Encode);
        for len in [n_in - 1, n_in + 1, 0] {
            let bad = vec![0.5f32; len];
            expect_input(model.encode(&bad, &mut code, &mut s), len);
        }
    }
    if model.scratch_len(Entry::Decode) <= MAX_SCRATCH {
        let mut s = full(Entry::Decode);
        for len in [n_code - 1, n_code + 1] {
            let bad = vec![0f32; len];
            expect_input(model.decode(&bad, &mut out, &mut s), len);
        }
    }
    // Wrong output lengths: refused before anything runs, whatever the scratch.
    let mut long_code = vec![0f32; n_code + 1];
    let mut long_out = vec![0f32; n_in + 1];
    expect_output(model.encode(image, &mut long_code, &mut *big));
    expect_output(model.encode(image, &mut code[..n_code - 1], &mut *big));
    expect_output(model.decode(&code.clone(), &mut long_out, &mut *big));
    expect_output(model.decode(&code.clone(), &mut out[..n_in - 1], &mut *big));
    expect_output(model.sample(&mut Rng::new(2), &mut long_code, &mut out, &mut *big));
}

fn expect_scratch<T: core::fmt::Debug>(r: Result<T, Error>) {
    assert!(matches!(r, Err(Error::ScratchTooSmall { .. })), "expected ScratchTooSmall, got {r:?}");
}

fn expect_input<T: core::fmt::Debug>(r: Result<T, Error>, len: usize) {
    assert!(
        matches!(r, Err(Error::InputLength { found, .. }) if found == len),
        "expected InputLength({len}), got {r:?}"
    );
}

fn expect_output<T: core::fmt::Debug>(r: Result<T, Error>) {
    assert!(matches!(r, Err(Error::OutputLength { .. })), "expected OutputLength, got {r:?}");
}

/// An input image from the fuzz bytes (read backwards from the end, cyclically): mostly values in
/// the model's range, with the odd NaN, infinity and huge value mixed in.
fn input(model: &Model<'_>, data: &[u8]) -> Vec<f32> {
    let (lo, span) = if model.input_symmetric() { (-1.0, 2.0) } else { (0.0, 1.0) };
    if data.is_empty() {
        return vec![0.5; model.input_len()];
    }
    data.iter()
        .rev()
        .cycle()
        .take(model.input_len())
        .map(|&b| match b {
            0xff => f32::NAN,
            0xfe => f32::INFINITY,
            0xfd => -1e30,
            _ => lo + span * f32::from(b) / 252.0,
        })
        .collect()
}

/// An upper bound on the multiply-accumulates of one pass over every layer.
fn macs(model: &Model<'_>, bytes: &[u8]) -> u64 {
    let h = model.header();
    let mut total = 0u64;
    for i in 0..h.layer_count {
        let at = h.layer_table as usize + usize::from(i) * LAYER_LEN;
        let Some(Ok(rec)) = bytes.get(at..at + LAYER_LEN).map(|b| LayerRecord::read(b, i)) else {
            return u64::MAX;
        };
        if rec.kind.has_weights() {
            let taps = u64::from(rec.kernel.0) * u64::from(rec.kernel.1);
            total += rec.output.len() as u64 * taps * (u64::from(rec.input.c) + 1);
        } else {
            total += rec.output.len() as u64;
        }
    }
    total
}
