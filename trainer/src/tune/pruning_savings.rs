//! What the pruners can save, on simulated studies: the sampler and pruner of `bottleneck tune`
//! on a synthetic objective whose learning curves never cross, so that a trial's first epochs
//! rank it exactly as its last does (the median rule's most favourable case). A study of 20
//! ten-epoch trials, as `cargo xtask bench tuning` runs on the real conv autoencoder;
//! docs/tuning.md#what-pruning-saves quotes the table this prints
//! (`cargo test -p bottleneck --release --lib pruning_savings -- --nocapture`).

use super::pruner::{Halving, Median, NoPruner, Pruner};
use super::sampler::{Random, Sampler, Tpe};
use super::space::{Params, SearchSpace};
use super::trial::{TrialRecord, TrialState};

const TRIALS: u32 = 20;
const EPOCHS: u32 = 10;
const SEEDS: u64 = 200;

/// The validation error a trial's curve tends to (after epoch e it is this times 1 + 2 / e),
/// smallest for Adam at lr 3e-3 without dropout (the shape of the conv autoencoder's default
/// space: SGD is far worse, lr matters most, dropout a little).
fn asymptote(p: &Params) -> f64 {
    let lr = p["lr"].as_float().unwrap();
    let dropout = p["dropout"].as_float().unwrap();
    let sgd = if p["optimizer"].as_str().unwrap() == "sgd" { 0.02 } else { 0.0 };
    0.013 + 0.002 * (lr.log10() + 2.5).powi(2) + 0.01 * dropout + sgd
}

/// The fraction of the unpruned study's epochs (`TRIALS * EPOCHS`) that one study trains, and
/// its best complete trial's value.
fn run_study(sampler: &dyn Sampler, pruner: &dyn Pruner, space: &SearchSpace) -> (f64, f64) {
    let mut trials: Vec<TrialRecord> = Vec::new();
    let mut epochs = 0;
    for number in 0..TRIALS {
        let params = sampler.sample(space, &trials, number).unwrap().unwrap().params;
        let tends_to = asymptote(&params);
        // Complete unless the pruner stops it.
        let mut trial = TrialRecord::new(number, TrialState::Complete, params);
        for epoch in 1..=EPOCHS {
            // Every curve has the same shape: ranks never change.
            let value = tends_to * (1.0 + 2.0 / f64::from(epoch));
            trial.intermediate.push((epoch, value));
            trial.value = Some(value);
            epochs += 1;
            // As `bottleneck tune`'s observer: asked after every epoch, the last one too.
            if pruner.prune(number, epoch, value, &trials, false).is_some() {
                trial.state = TrialState::Pruned;
                break;
            }
        }
        trials.push(trial);
    }
    let best =
        trials.iter().filter(|t| t.state == TrialState::Complete).filter_map(|t| t.value).fold(f64::INFINITY, f64::min);
    (f64::from(epochs) / f64::from(TRIALS * EPOCHS), best)
}

/// Over `SEEDS` studies: the mean fraction, its 10th and 90th percentiles, the share of studies
/// at or under one half, and the median best value.
fn over_seeds(sampler: impl Fn(u64) -> Box<dyn Sampler>, pruner: &dyn Pruner, space: &SearchSpace) -> [f64; 5] {
    let (mut f, mut best): (Vec<f64>, Vec<f64>) = (0..SEEDS).map(|s| run_study(&*sampler(s), pruner, space)).unzip();
    f.sort_by(f64::total_cmp);
    best.sort_by(f64::total_cmp);
    let n = f.len();
    let mean = f.iter().sum::<f64>() / n as f64;
    [mean, f[n / 10], f[n * 9 / 10], f.iter().filter(|&&x| x <= 0.5).count() as f64 / n as f64, best[n / 2]]
}

#[test]
fn pruning_savings() {
    let space = SearchSpace::from_toml(
        "[params]\n\"lr\" = { float = [1e-4, 1e-1], log = true }\n\"dropout\" = { choice = [0.0, 0.1, 0.2] }\n\
         \"optimizer\" = { choice = [\"adam\", \"sgd\"] }",
        "simulated",
    )
    .unwrap();
    let random = |s| Box::new(Random { seed: s }) as Box<dyn Sampler>;
    let tpe = |s| Box::new(Tpe::new(s, false)) as Box<dyn Sampler>;
    let median = Median::default();
    let median_no_warmup = Median { warmup_epochs: 0, ..Median::default() };
    let rows = [
        ("random", "none", over_seeds(random, &NoPruner, &space)),
        ("random", "median", over_seeds(random, &median, &space)),
        ("random", "median, warm-up 0", over_seeds(random, &median_no_warmup, &space)),
        ("tpe", "none", over_seeds(tpe, &NoPruner, &space)),
        ("tpe", "median", over_seeds(tpe, &median, &space)),
        ("tpe", "median, warm-up 0", over_seeds(tpe, &median_no_warmup, &space)),
        ("tpe", "halving", over_seeds(tpe, &Halving::default(), &space)),
    ];
    println!(
        "| sampler | pruner | mean fraction of the epochs | 10th-90th percentile | studies at or under 0.5 | median best value |"
    );
    println!("|---|---|---|---|---|---|");
    for (sampler, pruner, [mean, p10, p90, halved, best]) in rows {
        println!("| {sampler} | {pruner} | {mean:.3} | {p10:.3}-{p90:.3} | {:.0}% | {best:.5} |", 100.0 * halved);
    }
    let [_, random_median, random_early, _, tpe_median, tpe_early, tpe_halving] = rows.map(|r| r.2[0]);
    // The median rule lets through every trial better than the median: even here it trains more
    // than half of the epochs on average, and more under TPE, whose proposals get better.
    assert!(random_early > 0.5 && random_median > random_early, "{random_median} {random_early}");
    assert!(tpe_median > random_median && tpe_early > random_early, "{tpe_median} {tpe_early}");
    // Successive halving keeps a third at each rung whatever the sampler proposes.
    assert!(tpe_halving <= 0.5, "{tpe_halving}");
}
