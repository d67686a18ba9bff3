//! Seeded random codes for `Model::sample`.
//!
//! PCG32 (O'Neill 2014) for uniform bits and Marsaglia's polar method for Gaussians. The logarithm
//! comes from `libm`, a software implementation in f32 only, and `sqrt` and the other operations
//! are exact IEEE 754 single-precision operations, so a seed gives the same codes, bit for bit, on
//! the host, in wasm32 and on a Cortex-M4F. The polar method needs no sine or cosine: `libm`'s
//! `cosf` works in f64, which a Cortex-M4F emulates in software (about 3 KB of flash).

/// A small seeded generator: 16 bytes of state, no allocation.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
    inc: u64,
}

impl Rng {
    /// A generator whose stream depends only on `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        // Stream 54, as in the PCG paper's demo, so the reference outputs below check the generator.
        let mut rng = Self { state: 0, inc: (54 << 1) | 1 };
        rng.next_u32();
        rng.state = rng.state.wrapping_add(seed);
        rng.next_u32();
        rng
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(self.inc);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    /// Uniform on `[-1, 1)` in steps of 2^-23 (24 random bits; every operation exact).
    fn symmetric(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 8_388_608.0) - 1.0
    }

    /// A standard normal draw: Marsaglia's polar method. A point `(u, v)` uniform in the square
    /// is drawn until it falls strictly inside the unit disc (and off its centre), which takes
    /// 4 / pi tries on average; then `u x sqrt(-2 ln s / s)` with `s = u^2 + v^2` is normal.
    pub fn normal(&mut self) -> f32 {
        loop {
            let (u, v) = (self.symmetric(), self.symmetric());
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * libm::sqrtf(-2.0 * libm::logf(s) / s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcg32_reference_stream() {
        // The first outputs of the reference `pcg32_srandom_r(&rng, 42, 54)` (pcg-c demo).
        let mut r = Rng::new(42);
        let got: [u32; 3] = core::array::from_fn(|_| r.next_u32());
        assert_eq!(got, [0xa15c_02b7, 0x7b47_f409, 0xba1d_3330]);
    }

    #[test]
    fn normal_has_unit_moments() {
        let mut r = Rng::new(1);
        let n = 20_000;
        let (mut s, mut s2) = (0.0f64, 0.0f64);
        for _ in 0..n {
            let z = f64::from(r.normal());
            s += z;
            s2 += z * z;
        }
        let mean = s / f64::from(n);
        let var = s2 / f64::from(n) - mean * mean;
        assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.05, "mean {mean} var {var}");
    }
}
