//! `bottleneck validate RUN_DIR`: does the int8 runtime do what the trainer does?

use std::path::PathBuf;

use clap::Args;

use crate::deploy::validate::{parse, record};
use crate::deploy::{Thresholds, read_export, report, validate};
use crate::run_dir::RunDir;
use crate::run_dir::records::TargetRecord;
use crate::targets::{Target, run_target};

#[derive(Debug, Args)]
pub struct ValidateCmd {
    /// The run directory (after `bottleneck export`).
    run: PathBuf,
    /// Fail when fewer than this share of top-1 classes agree with the float classifier.
    #[arg(long, default_value_t = Thresholds::default().min_agreement)]
    min_agreement: f64,
    /// Fail when the int8 reconstruction MSE exceeds the float one by more than this factor.
    #[arg(long, default_value_t = Thresholds::default().max_mse_ratio)]
    max_mse_ratio: f64,
    /// Compare on the vectors only, not on the whole test set.
    #[arg(long)]
    vectors_only: bool,
    /// Folder holding the IDX files (default: the folder recorded in the run's config.toml).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Also run these targets on the same vectors and require bit-identical outputs:
    /// host-portable (this machine's portable kernels instead of its fastest ones), wasm and
    /// wasm-simd128 (the module built plain and with 128-bit SIMD, in Node) and firmware (Cortex-M4
    /// under qemu-system-arm, its DSP and its portable kernels). The builds need Bottleneck's
    /// source tree, the rustup targets, Node and QEMU.
    #[arg(long, value_enum, value_delimiter = ',')]
    targets: Vec<Target>,
}

impl ValidateCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let run = RunDir::open(&self.run)?;
        let config = run.read_config()?;
        let data = if self.vectors_only {
            None
        } else {
            Some(config.data.images()?.load(self.data.as_deref(), &run.config_path())?)
        };
        let v = validate(&run, &config, data.as_ref())?;
        let thresholds = Thresholds { min_agreement: self.min_agreement, max_mse_ratio: self.max_mse_ratio };
        let (lines, mut failed) = report(&v, thresholds);
        for line in lines {
            println!("{line}");
        }
        let mut targets = Vec::new();
        if !self.targets.is_empty() {
            let (bnq, vectors) = read_export(&run)?;
            let model = parse(&run, &bnq)?;
            println!("targets (the same check sequence; equal digests mean bit-identical int8 outputs):");
            println!(
                "  {:<16} {:>7}  {:#010x}  ({} kernels)",
                "host",
                v.vectors.count,
                v.vectors.digest,
                bottleneck_runtime::kernel_name()
            );
            for &t in &self.targets {
                let r = run_target(t, &run, &model, &vectors)?;
                println!(
                    "  {:<16} {:>7}  {:#010x}  {}",
                    r.target,
                    r.report.vectors,
                    r.report.digest,
                    if r.identical() {
                        "identical".to_string()
                    } else {
                        format!("DIFFERENT from the host's {:#010x}", r.host)
                    }
                );
                if let Some(line) = &r.report.instructions {
                    println!("  {:<16} {line}", "");
                }
                if !r.identical() {
                    failed.push(format!("{} outputs differ from the host runtime's", r.target));
                }
                targets.push(TargetRecord {
                    target: r.target.into(),
                    vectors: r.report.vectors,
                    digest: r.report.digest,
                    identical: r.identical(),
                });
            }
        }
        record(&run, &v, &targets, failed.is_empty())?;
        anyhow::ensure!(failed.is_empty(), "validation failed: {}", failed.join("; "));
        println!("validation passed");
        Ok(())
    }
}
