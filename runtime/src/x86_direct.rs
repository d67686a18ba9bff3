//! Convolutions and transposed convolutions with AVX2, computed straight from a widened copy of
//! the input: the x86 builds' path for the layers it takes (`crate::dispatch` tries it first, for
//! the AVX-512 VNNI build too, whose CPUs have AVX2).
//!
//! The layer loops of `kernel_set!` gather each output pixel's patch, zero its border taps and
//! widen it before the dot products; at batch 1 that bookkeeping cost more than the products
//! (docs/BENCHMARKS.md, "Latency at batch 1"). Here, once per layer call:
//! - the input is widened to i16 into a buffer whose padding is written out as zeros, so that no
//!   pixel is a border pixel: a patch word (four terms) is one 8-byte read at a fixed offset from
//!   the pixel's corner, whatever the pixel;
//! - the weights are widened to i16 in the order the file keeps them (`format::packed_at`), two
//!   instructions per 16 weights, no reordering.
//!
//! Then, per block of output pixels sharing their taps (the convolution, or one residue class of
//! a transposed convolution, whose kernel rows read the input backwards: the offsets say where):
//! - four or more channels in whole groups (`by_channels_block`): per word, one 8-byte broadcast
//!   per pixel and, per group of four channels, one `vpmaddwd` against the group's widened word
//!   (16 products); two pixels of a row at a time for up to four groups (each weight word loaded
//!   once for both), one for eight; then the pairs added and eight channels requantized together
//!   in registers (`requant8`).
//! - fewer than four channels on cells of whole 8-term chunks (`by_pixels_block`, the decoder's
//!   last layer): eight pixels of a row at a time, two per register, each chunk one `vpmaddwd`
//!   against the tap's weights, the eight sums requantized together.
//! - a convolution whose kernel rows are not whole words (3x3 over one or three channels: a
//!   CNN's first layer) first copies each output pixel's kernel rows into cells of whole words
//!   and reorders its weights to match (`conv_expanded`), then runs as the first case.
//!
//! Every product and pair sum is exact in i32 (|255 x 128| x 2 < 2^31) and integer sums do not
//! depend on their order, so the outputs are the portable kernels' bits (the tests below and
//! `crate::check_kernel_builds`). Layers it does not take return `None` and run through the
//! build's layer loops: other shapes (transposed convolutions on cells not whole words, channels
//! not whole groups of four and more than three, fewer than four or not whole groups for a
//! convolution whose kernel rows are not whole words, a transposed convolution whose kernel is
//! smaller than its stride), a requantization shift of at most 32, or tables larger than its
//! stack buffers (8,192 input values, 16,384 weights, 64 channels, 512 words in a patch: about
//! 56 KiB of stack, 76 KiB with `conv_expanded`'s copy).
#![allow(unsafe_code)]

use core::arch::x86_64::{
    __m128i, __m256i, _mm_cvtsi64_si128, _mm_cvtsi128_si64, _mm_extract_epi8, _mm_loadu_si128, _mm_packs_epi16,
    _mm_packus_epi16, _mm_storeu_si128, _mm256_add_epi32, _mm256_blend_epi32, _mm256_broadcastsi128_si256,
    _mm256_castsi256_si128, _mm256_cvtepi8_epi16, _mm256_cvtepu8_epi16, _mm256_hadd_epi32, _mm256_loadu_si256,
    _mm256_loadu2_m128i, _mm256_madd_epi16, _mm256_max_epi32, _mm256_min_epi32, _mm256_mul_epi32, _mm256_packs_epi32,
    _mm256_permute4x64_epi64, _mm256_permutevar8x32_epi32, _mm256_set1_epi32, _mm256_set1_epi64x, _mm256_setr_epi32,
    _mm256_setr_epi64x, _mm256_setzero_si256, _mm256_srai_epi32, _mm256_srav_epi32, _mm256_srli_epi64,
    _mm256_storeu_si256,
};
use core::mem::MaybeUninit;

use crate::Error;
use crate::format::{LayerKind, LayerRecord, REQUANT_LEN, class_taps, packed_at, padded_terms};
use crate::kernels::{OutRange, Weights, requant_params};

/// Most i16 values of the padded input (16 KiB on the stack).
const INPUT_MAX: usize = 8192;
/// Most weights of a layer (32 KiB on the stack as i16).
const WEIGHTS_MAX: usize = 16384;
/// Most four-term words in one output pixel's patch.
const WORDS_MAX: usize = 512;
/// Most groups of eight output channels.
const OCTETS_MAX: usize = 8;
/// Most 8-term chunks in a patch for `by_pixels`.
const CHUNKS_MAX: usize = 64;

/// One block of output pixels that share their taps: `rows x cols` pixels, output pixel (i, n)
/// at (`oy0 + i step`, `ox0 + n step`), its patch's corner at element `base + i row_step + n
/// col_step` of the padded input, word `j` of its patch at `off[j]` from there.
struct Block {
    oy0: usize,
    ox0: usize,
    step: usize,
    rows: usize,
    cols: usize,
    base: usize,
    row_step: usize,
    col_step: usize,
    words: usize,
    /// Where the block's rows start in the weight table, in weights.
    w_at: usize,
}

/// The padded input's geometry: `hp x wp` cells of `ic` values, input pixel (y, x) at
/// (y + top, x + left).
#[derive(Clone, Copy)]
struct Padded {
    hp: usize,
    wp: usize,
    top: usize,
    left: usize,
}

