//! A model file written byte by byte from `docs/runtime-format.md` alone (no writer of this
//! project, no layout constant of the runtime), and its outputs computed from the spec's formulas
//! with plain loops. The runtime must accept the file and give exactly those outputs: a
//! third-party writer that follows the spec computes what the spec says. The model has one layer
//! of each kind whose layout the spec defines: conv2d, reshape, linear, conv-transpose2d (stride 2,
//! so that the residue classes of its weights matter) and sigmoid; channel counts of 5, 6 and 8
//! so that rows are padded, grouped by four and left over; a 5-channel image so that the `[c][h][w]`
//! to channel-last conversion matters; and a metadata section.

use bottleneck_runtime::Model;

/// CRC-32 (IEEE, as zlib), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

/// A small deterministic generator (xorshift), independent of the runtime's.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn i8(&mut self) -> i8 {
        (self.next() % 255) as i8
    }
}

/// A weighted layer's tables as the spec describes them.
struct Tables {
    weights: Vec<i8>,
    bias: Vec<i32>,
    /// (multiplier, shift) per output channel.
    requant: Vec<(i32, i32)>,
}

impl Tables {
    /// `out_c` rows of `terms` weights each (per block for a transposed convolution: the blocks
    /// follow each other, each `out_c` rows of its own length).
    fn random(g: &mut Gen, n_weights: usize, out_c: usize, shift: i32) -> Self {
        Self {
            weights: (0..n_weights).map(|_| g.i8()).collect(),
            bias: (0..out_c).map(|_| (g.next() % 4001) as i32 - 2000).collect(),
            requant: (0..out_c).map(|_| ((1 << 30) + (g.next() % (1 << 30)) as i32, shift)).collect(),
        }
    }

    /// `clamp(round(acc * mult / 2^shift), lo, hi)`, ties toward +infinity, i64 product.
    fn requant(&self, o: usize, acc: i32, lo: i64, hi: i64) -> i64 {
        let (mult, shift) = self.requant[o];
        let prod = i64::from(self.bias[o] + acc) * i64::from(mult);
        ((prod + (1i64 << (shift - 1))) >> shift).clamp(lo, hi)
    }
}

/// A block of `rows.len()` rows as the spec lays it out: each row padded with zeros to a multiple
/// of 4 bytes; rows 4g..4g+4 (for every whole group of four) interleaved word by word (word j of
/// row 4g, of row 4g+1, of 4g+2, of 4g+3, then word j+1); the rows left over after the last
/// whole group follow, one after the other.
fn pack(rows: &[&[i8]]) -> Vec<u8> {
    let kp = rows[0].len().div_ceil(4) * 4;
    let padded: Vec<Vec<u8>> = rows
        .iter()
        .map(|r| {
            let mut v: Vec<u8> = r.iter().map(|&w| w as u8).collect();
            v.resize(kp, 0);
            v
        })
        .collect();
    let whole = rows.len() / 4 * 4;
    let mut out = Vec::new();
    for g in (0..whole).step_by(4) {
        for j in 0..kp / 4 {
            for r in 0..4 {
                out.extend_from_slice(&padded[g + r][4 * j..4 * j + 4]);
            }
        }
    }
    for row in &padded[whole..] {
        out.extend_from_slice(row);
    }
    out
}

/// A layer record, field by field (spec: "Layer record (48 bytes)").
#[allow(clippy::too_many_arguments)]
fn record(
    kind: u8,
    flags: u8,
    kernel: u8,
    stride: u8,
    padding: u8,
    output_padding: u8,
    input: [u16; 3],
    output: [u16; 3],
    out_scale: f32,
    offsets: [u32; 4],
) -> Vec<u8> {
    let mut r = vec![kind, flags, kernel, kernel, stride, padding, output_padding, 0];
    for d in input.iter().chain(&output) {
        r.extend_from_slice(&d.to_le_bytes());
    }
    r.extend_from_slice(&out_scale.to_le_bytes());
    for o in offsets {
        r.extend_from_slice(&o.to_le_bytes());
    }
    r.extend_from_slice(&[0; 8]);
    assert_eq!(r.len(), 48);
    r
}

const RELU: u8 = 1;
const SIGNED: u8 = 2;
const CONV: u8 = 1;
const CONV_T: u8 = 2;
const LINEAR: u8 = 3;
const SIGMOID: u8 = 4;
const RESHAPE: u8 = 6;
/// Image channels and side.
const C: usize = 5;
const SIDE: usize = 4;

/// The metadata section (spec: "Metadata"): the entries' length, then tag, length, value, zeros
/// to a multiple of 4, per entry.
fn metadata() -> Vec<u8> {
    let mut entries = Vec::new();
    let mut entry = |tag: u16, value: &[u8]| {
        entries.extend_from_slice(&tag.to_le_bytes());
        entries.extend_from_slice(&(value.len() as u16).to_le_bytes());
        entries.extend_from_slice(value);
        while entries.len() % 4 != 0 {
            entries.push(0);
        }
    };
    entry(1, "spec-model".as_bytes());
    entry(3, &[0f32.to_le_bytes(), 1f32.to_le_bytes()].concat());
    // An optional entry (tag bit 15) that this runtime does not know: skipped.
    entry(0x8000 | 77, b"ignored");
    let mut section = (entries.len() as u32).to_le_bytes().to_vec();
    section.extend(entries);
    section
}

