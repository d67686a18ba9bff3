//! The stack's high-water mark: the free stack is painted with a pattern at start-up, and the
//! deepest word no longer holding it shows how far the stack grew. The firmware's buffers are
//! statics, so this is what the runtime's calls (and the firmware around them) need on top.
#![allow(unsafe_code)]

const PAINT: u32 = 0xC5C5_C5C5;
/// Left untouched below the stack pointer at the time of painting: the painting function's own
/// frame and what it calls.
const MARGIN: usize = 256;

unsafe extern "C" {
    /// The lowest address of the stack (cortex-m-rt's linker script: the end of the statics).
    static _stack_end: u32;
    /// The initial stack pointer, the top of the stack.
    static _stack_start: u32;
}

/// (bottom, top) of the stack; only the symbols' addresses are taken, never their contents.
fn bounds() -> (usize, usize) {
    (core::ptr::addr_of!(_stack_end) as usize, core::ptr::addr_of!(_stack_start) as usize)
}

/// Fills the stack below the current stack pointer (less a margin) with the pattern.
#[inline(never)]
pub fn paint() {
    let (bottom, _) = bounds();
    let top = (cortex_m::register::msp::read() as usize).saturating_sub(MARGIN) & !3;
    let mut at = bottom.next_multiple_of(4);
    while at < top {
        // SAFETY: `at` is word-aligned, in RAM between the end of the statics and the live part
        // of the stack (below the stack pointer less a margin that covers this function's frame),
        // which nothing uses yet; no interrupts are enabled.
        unsafe { core::ptr::write_volatile(at as *mut u32, PAINT) };
        at += 4;
    }
}

/// Bytes of stack used at most since [`paint`]: from the top down to the deepest word that lost
/// the pattern.
pub fn high_water() -> usize {
    let (bottom, top) = bounds();
    let mut at = bottom.next_multiple_of(4);
    while at < top {
        // SAFETY: a word-aligned read inside the stack region.
        if unsafe { core::ptr::read_volatile(at as *const u32) } != PAINT {
            break;
        }
        at += 4;
    }
    top - at
}
