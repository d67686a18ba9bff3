//! glibc's malloc, set up for training: freed activations stay in the process for the next step.
//!
//! Why: a training step allocates and frees the same megabyte-sized tensors every time. glibc
//! serves blocks above its mmap threshold with fresh `mmap`s, and hands the top of its heap back
//! to the system once twice that threshold is free there; both make the next step fault the same
//! memory in again, a page at a time, each page zeroed by the kernel. Forty steps of the CNN
//! (batch 128) took 546,778 page faults and twice the time of the same steps with the settings
//! below (18,608 faults); mimalloc did as well on time but doubled the resident memory. The
//! measurement is in docs/training-kernels.md.

/// Blocks up to this size come from the heap, not from their own `mmap` (glibc's largest allowed
/// value on 64-bit systems: larger arrays, like the data set, still get their own mapping).
pub const MMAP_THRESHOLD: usize = 32 << 20;
/// Free memory at the top of the heap kept for reuse before any goes back to the system: more
/// than a step of any model here uses.
pub const TRIM_THRESHOLD: usize = 512 << 20;

/// Applies [`MMAP_THRESHOLD`] and [`TRIM_THRESHOLD`] to glibc's malloc; whether both were taken.
/// Elsewhere (another C library, another system) it does nothing and says `false`: only speed
/// depends on it.
#[must_use]
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let set = |param, value: usize| {
            let value = libc::c_int::try_from(value).unwrap_or(libc::c_int::MAX);
            // SAFETY: mallopt only changes malloc's tuning parameters; it takes plain integers
            // and touches no memory of ours.
            #[allow(unsafe_code)]
            unsafe {
                libc::mallopt(param, value) == 1
            }
        };
        // The mmap threshold first: setting either turns glibc's dynamic thresholds off.
        let mmap = set(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        let trim = set(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        mmap && trim
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_takes_both_settings() {
        assert!(super::keep_freed_memory());
    }
}