#[test]
fn a_file_written_from_the_spec_runs_as_the_spec_says() {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let input_scale = 1.0f32 / 255.0;
    let (s0, code_scale, s3, s5) = (0.02f32, 0.05f32, 0.03f32, 0.04f32);
    let sigmoid_scale = 1.0f32 / 255.0;
    // Encoder: conv2d 5->6 (3x3, stride 1, padding 1, ReLU) on 5x4x4, reshape to 96, linear 96->3.
    let conv = Tables::random(&mut g, 6 * 3 * 3 * C, 6, 40);
    let enc_linear = Tables::random(&mut g, 3 * 96, 3, 42);
    // Decoder: linear 3->8 (ReLU), reshape to 2x2x2, conv-transpose2d 2->5 (3x3, stride 2,
    // padding 1, output padding 1: 4x4, ReLU), sigmoid.
    let dec_linear = Tables::random(&mut g, 8 * 3, 8, 36);
    // Transposed-convolution taps per residue class (kernel 3, stride 2): 2 for r = 0, 1 for r = 1.
    let (s, p, k) = (2usize, 1usize, 3usize);
    let taps = |r: usize| if r >= k { 0 } else { (k - r).div_ceil(s) };
    let class_terms = |ry: usize, rx: usize| taps(ry) * taps(rx) * 2;
    let conv_t_terms: usize = (0..s * s).map(|c| class_terms(c / s, c % s)).sum();
    let conv_t = Tables::random(&mut g, C * conv_t_terms, C, 37);
    let lut: Vec<u8> = (0..256u32).map(|b| (255.0 / (1.0 + (-(b as f64) / 40.0 + 3.0).exp())) as u8).collect();

    // The blocks of rows of each weighted layer, in the unpacked order [out][terms].
    let rows = |w: &[i8], out_c: usize| -> Vec<Vec<i8>> { w.chunks(w.len() / out_c).map(<[i8]>::to_vec).collect() };
    // Class blocks of the transposed convolution, classes in order ry then rx.
    let mut conv_t_blocks = Vec::new();
    let mut at = 0;
    for c in 0..s * s {
        let n = C * class_terms(c / s, c % s);
        conv_t_blocks.push(conv_t.weights[at..at + n].to_vec());
        at += n;
    }
    let packed = |blocks: &[Vec<i8>], out_c: usize| -> Vec<u8> {
        blocks
            .iter()
            .flat_map(|b| {
                let r = rows(b, out_c);
                pack(&r.iter().map(Vec::as_slice).collect::<Vec<_>>())
            })
            .collect()
    };

    // Metadata, then tables, after the header (64 bytes) and the 7 layer records (7 x 48), in
    // layer order; weights at multiples of 16, everything else at multiples of 4.
    let mut tables = Vec::new();
    let base = 64 + 7 * 48;
    let mut put = |bytes: Vec<u8>, align: usize| -> u32 {
        while (base + tables.len()) % align != 0 {
            tables.push(0xAA); // Bytes between tables belong to nothing: any value.
        }
        let at = (base + tables.len()) as u32;
        tables.extend(bytes);
        at
    };
    let o_meta = put(metadata(), 4);
    let mut offsets = |w: Vec<u8>, t: &Tables| -> [u32; 4] {
        let w = put(w, 16);
        let b = put(t.bias.iter().flat_map(|v| v.to_le_bytes()).collect(), 4);
        let r =
            put(t.requant.iter().flat_map(|&(m, s)| m.to_le_bytes().into_iter().chain(s.to_le_bytes())).collect(), 4);
        [w, b, r, 0]
    };
    let o_conv = offsets(packed(std::slice::from_ref(&conv.weights), 6), &conv);
    let o_enc = offsets(packed(std::slice::from_ref(&enc_linear.weights), 3), &enc_linear);
    let o_dec = offsets(packed(std::slice::from_ref(&dec_linear.weights), 8), &dec_linear);
    let o_conv_t = offsets(packed(&conv_t_blocks, C), &conv_t);
    let o_lut = put(lut.clone(), 4);
    let sq = SIDE as u16;
    let layers = [
        record(CONV, RELU, 3, 1, 1, 0, [5, sq, sq], [6, sq, sq], s0, o_conv),
        // A reshape keeps its input's bytes, signedness and scale.
        record(RESHAPE, 0, 1, 1, 0, 0, [6, sq, sq], [96, 1, 1], s0, [0; 4]),
        record(LINEAR, SIGNED, 1, 1, 0, 0, [96, 1, 1], [3, 1, 1], code_scale, o_enc),
        record(LINEAR, RELU, 1, 1, 0, 0, [3, 1, 1], [8, 1, 1], s3, o_dec),
        record(RESHAPE, 0, 1, 1, 0, 0, [8, 1, 1], [2, 2, 2], s3, [0; 4]),
        record(CONV_T, RELU, 3, 2, 1, 1, [2, 2, 2], [5, sq, sq], s5, o_conv_t),
        record(SIGMOID, 0, 1, 1, 0, 0, [5, sq, sq], [5, sq, sq], sigmoid_scale, [0, 0, 0, o_lut]),
    ];

    // Header (spec: "Header").
    let mut file = vec![0u8; 64];
    file[0..4].copy_from_slice(b"BTNQ");
    file[4..6].copy_from_slice(&2u16.to_le_bytes());
    file[6..8].copy_from_slice(&64u16.to_le_bytes());
    file[18..20].copy_from_slice(&7u16.to_le_bytes());
    for (i, d) in [5u16, sq, sq].iter().enumerate() {
        file[20 + 2 * i..22 + 2 * i].copy_from_slice(&d.to_le_bytes());
    }
    file[26] = 0; // inputs in [0, 1] as u8
    file[28..32].copy_from_slice(&input_scale.to_le_bytes());
    file[32..34].copy_from_slice(&3u16.to_le_bytes());
    file[36..40].copy_from_slice(&code_scale.to_le_bytes());
    for (at, (first, count)) in [(40, (0u16, 3u16)), (44, (3, 4)), (48, (0, 0))] {
        file[at..at + 2].copy_from_slice(&first.to_le_bytes());
        file[at + 2..at + 4].copy_from_slice(&count.to_le_bytes());
    }
    file[56..60].copy_from_slice(&64u32.to_le_bytes());
    file[60..64].copy_from_slice(&o_meta.to_le_bytes());
    for l in &layers {
        file.extend(l);
    }
    file.extend(&tables);
    let len = file.len() as u32;
    file[8..12].copy_from_slice(&len.to_le_bytes());
    let crc = crc32(&file[16..]);
    file[12..16].copy_from_slice(&crc.to_le_bytes());

    let model = Model::parse(&file).expect("the runtime refuses a file written from the spec");
    assert_eq!(model.name(), Some("spec-model"));
    assert_eq!(model.input_range(), Some((0.0, 1.0)));
    assert_eq!(model.class_name(0), None);
    let mut scratch = vec![0u8; model.max_scratch_len()];

    // The image is [c][h][w].
    let n = C * SIDE * SIDE;
    let image: Vec<f32> = (0..n).map(|i| ((i * 37 + 11) % 256) as f32 / 255.0).collect();
    let mut code = [0f32; 3];
    model.encode(&image, &mut code, &mut scratch).unwrap();

    // The encoder, from the spec's formulas. Input bytes: trunc(x / scale + 0.5) (x >= 0),
    // stored channel-last: byte (y, x, c) is image value [c][y][x].
    let q: Vec<i64> = image.iter().map(|&v| ((v / input_scale + 0.5) as i64).clamp(0, 255)).collect();
    let x = |y: usize, xx: usize, c: usize| q[(c * SIDE + y) * SIDE + xx];
    // conv2d: reads input (oy*s + ky - p, ox*s + kx - p); weights [out][ky][kx][in]; outputs
    // channel-last [h][w][c].
    let mut h0 = vec![0i64; 6 * SIDE * SIDE];
    for o in 0..6 {
        for oy in 0..SIDE as i64 {
            for ox in 0..SIDE as i64 {
                let mut acc = 0i64;
                for ky in 0..3i64 {
                    for kx in 0..3i64 {
                        let (iy, ix) = (oy + ky - 1, ox + kx - 1);
                        if (0..SIDE as i64).contains(&iy) && (0..SIDE as i64).contains(&ix) {
                            for c in 0..C {
                                let w = conv.weights[((o * 3 + ky as usize) * 3 + kx as usize) * C + c];
                                acc += i64::from(w) * x(iy as usize, ix as usize, c);
                            }
                        }
                    }
                }
                h0[(oy as usize * SIDE + ox as usize) * 6 + o] = conv.requant(o, acc as i32, 0, 255);
            }
        }
    }
    // Reshape: no bytes move. Linear: weights [out][in] over the channel-last bytes.
    let expected_code: Vec<f32> = (0..3)
        .map(|o| {
            let acc: i64 = (0..96).map(|i| i64::from(enc_linear.weights[o * 96 + i]) * h0[i]).sum();
            enc_linear.requant(o, acc as i32, -127, 127) as f32 * code_scale
        })
        .collect();
    assert_eq!(code.to_vec(), expected_code);

    // The decoder on a code of our own. Codes are quantized with code_scale, halves away from zero.
    let z = [0.31f32, -0.52, 1.17];
    let mut out = vec![0f32; n];
    model.decode(&z, &mut out, &mut scratch).unwrap();
    let zq: Vec<i64> =
        z.iter().map(|&v| v / code_scale).map(|v| (if v >= 0.0 { v + 0.5 } else { v - 0.5 }) as i64).collect();
    let h3: Vec<i64> = (0..8)
        .map(|o| {
            let acc: i64 = (0..3).map(|i| i64::from(dec_linear.weights[o * 3 + i]) * zq[i]).sum();
            dec_linear.requant(o, acc as i32, 0, 255)
        })
        .collect();
    // The reshape makes h3 a 2x2x2 tensor, channel-last: h3[(iy * 2 + ix) * 2 + c].
    // conv-transpose2d, stride 2, padding 1, kernel 3: output (oy, ox) gathers input
    // ((oy + p - ky) / s, (ox + p - kx) / s) where the division is exact. Weights by residue
    // class (ry, rx) = ((oy + p) mod s, (ox + p) mod s), each block [out][kyi][kxi][in] with
    // ky = ry + s * kyi.
    let mut h5 = vec![0i64; C * SIDE * SIDE];
    for o in 0..C {
        for oy in 0..SIDE {
            for ox in 0..SIDE {
                let (ry, rx) = ((oy + p) % s, (ox + p) % s);
                let block = &conv_t_blocks[ry * s + rx];
                let terms = class_terms(ry, rx);
                let mut acc = 0i64;
                for kyi in 0..taps(ry) {
                    for kxi in 0..taps(rx) {
                        let (ky, kx) = (ry + s * kyi, rx + s * kxi);
                        let (ny, nx) = ((oy + p) as i64 - ky as i64, (ox + p) as i64 - kx as i64);
                        let (iy, ix) = (ny / s as i64, nx / s as i64);
                        if ny < 0 || nx < 0 || iy >= 2 || ix >= 2 {
                            continue;
                        }
                        for c in 0..2 {
                            let w = block[o * terms + (kyi * taps(rx) + kxi) * 2 + c];
                            acc += i64::from(w) * h3[((iy * 2 + ix) * 2) as usize + c];
                        }
                    }
                }
                h5[(oy * SIDE + ox) * C + o] = conv_t.requant(o, acc as i32, 0, 255);
            }
        }
    }
    // Sigmoid by table, then bytes times the last layer's scale, back to [c][h][w].
    let expected_image: Vec<f32> = (0..n)
        .map(|i| {
            let (c, y, xx) = (i / (SIDE * SIDE), i / SIDE % SIDE, i % SIDE);
            f32::from(lut[h5[(y * SIDE + xx) * C + c] as usize]) * sigmoid_scale
        })
        .collect();
    assert_eq!(out, expected_image);
    // Not a degenerate case: the outputs vary.
    assert!(expected_image.iter().any(|&v| v != expected_image[0]), "{expected_image:?}");
    assert!(h5.iter().any(|&v| v != h5[0]) && h0.iter().any(|&v| v != 0), "{h5:?}");
    assert!(code.iter().any(|&v| v != 0.0), "{code:?}");

    // Row padding is 0: the conv's channel 4 is the plain row after the first group, 45 terms
    // padded to 48; a 1 in its padding is refused.
    let mut bad = file.clone();
    bad[o_conv[0] as usize + 4 * 48 + 46] = 1;
    let crc = crc32(&bad[16..]);
    bad[12..16].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(Model::parse(&bad).unwrap_err(), bottleneck_runtime::Error::BadRecord { layer: 0, offset: 24 });
}