/// Runs `rec` (a `Conv2d` or `ConvTranspose2d` layer whose tables were checked at parse) from
/// `input` (i8 when `signed`) into `output`, or returns `None`, writing nothing, when this path
/// does not take the layer. (A check inside the blocks that fails, which the checks up front
/// rule out, also returns `None`, possibly after writing: the layer loops then rewrite every
/// output byte.)
///
/// # Safety
/// The CPU has AVX2.
#[target_feature(enable = "avx2")]
pub(crate) fn layer(
    rec: &LayerRecord,
    tables: &Weights<'_>,
    input: &[u8],
    signed: bool,
    output: &mut [u8],
) -> Option<Result<(), Error>> {
    let (ic, ih, iw) = (usize::from(rec.input.c), usize::from(rec.input.h), usize::from(rec.input.w));
    let (oc, oh, ow) = (usize::from(rec.output.c), usize::from(rec.output.h), usize::from(rec.output.w));
    let (kh, kw) = (usize::from(rec.kernel.0), usize::from(rec.kernel.1));
    let (s, pad) = (usize::from(rec.stride).max(1), usize::from(rec.padding));
    let by_channels = oc > 0 && oc.is_multiple_of(4);
    let by_pixels = (1..4).contains(&oc) && ic.is_multiple_of(8);
    // (Parse refuses empty shapes and a zero stride; checked again here, so that no input can
    // leave a row of the padded copy unwritten or differ from the layer loops.)
    let empty = [ic, ih, iw, kh, kw].contains(&0) || rec.stride == 0;
    if !(by_channels || by_pixels) || empty || oc > 8 * OCTETS_MAX {
        return None;
    }
    // A convolution whose kernel row is not whole words (3x3 over one or three channels: a
    // CNN's first layer) reads its rows from a copy with each row's cells padded to whole words
    // (`conv_expanded`); its channels must be whole groups.
    let expanded = rec.kind == LayerKind::Conv2d && !(kw * ic).is_multiple_of(4);
    let transposed = match rec.kind {
        // A word must not straddle two kernel rows.
        LayerKind::Conv2d if (kw * ic).is_multiple_of(4) || by_channels => false,
        // A word must lie in one cell: a class's kernel row reads its cells backwards. Every
        // class must have taps (a kernel at least the stride), so that no class is refused
        // after others were written.
        LayerKind::ConvTranspose2d if ic.is_multiple_of(4) && kh >= s && kw >= s => true,
        _ => return None,
    };
    let blocks_n = if transposed { s * s } else { 1 };
    let padded = if transposed {
        // Tap (kyi, kxi) of class pixel (qy, qx) reads input (qy - kyi, qx - kxi): up to
        // `class_taps(k, s, 0) - 1` cells before the input, and the last class pixel's own cell
        // after it.
        let (top, left) = (class_taps(kh, s, 0).max(1) - 1, class_taps(kw, s, 0).max(1) - 1);
        let reach =
            |o: usize| (0..s).filter_map(|r| class_line(o, s, pad, r)).map(|(_, n, q0)| q0 + n).max().unwrap_or(0);
        Padded { hp: top + reach(oh).max(ih), wp: left + reach(ow).max(iw), top, left }
    } else {
        let hp = (ih + 2 * pad).max((oh.max(1) - 1) * s + kh);
        let wp = (iw + 2 * pad).max((ow.max(1) - 1) * s + kw);
        Padded { hp, wp, top: pad, left: pad }
    };
    let len = padded.hp.checked_mul(padded.wp)?.checked_mul(ic)?;
    // (Rows of whole words: every block's terms are, but an expanded convolution's file rows
    // are padded to whole words.)
    let w_total =
        (0..blocks_n).try_fold(0usize, |sum, b| sum.checked_add(padded_terms(rec.block_terms(b)?).checked_mul(oc)?))?;
    if len > INPUT_MAX
        || w_total > WEIGHTS_MAX
        || tables.w.len() < w_total
        || tables.bias.len() < 4 * oc
        || tables.requant.len() < REQUANT_LEN * oc
        || input.len() < ih * iw * ic
        || output.len() < oh * ow * oc
    {
        return None;
    }
    let mut x_buf = [MaybeUninit::<i16>::uninit(); INPUT_MAX];
    let x = widen_padded(input.get(..ih * iw * ic)?, signed, (ih, iw, ic), padded, &mut x_buf)?;
    let mut w_buf = [MaybeUninit::<i16>::uninit(); WEIGHTS_MAX];
    let range = OutRange::of(rec).with_shifts(tables.requant);
    if !range.high_shifts {
        // A shift of at most 32 (no layer of the bundled models): the layer loops requantize
        // such channels one at a time.
        return None;
    }
    let biases = tables.bias.get(..4 * oc)?.as_chunks::<4>().0;
    let requants = tables.requant.get(..REQUANT_LEN * oc)?.as_chunks::<REQUANT_LEN>().0;
    let channel = |c: usize| Some((biases.get(c)?, requants.get(c)?));
    let mut octets = [Octet::ZERO; OCTETS_MAX];
    if by_channels {
        for (h, o) in octets.iter_mut().enumerate().take(oc.div_ceil(8)) {
            *o = Octet::new(|l| channel(8 * h + l));
        }
    } else {
        // One octet per channel, every lane the same (the lanes are pixels).
        for (c, o) in octets.iter_mut().enumerate().take(oc) {
            *o = Octet::new(|_| channel(c));
        }
    }
    let params = Params { octets, range, oc, ow };
    if expanded {
        // SAFETY: AVX2 (this function's contract).
        return unsafe { conv_expanded(rec, x, padded, &params, tables.w.get(..w_total)?, &mut w_buf, output) };
    }
    let w = widen_weights(tables.w.get(..w_total)?, &mut w_buf);
    let mut w_at = 0;
    let mut off_buf = [MaybeUninit::<usize>::uninit(); WORDS_MAX];
    for b in 0..blocks_n {
        let k = rec.block_terms(b)?;
        let (block, offsets) = if transposed {
            let (ry, rx) = (b / s, b % s);
            let (nky, nkx) = (class_taps(kh, s, ry), class_taps(kw, s, rx));
            let (oy0, rows, qy0) = class_line(oh, s, pad, ry).unwrap_or((0, 0, 0));
            let (ox0, cols, qx0) = class_line(ow, s, pad, rx).unwrap_or((0, 0, 0));
            let words = k / 4;
            // Tap (kyi, kxi)'s cell, its words in turn (loops, not divisions: a division costs
            // tens of cycles).
            let wp = padded.wp;
            let cells = (0..nky).flat_map(|kyi| (0..nkx).map(move |kxi| ((nky - 1 - kyi) * wp + (nkx - 1 - kxi)) * ic));
            let offsets = word_offsets(&mut off_buf, cells.map(|cell| (cell, ic / 4)));
            if offsets.len() != words {
                return None;
            }
            // Corner of pixel (0, 0): input (qy0 - (nky - 1), qx0 - (nkx - 1)), padded.
            let corner_y = (qy0 + padded.top).checked_sub(nky.max(1) - 1)?;
            let corner_x = (qx0 + padded.left).checked_sub(nkx.max(1) - 1)?;
            let base = (corner_y * padded.wp + corner_x) * ic;
            let block =
                Block { oy0, ox0, step: s, rows, cols, base, row_step: padded.wp * ic, col_step: ic, words, w_at };
            (block, offsets)
        } else {
            let words = k / 4;
            let run = kw * ic;
            let row = padded.wp * ic;
            let offsets = word_offsets(&mut off_buf, (0..kh).map(|ky| (ky * row, run / 4)));
            if offsets.len() != words {
                return None;
            }
            let block = Block {
                oy0: 0,
                ox0: 0,
                step: 1,
                rows: oh,
                cols: ow,
                base: 0,
                row_step: s * padded.wp * ic,
                col_step: s * ic,
                words,
                w_at,
            };
            (block, offsets)
        };
        w_at += oc * k;
        if block.rows == 0 || block.cols == 0 {
            continue;
        }
        let words = block.words;
        // Every read below: the last pixel's corner plus the farthest word (or 8-term chunk, its
        // two words side by side).
        let last = block.base + (block.rows - 1) * block.row_step + (block.cols - 1) * block.col_step;
        let reach = if by_channels {
            offsets.iter().map(|&o| o + 4).max()
        } else if words.is_multiple_of(2)
            && words / 2 <= CHUNKS_MAX
            && offsets.as_chunks::<2>().0.iter().all(|[a, b]| *b == a + 4)
        {
            offsets.iter().step_by(2).map(|&o| o + 8).max()
        } else {
            None
        };
        // (Every class has taps, checked above; class 0, computed first, has the most words and
        // chunks, so a limit refuses the layer before anything is written.)
        let reach = reach?;
        if last + reach > x.len() || block.w_at + oc * k > w.len() {
            return None;
        }
        if by_channels {
            // SAFETY: AVX2 (this function's contract); reads within `x` and `w` (checked above).
            unsafe { by_channels_block(x, w, &block, offsets, &params, output) }?;
        } else {
            // SAFETY: as above, with whole chunks (checked above).
            unsafe { by_pixels_block(x, w, &block, offsets, &params, output) }?;
        }
    }
    Some(Ok(()))
}

