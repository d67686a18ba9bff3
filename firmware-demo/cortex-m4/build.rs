//! Embeds the int8 model and a few dozen test images into the firmware.
//!
//! `BOTTLENECK_MODEL` (a `.bnq` file) and `BOTTLENECK_VECTORS` (its `vectors.bin`) choose them;
//! by default the small model in `assets/`. `BOTTLENECK_MEMORY_X` replaces `memory/default.x` for a real
//! board. The vectors are converted to the firmware's compact
//! form (`docs/firmware.md`): per image, its pixels as bytes (exactly what the float trainer saw:
//! byte / 255, or byte / 127.5 - 1) and the float code, so that a few dozen fit in flash.

use std::env;
use std::fs;
use std::path::PathBuf;

/// Images embedded (at most).
const IMAGES: usize = 32;

fn fail(msg: String) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}

fn read(var: &str, default: &str) -> (PathBuf, Vec<u8>) {
    println!("cargo:rerun-if-env-changed={var}");
    // Cargo runs build scripts with CARGO_MANIFEST_DIR set: the clone being built (a compile-time
    // value could name another clone that shares the target directory).
    let crate_dir = env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from("."), PathBuf::from);
    let path = env::var_os(var).map_or_else(|| crate_dir.join(default), PathBuf::from);
    println!("cargo:rerun-if-changed={}", path.display());
    let bytes =
        fs::read(&path).unwrap_or_else(|e| fail(format!("{}: {e} (set {var} to an exported file)", path.display())));
    (path, bytes)
}

/// Flash the firmware's own code takes besides the model and images: about 42,000 bytes (162,912
/// bytes of flash with the default 95,428-byte model and 25,490 bytes of images, docs/firmware.md),
/// rounded down so that the check below never refuses a model the linker would take.
const CODE_BYTES: usize = 32 * 1024;

/// The `LENGTH` of the `FLASH` region of a memory map (`256K`, `1M`, `0x40000`, `262144`).
fn flash_length(memory: &str) -> Option<usize> {
    let line = memory.lines().find(|l| l.trim_start().starts_with("FLASH"))?;
    let value = line.split_once("LENGTH")?.1.trim_start().trim_start_matches('=').trim();
    let token: String = value.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    let (digits, scale) = match token.chars().last()? {
        'K' | 'k' => (&token[..token.len() - 1], 1024),
        'M' | 'm' => (&token[..token.len() - 1], 1024 * 1024),
        _ => (token.as_str(), 1),
    };
    let n = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) => usize::from_str_radix(hex, 16).ok()?,
        None => digits.parse().ok()?,
    };
    Some(n * scale)
}

fn u16_at(b: &[u8], o: usize) -> usize {
    usize::from(u16::from_le_bytes([b[o], b[o + 1]]))
}

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // The memory map: QEMU's mps2-an386 with the demo's budget by default; a real board's part
    // (flash at 0x0800_0000 on an STM32, say) through BOTTLENECK_MEMORY_X.
    // The chosen map is written to OUT_DIR as `memory.x`, the name cortex-m-rt's link.x
    // includes; no `memory.x` sits in the crate root, where the linker would look first and
    // silently take it instead.
    let (memory_path, memory) = read("BOTTLENECK_MEMORY_X", "memory/default.x");
    if !String::from_utf8_lossy(&memory).contains("MEMORY") {
        fail(format!("{} has no MEMORY block (see firmware-demo/cortex-m4/memory/default.x)", memory_path.display()));
    }
    fs::write(out.join("memory.x"), &memory).expect("write memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    // cortex-m-rt's linker script (which includes memory.x), for the firmware binary only.
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    // defmt's interned strings have their own section (the `rtt` feature).
    if env::var_os("CARGO_FEATURE_RTT").is_some() {
        println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
    }

    let (model_path, model) = read("BOTTLENECK_MODEL", "assets/model.bnq");
    let parsed =
        bottleneck_runtime::Model::parse(&model).unwrap_or_else(|e| fail(format!("{}: {e}", model_path.display())));
    let signed_input = parsed.input_symmetric();
    // The scratch buffer in .bss: what the model's largest entry point needs.
    let scratch = parsed.max_scratch_len();
    // Image buffers sized for the model's input (784 for Fashion-MNIST, 3072 for 32x32 RGB).
    let pixels = parsed.input_len().max(1);
    fs::write(
        out.join("scratch.rs"),
        format!("const SCRATCH: usize = {scratch};\nconst MAX_PIXELS: usize = {pixels};\n"),
    )
    .expect("write scratch.rs");
    fs::write(out.join("model.bnq"), &model).expect("write model");

    let (vec_path, v) = read("BOTTLENECK_VECTORS", "assets/vectors.bin");
    if v.len() < 32 || &v[..4] != b"BTNV" || u16_at(&v, 4) != 1 {
        fail(format!("{} is not a vectors file of format 1", vec_path.display()));
    }
    let count = u32::from_le_bytes([v[8], v[9], v[10], v[11]]) as usize;
    let pixels = u16_at(&v, 12) * u16_at(&v, 14) * u16_at(&v, 16);
    let (latent, classes) = (u16_at(&v, 18), u16_at(&v, 20));
    let record = (2 * pixels + latent + classes) * 4 + 4;
    if v.len() != 32 + count * record {
        fail(format!("{} has the wrong length", vec_path.display()));
    }
    let n = count.min(IMAGES);
    let f = |o: usize| f32::from_le_bytes([v[o], v[o + 1], v[o + 2], v[o + 3]]);
    // Compact form: magic, count, pixels, latent, then per image: pixels (u8), code (f32), label (u8).
    let mut fw = Vec::new();
    fw.extend_from_slice(b"BTNF");
    for x in [n, pixels, latent, usize::from(signed_input)] {
        fw.extend_from_slice(&(x as u32).to_le_bytes());
    }
    for i in 0..n {
        let at = 32 + i * record;
        for p in 0..pixels {
            let x = f(at + 4 * p);
            let byte = if signed_input { ((x + 1.0) * 127.5).round() } else { (x * 255.0).round() } as u8;
            // The firmware rebuilds the input from the byte; it must be the same float.
            let back = if signed_input { f32::from(byte) / 127.5 - 1.0 } else { f32::from(byte) / 255.0 };
            if back.to_bits() != x.to_bits() {
                fail(format!("{}: image {i} pixel {p} ({x}) is not an 8-bit pixel value", vec_path.display()));
            }
            fw.push(byte);
        }
        for k in 0..latent {
            fw.extend_from_slice(&f(at + 4 * (pixels + k)).to_le_bytes());
        }
        let label_at = at + record - 4;
        fw.push(v[label_at]);
    }
    let _ = classes;
    // Say what does not fit before the linker does ("section .rodata will not fit in region FLASH").
    if let Some(flash) = flash_length(&String::from_utf8_lossy(&memory))
        && model.len() + fw.len() + CODE_BYTES > flash
    {
        fail(format!(
            "{}: {} bytes of int8 model and {} bytes of test images do not fit the {flash} bytes of FLASH in {} \
             next to the firmware's code (about 40 KB). Export a smaller model (the pipeline's conv-ae, or a \
             classifier on seed 002's encoder: `bottleneck train classifier --pretrained runs/pipeline/conv-ae`), \
             or describe a board with more flash in BOTTLENECK_MEMORY_X.",
            model_path.display(),
            model.len(),
            fw.len(),
            memory_path.display()
        ));
    }
    fs::write(out.join("vectors.fw"), &fw).expect("write vectors");
}