/// What version 2 refuses: a version 1 file, reserved bytes, misaligned tables, non-zero row
/// padding and unknown required metadata, each with its own error.
#[test]
fn version_2_refuses_what_it_reserves() {
    use bottleneck_runtime::Error;
    let good = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../firmware-demo/cortex-m4/assets/model.bnq"))
        .expect("the firmware's model file");
    let fix = |mut b: Vec<u8>| {
        let crc = crc32(&b[16..]);
        b[12..16].copy_from_slice(&crc.to_le_bytes());
        b
    };
    assert!(Model::parse(&good).is_ok());
    let le32 = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let mut v1 = good.clone();
    v1[4] = 1;
    let e = Model::parse(&fix(v1)).unwrap_err();
    assert_eq!(e, Error::UnsupportedVersion { found: 1 });
    assert!(e.to_string().contains("bottleneck export"), "{e}");

    let mut b = good.clone();
    b[27] = 1;
    assert_eq!(Model::parse(&fix(b)).unwrap_err(), Error::BadHeader { offset: 27 });
    let mut b = good.clone();
    b[64 + 45] = 1; // reserved byte of layer 0's record
    assert_eq!(Model::parse(&fix(b)).unwrap_err(), Error::BadRecord { layer: 0, offset: 45 });
    // Layer 0's weights at a multiple of 4 that is not one of 16.
    let w0 = le32(&good, 64 + 24);
    let mut b = good.clone();
    b[64 + 24..64 + 28].copy_from_slice(&((w0 + 4) as u32).to_le_bytes());
    assert_eq!(Model::parse(&fix(b)).unwrap_err(), Error::BadRecord { layer: 0, offset: 24 });
    let meta = le32(&good, 60);
    assert_ne!(meta, 0, "the exporter writes metadata");
    let mut b = good.clone();
    b[meta + 4] = 99; // the first entry's tag: unknown and required
    assert_eq!(Model::parse(&fix(b)).unwrap_err(), Error::BadMetadata { offset: meta + 4 });
    let mut b = good;
    b[meta + 5] = 0x80; // the same tag made optional: skipped
    assert!(Model::parse(&fix(b)).is_ok());
}

