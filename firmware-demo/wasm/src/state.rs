//! The module's one piece of global state: static buffers that JavaScript reads and writes through
//! pointers, and the loaded model bytes. wasm32 runs one thread and exports are not re-entered, so
//! each export has exclusive access for its duration.
#![allow(unsafe_code)]

use core::cell::UnsafeCell;

/// Largest model file accepted.
pub const MODEL_CAP: usize = 512 * 1024;
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

// SAFETY: wasm32 without threads: there is only one thread, and `with` is never re-entered
// (no export calls another export).
unsafe impl Sync for Global {}

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

/// Runs `f` with exclusive access to the state.
pub fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    // SAFETY: see `Global`: single thread, no re-entry, so this is the only live reference.
    f(unsafe { &mut *STATE.0.get() })
}

/// Address of a buffer, for JavaScript to copy into or out of.
pub fn addr<T>(f: impl FnOnce(&mut State) -> *mut T) -> *mut T {
    with(f)
}
