//! Installing what the checks need, only when it is missing (a fresh machine has none of it).

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
    let apt_get = || {
        // As root (CI, containers) call apt-get directly; otherwise through sudo.
        if output("id", &["-u"]).trim() == "0" { shell::cmd("apt-get", &[]) } else { shell::cmd("sudo", &["apt-get"]) }
    };
    let mut update = apt_get();
    update.args(["update", "-qq"]);
    shell::run("apt-get update", update)?;
    let mut install = apt_get();
    install
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive");
    shell::run(&format!("install {}", missing.join(" ")), install)
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