const MAX_POOL: u8 = 7;
const AVG_POOL: u8 = 8;
const DEPTHWISE: u8 = 9;

/// A classifier alone (no encoder or decoder sections), written from the spec, with both pooling
/// kinds and a depthwise convolution: conv2d 1->4 (3x3, padding 1, ReLU) on 1x6x6, max-pool 2x2
/// stride 2 to 4x3x3, depthwise-conv2d 3x3 padding 1 (ReLU), avg-pool 2x2 stride 1 (overlapping
/// windows) to 4x2x2, reshape to 16, linear 16->3.
#[test]
fn a_classifier_only_file_written_from_the_spec() {
    let mut g = Gen(0x1234_5678_9ABC_DEF1);
    let input_scale = 1.0f32 / 255.0;
    let (s0, s_out) = (0.02f32, 0.1f32);
    let conv = Tables::random(&mut g, 4 * 9, 4, 38);
    let linear = Tables::random(&mut g, 3 * 16, 3, 36);
    // Depthwise weights in the spec's order [ky][kx][c].
    let dw = Tables::random(&mut g, 9 * 4, 4, 37);
    let s_dw = 0.03f32;
    let mut tables = Vec::new();
    let base = 64 + 6 * 48;
    let mut put = |bytes: Vec<u8>, align: usize| -> u32 {
        while (base + tables.len()) % align != 0 {
            tables.push(0);
        }
        let at = (base + tables.len()) as u32;
        tables.extend(bytes);
        at
    };
    let mut offsets = |w: Vec<u8>, t: &Tables| -> [u32; 4] {
        let w = put(w, 16);
        let b = put(t.bias.iter().flat_map(|v| v.to_le_bytes()).collect(), 4);
        let r =
            put(t.requant.iter().flat_map(|&(m, s)| m.to_le_bytes().into_iter().chain(s.to_le_bytes())).collect(), 4);
        [w, b, r, 0]
    };
    let conv_rows: Vec<&[i8]> = conv.weights.chunks(9).collect();
    let lin_rows: Vec<&[i8]> = linear.weights.chunks(16).collect();
    let o_conv = offsets(pack(&conv_rows), &conv);
    let o_lin = offsets(pack(&lin_rows), &linear);
    // 36 bytes, a whole number of words: no padding.
    let o_dw = offsets(dw.weights.iter().map(|&v| v as u8).collect(), &dw);
    let layers = [
        record(CONV, RELU, 3, 1, 1, 0, [1, 6, 6], [4, 6, 6], s0, o_conv),
        // Pools keep their input's signedness and scale.
        record(MAX_POOL, 0, 2, 2, 0, 0, [4, 6, 6], [4, 3, 3], s0, [0; 4]),
        record(DEPTHWISE, RELU, 3, 1, 1, 0, [4, 3, 3], [4, 3, 3], s_dw, o_dw),
        record(AVG_POOL, 0, 2, 1, 0, 0, [4, 3, 3], [4, 2, 2], s_dw, [0; 4]),
        record(RESHAPE, 0, 1, 1, 0, 0, [4, 2, 2], [16, 1, 1], s_dw, [0; 4]),
        record(LINEAR, SIGNED, 1, 1, 0, 0, [16, 1, 1], [3, 1, 1], s_out, o_lin),
    ];
    let mut file = vec![0u8; 64];
    file[0..4].copy_from_slice(b"BTNQ");
    file[4..6].copy_from_slice(&2u16.to_le_bytes());
    file[6..8].copy_from_slice(&64u16.to_le_bytes());
    file[16..18].copy_from_slice(&2u16.to_le_bytes()); // flags: a classifier
    file[18..20].copy_from_slice(&6u16.to_le_bytes());
    for (i, d) in [1u16, 6, 6].iter().enumerate() {
        file[20 + 2 * i..22 + 2 * i].copy_from_slice(&d.to_le_bytes());
    }
    file[28..32].copy_from_slice(&input_scale.to_le_bytes());
    // latent 0 and code scale 0: no code. Encoder and decoder sections empty.
    file[34..36].copy_from_slice(&3u16.to_le_bytes());
    file[48..50].copy_from_slice(&0u16.to_le_bytes());
    file[50..52].copy_from_slice(&6u16.to_le_bytes());
    file[56..60].copy_from_slice(&64u32.to_le_bytes());
    for l in &layers {
        file.extend(l);
    }
    file.extend(&tables);
    let len = file.len() as u32;
    file[8..12].copy_from_slice(&len.to_le_bytes());
    let crc = crc32(&file[16..]);
    file[12..16].copy_from_slice(&crc.to_le_bytes());

    let model = Model::parse(&file).expect("the runtime refuses a classifier-only file written from the spec");
    assert!(!model.has_autoencoder());
    let mut scratch = vec![0u8; model.max_scratch_len()];
    let image: Vec<f32> = (0..36).map(|i| ((i * 53 + 7) % 256) as f32 / 255.0).collect();
    let mut logits = [0f32; 3];
    let class = model.classify(&image, &mut logits, &mut scratch).unwrap();
    let mut code = [0f32; 1];
    assert_eq!(model.encode(&image, &mut code, &mut scratch), Err(bottleneck_runtime::Error::NoAutoencoder));

    let x: Vec<i64> = image.iter().map(|&v| ((v / input_scale + 0.5) as i64).clamp(0, 255)).collect();
    // conv2d, channel-last output.
    let mut h0 = vec![0i64; 4 * 36];
    for o in 0..4 {
        for oy in 0..6i64 {
            for ox in 0..6i64 {
                let mut acc = 0i64;
                for ky in 0..3i64 {
                    for kx in 0..3i64 {
                        let (iy, ix) = (oy + ky - 1, ox + kx - 1);
                        if (0..6).contains(&iy) && (0..6).contains(&ix) {
                            acc += i64::from(conv.weights[o * 9 + (ky * 3 + kx) as usize]) * x[(iy * 6 + ix) as usize];
                        }
                    }
                }
                h0[((oy * 6 + ox) * 4) as usize + o] = conv.requant(o, acc as i32, 0, 255);
            }
        }
    }
    // Max over 2x2 windows, stride 2.
    let mut h1 = vec![0i64; 4 * 9];
    for y in 0..3 {
        for xx in 0..3 {
            for c in 0..4 {
                let at = |dy: usize, dx: usize| h0[((2 * y + dy) * 6 + 2 * xx + dx) * 4 + c];
                h1[(y * 3 + xx) * 4 + c] = at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1));
            }
        }
    }
    // Depthwise 3x3, padding 1: channel c's taps w[ky][kx][c] over its own input channel.
    let mut hd = vec![0i64; 4 * 9];
    for y in 0..3i64 {
        for xx in 0..3i64 {
            for c in 0..4 {
                let mut acc = 0i64;
                for ky in 0..3i64 {
                    for kx in 0..3i64 {
                        let (iy, ix) = (y + ky - 1, xx + kx - 1);
                        if (0..3).contains(&iy) && (0..3).contains(&ix) {
                            let w = dw.weights[((ky * 3 + kx) * 4) as usize + c];
                            acc += i64::from(w) * h1[((iy * 3 + ix) * 4) as usize + c];
                        }
                    }
                }
                hd[((y * 3 + xx) * 4) as usize + c] = dw.requant(c, acc as i32, 0, 255);
            }
        }
    }
    // Mean over 2x2 windows, stride 1: floor((2 sum + n) / 2n).
    let mut h2 = vec![0i64; 16];
    for y in 0..2 {
        for xx in 0..2 {
            for c in 0..4 {
                let sum: i64 = (0..4).map(|k| hd[((y + k / 2) * 3 + xx + k % 2) * 4 + c]).sum();
                h2[(y * 2 + xx) * 4 + c] = (2 * sum + 4).div_euclid(8);
            }
        }
    }
    // The last layer is linear: logits v x out_scale / 256 with v = round(acc x mult / 2^(shift - 8)).
    let expected: Vec<f32> = (0..3)
        .map(|o| {
            let acc: i64 = (0..16).map(|i| i64::from(linear.weights[o * 16 + i]) * h2[i]).sum();
            let (mult, shift) = linear.requant[o];
            let p = i128::from(linear.bias[o] + acc as i32) * i128::from(mult);
            let v = (p + (1i128 << (shift - 9))) >> (shift - 8);
            v as f32 * (s_out / 256.0)
        })
        .collect();
    assert_eq!(logits.to_vec(), expected);
    let best = (0..3).fold(0, |b, j| if expected[j] > expected[b] { j } else { b });
    assert_eq!(class, best);
    assert!(h2.iter().any(|&v| v != h2[0]), "{h2:?}");
}

