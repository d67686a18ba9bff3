//! Seeded random codes for `Model::sample`.
//!
//! PCG32 (O'Neill 2014) for uniform bits and Box-Muller for Gaussians. The transcendental
//! functions come from `libm`, a software implementation, and `sqrt` is exact in IEEE 754, so a seed
//! gives the same codes, bit for bit, on the host, in wasm32 and on a Cortex-M4F.

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

    /// Uniform in `(0, 1]`, 24 bits.
    fn unit_open(&mut self) -> f32 {
        ((self.next_u32() >> 8) + 1) as f32 * (1.0 / 16_777_216.0)
    }

    /// A standard normal draw.
    pub fn normal(&mut self) -> f32 {
        let u1 = self.unit_open();
        let u2 = self.unit_open();
        let r = libm::sqrtf(-2.0 * libm::logf(u1));
        r * libm::cosf(core::f32::consts::TAU * u2)
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
