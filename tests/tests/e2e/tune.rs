//! `bottleneck tune` and `bottleneck cv`: studies shared by several workers, a killed worker's
//! trial run again, divergence recorded as a failure, PostgreSQL storage, cross-validation.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::util::{bin, fails, ok, sample};

/// A tiny conv autoencoder study's common arguments.
fn tiny(data: &str, study: &str) -> Vec<String> {
    [
        "tune",
        "conv-ae",
        "--data",
        data,
        "--limit-train",
        "300",
        "--limit-test",
        "60",
        "--batch-size",
        "50",
        "-q",
        "--study",
        study,
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect()
}

fn spawn(dir: &Path, args: &[String]) -> Child {
    Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env_remove("BOTTLENECK_DATA")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bottleneck")
}

fn finish(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "worker failed:\n{text}");
    text
}

/// The rows of a study's trials.csv as (number, params..., value, state, ...) cells.
fn rows(study: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(study.join("trials.csv")).unwrap();
    text.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

fn column(study: &Path, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(study.join("trials.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let c = header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name} in {header:?}"));
    rows(study).into_iter().map(|r| r[c].clone()).collect()
}

/// Two workers on one grid study: every grid point once, no trial run twice.
fn two_workers_cover_the_grid(dir: &Path, extra: &[&str]) {
    let s = sample();
    let mut args = tiny(s.to_str().unwrap(), "grid");
    args.extend(
        ["--space", "regularisation", "--sampler", "grid", "--pruner", "none", "--epochs", "1", "--trials", "8"]
            .map(String::from),
    );
    args.extend(extra.iter().map(|s| (*s).to_string()));
    let (a, b) = (spawn(dir, &args), spawn(dir, &args));
    let (out_a, out_b) = (finish(a), finish(b));
    let study = dir.join("runs/grid");
    let states = column(&study, "state");
    assert_eq!(states.len(), 8, "{out_a}\n{out_b}");
    assert!(states.iter().all(|s| s == "complete"), "{states:?}");
    let mut points: Vec<String> = rows(&study).iter().map(|r| r[1..4].join(",")).collect();
    points.sort();
    points.dedup();
    assert_eq!(points.len(), 8, "a grid point ran twice: {points:?}");
    let workers: std::collections::BTreeSet<String> = column(&study, "worker").into_iter().collect();
    assert_eq!(workers.len(), 2, "both workers ran trials: {workers:?}");
    for n in 0..8 {
        let metrics = study.join(format!("trials/trial-{n:04}/metrics.csv"));
        assert_eq!(std::fs::read_to_string(&metrics).unwrap().lines().count(), 2, "{}", metrics.display());
    }
    for f in ["best.toml", "figures/history.png", "figures/params.png", "figures/curves.png"] {
        assert!(study.join(f).is_file(), "missing {f}");
    }
}

#[test]
fn two_workers_share_a_sqlite_study_and_best_toml_trains_again() {
    let dir = tempfile::tempdir().unwrap();
    two_workers_cover_the_grid(dir.path(), &[]);
    // The best configuration trains again as an ordinary run.
    let out = ok(dir.path(), &["train", "--config", "runs/grid/best.toml", "--name", "again", "-q"]);
    assert!(out.contains("runs/again"), "{out}");
    // Running the finished study again continues it: nothing left to do.
    let s = sample();
    let mut args = tiny(s.to_str().unwrap(), "grid");
    args.extend(
        ["--space", "regularisation", "--sampler", "grid", "--pruner", "none", "--epochs", "1", "--trials", "8"]
            .map(String::from),
    );
    let again = finish(spawn(dir.path(), &args));
    assert!(again.contains("8 complete") && again.contains("(0 run by this worker)"), "{again}");
}

#[test]
fn a_killed_workers_trial_runs_again_and_finished_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let mut args = tiny(s.to_str().unwrap(), "killed");
    args.extend(["--sampler", "random", "--pruner", "none", "--epochs", "30", "--trials", "3"].map(String::from));
    let mut worker = spawn(dir.path(), &args);
    // Kill it as soon as its second trial has started (the first is complete by then).
    let second = dir.path().join("runs/killed/trials/trial-0001");
    let started = Instant::now();
    while !second.exists() {
        assert!(started.elapsed() < Duration::from_secs(300), "the second trial never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    worker.kill().unwrap(); // SIGKILL
    worker.wait().unwrap();
    let out = finish(spawn(dir.path(), &args));
    assert!(out.contains("re-run of trial 1"), "{out}");
    let study = dir.path().join("runs/killed");
    let (numbers, states, notes) = (column(&study, "number"), column(&study, "state"), column(&study, "note"));
    assert_eq!(numbers, ["0", "1", "2", "3"], "{out}");
    assert_eq!(states, ["complete", "failed", "complete", "complete"], "{notes:?}");
    assert!(notes[1].contains("no longer running") && notes[1].contains("re-run as trial 2"), "{notes:?}");
    // Trial 2 ran trial 1's parameters; trial 0 ran once.
    let params: Vec<String> = rows(&study).iter().map(|r| r[1..r.len() - 6].join(",")).collect();
    assert_eq!(params[1], params[2]);
    assert_eq!(params.iter().filter(|p| **p == params[0]).count(), 1, "{params:?}");
}

#[test]
fn a_diverging_trial_fails_and_the_study_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("space.toml"), "[params]\n\"train.lr\" = { choice = [1e30, 0.001] }\n").unwrap();
    let s = sample();
    let mut args = tiny(s.to_str().unwrap(), "nan");
    args.extend(
        ["--space", "space.toml", "--sampler", "grid", "--optimizer", "sgd", "--epochs", "1", "--trials", "2"]
            .map(String::from),
    );
    let out = finish(spawn(dir.path(), &args));
    let study = dir.path().join("runs/nan");
    assert_eq!(column(&study, "state"), ["failed", "complete"], "{out}");
    assert!(column(&study, "note")[0].contains("diverged"), "{out}");
    // A space that does not fit the configuration is refused up front, naming the key.
    std::fs::write(dir.path().join("bad.toml"), "[params]\n\"model.latnet\" = { int = [2, 8] }\n").unwrap();
    let mut bad = tiny(s.to_str().unwrap(), "bad");
    bad.extend(["--space", "bad.toml", "--sampler", "grid"].map(String::from));
    let refs: Vec<&str> = bad.iter().map(String::as_str).collect();
    let err = fails(dir.path(), &refs, 1);
    assert!(err.contains("model.latnet") && err.contains("model.latent"), "{err}");
}