/// A convolution whose kernel rows are not whole words, from the padded copy `x`: each output
/// pixel's kernel rows copied once per call into cells of whole words (`e` values: the row's
/// `kw x ic` values and zeros), the weights reordered to match (each kernel row's terms then
/// zeros, in the file's groups of four channels), then the convolution of those cells with one
/// tap per kernel row (`by_channels_block`). The copy costs about four instructions a value and
/// the kernel then reads whole words, where the layer loops gathered a patch per pixel.
///
/// # Safety
/// The CPU has AVX2.
#[target_feature(enable = "avx2")]
unsafe fn conv_expanded(
    rec: &LayerRecord,
    x: &[i16],
    padded: Padded,
    p: &Params,
    file_w: &[u8],
    w_buf: &mut [MaybeUninit<i16>],
    output: &mut [u8],
) -> Option<Result<(), Error>> {
    let ic = usize::from(rec.input.c);
    let (oc, oh, ow) = (usize::from(rec.output.c), usize::from(rec.output.h), usize::from(rec.output.w));
    let (kh, kw, s) = (usize::from(rec.kernel.0), usize::from(rec.kernel.1), usize::from(rec.stride).max(1));
    let run = kw * ic;
    let (e, kp) = (padded_terms(run), padded_terms(kh * run));
    // The copy: row y of the padded input, output column n: the cell at padded (y, n s).
    let row = ow * e;
    let len = padded.hp.checked_mul(row)?;
    let words = kh * e / 4;
    if len > INPUT_MAX || oc * kh * e > w_buf.len() || file_w.len() < oc * kp || words > WORDS_MAX || oh == 0 || ow == 0
    {
        return None;
    }
    let mut xe_buf = [MaybeUninit::<i16>::uninit(); INPUT_MAX];
    let cells = xe_buf.get_mut(..len)?.as_chunks_mut::<4>().0;
    let mut cells = cells.iter_mut();
    for y in 0..padded.hp {
        for n in 0..ow {
            // n s + kw <= wp: the cell's run lies in row y.
            let at = (y * padded.wp + n * s) * ic;
            let mut src = x.get(at..at + run)?.iter().copied().chain(core::iter::repeat(0));
            for _ in 0..e / 4 {
                let cell = cells.next()?;
                for v in cell.iter_mut() {
                    v.write(src.next().unwrap_or(0));
                }
            }
        }
    }
    // SAFETY: the loops wrote hp x ow cells of e values: all `len`; MaybeUninit<i16> has i16's
    // layout.
    let xe = unsafe { core::slice::from_raw_parts(xe_buf.as_ptr().cast::<i16>(), len) };
    // The weights in the file's groups (`packed_at`) over the new rows of kh x e terms.
    let kpe = kh * e;
    let wbuf = w_buf.get_mut(..oc * kpe)?;
    for o in 0..oc {
        for ky in 0..kh {
            for u in 0..e {
                let t = ky * e + u;
                let v = if u < run { *file_w.get(packed_at(oc, kp, o, ky * run + u))? as i8 } else { 0 };
                wbuf.get_mut(packed_at(oc, kpe, o, t))?.write(i16::from(v));
            }
        }
    }
    // SAFETY: every (o, t) was written once, and `packed_at` is a permutation of 0 .. oc x kpe
    // (`format::tests::packed_layout_is_a_permutation_of_the_rows`).
    let w = unsafe { core::slice::from_raw_parts(wbuf.as_ptr().cast::<i16>(), oc * kpe) };
    let mut off_buf = [MaybeUninit::<usize>::uninit(); WORDS_MAX];
    let offsets = word_offsets(&mut off_buf, (0..kh).map(|ky| (ky * row, e / 4)));
    let block =
        Block { oy0: 0, ox0: 0, step: 1, rows: oh, cols: ow, base: 0, row_step: s * row, col_step: e, words, w_at: 0 };
    // Every read: the last pixel's corner plus its last kernel row's cell, within the copy.
    let last = (oh - 1) * block.row_step + (ow - 1) * e + (kh - 1) * row + e;
    if offsets.len() != words || last > xe.len() {
        return None;
    }
    // SAFETY: AVX2 (the contract); reads within `xe` (checked above) and `w` (oc x kpe values).
    unsafe { by_channels_block(xe, w, &block, offsets, p, output) }?;
    Some(Ok(()))
}

