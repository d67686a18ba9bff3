//! The module's one piece of global state: static buffers that JavaScript reads and writes through
//! pointers, and the loaded model bytes.
//!
//! Soundness: [`with`] hands out the only `&mut State` while a busy flag is set; a nested call
//! (an export calling another export, now or after a future change) finds the flag set and gets
//! `None` instead of a second `&mut`. [`addr`] takes raw field addresses without creating a
//! reference at all. wasm32 here has one thread, so the flag needs no more than relaxed order.
#![allow(unsafe_code)]

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// Largest model file accepted.
pub const MODEL_CAP: usize = 2 * 1024 * 1024;
/// Largest input image (values).
pub const PIXELS_CAP: usize = 4096;
/// Largest code.
pub const LATENT_CAP: usize = 512;
/// Most classes.
pub const CLASSES_CAP: usize = 256;
/// Scratch for the runtime.
pub const SCRATCH_CAP: usize = 256 * 1024;

/// Every buffer the exports use.
#[derive(Debug)]
pub struct State {
    pub model: [u8; MODEL_CAP],
    pub model_len: usize,
    pub input: [f32; PIXELS_CAP],
    pub float_code: [f32; LATENT_CAP],
    pub code: [f32; LATENT_CAP],
    pub image: [f32; PIXELS_CAP],
    pub roundtrip: [f32; PIXELS_CAP],
    pub logits: [f32; CLASSES_CAP],
    pub scratch: [u8; SCRATCH_CAP],
    /// The check digest so far (`Crc32::finish` value; 0 is a fresh digest). Every field of
    /// `State` starts at zero, so the module carries no data segment for it.
    pub digest: u32,
}

struct Global(UnsafeCell<State>);

// SAFETY: wasm32 without threads: there is only one thread, and `with` refuses re-entry (BUSY),
// so at most one `&mut State` exists at any time.
unsafe impl Sync for Global {}

/// Set while a `&mut State` is live.
static BUSY: AtomicBool = AtomicBool::new(false);

static STATE: Global = Global(UnsafeCell::new(State {
    model: [0; MODEL_CAP],
    model_len: 0,
    input: [0.0; PIXELS_CAP],
    float_code: [0.0; LATENT_CAP],
    code: [0.0; LATENT_CAP],
    image: [0.0; PIXELS_CAP],
    roundtrip: [0.0; PIXELS_CAP],
    logits: [0.0; CLASSES_CAP],
    scratch: [0; SCRATCH_CAP],
    digest: 0,
}));

/// Runs `f` with exclusive access to the state; `None` (and `f` not run) when called from inside
/// another `with`.
pub fn with<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    if BUSY.swap(true, Ordering::Relaxed) {
        return None;
    }
    // Clears the flag even if `f` unwinds (host tests; wasm32 aborts on panic).
    struct Release;
    impl Drop for Release {
        fn drop(&mut self) {
            BUSY.store(false, Ordering::Relaxed);
        }
    }
    let _release = Release;
    // SAFETY: BUSY was clear and is now set until `_release` drops, so no other reference to the
    // state exists while `f` runs (single thread, see `Global`).
    Some(f(unsafe { &mut *STATE.0.get() }))
}

/// Address of a buffer of the state, for JavaScript to copy into or out of; `field` projects the
/// state's raw pointer to the field's (e.g. `|s| unsafe { &raw mut (*s).input }`), so no reference
/// is created and an outstanding [`with`] is not disturbed.
pub fn addr<T, const N: usize>(field: impl FnOnce(*mut State) -> *mut [T; N]) -> *mut T {
    field(STATE.0.get()).cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_access_is_refused_and_the_flag_is_released() {
        assert_eq!(with(|_| with(|_| ())), Some(None));
        assert_eq!(with(|s| s.model_len), Some(0));
        let p = addr(|s| unsafe { &raw mut (*s).input });
        assert!(!p.is_null());
    }
}
