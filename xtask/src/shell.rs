//! Running commands with echo, timing and clear failures.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// The workspace root (xtask lives one level below it).
///
/// `cargo run` sets `CARGO_MANIFEST_DIR` for the running binary; that is the clone it was started
/// from, whereas the compile-time value can name another clone sharing the target directory.
pub fn root() -> PathBuf {
    let manifest =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

/// Where cargo puts the builds of the workspace at `dir`: `CARGO_TARGET_DIR` when set (shared by
/// every workspace), else `dir/target`.
pub fn target_dir(dir: &std::path::Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| dir.join("target"), PathBuf::from)
}

/// A command that runs in the workspace root.
pub fn cmd(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args).current_dir(root());
    c
}

/// `cargo` with the given arguments.
pub fn cargo(args: &[&str]) -> Command {
    cmd(&std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()), args)
}

/// Runs `c`, echoing it and how long it took; an error names the command and its exit status.
pub fn run(step: &str, mut c: Command) -> Result<(), String> {
    let shown = format!(
        "{} {}",
        c.get_program().to_string_lossy(),
        c.get_args().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
    );
    eprintln!("\n==> {step}: {shown}");
    let started = Instant::now();
    let status = c.status().map_err(|e| format!("{step}: cannot start `{shown}`: {e}"))?;
    eprintln!(
        "<== {step}: {} in {:.0} s",
        if status.success() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if status.success() { Ok(()) } else { Err(format!("{step} failed ({status}): `{shown}`")) }
}

/// Whether `program` is on the PATH.
pub fn has(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

/// Captures stdout of a command (empty on failure).
pub fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}
