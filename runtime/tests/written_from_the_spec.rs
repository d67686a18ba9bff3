//! A model file written byte by byte from `docs/runtime-format.md` alone (no writer of this
//! project, no layout constant of the runtime), and its outputs computed from the spec's formulas
//! with plain loops. The runtime must accept the file and give exactly those outputs: a
//! third-party writer that follows the spec computes what the spec says. The model has one layer
//! of each kind whose layout the spec defines: conv2d, reshape, linear, conv-transpose2d (stride 2,
//! so that the residue classes of its weights matter) and sigmoid.

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

#[test]
fn a_file_written_from_the_spec_runs_as_the_spec_says() {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let input_scale = 1.0f32 / 255.0;
    let (s0, code_scale, s3, s5) = (0.02f32, 0.05f32, 0.03f32, 0.04f32);
    let sigmoid_scale = 1.0f32 / 255.0;
    // Encoder: conv2d 1->2 (3x3, stride 1, padding 1, ReLU) on 1x4x4, reshape to 32, linear 32->3.
    let conv = Tables::random(&mut g, 2 * 3 * 3, 2, 38);
    let enc_linear = Tables::random(&mut g, 3 * 32, 3, 40);
    // Decoder: linear 3->8 (ReLU), reshape to 2x2x2, conv-transpose2d 2->1 (3x3, stride 2,
    // padding 1, output padding 1: 4x4, ReLU), sigmoid.
    let dec_linear = Tables::random(&mut g, 8 * 3, 8, 36);
    let conv_t = Tables::random(&mut g, 3 * 3 * 2, 1, 37);
    let lut: Vec<u8> = (0..256u32).map(|b| (255.0 / (1.0 + (-(b as f64) / 40.0 + 3.0).exp())) as u8).collect();

    // Tables after the header (64 bytes) and the 7 layer records (7 x 48), in layer order.
    let mut tables = Vec::new();
    let base = 64 + 7 * 48;
    let mut put = |bytes: Vec<u8>| -> u32 {
        let at = (base + tables.len()) as u32;
        tables.extend(bytes);
        at
    };
    let mut offsets = |t: &Tables| -> [u32; 4] {
        let w = put(t.weights.iter().map(|&v| v as u8).collect());
        let b = put(t.bias.iter().flat_map(|v| v.to_le_bytes()).collect());
        let r = put(t.requant.iter().flat_map(|&(m, s)| m.to_le_bytes().into_iter().chain(s.to_le_bytes())).collect());
        [w, b, r, 0]
    };
    let (o_conv, o_enc, o_dec, o_conv_t) =
        (offsets(&conv), offsets(&enc_linear), offsets(&dec_linear), offsets(&conv_t));
    let o_lut = put(lut.clone());
    let layers = [
        record(CONV, RELU, 3, 1, 1, 0, [1, 4, 4], [2, 4, 4], s0, o_conv),
        // A reshape keeps its input's bytes, signedness and scale.
        record(RESHAPE, 0, 1, 1, 0, 0, [2, 4, 4], [32, 1, 1], s0, [0; 4]),
        record(LINEAR, SIGNED, 1, 1, 0, 0, [32, 1, 1], [3, 1, 1], code_scale, o_enc),
        record(LINEAR, RELU, 1, 1, 0, 0, [3, 1, 1], [8, 1, 1], s3, o_dec),
        record(RESHAPE, 0, 1, 1, 0, 0, [8, 1, 1], [2, 2, 2], s3, [0; 4]),
        record(CONV_T, RELU, 3, 2, 1, 1, [2, 2, 2], [1, 4, 4], s5, o_conv_t),
        record(SIGMOID, 0, 1, 1, 0, 0, [1, 4, 4], [1, 4, 4], sigmoid_scale, [0, 0, 0, o_lut]),
    ];

    // Header (spec: "Header").
    let mut file = vec![0u8; 64];
    file[0..4].copy_from_slice(b"BTNQ");
    file[4..6].copy_from_slice(&1u16.to_le_bytes());
    file[6..8].copy_from_slice(&64u16.to_le_bytes());
    file[18..20].copy_from_slice(&7u16.to_le_bytes());
    for (i, d) in [1u16, 4, 4].iter().enumerate() {
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
    for l in &layers {
        file.extend(l);
    }
    file.extend(&tables);
    let len = file.len() as u32;
    file[8..12].copy_from_slice(&len.to_le_bytes());
    let crc = crc32(&file[16..]);
    file[12..16].copy_from_slice(&crc.to_le_bytes());

    let model = Model::parse(&file).expect("the runtime refuses a file written from the spec");
    let mut scratch = vec![0u8; model.max_scratch_len()];

    let mut image = [0f32; 16];
    for (i, x) in image.iter_mut().enumerate() {
        *x = ((i * 37 + 11) % 256) as f32 / 255.0;
    }
    let mut code = [0f32; 3];
    model.encode(&image, &mut code, &mut scratch).unwrap();

    // The encoder, from the spec's formulas. Input bytes: trunc(x / scale + 0.5) (x >= 0).
    let x: Vec<i64> = image.iter().map(|&v| ((v / input_scale + 0.5) as i64).clamp(0, 255)).collect();
    // conv2d: reads input (oy*s + ky - p, ox*s + kx - p); weights [out][ky][kx][in]; outputs
    // channel-last [h][w][c].
    let mut h0 = vec![0i64; 2 * 16];
    for o in 0..2 {
        for oy in 0..4i64 {
            for ox in 0..4i64 {
                let mut acc = 0i64;
                for ky in 0..3i64 {
                    for kx in 0..3i64 {
                        let (iy, ix) = (oy + ky - 1, ox + kx - 1);
                        if (0..4).contains(&iy) && (0..4).contains(&ix) {
                            let w = conv.weights[(o * 3 + ky as usize) * 3 + kx as usize];
                            acc += i64::from(w) * x[(iy * 4 + ix) as usize];
                        }
                    }
                }
                h0[((oy * 4 + ox) * 2) as usize + o] = conv.requant(o, acc as i32, 0, 255);
            }
        }
    }
    // Reshape: no bytes move. Linear: weights [out][in] over the channel-last bytes.
    let expected_code: Vec<f32> = (0..3)
        .map(|o| {
            let acc: i64 = (0..32).map(|i| i64::from(enc_linear.weights[o * 32 + i]) * h0[i]).sum();
            enc_linear.requant(o, acc as i32, -127, 127) as f32 * code_scale
        })
        .collect();
    assert_eq!(code.to_vec(), expected_code);

    // The decoder on a code of our own. Codes are quantized with code_scale, halves away from zero.
    let z = [0.31f32, -0.52, 1.17];
    let mut out = [0f32; 16];
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
    // class (ry, rx) = ((oy + p) mod s, (ox + p) mod s), classes in order ry then rx, each block
    // [out][kyi][kxi][in] with ky = ry + s * kyi.
    let (s, p, k) = (2usize, 1usize, 3usize);
    let taps = |r: usize| if r >= k { 0 } else { (k - r).div_ceil(s) };
    // Class c = ry * s + rx starts after the blocks of the classes before it.
    let block_start = |ry: usize, rx: usize| -> usize { (0..ry * s + rx).map(|c| taps(c / s) * taps(c % s) * 2).sum() };
    let at = block_start(s - 1, s - 1) + taps(s - 1) * taps(s - 1) * 2;
    assert_eq!(at, conv_t.weights.len());
    let mut h5 = [0i64; 16];
    for oy in 0..4 {
        for ox in 0..4 {
            let (ry, rx) = ((oy + p) % s, (ox + p) % s);
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
                        let w = conv_t.weights[block_start(ry, rx) + (kyi * taps(rx) + kxi) * 2 + c];
                        acc += i64::from(w) * h3[((iy * 2 + ix) * 2) as usize + c];
                    }
                }
            }
            h5[oy * 4 + ox] = conv_t.requant(0, acc as i32, 0, 255);
        }
    }
    // Sigmoid by table, then bytes times the last layer's scale, [c][h][w] (one channel here).
    let expected_image: Vec<f32> = h5.iter().map(|&b| f32::from(lut[b as usize]) * sigmoid_scale).collect();
    assert_eq!(out.to_vec(), expected_image);
    // Not a degenerate case: the outputs vary.
    assert!(expected_image.iter().any(|&v| v != expected_image[0]), "{expected_image:?}");
    assert!(h5.iter().any(|&v| v != h5[0]) && h0.iter().any(|&v| v != 0), "{h5:?}");
}
