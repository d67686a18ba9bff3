//! Bottleneck on a Cortex-M4: the int8 model and a few dozen test images are in flash; the
//! firmware encodes, decodes and classifies every image and draws seeded samples, prints the
//! results over semihosting, with the instructions each inference took, and the digest of all its
//! outputs (the same sequence and digest as `bottleneck validate` computes on the host), then
//! exits. Runs under QEMU (`cargo xtask firmware`) and on a real board (docs/firmware.md).
#![no_std]
#![no_main]

use bottleneck_runtime::check::{self, Buffers};
use bottleneck_runtime::format::Crc32;
use bottleneck_runtime::{Entry, Model, Rng};
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;

/// The int8 model (`BOTTLENECK_MODEL` at build time).
static MODEL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/model.bnq"));
/// Test images in the compact form written by build.rs.
static VECTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vectors.fw"));

const MAX_PIXELS: usize = 784;
const MAX_LATENT: usize = 64;
const MAX_CLASSES: usize = 16;
const SCRATCH: usize = 8 * 1024;

/// Every buffer the firmware uses.
struct Bufs {
    scratch: [u8; SCRATCH],
    input: [f32; MAX_PIXELS],
    float_code: [f32; MAX_LATENT],
    code: [f32; MAX_LATENT],
    image: [f32; MAX_PIXELS],
    roundtrip: [f32; MAX_PIXELS],
    logits: [f32; MAX_CLASSES],
}

impl Bufs {
    const ZERO: Self = Self {
        scratch: [0; SCRATCH],
        input: [0.0; MAX_PIXELS],
        float_code: [0.0; MAX_LATENT],
        code: [0.0; MAX_LATENT],
        image: [0.0; MAX_PIXELS],
        roundtrip: [0.0; MAX_PIXELS],
        logits: [0.0; MAX_CLASSES],
    };
}

/// Under QEMU's `-icount shift=0`, SysTick on the core clock advances 25 MHz while the CPU runs one
/// instruction per nanosecond: 40 instructions per tick.
const INSTRUCTIONS_PER_TICK: u32 = 40;