/// The outputs of residue class `r` along one axis of `o` outputs (stride `s`, padding `pad`):
/// the first output, how many, and the input cell the first one's taps start from (`(o0 + pad -
/// r) / s`, exact). `None` for a class with no output.
fn class_line(o: usize, s: usize, pad: usize, r: usize) -> Option<(usize, usize, usize)> {
    let o0 = (r + s - pad % s) % s;
    (o0 < o).then(|| (o0, (o - o0).div_ceil(s), (o0 + pad - r) / s))
}

/// A layer's biases, requantization records and output range, and its output's width and
/// channels.
struct Params {
    /// Channels `8h .. 8h + 8` in `octets[h]`.
    octets: [Octet; OCTETS_MAX],
    range: OutRange,
    oc: usize,
    ow: usize,
}

/// Eight lanes' requantization as `requant8` reads it: biases, multipliers in the low words of
/// 64-bit lanes (those of lanes 0, 2, 4, 6 in `mult_even`, of 1, 3, 5, 7 in `mult_odd`) and
/// `shift - 33` per lane. A lane without a channel has zeros (its byte is not stored).
#[derive(Clone, Copy)]
struct Octet {
    bias: __m256i,
    mult_even: __m256i,
    mult_odd: __m256i,
    shift: __m256i,
}

impl Octet {
    // SAFETY (of the transmute): an all-zero bit pattern is a valid __m256i.
    const ZERO: Self = {
        let z = unsafe { core::mem::transmute::<[u8; 32], __m256i>([0; 32]) };
        Self { bias: z, mult_even: z, mult_odd: z, shift: z }
    };

    /// Lane `l` with channel `channel(l)`'s bias and record, or zeros for `None`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn new<'a>(channel: impl Fn(usize) -> Option<(&'a [u8; 4], &'a [u8; REQUANT_LEN])>) -> Self {
        let lanes: [(i32, i64, i32); 8] = core::array::from_fn(|l| {
            channel(l).map_or((0, 0, 0), |(b, r)| {
                let (m, sh) = requant_params(r);
                (i32::from_le_bytes(*b), i64::from(m), sh as i32 - 33)
            })
        });
        let [l0, l1, l2, l3, l4, l5, l6, l7] = lanes;
        Self {
            bias: _mm256_setr_epi32(l0.0, l1.0, l2.0, l3.0, l4.0, l5.0, l6.0, l7.0),
            mult_even: _mm256_setr_epi64x(l0.1, l2.1, l4.1, l6.1),
            mult_odd: _mm256_setr_epi64x(l1.1, l3.1, l5.1, l7.1),
            shift: _mm256_setr_epi32(l0.2, l1.2, l2.2, l3.2, l4.2, l5.2, l6.2, l7.2),
        }
    }
}

/// `input` (`ih x iw` cells of `ic` bytes, i8 when `signed`) widened to i16 into `buf`, at its
/// place in the padded geometry, zeros elsewhere (only the padding is zeroed). `None` if `buf`
/// is too small, the input empty or shorter than its shape, or the geometry does not hold it.
#[target_feature(enable = "avx2")]
fn widen_padded<'a>(
    input: &[u8],
    signed: bool,
    (ih, iw, ic): (usize, usize, usize),
    p: Padded,
    buf: &'a mut [MaybeUninit<i16>],
) -> Option<&'a [i16]> {
    let (row, run) = (p.wp * ic, iw * ic);
    let len = p.hp * row;
    let buf = buf.get_mut(..len)?;
    let left = p.left * ic;
    if run == 0 || left + run > row || input.len() < ih * run || p.top + ih > p.hp {
        return None;
    }
    // Rows above and below the input, then each input row's padding and its values.
    zero(buf.get_mut(..p.top * row)?);
    zero(buf.get_mut((p.top + ih) * row..)?);
    for (y, src) in input.chunks_exact(run.max(1)).enumerate().take(ih) {
        let line = buf.get_mut((p.top + y) * row..(p.top + y + 1) * row)?;
        let (pad_left, rest) = line.split_at_mut(left);
        let (dst, pad_right) = rest.split_at_mut(run);
        zero(pad_left);
        zero(pad_right);
        widen_run(src, dst, signed);
    }
    // SAFETY: every row was written whole above (zeros, or padding and values); MaybeUninit<i16>
    // has i16's layout.
    Some(unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<i16>(), len) })
}

/// Writes zeros: 16 at a time, then one by one.
#[inline]
#[target_feature(enable = "avx2")]
fn zero(dst: &mut [MaybeUninit<i16>]) {
    let (blocks, tail) = dst.as_chunks_mut::<16>();
    for b in blocks {
        // SAFETY: a 32-byte store into 16 i16s.
        unsafe { _mm256_storeu_si256(b.as_mut_ptr().cast(), _mm256_setzero_si256()) };
    }
    for v in tail {
        v.write(0);
    }
}

/// `src` widened to i16 into `dst` (the same length): 16 values per `vpmovzxbw`/`vpmovsxbw`, the
/// last 16 overlapping the ones before where the length is not a multiple (the same values
/// written twice), one by one below 16.
#[inline]
#[target_feature(enable = "avx2")]
fn widen_run(src: &[u8], dst: &mut [MaybeUninit<i16>], signed: bool) {
    let n = src.len().min(dst.len());
    if n < 16 {
        for (&b, o) in src.iter().zip(dst.iter_mut()) {
            o.write(if signed { i16::from(b as i8) } else { i16::from(b) });
        }
        return;
    }
    let mut at = 0;
    while at < n {
        let from = at.min(n - 16);
        // SAFETY: from + 16 <= n: a 16-byte load inside `src` and a 32-byte store inside `dst`.
        unsafe {
            let v = _mm_loadu_si128(src.as_ptr().add(from).cast());
            let v = if signed { _mm256_cvtepi8_epi16(v) } else { _mm256_cvtepu8_epi16(v) };
            _mm256_storeu_si256(dst.as_mut_ptr().add(from).cast(), v);
        }
        at = from + 16;
    }
}