#[test]
fn cross_validation_writes_folds_and_their_spread() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample();
    let out = ok(
        dir.path(),
        &[
            "cv",
            "--folds",
            "3",
            "conv-ae",
            "--data",
            s.to_str().unwrap(),
            "--limit-train",
            "300",
            "--limit-test",
            "60",
            "--epochs",
            "1",
            "--batch-size",
            "50",
            "-q",
        ],
    );
    assert!(out.contains("3-fold cross-validation: valid_mse"), "{out}");
    let cv = dir.path().join("runs/cv-conv-ae");
    for f in ["cv.csv", "cv.md", "figures/cv.png", "fold-1/metrics.csv", "fold-3/config.toml"] {
        assert!(cv.join(f).is_file(), "missing {f}");
    }
    let config = std::fs::read_to_string(cv.join("fold-2/config.toml")).unwrap();
    assert!(
        config.contains("k = 3") && config.contains("index = 1") && config.contains("valid_images = 100"),
        "{config}"
    );
}

/// A throwaway PostgreSQL server from Debian's package, on its own port, stopped when dropped.
struct Postgres {
    bin: std::path::PathBuf,
    data: tempfile::TempDir,
    port: u16,
    user: Option<String>,
}

impl Postgres {
    /// Starts one; `None` when PostgreSQL is not installed (unless CI asks for it).
    fn start() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| d.filter_map(|e| e.ok().map(|e| e.path().join("bin"))).find(|b| b.join("initdb").is_file()));
        let Some(bin) = bin else {
            assert!(
                std::env::var_os("BOTTLENECK_REQUIRE_POSTGRES").is_none(),
                "PostgreSQL is not installed (apt-get install postgresql; cargo xtask ci does)"
            );
            eprintln!("skipped: PostgreSQL is not installed");
            return None;
        };
        let data = tempfile::tempdir().unwrap();
        // PostgreSQL refuses to run as root: run it as the package's postgres user then.
        let root = Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false);
        let user = root.then(|| "postgres".to_string());
        if let Some(u) = &user {
            assert!(Command::new("chown").args([u, data.path().to_str().unwrap()]).status().unwrap().success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let pg = Self { bin, data, port, user };
        let dir = pg.data.path().join("db");
        pg.run("initdb", &["-D", dir.to_str().unwrap(), "-A", "trust", "-U", "postgres"]);
        let opts = format!("-p {port} -k {} -c listen_addresses=127.0.0.1", pg.data.path().display());
        let log = pg.data.path().join("log");
        pg.run("pg_ctl", &["-D", dir.to_str().unwrap(), "-o", &opts, "-l", log.to_str().unwrap(), "-w", "start"]);
        Some(pg)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let mut c = match &self.user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = c.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let dir = self.data.path().join("db");
        let exe = self.bin.join("pg_ctl");
        let mut c = match &self.user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let _ = c.args(["-D", dir.to_str().unwrap(), "-m", "immediate", "stop"]).output();
    }
}

#[test]
fn two_workers_share_a_postgresql_study() {
    let Some(pg) = Postgres::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    two_workers_cover_the_grid(dir.path(), &["--storage", &pg.url()]);
    assert!(!dir.path().join("runs/grid/study.sqlite").exists(), "the study went to SQLite, not PostgreSQL");
}
