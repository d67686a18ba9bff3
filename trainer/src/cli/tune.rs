//! `bottleneck tune KIND`: a hyperparameter study of a model kind.

use std::path::Path;

use anyhow::Context as _;
use clap::Args;

use super::train::ModelCmd;
use crate::tune::presets::{NAMES, preset};
use crate::tune::pruner::Median;
use crate::tune::space::describe;
use crate::tune::storage::StudyInfo;
use crate::tune::study::replay_params;
use crate::tune::{PrunerKind, SamplerKind, SearchSpace, TuneConfig, objective, tune};

/// Search hyperparameters: trials of KIND (each an ordinary run directory under
/// RUNS/STUDY/trials/) proposed by a sampler, stopped early by a pruner, kept in a storage that
/// several workers can share. The objective is the kind's validation metric (MSE, VAE loss, or
/// accuracy, maximised), never the test set. The options of `bottleneck train KIND` fix
/// everything the space does not vary (epochs, data, device, ...). Running the command again
/// continues the study; start it in several terminals or on several machines (with a PostgreSQL
/// --storage) to run trials in parallel.
#[derive(Debug, Args)]
pub struct TuneCmd {
    /// The search space: a TOML file, or one that comes with Bottleneck: `default` (what the
    /// homework tunes for the kind), `regularisation` (conv-ae: dropout x weight decay x batch
    /// norm, a grid), `optimizers` (the six optimizers at suitable learning rates, a grid).
    #[arg(long, global = true, value_name = "FILE|NAME", default_value = "default")]
    space: String,
    /// Print the search space as a file (to copy and edit) and exit.
    #[arg(long, global = true)]
    print_space: bool,
    /// How parameters are proposed.
    #[arg(long, global = true, value_enum, default_value_t = SamplerKind::Tpe)]
    sampler: SamplerKind,
    /// Trials to end in all (complete, pruned or failed), over every worker.
    #[arg(long, global = true, default_value_t = 20)]
    trials: u32,
    /// How trials are stopped early.
    #[arg(long, global = true, value_enum, default_value_t = PrunerKind::Median)]
    pruner: PrunerKind,
    /// The median pruner waits for this many complete trials.
    #[arg(long, global = true, default_value_t = Median::default().startup_trials)]
    startup_trials: usize,
    /// The median pruner never stops a trial in its first epochs.
    #[arg(long, global = true, default_value_t = Median::default().warmup_epochs)]
    warmup_epochs: u32,
    /// The study's name (default `tune-KIND`); its folder is RUNS/STUDY.
    #[arg(long, global = true)]
    study: Option<String>,
    /// Where trials are kept: a SQLite file (default RUNS/STUDY/study.sqlite) or a
    /// postgres://user@host/db URL (for workers on several machines).
    #[arg(long, global = true, value_name = "PATH|URL")]
    storage: Option<String>,
    /// Run the parameters of this study (in the same storage), in order, instead of sampling:
    /// the same trials under another pruner.
    #[arg(long, global = true, value_name = "STUDY")]
    replay: Option<String>,
    /// A running trial whose worker sent no heartbeat for this many seconds is failed and run
    /// again (a worker on this machine that died is noticed at once).
    #[arg(long, global = true, default_value_t = 60.0)]
    heartbeat_timeout: f64,
    #[command(subcommand)]
    model: ModelCmd,
}

/// The space `--space` names for `kind`: a preset or a file.
fn load_space(space: &str, kind: crate::config::ModelKind) -> anyhow::Result<SearchSpace> {
    if let Some(text) = preset(space, kind)? {
        return SearchSpace::from_toml(text, space);
    }
    let path = Path::new(space);
    anyhow::ensure!(path.is_file(), "--space {space:?} is neither a file nor one of {} ", NAMES.join(", "));
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    SearchSpace::from_toml(&text, &path.display().to_string())
}

impl TuneCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let kind = self.model.kind();
        let space = load_space(&self.space, kind)?;
        if self.print_space {
            print!("{}", space.to_toml());
            return Ok(());
        }
        let r = self.model.resolve()?;
        anyhow::ensure!(r.out.name.is_none(), "tune names its trials itself; give the study a name with --study");
        let data = r.data.context("toy models have no validation split to tune on")?;
        let name = self.study.unwrap_or_else(|| format!("tune-{kind}"));
        let dir = r.out.runs.join(&name);
        let storage = self.storage.unwrap_or_else(|| TuneConfig::default_storage(&dir));
        let column = objective(kind)?;
        let replay = match &self.replay {
            Some(source) => {
                let info = StudyInfo {
                    kind: kind.name().into(),
                    objective: column.to_string(),
                    maximise: column.metric.maximise(),
                    space: space.to_toml(),
                };
                Some(replay_params(&storage, source, &info)?)
            }
            None => None,
        };
        let cfg = TuneConfig {
            name: name.clone(),
            dir: dir.clone(),
            storage,
            seed: r.config.train.seed,
            base: r.config,
            space,
            sampler: self.sampler,
            replay,
            pruner: self.pruner,
            median: Median { startup_trials: self.startup_trials, warmup_epochs: self.warmup_epochs },
            trials: self.trials,
            stale_after: self.heartbeat_timeout,
            heartbeat_every: (self.heartbeat_timeout / 6.0).clamp(0.1, 10.0),
            progress: !r.out.quiet,
        };
        let report = tune(&cfg, &data, &mut |line| println!("{line}"))?;
        let count = |s: crate::tune::trial::TrialState| report.trials.iter().filter(|t| t.state == s).count();
        use crate::tune::trial::TrialState as S;
        println!(
            "study {name}: {} complete, {} pruned, {} failed ({} run by this worker)",
            count(S::Complete),
            count(S::Pruned),
            count(S::Failed),
            report.ran
        );
        match report.best() {
            Some(b) => println!(
                "best: trial {} with {} {:.5}: {}",
                b.number,
                report.objective,
                b.value.unwrap_or(f64::NAN),
                describe(&b.params)
            ),
            None => println!("no trial completed yet"),
        }
        for f in &report.written.files {
            println!("  {}", f.display());
        }
        Ok(())
    }
}