/// The i8 weights `w` widened to i16 into `buf` (at least as long), in the same order.
#[target_feature(enable = "avx2")]
fn widen_weights<'a>(w: &[u8], buf: &'a mut [MaybeUninit<i16>]) -> &'a [i16] {
    let n = w.len().min(buf.len());
    let (w, buf) = (w.get(..n).unwrap_or_default(), buf.get_mut(..n).unwrap_or_default());
    let (blocks, tail) = w.as_chunks::<16>();
    let (outs, out_tail) = buf.as_chunks_mut::<16>();
    for (b, o) in blocks.iter().zip(outs.iter_mut()) {
        // SAFETY: a 16-byte load of a 16-byte array and a 32-byte store into 16 i16s.
        unsafe {
            let v = _mm256_cvtepi8_epi16(_mm_loadu_si128(b.as_ptr().cast()));
            _mm256_storeu_si256(o.as_mut_ptr().cast(), v);
        }
    }
    for (&b, o) in tail.iter().zip(out_tail) {
        o.write(i16::from(b as i8));
    }
    // SAFETY: the loops wrote 16 per block and then the tail: all `n` elements.
    unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<i16>(), n) }
}

/// Every pixel of `block`, four or more channels in whole groups: the groups in passes of up to
/// eight (`pass_block`), each pass over every pixel.
///
/// # Safety
/// The CPU has AVX2; every pixel's corner plus `off[j] + 4` is within `x`, and the block's
/// `oc x 4 words` weights from `w_at` are within `w`.
#[target_feature(enable = "avx2")]
unsafe fn by_channels_block(x: &[i16], w: &[i16], b: &Block, off: &[usize], p: &Params, out: &mut [u8]) -> Option<()> {
    let groups = p.oc / 4;
    let mut g = 0;
    while g < groups {
        // SAFETY: the caller's contract, and g + pass <= groups.
        // A patch of four words (a 4x4 kernel over one channel: the encoder's first layer) with
        // its word loop unrolled: its per-pixel work is small beside a loop's.
        let pass = unsafe {
            match (groups - g, b.words) {
                (1, 4) => pass_block::<1, 2, 2, 4>(x, w, b, off, p, out, g).map(|()| 1),
                (2 | 3, 4) => pass_block::<2, 2, 4, 4>(x, w, b, off, p, out, g).map(|()| 2),
                (4..=7, 4) => pass_block::<4, 2, 8, 4>(x, w, b, off, p, out, g).map(|()| 4),
                (1, _) => pass_block::<1, 2, 2, 0>(x, w, b, off, p, out, g).map(|()| 1),
                (2 | 3, _) => pass_block::<2, 2, 4, 0>(x, w, b, off, p, out, g).map(|()| 2),
                (4..=7, _) => pass_block::<4, 2, 8, 0>(x, w, b, off, p, out, g).map(|()| 4),
                _ => pass_block::<8, 1, 8, 0>(x, w, b, off, p, out, g).map(|()| 8),
            }
        }?;
        g += pass;
    }
    Some(())
}

/// Groups `g .. g + N` of every pixel of `block`, `P` pixels of a row at a time (each weight word
/// loaded once for them; a last odd pixel alone): one function per shape, so that its loop state
/// stays in registers. `W` is the number of words when known at compile time (else 0).
///
/// # Safety
/// As [`by_channels_block`], and `g + N` groups at most.
#[target_feature(enable = "avx2")]
unsafe fn pass_block<const N: usize, const P: usize, const M: usize, const W: usize>(
    x: &[i16],
    w: &[i16],
    b: &Block,
    off: &[usize],
    p: &Params,
    out: &mut [u8],
    g: usize,
) -> Option<()> {
    // SAFETY: groups g .. g + N's words lie within the block's weights (the contract).
    let wp = unsafe { w.as_ptr().add(b.w_at + 16 * g * b.words) };
    let (c, pixel_out) = (4 * g, b.step * p.oc);
    for i in 0..b.rows {
        let (corner_row, out_row) = (b.base + i * b.row_step, ((b.oy0 + i * b.step) * p.ow + b.ox0) * p.oc);
        let mut n = 0;
        while n + P <= b.cols {
            // SAFETY: pixels n .. n + P of the row are pixels of the block (the contract).
            let acc = unsafe {
                channels_pass::<N, P, M, W>(x.as_ptr().add(corner_row + n * b.col_step), b.col_step, off, wp, b.words)
            };
            for (k, a) in acc.as_chunks::<N>().0.iter().enumerate() {
                store_groups(out, out_row + (n + k) * pixel_out, c, a, p)?;
            }
            n += P;
        }
        if n < b.cols {
            // SAFETY: as above, for the last pixel.
            let acc = unsafe {
                channels_pass::<N, 1, N, W>(x.as_ptr().add(corner_row + n * b.col_step), b.col_step, off, wp, b.words)
            };
            store_groups(out, out_row + n * pixel_out, c, &acc, p)?;
        }
    }
    Some(())
}

/// Requantizes the accumulators of consecutive groups (channels `c ..` on, `c` a multiple of 8)
/// of the pixel whose output starts at `at`, eight channels at a time, a last odd group four.
#[inline]
#[target_feature(enable = "avx2")]
fn store_groups(out: &mut [u8], at: usize, c: usize, acc: &[__m256i], p: &Params) -> Option<()> {
    let (pairs, odd) = acc.as_chunks::<2>();
    for (h, [a, b]) in pairs.iter().enumerate() {
        let d = c + 8 * h;
        let bytes = requant8(octet(*a, *b), p.octets.get(d / 8)?, p.range);
        out.get_mut(at + d..at + d + 8)?.copy_from_slice(&bytes);
    }
    if let Some(&a) = odd.first() {
        let d = c + 8 * pairs.len();
        let bytes = requant8(octet(a, a), p.octets.get(d / 8)?, p.range);
        out.get_mut(at + d..at + d + 4)?.copy_from_slice(bytes.get(..4)?);
    }
    Some(())
}

