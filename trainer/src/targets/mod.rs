//! Running the same check on the other deployment targets: the wasm32 module under Node and the
//! Cortex-M4 firmware under QEMU, each built from Bottleneck's source tree with the run's files.
//! Their digests must equal the host runtime's on the same vectors.

pub mod firmware;
pub mod report;
pub mod source_tree;
pub mod wasm;

use anyhow::Context as _;
use bottleneck_export::validate::check;
use bottleneck_export::vectors::Vectors;
use bottleneck_runtime::Model;

use crate::files;
use crate::run_dir::RunDir;
pub use report::CheckReport;
pub use wasm::{WasmBuild, build_wasm};

/// A deployment target other than the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// This machine's runtime with its portable kernels instead of the fastest build (AVX2 on
    /// x86-64): the same bits are required of both.
    HostPortable,
    /// `wasm32-unknown-unknown`, run by Node.
    Wasm,
    /// The same with 128-bit SIMD (what `serve-demo` serves to browsers), run by Node.
    WasmSimd128,
    /// `thumbv7em-none-eabihf` (Cortex-M4F), run by `qemu-system-arm -machine mps2-an386`, with
    /// its DSP kernels and, in the same run, its portable ones (which must agree).
    Firmware,
}

impl Target {
    /// The name in reports.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::HostPortable => "host-portable",
            Self::Wasm => "wasm32",
            Self::WasmSimd128 => "wasm32-simd128",
            Self::Firmware => "cortex-m4",
        }
    }
}

/// One target's result.
#[derive(Debug, Clone)]
pub struct TargetDigest {
    /// Target name.
    pub target: &'static str,
    /// What the target reported.
    pub report: CheckReport,
    /// The host runtime's digest on the same vectors.
    pub host: u32,
    /// Everything the target printed.
    pub log: String,
}

impl TargetDigest {
    /// Whether the target computed the host's bits.
    #[must_use]
    pub fn identical(&self) -> bool {
        self.report.digest == self.host
    }
}

/// The host digest over the first `n` vectors.
fn host_digest(model: &Model<'_>, vectors: &Vectors, n: usize) -> anyhow::Result<u32> {
    let subset = Vectors { items: vectors.items.iter().take(n).cloned().collect(), ..vectors.clone() };
    Ok(check(model, &subset).map_err(|e| anyhow::anyhow!("host runtime: {e}"))?.digest)
}

/// Builds and runs `target` on the run's exported `model.bnq` and `vectors.bin`.
///
/// # Errors
/// When the tools are missing, a build or run fails, or the target prints no digest.
pub fn run_target(target: Target, run: &RunDir, model: &Model<'_>, vectors: &Vectors) -> anyhow::Result<TargetDigest> {
    // Absolute paths: the builds run in other folders.
    let abs = |f: &str| {
        let p = run.export_file(f);
        p.canonicalize().with_context(|| format!("{}", p.display()))
    };
    let (bnq, vec) = (abs(files::BNQ)?, abs(files::VECTORS)?);
    let (report, log) = match target {
        Target::HostPortable => {
            bottleneck_runtime::use_portable_kernels(true);
            let digest = host_digest(model, vectors, vectors.items.len());
            bottleneck_runtime::use_portable_kernels(false);
            (CheckReport { digest: digest?, vectors: vectors.items.len(), instructions: None }, String::new())
        }
        Target::Wasm => wasm::check(&bnq, &vec, wasm::WasmBuild::Scalar)?,
        Target::WasmSimd128 => wasm::check(&bnq, &vec, wasm::WasmBuild::Simd128)?,
        Target::Firmware => firmware::check(&bnq, &vec)?,
    };
    let host = host_digest(model, vectors, report.vectors)?;
    Ok(TargetDigest { target: target.name(), report, host, log })
}