const SOFTMAX: u8 = 10;

/// A classifier alone ending in softmax, written from the spec: linear 4->5 on a 4-value input,
/// then softmax with a table of exp written by hand. `classify` returns the probabilities as
/// bytes times 1/255 and the first most probable class.
#[test]
fn a_softmax_written_from_the_spec() {
    let mut g = Gen(0x5eed_50f7);
    let input_scale = 1.0f32 / 255.0;
    let s_logit = 0.05f32;
    let linear = Tables::random(&mut g, 5 * 4, 5, 34);
    // exp(-d x s_logit) in units of 1/65535, d = 0..=255.
    let table: Vec<u16> =
        (0..256).map(|d| (65535.0 * (-(d as f64) * f64::from(s_logit)).exp()).round() as u16).collect();
    let mut tables = Vec::new();
    let base = 64 + 2 * 48;
    let mut put = |bytes: Vec<u8>, align: usize| -> u32 {
        while (base + tables.len()) % align != 0 {
            tables.push(0);
        }
        let at = (base + tables.len()) as u32;
        tables.extend(bytes);
        at
    };
    let rows: Vec<&[i8]> = linear.weights.chunks(4).collect();
    let w = put(pack(&rows), 16);
    let b = put(linear.bias.iter().flat_map(|v| v.to_le_bytes()).collect(), 4);
    let r =
        put(linear.requant.iter().flat_map(|&(m, s)| m.to_le_bytes().into_iter().chain(s.to_le_bytes())).collect(), 4);
    let t = put(table.iter().flat_map(|v| v.to_le_bytes()).collect(), 4);
    let layers = [
        record(LINEAR, SIGNED, 1, 1, 0, 0, [4, 1, 1], [5, 1, 1], s_logit, [w, b, r, 0]),
        record(SOFTMAX, 0, 1, 1, 0, 0, [5, 1, 1], [5, 1, 1], 1.0 / 255.0, [0, 0, 0, t]),
    ];
    let mut file = vec![0u8; 64];
    file[0..4].copy_from_slice(b"BTNQ");
    file[4..6].copy_from_slice(&2u16.to_le_bytes());
    file[6..8].copy_from_slice(&64u16.to_le_bytes());
    file[16..18].copy_from_slice(&2u16.to_le_bytes());
    file[18..20].copy_from_slice(&2u16.to_le_bytes());
    for (i, d) in [4u16, 1, 1].iter().enumerate() {
        file[20 + 2 * i..22 + 2 * i].copy_from_slice(&d.to_le_bytes());
    }
    file[28..32].copy_from_slice(&input_scale.to_le_bytes());
    file[34..36].copy_from_slice(&5u16.to_le_bytes());
    file[50..52].copy_from_slice(&2u16.to_le_bytes());
    file[56..60].copy_from_slice(&64u32.to_le_bytes());
    for l in &layers {
        file.extend(l);
    }
    file.extend(&tables);
    let len = file.len() as u32;
    file[8..12].copy_from_slice(&len.to_le_bytes());
    let crc = crc32(&file[16..]);
    file[12..16].copy_from_slice(&crc.to_le_bytes());

    let model = Model::parse(&file).expect("the runtime refuses a softmax written from the spec");
    let mut scratch = vec![0u8; model.max_scratch_len()];
    for k in 0..20u32 {
        let image: Vec<f32> = (0..4).map(|i| ((i * 71 + k * 29) % 256) as f32 / 255.0).collect();
        let mut probs = [0f32; 5];
        let class = model.classify(&image, &mut probs, &mut scratch).unwrap();
        let x: Vec<i64> = image.iter().map(|&v| ((v / input_scale + 0.5) as i64).clamp(0, 255)).collect();
        let logits: Vec<i64> = (0..5)
            .map(|o| {
                let acc: i64 = (0..4).map(|i| i64::from(linear.weights[o * 4 + i]) * x[i]).sum();
                linear.requant(o, acc as i32, -127, 127)
            })
            .collect();
        let m = *logits.iter().max().unwrap();
        let e: Vec<u64> = logits.iter().map(|&l| u64::from(table[(m - l) as usize])).collect();
        let sum: u64 = e.iter().sum();
        let q: Vec<u64> = e.iter().map(|&v| (v * 255 + sum / 2) / sum).collect();
        let expected: Vec<f32> = q.iter().map(|&v| v as f32 * (1.0 / 255.0)).collect();
        assert_eq!(probs.to_vec(), expected, "image {k}");
        let best = (0..5).fold(0, |b, j| if q[j] > q[b] { j } else { b });
        assert_eq!(class, best);
    }
    // A table that grows is refused.
    let mut bad = file.clone();
    let at = t as usize + 2 * 7;
    bad[at..at + 2].copy_from_slice(&65535u16.to_le_bytes());
    let crc = crc32(&bad[16..]);
    bad[12..16].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(Model::parse(&bad).unwrap_err(), bottleneck_runtime::Error::BadQuantization { layer: 1 });
}

