//! Bottleneck on a Cortex-M4: the int8 model and a few dozen test images are in flash; the
//! firmware encodes, decodes and classifies every
//! image and draws seeded samples, prints the results over semihosting, with the instructions each
//! inference took, and the digest of all its outputs (the same sequence and digest as
//! `bottleneck validate` computes on the host), then a per-layer profile, and exits. With the
//! `check-kernels` feature it also runs every layer kind that has per-build kernels (conv2d,
//! conv-transpose2d, linear) and the whole sequence with the portable kernels, which must give the
//! same bytes as the DSP ones. Runs under QEMU (`cargo xtask
//! firmware`, which runs both builds) and on a real board (docs/firmware.md).
#![no_std]
#![no_main]

mod out;
mod stack;

use bottleneck_runtime::check::{self, Buffers};
use bottleneck_runtime::format::Crc32;
#[cfg(feature = "check-kernels")]
use bottleneck_runtime::use_portable_kernels;
use bottleneck_runtime::{Entry, Model, Rng, Shape, Step, kernel_name};
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use out::Line;

/// Bytes at a 16-byte-aligned address in flash.
#[repr(C, align(16))]
struct Aligned<B: ?Sized>(B);

/// The int8 model (`BOTTLENECK_MODEL` at build time), 16-byte aligned so that its tables are
/// aligned as format version 2 lays them out (docs/runtime-format.md).
static MODEL_ALIGNED: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/model.bnq")));
static MODEL: &[u8] = &MODEL_ALIGNED.0;
/// Test images in the compact form written by build.rs.
static VECTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vectors.fw"));

const MAX_LATENT: usize = 64;
const MAX_CLASSES: usize = 16;
// `SCRATCH`: the model's `max_scratch_len`, and `MAX_PIXELS`: its input's values, found by build.rs.
include!(concat!(env!("OUT_DIR"), "/scratch.rs"));

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
fn instructions(f: impl FnOnce()) -> u32 {
    let start = cortex_m::peripheral::SYST::get_current();
    f();
    let end = cortex_m::peripheral::SYST::get_current();
    let ticks = start.wrapping_sub(end) & 0x00ff_ffff;
    ticks * INSTRUCTIONS_PER_TICK
}

fn fail(what: &str, e: bottleneck_runtime::Error) -> ! {
    Line::new().s("error: ").s(what).s(": ").s(e.name()).print();
    stop(debug::EXIT_FAILURE)
}

/// Prints where the panic happened (its message would need `core::fmt`) and exits with failure.
/// The runtime itself has no panicking paths in its kernels; this catches the firmware's own.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut line = Line::new();
    line.s("panic");
    if let Some(at) = info.location() {
        line.s(" at ").s(at.file()).s(":").u(at.line());
    }
    line.print();
    stop(debug::EXIT_FAILURE)
}

/// Ends the program: QEMU (or a debugger) sees the exit code; a board without one sleeps.
#[cfg(not(feature = "rtt"))]
fn stop(code: debug::ExitStatus) -> ! {
    debug::exit(code);
    loop {
        cortex_m::asm::wfi();
    }
}

/// Ends the program on a board: `probe-rs run` stops at the breakpoint (success) or reports the
/// fault of an undefined instruction (failure), as with panic-probe.
#[cfg(feature = "rtt")]
fn stop(code: debug::ExitStatus) -> ! {
    if code == debug::EXIT_SUCCESS {
        cortex_m::asm::bkpt();
    }
    cortex_m::asm::udf()
}

/// What one pass of the check sequence gives.
struct Pass {
    digest: u32,
    correct: usize,
    /// Instructions of encode, decode and classify on the first image.
    cost: [u32; 3],
}

