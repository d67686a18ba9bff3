//! Picks the kernel builds a target can run that `cfg(target_feature)` cannot tell on stable Rust:
//! the Armv7E-M DSP extension (Cortex-M4, M7) is part of every `thumbv7em` target, but Arm's
//! target features are unstable as cfgs, so the target's name decides.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(bottleneck_arm_dsp)");
    println!("cargo::rerun-if-env-changed=BOTTLENECK_PORTABLE_KERNELS");
    let target = std::env::var("TARGET").unwrap_or_default();
    // BOTTLENECK_PORTABLE_KERNELS=1 builds the portable kernels only (to measure code size
    // without the DSP build).
    let portable_only = std::env::var_os("BOTTLENECK_PORTABLE_KERNELS").is_some_and(|v| v == "1");
    if target.starts_with("thumbv7em-") && !portable_only {
        println!("cargo::rustc-cfg=bottleneck_arm_dsp");
    }
}
