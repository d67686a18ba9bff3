//! Independent draws from each parameter's distribution.

use toml::Value;

use super::Sampler;
use crate::data::rng::SplitMix64;
use crate::tune::space::{Dist, Param, Params, SearchSpace};
use crate::tune::storage::Sample;
use crate::tune::trial::TrialRecord;

/// Random search; trial `n` of seed `s` always draws the same parameters.
#[derive(Debug, Clone, Copy)]
pub struct Random {
    /// The study's seed.
    pub seed: u64,
}

/// One draw of `p`.
pub fn draw(p: &Param, rng: &mut SplitMix64) -> Value {
    match &p.dist {
        Dist::Float { lo, hi, log: false } => Value::Float(rng.uniform(*lo, *hi)),
        Dist::Float { lo, hi, log: true } => Value::Float(rng.uniform(lo.ln(), hi.ln()).exp().clamp(*lo, *hi)),
        Dist::Int { lo, hi, log: false } => Value::Integer(lo + rng.below((hi - lo + 1) as usize) as i64),
        Dist::Int { lo, hi, log: true } => {
            let x = rng.uniform((*lo as f64 - 0.5).max(0.5).ln(), (*hi as f64 + 0.5).ln()).exp();
            Value::Integer((x.round() as i64).clamp(*lo, *hi))
        }
        Dist::Choice(c) => c[rng.below(c.len())].clone(),
    }
}

impl Random {
    /// The parameters of trial `number`.
    #[must_use]
    pub fn sample_params(&self, space: &SearchSpace, number: u32) -> Params {
        let mut params = Params::new();
        for p in &space.params {
            let mut rng = SplitMix64::derive(self.seed, &format!("random-{number}-{}", p.key));
            params.insert(p.key.clone(), draw(p, &mut rng));
        }
        params
    }
}

impl Sampler for Random {
    fn sample(&self, space: &SearchSpace, _trials: &[TrialRecord], number: u32) -> anyhow::Result<Option<Sample>> {
        Ok(Some(Sample { params: self.sample_params(space, number), grid: None }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> SearchSpace {
        SearchSpace::from_toml(
            "[params]\n\"a\" = { float = [1e-4, 1e-1], log = true }\n\"b\" = { int = [1, 64], log = true }\n\
             \"c\" = { choice = [\"x\", \"y\"] }\n\"d\" = { int = [-3, 3] }",
            "s",
        )
        .unwrap()
    }

    #[test]
    fn reproducible_from_the_seed_and_inside_the_space() {
        let s = space();
        let draws = |seed| -> Vec<Params> {
            (0..50).map(|n| Random { seed }.sample(&s, &[], n).unwrap().unwrap().params).collect()
        };
        assert_eq!(draws(3), draws(3));
        assert_ne!(draws(3), draws(4));
        for p in draws(5) {
            for param in &s.params {
                assert!(param.contains(&p[&param.key]), "{} = {}", param.key, p[&param.key]);
            }
        }
        // Log-uniform: about half the draws below the geometric middle.
        let low = draws(6).iter().filter(|p| p["a"].as_float().unwrap() < (1e-4f64 * 1e-1).sqrt()).count();
        assert!((15..=35).contains(&low), "{low}");
    }
}
