//! Installing what the checks need, only when it is missing (a fresh machine has none of it).

use std::path::PathBuf;
use std::process::Command;

use crate::shell::{self, has, output};

/// Debian packages, installed together with one `apt-get update` when any is missing.
pub fn apt(packages: &[(&str, &str)]) -> Result<(), String> {
    // (package, a file it installs)
    let missing: Vec<&str> =
        packages.iter().filter(|(_, probe)| !std::path::Path::new(probe).exists()).map(|(p, _)| *p).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !has("apt-get") {
        return Err(format!("missing {missing:?} and no apt-get to install them; install them by hand"));
    }
    apt_update()?;
    let mut install = apt_get();
    install
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive");
    shell::run(&format!("install {}", missing.join(" ")), install)
}

fn apt_get() -> Command {
    // As root (CI, containers) call apt-get directly; otherwise through sudo.
    if output("id", &["-u"]).trim() == "0" { shell::cmd("apt-get", &[]) } else { shell::cmd("sudo", &["apt-get"]) }
}

/// `apt-get update`: the package lists a fresh machine lacks.
pub fn apt_update() -> Result<(), String> {
    let mut update = apt_get();
    update.args(["update", "-qq"]);
    shell::run("apt-get update", update)
}

/// rustup components (rustfmt, clippy) and targets.
pub fn rustup(components: &[&str], targets: &[&str]) -> Result<(), String> {
    let installed_c = output("rustup", &["component", "list", "--installed"]);
    for c in components {
        if !installed_c.lines().any(|l| l.starts_with(c)) {
            shell::run(&format!("rustup component add {c}"), shell::cmd("rustup", &["component", "add", c]))?;
        }
    }
    let installed_t = output("rustup", &["target", "list", "--installed"]);
    for t in targets {
        if !installed_t.lines().any(|l| l.trim() == *t) {
            shell::run(&format!("rustup target add {t}"), shell::cmd("rustup", &["target", "add", t]))?;
        }
    }
    Ok(())
}

/// A Python with torch and numpy, in a virtual environment under the cache (installed from PyPI the
/// first time: about 3 GB with torch's CUDA libraries, which the CPU run does not use).
pub fn torch_python() -> Result<PathBuf, String> {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let venv = PathBuf::from(home).join(".cache/bottleneck/torch-venv");
    let python = venv.join("bin/python3");
    let ok = Command::new(&python).args(["-c", "import torch, numpy, safetensors"]).status().is_ok_and(|s| s.success());
    if !ok {
        shell::run("create a Python environment", shell::cmd("python3", &["-m", "venv", &venv.to_string_lossy()]))?;
        shell::run(
            "install PyTorch",
            shell::cmd(
                &python.to_string_lossy(),
                &["-m", "pip", "install", "--quiet", &format!("torch=={TORCH}"), "numpy", "safetensors"],
            ),
        )?;
    }
    Ok(python)
}

/// The PyTorch version measured against (the one `../shared/NOTES.md` quotes).
pub const TORCH: &str = "2.15.0";