/// The accumulators of `N` groups of four channels for `P` pixels (`P x N` of them, pixel by
/// pixel; pixel `k`'s corner at `x + k step`): per word, one broadcast of its four values per
/// pixel and a `vpmaddwd` per group and pixel against the group's widened word, loaded once.
/// Lanes `(2r, 2r + 1)` of a group's accumulator hold its channel `r`. `M` is `N x P`; `W`, when
/// not 0, the number of words (`off`'s length), known at compile time.
///
/// # Safety
/// `x.add(k step + o)` for `o` in `off` and `k < P` has 4 readable i16s; `w` has
/// `N x 16 x words` readable i16s (group `q`'s word `j` at `16 (q words + j)`).
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn channels_pass<const N: usize, const P: usize, const M: usize, const W: usize>(
    x: *const i16,
    step: usize,
    off: &[usize],
    w: *const i16,
    words: usize,
) -> [__m256i; M] {
    const { assert!(M == N * P) };
    // W words known at compile time (0: any number), so that a short word loop unrolls.
    let off = if W > 0 { off.first_chunk::<W>().map_or(off, |o| o.as_slice()) } else { off };
    let mut acc = [_mm256_setzero_si256(); M];
    // SAFETY (of the pointers): pixel k's corner and group q's first word, within `x` and `w`
    // (the contract).
    let xs: [*const i16; P] = core::array::from_fn(|k| unsafe { x.add(k * step) });
    let ws: [*const i16; N] = core::array::from_fn(|q| unsafe { w.add(16 * q * words) });
    let mut wj = 0;
    for &o in off {
        // SAFETY: the contract: four i16s at x + k step + o, and group q's word j at
        // w + 16 (q words + j), j = wj / 16 < words.
        unsafe {
            let v = xs.map(|xk| _mm256_set1_epi64x(xk.add(o).cast::<i64>().read_unaligned()));
            for (q, wq) in ws.iter().enumerate() {
                let wv = _mm256_loadu_si256(wq.add(wj).cast());
                for (k, vk) in v.iter().enumerate() {
                    if let Some(a) = acc.get_mut(k * N + q) {
                        *a = _mm256_add_epi32(*a, _mm256_madd_epi16(*vk, wv));
                    }
                }
            }
        }
        wj += 16;
    }
    acc
}

/// The eight channel sums of two groups' accumulators: per 128-bit half `vphaddd` gives
/// [a0 a1 b0 b1 | a2 a3 b2 b3], put in channel order.
#[inline]
#[target_feature(enable = "avx2")]
fn octet(a: __m256i, b: __m256i) -> __m256i {
    _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(a, b), _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7))
}

/// Eight sums requantized lane-wise as `crate::kernels::requantize`'s high-word path does (every
/// shift above 32): the bias added, the 64-bit products with the multipliers (even and odd lanes
/// apart), their high words shifted by `shift - 33`, the rounding step, the clamp and a pack to
/// bytes, in lane order.
#[inline]
#[target_feature(enable = "avx2")]
fn requant8(sums: __m256i, o: &Octet, range: OutRange) -> [u8; 8] {
    let v = _mm256_add_epi32(sums, o.bias);
    let even = _mm256_mul_epi32(v, o.mult_even);
    let odd = _mm256_mul_epi32(_mm256_srli_epi64::<32>(v), o.mult_odd);
    // The products' high words in lane order: even lanes' from `even`, odd lanes' from `odd`.
    let high = _mm256_blend_epi32::<0b1010_1010>(_mm256_srli_epi64::<32>(even), odd);
    let scaled = _mm256_srav_epi32(high, o.shift);
    let q = _mm256_srai_epi32::<1>(_mm256_add_epi32(scaled, _mm256_set1_epi32(1)));
    let q = _mm256_max_epi32(_mm256_min_epi32(q, _mm256_set1_epi32(range.hi)), _mm256_set1_epi32(range.lo));
    // In range, so the saturating packs keep every value: i32 -> i16 (lanes 0-3 in the low
    // half, 4-7 in the high), the two halves' words side by side, then i16 -> i8 or u8.
    let words = _mm256_permute4x64_epi64::<0b00_00_10_00>(_mm256_packs_epi32(q, q));
    let words = _mm256_castsi256_si128(words);
    let bytes = if range.signed { _mm_packs_epi16(words, words) } else { _mm_packus_epi16(words, words) };
    (_mm_cvtsi128_si64(bytes) as u64).to_le_bytes()
}

/// [`requant8`]'s bytes left in the low half of a register.
#[inline]
#[target_feature(enable = "avx2")]
fn requant8_bytes(sums: __m256i, o: &Octet, range: OutRange) -> __m128i {
    _mm_cvtsi64_si128(i64::from_le_bytes(requant8(sums, o, range)))
}

/// The low eight bytes of `v` stored `stride` apart from `dst` on (`vpextrb` straight to memory).
///
/// # Safety
/// `dst .. dst + 7 stride` is writable.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn store8_strided(dst: *mut u8, stride: usize, v: __m128i) {
    // SAFETY: the contract.
    unsafe {
        *dst = _mm_extract_epi8::<0>(v) as u8;
        *dst.add(stride) = _mm_extract_epi8::<1>(v) as u8;
        *dst.add(2 * stride) = _mm_extract_epi8::<2>(v) as u8;
        *dst.add(3 * stride) = _mm_extract_epi8::<3>(v) as u8;
        *dst.add(4 * stride) = _mm_extract_epi8::<4>(v) as u8;
        *dst.add(5 * stride) = _mm_extract_epi8::<5>(v) as u8;
        *dst.add(6 * stride) = _mm_extract_epi8::<6>(v) as u8;
        *dst.add(7 * stride) = _mm_extract_epi8::<7>(v) as u8;
    }
}

