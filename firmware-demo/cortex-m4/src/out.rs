//! Lines of text over semihosting (or, with the `rtt` feature, defmt over RTT) without `core::fmt`: integers, hexadecimal and fixed-point
//! numbers written by hand into a stack buffer. `core::fmt` with its float formatting took about
//! 25 KB of the firmware's flash (`cargo xtask firmware` prints the largest symbols); the digits of
//! an integer are a few instructions.

#[cfg(not(feature = "rtt"))]
use cortex_m_semihosting::hio;
#[cfg(feature = "rtt")]
use defmt_rtt as _;

const CAPACITY: usize = 160;

/// One line being built; [`Line::print`] writes it with a newline and empties it. Text beyond the
/// capacity is dropped rather than wrapped. The methods are not inlined: every call site would
/// otherwise carry its own copy.
pub struct Line {
    buf: [u8; CAPACITY],
    len: usize,
}

impl Line {
    pub const fn new() -> Self {
        Self { buf: [0; CAPACITY], len: 0 }
    }

    #[inline(never)]
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        // Zipped, without indexing: a failed bounds check's panic would pull in `core::fmt`.
        let free = self.buf.get_mut(self.len..).unwrap_or_default();
        let n = free.iter_mut().zip(b).map(|(d, &s)| *d = s).count();
        self.len += n;
        self
    }

    /// Text.
    #[inline(never)]
    pub fn s(&mut self, text: &str) -> &mut Self {
        self.bytes(text.as_bytes())
    }

    /// An unsigned integer in decimal.
    #[inline(never)]
    pub fn u(&mut self, mut v: u32) -> &mut Self {
        // Written from the last digit back, without indexing: a bounds check's panic would
        // format its message, which pulls `core::fmt` (about 1 KB) into the flash.
        let mut digits = [0u8; 10];
        let mut n = 0;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
            n += 1;
            if v == 0 {
                break;
            }
        }
        self.bytes(digits.get(digits.len() - n..).unwrap_or_default())
    }

    /// `0x` and eight hexadecimal digits.
    #[inline(never)]
    pub fn hex(&mut self, v: u32) -> &mut Self {
        let mut digits = *b"0x00000000";
        for (i, d) in digits[2..].iter_mut().enumerate() {
            let nibble = (v >> (28 - 4 * i)) & 0xf;
            *d = b"0123456789abcdef"[nibble as usize];
        }
        self.bytes(&digits)
    }

    /// A number rounded to three decimals (`-12.345`); `nan` and out-of-range values as words.
    #[inline(never)]
    pub fn milli(&mut self, v: f32) -> &mut Self {
        if v.is_nan() {
            return self.s("nan");
        }
        let m = v * 1000.0;
        // Within i32 (|v| up to two million): 32-bit division only, as 64-bit division would
        // pull about 1 KB of compiler-builtins into the flash.
        if !(-2.0e9..=2.0e9).contains(&m) {
            return self.s(if v < 0.0 { "-large" } else { "large" });
        }
        // Round half away from zero.
        let m = if m < 0.0 { m - 0.5 } else { m + 0.5 } as i32;
        if m < 0 {
            self.s("-");
        }
        let m = m.unsigned_abs();
        let frac = m % 1000;
        self.u(m / 1000).s(".");
        if frac < 100 {
            self.s("0");
        }
        if frac < 10 {
            self.s("0");
        }
        self.u(frac)
    }

    /// Writes the line and a newline to the host's standard output; nothing without a host.
    #[cfg(not(feature = "rtt"))]
    #[inline(never)]
    pub fn print(&mut self) {
        let n = if self.len < CAPACITY { self.len + 1 } else { CAPACITY };
        self.buf[n - 1] = b'\n';
        if let Ok(mut out) = hio::hstdout() {
            let _ = out.write_all(&self.buf[..n]);
        }
        self.len = 0;
    }

    /// Sends the line over RTT (defmt's `{=str}`: the text travels as it is).
    #[cfg(feature = "rtt")]
    #[inline(never)]
    pub fn print(&mut self) {
        // Only ASCII is ever written, so the bytes are UTF-8.
        let text = core::str::from_utf8(&self.buf[..self.len]).unwrap_or("(not UTF-8)");
        defmt::println!("{=str}", text);
        self.len = 0;
    }
}
