//! `bottleneck validate RUN_DIR`: does the int8 runtime do what the trainer does?

use std::path::PathBuf;

use clap::Args;

use crate::jobs::export::export_dir;
use crate::jobs::targets::{Target, run_target};
use crate::jobs::validate::{Validation, read_export, validate};
use crate::run_dir::RunDir;

#[derive(Debug, Args)]
pub struct ValidateCmd {
    /// The run directory (after `bottleneck export`).
    run: PathBuf,
    /// Fail when fewer than this share of top-1 classes agree with the float classifier.
    #[arg(long, default_value_t = 0.995)]
    min_agreement: f64,
    /// Fail when the int8 reconstruction MSE exceeds the float one by more than this factor.
    #[arg(long, default_value_t = 1.05)]
    max_mse_ratio: f64,
    /// Compare on the vectors only, not on the whole test set.
    #[arg(long)]
    vectors_only: bool,
    /// Folder holding the IDX files (default: the folder the run used).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Also build and run these targets on the same vectors and require bit-identical outputs:
    /// wasm (Node) and firmware (Cortex-M4 under qemu-system-arm). Needs Bottleneck's source tree,
    /// the rustup targets, Node and QEMU.
    #[arg(long, value_enum, value_delimiter = ',')]
    targets: Vec<Target>,
}

/// Prints the report; returns the failed checks.
pub(crate) fn print_validation(v: &Validation, min_agreement: f64, max_mse_ratio: f64) -> Vec<String> {
    let a = &v.vectors;
    println!(
        "int8 file: {} bytes; scratch: encode {} B, decode {} B, classify {} B, sample {} B",
        v.file_bytes, v.scratch[0], v.scratch[1], v.scratch[2], v.scratch[3]
    );
    println!("vectors ({}):", a.count);
    println!(
        "  code error       max {:.4} ({:.2} steps), mean {:.4}",
        a.code_max_abs, a.code_max_steps, a.code_mean_abs
    );
    println!("  decoder          int8 vs float reconstruction MSE {:.2e}", a.recon_mse_vs_float);
    println!("  reconstruction   MSE float {:.5}, int8 {:.5} (ratio {:.3})", a.mse_float, a.mse_int8, a.mse_ratio());
    if let (Some((agree, n)), Some((ri, rf, _))) = (a.top1, a.accuracy) {
        println!(
            "  classifier       top-1 agreement {agree}/{n} ({:.2}%), accuracy float {rf}/{n}, int8 {ri}/{n}",
            100.0 * agree as f64 / n as f64
        );
    }
    println!("  output digest    {:#010x}", a.digest);
    let mut failed = Vec::new();
    let (ratio, top1) = match &v.test_set {
        Some(t) => {
            println!("test set ({}):", t.count);
            println!(
                "  reconstruction   MSE float {:.5}, int8 {:.5} (ratio {:.3})",
                t.mse_float,
                t.mse_int8,
                t.mse_ratio()
            );
            if let Some((agree, n)) = t.top1 {
                println!("  classifier       top-1 agreement {agree}/{n} ({:.2}%)", 100.0 * agree as f64 / n as f64);
            }
            (t.mse_ratio(), t.top1.map(|(x, n)| x as f64 / n as f64))
        }
        None => (a.mse_ratio(), a.top1_rate()),
    };
    if ratio > max_mse_ratio {
        failed.push(format!("int8/float reconstruction MSE ratio {ratio:.3} exceeds --max-mse-ratio {max_mse_ratio}"));
    }
    if let Some(r) = top1
        && r < min_agreement
    {
        failed.push(format!("top-1 agreement {r:.4} is below --min-agreement {min_agreement}"));
    }
    failed
}

impl ValidateCmd {
    pub fn run(self) -> anyhow::Result<()> {
        let run = RunDir::open(&self.run)?;
        let config = run.read_config()?;
        let data = if self.vectors_only { None } else { Some(super::export::run_data(&config, self.data)?) };
        let v = validate(&run, &config, data.as_ref())?;
        let mut failed = print_validation(&v, self.min_agreement, self.max_mse_ratio);
        if !self.targets.is_empty() {
            let (bnq, vectors) = read_export(&run)?;
            let model = bottleneck_runtime::Model::parse(&bnq).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("targets (the same check sequence; equal digests mean bit-identical int8 outputs):");
            println!("  {:<10} {:>7}  {:<10}", "host", v.vectors.count, format!("{:#010x}", v.vectors.digest));
            for &t in &self.targets {
                let r = run_target(t, &export_dir(&run), &model, &vectors)?;
                let same = r.digest == r.host;
                println!(
                    "  {:<10} {:>7}  {:#010x}  {}",
                    r.target,
                    r.vectors,
                    r.digest,
                    if same { "identical".to_string() } else { format!("DIFFERENT from the host's {:#010x}", r.host) }
                );
                if let Some(line) = r.log.lines().find(|l| l.starts_with("instructions:")) {
                    println!("             {line}");
                }
                if !same {
                    failed.push(format!("{} outputs differ from the host runtime's", r.target));
                }
            }
        }
        anyhow::ensure!(failed.is_empty(), "validation failed: {}", failed.join("; "));
        println!("validation passed");
        Ok(())
    }
}