/// Every pixel of `block` for fewer than four channels on cells of whole 8-term chunks: eight
/// pixels of a row at a time (`pixels8`), each channel's chunks widened and broadcast to both
/// halves of a register once per block.
///
/// # Safety
/// The CPU has AVX2; every pixel's corner plus `off[2m] + 8` is within `x`, and the block's rows
/// (`oc` of `4 x words` weights from `w_at`) are within `w`.
#[target_feature(enable = "avx2")]
unsafe fn by_pixels_block(x: &[i16], w: &[i16], b: &Block, off: &[usize], p: &Params, out: &mut [u8]) -> Option<()> {
    let chunks = b.words / 2;
    let mut chunk_buf = [MaybeUninit::<usize>::uninit(); CHUNKS_MAX];
    let offsets = fill(&mut chunk_buf, off.iter().step_by(2).copied());
    let kp = 4 * b.words;
    for c in 0..p.oc {
        let lanes = p.octets.get(c)?;
        let mut w_buf = [MaybeUninit::<__m256i>::uninit(); CHUNKS_MAX];
        // SAFETY: chunk m of row c, 8 i16s at w_at + c kp + 8m < w_at + oc kp (the contract).
        let wv = fill(
            &mut w_buf,
            (0..chunks).map(|m| unsafe {
                _mm256_broadcastsi128_si256(_mm_loadu_si128(w.as_ptr().add(b.w_at + c * kp + 8 * m).cast()))
            }),
        );
        if wv.len() != chunks || offsets.len() != chunks {
            return None;
        }
        let pixel_out = b.step * p.oc;
        // Two neighbouring pixels' chunks side by side: one 32-byte load for both.
        let contiguous = b.col_step == 8;
        for i in 0..b.rows {
            let (row, out_row) = (b.base + i * b.row_step, ((b.oy0 + i * b.step) * p.ow + b.ox0) * p.oc + c);
            let mut n = 0;
            while n < b.cols {
                // Eight pixels from n, the last eight of a row overlapping the ones before
                // (written twice, the same bytes); a row shorter than eight repeats its last
                // pixel in the lanes past its end (read, not written).
                let (n0, count) = if b.cols >= 8 { (n.min(b.cols - 8), 8) } else { (0, b.cols) };
                let first = row + n0 * b.col_step;
                // SAFETY: every corner is a pixel of the block: reads within `x` (the contract).
                let sums = unsafe {
                    if count < 8 {
                        pixels8::<false>(x.as_ptr(), |k| row + k.min(b.cols - 1) * b.col_step, offsets, wv)
                    } else if contiguous {
                        pixels8::<true>(x.as_ptr(), |k| first + k * 8, offsets, wv)
                    } else {
                        pixels8::<false>(x.as_ptr(), |k| first + k * b.col_step, offsets, wv)
                    }
                };
                let start = out_row + n0 * pixel_out;
                let dst = out.get_mut(start..=start + (count - 1) * pixel_out)?;
                let bytes = requant8_bytes(sums, lanes, p.range);
                if count == 8 {
                    // SAFETY: byte k at k pixel_out <= 7 pixel_out < dst.len() (the slice above).
                    unsafe { store8_strided(dst.as_mut_ptr(), pixel_out, bytes) };
                } else {
                    let mut all = [0u8; 16];
                    // SAFETY: a 16-byte unaligned store into a 16-byte array.
                    unsafe { _mm_storeu_si128(all.as_mut_ptr().cast(), bytes) };
                    for (d, v) in dst.iter_mut().step_by(pixel_out).zip(all) {
                        *d = v;
                    }
                }
                n = n0 + 8;
            }
        }
    }
    Some(())
}

/// The offsets of runs of words (a run's first offset and its word count, each word four values
/// after the one before) written to the start of `buf` in turn and returned (as many as fit).
#[inline]
fn word_offsets(buf: &mut [MaybeUninit<usize>], runs: impl Iterator<Item = (usize, usize)>) -> &[usize] {
    let mut n = 0;
    for (start, words) in runs {
        let Some(slots) = buf.get_mut(n..n + words) else { break };
        let mut at = start;
        for slot in slots {
            slot.write(at);
            at += 4;
        }
        n += words;
    }
    // SAFETY: the first `n` elements were just written; MaybeUninit<usize> has usize's layout.
    unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<usize>(), n) }
}

/// The start of `buf` filled from `values` (as many as both hold) and returned: a table filled
/// per call without zeroing the rest.
#[inline]
fn fill<T: Copy>(buf: &mut [MaybeUninit<T>], values: impl Iterator<Item = T>) -> &[T] {
    let mut n = 0;
    for (slot, v) in buf.iter_mut().zip(values) {
        slot.write(v);
        n += 1;
    }
    // SAFETY: the first `n` elements were just written; MaybeUninit<T> has T's layout.
    unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<T>(), n) }
}

