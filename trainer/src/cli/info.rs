//! `bottleneck info RUN_DIR`: what a run directory holds, with its model loaded.

use std::path::PathBuf;

use clap::Args;

use crate::config::DataSpec;
use crate::deploy::graph::check_exportable;
use crate::inference::LoadedModel;
use crate::run_dir::RunDir;

#[derive(Debug, Args)]
pub struct InfoCmd {
    /// The run directory.
    run: PathBuf,
}

impl InfoCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let run = RunDir::open(&self.run)?;
        let config = run.read_config()?;
        println!("run:        {}", run.root.display());
        println!("kind:       {}", config.model.kind());
        match &config.data {
            DataSpec::Images(d) => println!(
                "data:       {} ({} training, {} validation, {} test images) from {}",
                d.dataset,
                d.train_images,
                d.valid_images,
                d.test_images,
                d.dir.display()
            ),
            DataSpec::ToyRectangle(t) => {
                println!("data:       {} toy points ({} held out)", t.points, t.test_points);
            }
        }
        let t = &config.train;
        println!(
            "training:   {} epochs, batch {}, {} at lr {}, weight decay {}, {} schedule, seed {}, {}",
            t.epochs,
            t.batch_size,
            t.optim.optimizer,
            t.optim.lr,
            t.optim.weight_decay,
            t.optim.schedule,
            t.seed,
            t.device
        );
        if run.metrics_path().is_file() {
            let h = run.read_metrics()?;
            if let Some(r) = h.rows.last() {
                let values: Vec<String> =
                    h.columns.iter().zip(&r.values).filter_map(|(c, v)| v.map(|v| format!("{c} {v:.5}"))).collect();
                println!("trained:    {} epochs, {:.1} s; last: {}", r.epoch, h.total_seconds(), values.join(", "));
            }
        }
        if run.model_path().is_file() || config.model.model_kind().is_none() {
            let device = config.train.device.device()?;
            let model = LoadedModel::load(&run, &config, &device)?;
            println!("model:      {} parameters", model.parameters());
            match check_exportable(&model, &config) {
                Ok(()) => println!("deployable: yes (`bottleneck export {}`)", run.root.display()),
                Err(e) => println!("deployable: no: {e}"),
            }
        } else {
            println!("model:      not trained yet (no model.bpk; `bottleneck resume` completes the run)");
        }
        if let Ok(e) = run.read_export_record() {
            let files: Vec<String> = e.files.iter().map(|f| format!("{} ({} B)", f.name, f.bytes)).collect();
            println!("exported:   {}", files.join(", "));
        }
        if let Ok(v) = run.read_validation_record() {
            let targets: Vec<String> = v
                .targets
                .iter()
                .map(|t| format!("{} {:#010x}{}", t.target, t.digest, if t.identical { "" } else { " (DIFFERENT)" }))
                .collect();
            println!("validated:  {} ({})", if v.passed { "passed" } else { "FAILED" }, targets.join(", "));
        }
        Ok(())
    }
}