/// The check sequence of `bottleneck validate` (`runtime/src/check.rs`) over the embedded
/// images, then the seeded samples; prints one line per image when `verbose`.
fn pass(model: &Model<'_>, bufs: &mut Bufs, count: usize, signed: bool, verbose: bool) -> Pass {
    let (pixels, latent, classes) = (model.input_len(), model.latent_len(), model.classes().unwrap_or(0));
    let Bufs { scratch, input, float_code, code, image, roundtrip, logits } = bufs;
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
        let class = check::vector(model, &input[..pixels], &float_code[..latent], &mut b, &mut crc)
            .unwrap_or_else(|e| fail("check", e));
        if let Some(c) = class {
            correct += usize::from(c == usize::from(label));
        }
        if verbose {
            let sum: f32 = code[..latent].iter().sum();
            let mut line = Line::new();
            line.s("image ").u(i as u32);
            match class {
                Some(c) => line.s(": class ").u(c as u32).s(" label "),
                None => line.s(": label "),
            };
            line.u(u32::from(label)).s(" code sum ").milli(sum).print();
        }
        if i == 0 {
            // Cost of each entry point, measured on the first image (a classifier alone has
            // only classify).
            if model.has_autoencoder() {
                cost[0] = instructions(|| {
                    let _ = model.encode(&input[..pixels], &mut code[..latent], &mut scratch[..]);
                });
                cost[1] = instructions(|| {
                    let _ = model.decode(&float_code[..latent], &mut image[..pixels], &mut scratch[..]);
                });
            }
            if classes > 0 {
                cost[2] = instructions(|| {
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
    check::samples(model, check::SAMPLE_SEED, check::SAMPLE_COUNT, &mut b, &mut crc)
        .unwrap_or_else(|e| fail("samples", e));
    Pass { digest: crc.finish(), correct, cost }
}

/// Prints the instructions each step of `entry` takes on `input` (input quantization, each layer
/// with its multiply-accumulates, output conversion).
fn print_profile(model: &Model<'_>, entry: Entry, input: &[f32], output: &mut [f32], scratch: &mut [u8]) {
    const MAX_STEPS: usize = 40;
    let mut at = [0u32; MAX_STEPS];
    let mut steps = [Step::Input; MAX_STEPS];
    let mut n = 0usize;
    let start = cortex_m::peripheral::SYST::get_current();
    let result = model.profile(entry, input, output, scratch, &mut |step| {
        if let (Some(t), Some(s)) = (at.get_mut(n), steps.get_mut(n)) {
            *t = cortex_m::peripheral::SYST::get_current();
            *s = step;
            n += 1;
        }
    });
    if let Err(e) = result {
        fail("profile", e);
    }
    let mut before = start;
    for (&t, &step) in at.iter().zip(&steps).take(n) {
        let cost = (before.wrapping_sub(t) & 0x00ff_ffff) * INSTRUCTIONS_PER_TICK;
        before = t;
        let mut line = Line::new();
        match step {
            Step::Input => line.s("  quantize the input: ").u(cost).s(" instructions"),
            Step::Output => line.s("  write the outputs: ").u(cost).s(" instructions"),
            Step::Layer(layer) => {
                let Ok(rec) = model.layer(layer) else { continue };
                line.s("  layer ").u(u32::from(layer)).s(" ").s(rec.kind.name()).s(" ");
                shape(&mut line, rec.input).s(" -> ");
                shape(&mut line, rec.output).s(": ").u(cost).s(" instructions");
                let macs = rec.macs() as u32;
                if macs > 0 {
                    line.s(", ").u(macs).s(" MACs, ").milli(cost as f32 / macs as f32).s(" per MAC");
                }
                &mut line
            }
        }
        .print();
    }
}

/// `CxHxW`.
fn shape(line: &mut Line, s: Shape) -> &mut Line {
    line.u(u32::from(s.c)).s("x").u(u32::from(s.h)).s("x").u(u32::from(s.w))
}

/// `instructions: encode N decode N classify N` with `label` after `instructions`.
fn print_cost(label: &str, cost: [u32; 3]) {
    Line::new()
        .s("instructions")
        .s(label)
        .s(": encode ")
        .u(cost[0])
        .s(" decode ")
        .u(cost[1])
        .s(" classify ")
        .u(cost[2])
        .print();
}

#[entry]
fn main() -> ! {
    stack::paint();
    let mut core = cortex_m::Peripherals::take().unwrap_or_else(|| stop(debug::EXIT_FAILURE));
    core.SYST.set_clock_source(SystClkSource::Core);
    core.SYST.set_reload(0x00ff_ffff);
    core.SYST.clear_current();
    core.SYST.enable_counter();

    Line::new().s("bottleneck-firmware ").s(env!("CARGO_PKG_VERSION")).print();
    let model = Model::parse(MODEL).unwrap_or_else(|e| fail("model", e));
    let (pixels, latent, classes) = (model.input_len(), model.latent_len(), model.classes().unwrap_or(0));
    Line::new()
        .s("model: ")
        .u(MODEL.len() as u32)
        .s(" bytes, input ")
        .u(pixels as u32)
        .s(", latent ")
        .u(latent as u32)
        .s(", classes ")
        .u(classes as u32)
        .s(", scratch ")
        .u(model.max_scratch_len() as u32)
        .s(" bytes")
        .print();
    let (count, v_pixels, v_latent, signed) =
        (u32_at(VECTORS, 4), u32_at(VECTORS, 8), u32_at(VECTORS, 12), u32_at(VECTORS, 16) == 1);
    if v_pixels != pixels || v_latent != latent || pixels > MAX_PIXELS || latent > MAX_LATENT || classes > MAX_CLASSES {
        Line::new().s("error: the embedded images do not fit the model").print();
        stop(debug::EXIT_FAILURE);
    }
    if model.max_scratch_len() > SCRATCH {
        Line::new()
            .s("error: the model needs ")
            .u(model.max_scratch_len() as u32)
            .s(" bytes of scratch, the firmware has ")
            .u(SCRATCH as u32)
            .print();
        stop(debug::EXIT_FAILURE);
    }
    Line::new().s("kernels: ").s(kernel_name()).print();
    #[cfg(feature = "check-kernels")]
    match bottleneck_runtime::check_kernel_builds() {
        Ok(n) => Line::new().s("kernels: the same bytes as the portable build on ").u(n as u32).s(" layers").print(),
        Err(e) => {
            Line::new().s("error: kernel build ").s(e.build).s(" differs from the portable one: ").s(e.what).print();
            stop(debug::EXIT_FAILURE)
        }
    }

    // All buffers in one static (so that `size` counts them in .bss), handed out once.
    let Some(bufs) = cortex_m::singleton!(: Bufs = Bufs::ZERO) else {
        Line::new().s("error: buffers taken twice").print();
        stop(debug::EXIT_FAILURE)
    };
    let fast = pass(&model, bufs, count, signed, true);
    #[cfg(feature = "check-kernels")]
    {
        use_portable_kernels(true);
        let portable = pass(&model, bufs, count, signed, false);
        use_portable_kernels(false);
        print_cost(" (portable kernels)", portable.cost);
        if portable.digest != fast.digest {
            Line::new()
                .s("error: the portable kernels' digest ")
                .hex(portable.digest)
                .s(" differs from the digest of ")
                .s(kernel_name())
                .print();
            stop(debug::EXIT_FAILURE);
        }
        Line::new().s("kernels: the portable build gives the same digest").print();
    }

    if model.has_autoencoder() {
        let mut rng = Rng::new(7);
        let Bufs { scratch, code, image, .. } = &mut *bufs;
        model
            .sample(&mut rng, &mut code[..latent], &mut image[..pixels], &mut scratch[..])
            .unwrap_or_else(|e| fail("sample", e));
        Line::new()
            .s("sample (seed 7): code[0] ")
            .milli(code.first().copied().unwrap_or(0.0))
            .s(" image sum ")
            .milli(image[..pixels].iter().sum::<f32>())
            .print();
    }
    print_cost("", fast.cost);
    let Bufs { scratch, input, float_code, code, image, logits, .. } = bufs;
    for (entry, name) in [(Entry::Encode, "encode"), (Entry::Decode, "decode"), (Entry::Classify, "classify")] {
        let (src, dst): (&[f32], &mut [f32]) = match entry {
            _ if !model.has_autoencoder() && entry != Entry::Classify => continue,
            Entry::Encode => (&input[..pixels], &mut code[..latent]),
            Entry::Decode => (&float_code[..latent], &mut image[..pixels]),
            _ if classes > 0 => (&input[..pixels], &mut logits[..classes]),
            _ => continue,
        };
        Line::new().s("profile of ").s(name).s(" (the last image, instructions per layer):").print();
        print_profile(&model, entry, src, dst, scratch);
    }
    Line::new()
        .s("scratch: encode ")
        .u(model.scratch_len(Entry::Encode) as u32)
        .s(" decode ")
        .u(model.scratch_len(Entry::Decode) as u32)
        .s(" classify ")
        .u(model.scratch_len(Entry::Classify) as u32)
        .s(" bytes")
        .print();
    if classes > 0 {
        Line::new().s("accuracy on the embedded images: ").u(fast.correct as u32).s("/").u(count as u32).print();
    }
    Line::new().s("stack: ").u(stack::high_water() as u32).s(" bytes at most").print();
    Line::new().s("digest ").hex(fast.digest).s(" vectors ").u(count as u32).print();
    stop(debug::EXIT_SUCCESS)
}