const ADD: u8 = 11;
const KEEP: u8 = 4;

/// A residual connection written from the spec: linear 4->4 (kept), linear 4->4 with ReLU, then
/// add of the two, as a classifier alone over 4 classes.
#[test]
fn a_residual_add_written_from_the_spec() {
    let mut g = Gen(0xadd_adda);
    let input_scale = 1.0f32 / 255.0;
    let (s0, s1, s2) = (0.04f32, 0.03f32, 0.05f32);
    let l0 = Tables::random(&mut g, 16, 4, 40);
    let l1 = Tables::random(&mut g, 16, 4, 38);
    // y = round((a m_a + b m_b) / 2^s): a the chain (layer 1, scale s1), b the kept (layer 0, s0).
    let shift = 31i32;
    let (ma, mb) = (((s1 / s2) as f64 * 2f64.powi(shift)) as i32, ((s0 / s2) as f64 * 2f64.powi(shift)) as i32);
    let mut tables = Vec::new();
    let base = 64 + 3 * 48;
    let mut put = |bytes: Vec<u8>, align: usize| -> u32 {
        while (base + tables.len()) % align != 0 {
            tables.push(0);
        }
        let at = (base + tables.len()) as u32;
        tables.extend(bytes);
        at
    };
    let mut offsets = |t: &Tables| -> [u32; 4] {
        let rows: Vec<&[i8]> = t.weights.chunks(4).collect();
        let w = put(pack(&rows), 16);
        let b = put(t.bias.iter().flat_map(|v| v.to_le_bytes()).collect(), 4);
        let r =
            put(t.requant.iter().flat_map(|&(m, s)| m.to_le_bytes().into_iter().chain(s.to_le_bytes())).collect(), 4);
        [w, b, r, 0]
    };
    let (o0, o1) = (offsets(&l0), offsets(&l1));
    let pairs: Vec<u8> = [ma, shift, mb, shift].iter().flat_map(|v| v.to_le_bytes()).collect();
    let o_add = put(pairs, 4);
    let mut add = record(ADD, SIGNED, 1, 1, 0, 0, [4, 1, 1], [4, 1, 1], s2, [0, 0, o_add, 0]);
    add[40..42].copy_from_slice(&0u16.to_le_bytes()); // source: layer 0
    let layers = [
        record(LINEAR, SIGNED | KEEP, 1, 1, 0, 0, [4, 1, 1], [4, 1, 1], s0, o0),
        record(LINEAR, RELU, 1, 1, 0, 0, [4, 1, 1], [4, 1, 1], s1, o1),
        add,
    ];
    let mut file = vec![0u8; 64];
    file[0..4].copy_from_slice(b"BTNQ");
    file[4..6].copy_from_slice(&2u16.to_le_bytes());
    file[6..8].copy_from_slice(&64u16.to_le_bytes());
    file[16..18].copy_from_slice(&2u16.to_le_bytes());
    file[18..20].copy_from_slice(&3u16.to_le_bytes());
    for (i, d) in [4u16, 1, 1].iter().enumerate() {
        file[20 + 2 * i..22 + 2 * i].copy_from_slice(&d.to_le_bytes());
    }
    file[28..32].copy_from_slice(&input_scale.to_le_bytes());
    file[34..36].copy_from_slice(&4u16.to_le_bytes());
    file[50..52].copy_from_slice(&3u16.to_le_bytes());
    file[56..60].copy_from_slice(&64u32.to_le_bytes());
    for l in &layers {
        file.extend(l);
    }
    file.extend(&tables);
    let len = file.len() as u32;
    file[8..12].copy_from_slice(&len.to_le_bytes());
    let fix = |f: &mut Vec<u8>| {
        let crc = crc32(&f[16..]);
        f[12..16].copy_from_slice(&crc.to_le_bytes());
    };
    fix(&mut file);

    let model = Model::parse(&file).expect("the runtime refuses a residual add written from the spec");
    let mut scratch = vec![0u8; model.max_scratch_len()];
    let mut distinct = std::collections::BTreeSet::new();
    for k in 0..20u32 {
        let image: Vec<f32> = (0..4).map(|i| ((i * 97 + k * 41) % 256) as f32 / 255.0).collect();
        let mut out = [0f32; 4];
        model.classify(&image, &mut out, &mut scratch).unwrap();
        let x: Vec<i64> = image.iter().map(|&v| ((v / input_scale + 0.5) as i64).clamp(0, 255)).collect();
        let lin = |t: &Tables, x: &[i64], lo, hi| -> Vec<i64> {
            (0..4)
                .map(|o| {
                    let acc: i64 = (0..4).map(|i| i64::from(t.weights[o * 4 + i]) * x[i]).sum();
                    t.requant(o, acc as i32, lo, hi)
                })
                .collect()
        };
        let h0 = lin(&l0, &x, -127, 127);
        let h1 = lin(&l1, &h0, 0, 255);
        let y: Vec<f32> = (0..4)
            .map(|j| {
                let acc = h1[j] * i64::from(ma) + h0[j] * i64::from(mb);
                (((acc + (1i64 << (shift - 1))) >> shift).clamp(-127, 127)) as f32 * s2
            })
            .collect();
        assert_eq!(out.to_vec(), y, "image {k}");
        distinct.insert(format!("{y:?}"));
    }
    assert!(distinct.len() > 5, "the outputs hardly vary: {distinct:?}");
    // An add whose source is not the kept layer is refused.
    let mut bad = file.clone();
    bad[64 + 2 * 48 + 40] = 1;
    fix(&mut bad);
    assert_eq!(Model::parse(&bad).unwrap_err(), bottleneck_runtime::Error::BadSection { section: 2 });
    // A source on a layer that is not an add is a record error.
    let mut bad = file;
    bad[64 + 48 + 40] = 1;
    fix(&mut bad);
    assert_eq!(Model::parse(&bad).unwrap_err(), bottleneck_runtime::Error::BadRecord { layer: 1, offset: 40 });
}