fn u32_at(b: &[u8], at: usize) -> usize {
    b.get(at..at + 4).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// Instructions `f` took, from SysTick (24-bit, counting down; at most one wrap assumed).
fn instructions(syst: &cortex_m::peripheral::SYST, f: impl FnOnce()) -> u32 {
    let start = cortex_m::peripheral::SYST::get_current();
    f();
    let end = cortex_m::peripheral::SYST::get_current();
    let _ = syst;
    let ticks = start.wrapping_sub(end) & 0x00ff_ffff;
    ticks * INSTRUCTIONS_PER_TICK
}

fn fail(what: &str, e: bottleneck_runtime::Error) -> ! {
    hprintln!("error: {}: {}", what, e);
    stop(debug::EXIT_FAILURE)
}

/// Ends the program: QEMU (or a debugger) sees the exit code; a board without one sleeps.
fn stop(code: debug::ExitStatus) -> ! {
    debug::exit(code);
    loop {
        cortex_m::asm::wfi();
    }
}

#[entry]
fn main() -> ! {
    let mut core = cortex_m::Peripherals::take().unwrap_or_else(|| stop(debug::EXIT_FAILURE));
    core.SYST.set_clock_source(SystClkSource::Core);
    core.SYST.set_reload(0x00ff_ffff);
    core.SYST.clear_current();
    core.SYST.enable_counter();

    hprintln!("bottleneck-firmware {}", env!("CARGO_PKG_VERSION"));
    let model = Model::parse(MODEL).unwrap_or_else(|e| fail("model", e));
    let (pixels, latent, classes) = (model.input_len(), model.latent_len(), model.classes().unwrap_or(0));
    hprintln!(
        "model: {} bytes, input {}, latent {}, classes {}, scratch {} bytes",
        MODEL.len(),
        pixels,
        latent,
        classes,
        model.max_scratch_len()
    );
    let (count, v_pixels, v_latent, signed) =
        (u32_at(VECTORS, 4), u32_at(VECTORS, 8), u32_at(VECTORS, 12), u32_at(VECTORS, 16) == 1);
    if v_pixels != pixels || v_latent != latent || pixels > MAX_PIXELS || latent > MAX_LATENT || classes > MAX_CLASSES {
        hprintln!("error: the embedded images do not fit the model");
        stop(debug::EXIT_FAILURE);
    }

    // All buffers in one static (so that `size` counts them in .bss), handed out once.
    let Some(bufs) = cortex_m::singleton!(: Bufs = Bufs::ZERO) else {
        hprintln!("error: buffers taken twice");
        stop(debug::EXIT_FAILURE)
    };
    let Bufs { scratch, input, float_code, code, image, roundtrip, logits } = bufs;
    if model.max_scratch_len() > SCRATCH {
        hprintln!("error: the model needs {} bytes of scratch, the firmware has {}", model.max_scratch_len(), SCRATCH);
        stop(debug::EXIT_FAILURE);
    }
    let record = pixels + 4 * latent + 1;
    let mut crc = Crc32::new();
    let (mut correct, mut cost) = (0usize, [0u32; 3]);
    for i in 0..count {
        let at = 20 + i * record;
        let Some(rec) = VECTORS.get(at..at + record) else { break };
        let (px, rest) = rec.split_at(pixels);
        for (x, &p) in input.iter_mut().zip(px) {
            // Exactly the float the trainer computed from this byte.
            *x = if signed { f32::from(p) / 127.5 - 1.0 } else { f32::from(p) / 255.0 };
        }
        for (z, c) in float_code.iter_mut().zip(rest.chunks_exact(4)) {
            *z = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        let label = rest.last().copied().unwrap_or(0);
        let mut b = Buffers {
            code: &mut code[..latent],
            image: &mut image[..pixels],
            roundtrip: &mut roundtrip[..pixels],
            logits: &mut logits[..classes],
            scratch: &mut scratch[..],
        };
        let class = check::vector(&model, &input[..pixels], &float_code[..latent], &mut b, &mut crc)
            .unwrap_or_else(|e| fail("check", e));
        let sum: f32 = code[..latent].iter().sum();
        match class {
            Some(c) => {
                correct += usize::from(c == usize::from(label));
                hprintln!("image {}: class {} label {} code sum {}", i, c, label, sum);
            }
            None => hprintln!("image {}: label {} code sum {}", i, label, sum),
        }
        if i == 0 {
            // Cost of each entry point, measured on the first image.
            cost[0] = instructions(&core.SYST, || {
                let _ = model.encode(&input[..pixels], &mut code[..latent], &mut scratch[..]);
            });
            cost[1] = instructions(&core.SYST, || {
                let _ = model.decode(&float_code[..latent], &mut image[..pixels], &mut scratch[..]);
            });
            if classes > 0 {
                cost[2] = instructions(&core.SYST, || {
                    let _ = model.classify(&input[..pixels], &mut logits[..classes], &mut scratch[..]);
                });
            }
        }
    }
    let mut b = Buffers {
        code: &mut code[..latent],
        image: &mut image[..pixels],
        roundtrip: &mut roundtrip[..pixels],
        logits: &mut logits[..classes],
        scratch: &mut scratch[..],
    };
    check::samples(&model, check::SAMPLE_SEED, check::SAMPLE_COUNT, &mut b, &mut crc)
        .unwrap_or_else(|e| fail("samples", e));
    let mut rng = Rng::new(7);
    model
        .sample(&mut rng, &mut code[..latent], &mut image[..pixels], &mut scratch[..])
        .unwrap_or_else(|e| fail("sample", e));
    hprintln!("sample (seed 7): code[0] {} image sum {}", code[0], image[..pixels].iter().sum::<f32>());
    hprintln!(
        "instructions: encode {} decode {} classify {} (scratch encode {} decode {} classify {} bytes)",
        cost[0],
        cost[1],
        cost[2],
        model.scratch_len(Entry::Encode),
        model.scratch_len(Entry::Decode),
        model.scratch_len(Entry::Classify)
    );
    if classes > 0 {
        hprintln!("accuracy on the embedded images: {}/{}", correct, count);
    }
    hprintln!("digest {:#010x} vectors {}", crc.finish(), count);
    stop(debug::EXIT_SUCCESS)
}