/// Sums of eight pixels for one channel, in pixel order: two pixels per register (pixel `2r` in
/// the low half, `2r + 1` in the high), one `vpmaddwd` per chunk against its weights. Pixel
/// `k`'s corner is `corner(k)`; `CONTIGUOUS` says pixel `2r + 1`'s chunks follow pixel `2r`'s
/// (`corner(2r + 1) = corner(2r) + 8`), read with one load.
///
/// # Safety
/// `x.add(corner(k) + o)` has 8 readable i16s for every pixel `k < 8` and offset.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn pixels8<const CONTIGUOUS: bool>(
    x: *const i16,
    corner: impl Fn(usize) -> usize,
    offsets: &[usize],
    wv: &[__m256i],
) -> __m256i {
    let mut acc = [_mm256_setzero_si256(); 4];
    for (&o, &wm) in offsets.iter().zip(wv) {
        for (r, a) in acc.iter_mut().enumerate() {
            // SAFETY: the contract.
            let v = unsafe {
                let low = x.add(corner(2 * r) + o);
                if CONTIGUOUS {
                    _mm256_loadu_si256(low.cast())
                } else {
                    _mm256_loadu2_m128i(x.add(corner(2 * r + 1) + o).cast(), low.cast())
                }
            };
            *a = _mm256_add_epi32(*a, _mm256_madd_epi16(v, wm));
        }
    }
    // Per half: [p0 p0 p2 p2] then [p0 p2 p4 p6] (low) and [p1 p3 p5 p7] (high).
    let h = _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]), _mm256_hadd_epi32(acc[2], acc[3]));
    _mm256_permutevar8x32_epi32(h, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;
    use crate::format::{LAYER_RELU, LAYER_SIGNED, Shape};
    use crate::kernels::{patch_len, portable};
    use std::vec;
    use std::vec::Vec;

    /// A layer with random tables (every shift above 32 unless `low_shift`), random input bytes
    /// (i8 when `signed`), and the portable kernels' output for it.
    struct Case {
        rec: LayerRecord,
        w: Vec<u8>,
        bias: Vec<u8>,
        requant: Vec<u8>,
        x: Vec<u8>,
        expected: Vec<u8>,
    }

    fn case(
        kind: LayerKind,
        (i, o): ((u8, u8, u8), (u8, u8, u8)),
        (k, s, p, op): (u8, u8, u8, u8),
        (flags, signed): (u8, bool),
        low_shift: bool,
    ) -> Case {
        let sh = |(c, h, w): (u8, u8, u8)| Shape { c: c.into(), h: h.into(), w: w.into() };
        let rec = LayerRecord::shape_only(kind, flags, (sh(i), sh(o)), (k, s, p, op));
        let mut r = Rng::new(u64::from(i.0) * 7919 + u64::from(o.0) * 31 + u64::from(k) + u64::from(flags) * 1_000_003);
        let mut bytes = |n: usize| (0..n).map(|_| r.next_u32() as u8).collect::<Vec<u8>>();
        let w = bytes(rec.weights_len());
        let x = bytes(rec.input.len());
        let oc = usize::from(o.0);
        let (mut bias, mut requant) = (Vec::new(), Vec::new());
        for c in 0..oc {
            bias.extend_from_slice(&((r.next_u32() % 40_000) as i32 - 20_000).to_le_bytes());
            requant.extend_from_slice(&((1i32 << 30) + (r.next_u32() >> 2) as i32).to_le_bytes());
            let shift = if low_shift && c == oc / 2 { 30 } else { 37 + r.next_u32() % 6 };
            requant.extend_from_slice(&shift.to_le_bytes());
        }
        let mut expected = vec![0xa5; rec.output.len()];
        let mut patch = vec![0; patch_len(&rec)];
        let tables = Weights { w: &w, bias: &bias, requant: &requant };
        portable::weighted(&rec, &tables, &x, signed, &mut expected, &mut patch).unwrap();
        Case { rec, w, bias, requant, x, expected }
    }

    /// `layer`'s output for the case, or `None` where it does not take it.
    fn direct(c: &Case, signed: bool) -> Option<Vec<u8>> {
        let tables = Weights { w: &c.w, bias: &c.bias, requant: &c.requant };
        let mut out = vec![0x5a; c.rec.output.len()];
        assert!(std::is_x86_feature_detected!("avx2"), "these tests need AVX2");
        // SAFETY: AVX2 was just seen.
        unsafe { layer(&c.rec, &tables, &c.x, signed, &mut out) }?.unwrap();
        Some(out)
    }

    #[test]
    fn every_shape_it_takes_gives_the_portable_bits() {
        use LayerKind::{Conv2d as C, ConvTranspose2d as T};
        // (kind, (input, output), (kernel, stride, padding, output padding), what it exercises)
        let shapes = [
            (C, ((1, 28, 28), (8, 14, 14)), (4, 2, 1, 0)), // one channel in: a kernel row is a word
            (C, ((8, 14, 14), (16, 7, 7)), (4, 2, 1, 0)),  // two pixels at a time, an odd one out
            (C, ((16, 7, 7), (32, 3, 3)), (4, 2, 1, 0)),   // a pass of eight groups
            (C, ((2, 9, 9), (20, 8, 8)), (2, 1, 0, 0)),    // five groups: passes of four and one
            (C, ((4, 6, 5), (36, 3, 3)), (3, 2, 1, 0)),    // nine groups: eight and one
            (C, ((4, 5, 5), (12, 5, 5)), (3, 1, 1, 0)),    // three groups, two pixels at a time
            (T, ((32, 3, 3), (16, 7, 7)), (3, 2, 0, 0)),   // classes of 4, 2 and 1 taps
            (T, ((16, 7, 7), (8, 14, 14)), (4, 2, 1, 0)),  // the decoder's middle layer
            (T, ((8, 14, 14), (1, 28, 28)), (4, 2, 1, 0)), // one channel, pixels side by side
            (T, ((16, 6, 6), (2, 12, 12)), (4, 2, 1, 0)),  // pixels apart, rows under eight
            (T, ((8, 5, 5), (3, 11, 11)), (3, 2, 0, 0)),   // three channels, rows of 6 and 5
            (T, ((8, 10, 10), (1, 20, 20)), (4, 2, 1, 0)), // rows of 10: the last eight overlap
            (T, ((16, 4, 4), (4, 8, 8)), (3, 2, 1, 1)),    // output padding
            (T, ((8, 4, 4), (4, 12, 12)), (3, 3, 0, 0)),   // stride 3: one tap per class
            (T, ((12, 5, 5), (4, 9, 9)), (5, 2, 2, 0)),    // classes of 3 x 3 .. 2 x 2 taps
            // Kernel rows not whole words: copied into cells of whole words (`conv_expanded`).
            (C, ((1, 28, 28), (16, 28, 28)), (3, 1, 1, 0)), // the CNN baseline's first layer
            (C, ((3, 8, 8), (8, 8, 8)), (3, 1, 1, 0)),      // RGB: rows of 9 values in 12
            (C, ((3, 9, 9), (12, 5, 5)), (3, 2, 1, 0)),     // stride 2, three groups
            (C, ((1, 10, 10), (4, 10, 10)), (5, 1, 2, 0)),  // rows of 5 in 8
            (C, ((2, 7, 7), (40, 5, 5)), (3, 1, 0, 0)),     // ten groups: passes of 8 and 2
        ];
        for (n, &(kind, io, geometry)) in shapes.iter().enumerate() {
            for (flags, signed) in [(LAYER_RELU, false), (LAYER_SIGNED, true), (LAYER_SIGNED | LAYER_RELU, true)] {
                let c = case(kind, io, geometry, (flags, signed), false);
                let got = direct(&c, signed).unwrap_or_else(|| panic!("shape {n} not taken"));
                assert!(got == c.expected, "shape {n}, flags {flags}: outputs differ from the portable kernels");
            }
        }
    }

    #[test]
    fn shapes_it_does_not_take_are_left_to_the_layer_loops() {
        use LayerKind::{Conv2d as C, ConvTranspose2d as T, Linear as L};
        let low = case(C, ((8, 14, 14), (16, 7, 7)), (4, 2, 1, 0), (LAYER_RELU, false), true);
        assert!(direct(&low, false).is_none(), "a shift of at most 32");
        for (kind, io, geometry) in [
            (T, ((12, 5, 5), (1, 10, 10)), (4, 2, 1, 0)), // one channel on cells of 12
            (T, ((5, 4, 4), (3, 9, 9)), (3, 2, 0, 0)),    // cells of 5: a word straddles two
            (C, ((3, 6, 6), (5, 6, 6)), (3, 1, 1, 0)),    // five channels: no whole groups
            (C, ((3, 6, 6), (2, 6, 6)), (3, 1, 1, 0)),    // rows not whole words, two channels
            (T, ((4, 4, 4), (4, 7, 7)), (1, 2, 0, 0)),    // classes without taps
            (C, ((4, 2, 0), (4, 4, 2)), (1, 1, 1, 0)),    // an empty input (parse refuses it)
            (L, ((64, 1, 1), (16, 1, 1)), (1, 1, 0, 0)),
        ] {
            let c = case(kind, io, geometry, (LAYER_RELU, false), false);
            assert!(direct(&c, false).is_none(), "{kind:?} {io:?} taken");
        }
    }
}
