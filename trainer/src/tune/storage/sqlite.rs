//! The embedded study storage: one SQLite file (bundled SQLite), in WAL mode so readers never
//! block the writer, with a generous busy timeout and claims in `BEGIN IMMEDIATE` transactions,
//! so that several worker processes share it without "database is locked" errors.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::api::{Storage, StudyInfo, mismatch, params_from_text, params_to_text};
use super::claim::{ClaimRules, SampleFn, plan};
use crate::tune::trial::{TrialEnd, TrialRecord, TrialState, Worker, now};

/// The storage schema this code reads and writes.
const SCHEMA: &str = "1";

const DDL: &str = "
CREATE TABLE IF NOT EXISTS bottleneck_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO bottleneck_meta (key, value) VALUES ('schema', '1');
CREATE TABLE IF NOT EXISTS bottleneck_studies (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, kind TEXT NOT NULL, objective TEXT NOT NULL,
    maximise INTEGER NOT NULL, space TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS bottleneck_trials (
    study INTEGER NOT NULL, number INTEGER NOT NULL, state TEXT NOT NULL, params TEXT NOT NULL,
    value REAL, epochs INTEGER NOT NULL, seconds REAL NOT NULL, worker TEXT NOT NULL,
    heartbeat REAL NOT NULL, note TEXT NOT NULL, retry_of INTEGER, grid INTEGER,
    PRIMARY KEY (study, number));
CREATE TABLE IF NOT EXISTS bottleneck_intermediate (
    study INTEGER NOT NULL, number INTEGER NOT NULL, epoch INTEGER NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (study, number, epoch));
";

/// A study file.
#[derive(Debug)]
pub struct SqliteStorage {
    conn: Connection,
    path: PathBuf,
}

impl SqliteStorage {
    /// Opens (creating when missing) the study file at `path`.
    ///
    /// # Errors
    /// When the file cannot be opened, is not a study file, or is of another schema version.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path).with_context(|| format!("opening the study file {}", path.display()))?;
        // Waits for another process's write instead of failing with "database is locked".
        conn.busy_timeout(Duration::from_secs(120))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .with_context(|| format!("{}: not a SQLite database", path.display()))?;
        anyhow::ensure!(mode.eq_ignore_ascii_case("wal"), "{}: cannot use WAL mode (got {mode})", path.display());
        let mut s = Self { conn, path: path.to_path_buf() };
        let tx = s.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(DDL).with_context(|| format!("{}: creating the study tables", path.display()))?;
        let schema: String =
            tx.query_row("SELECT value FROM bottleneck_meta WHERE key = 'schema'", [], |r| r.get(0))?;
        tx.commit()?;
        anyhow::ensure!(
            schema == SCHEMA,
            "{}: study schema {schema} is not supported (this bottleneck reads {SCHEMA})",
            path.display()
        );
        Ok(s)
    }

    fn context(&self) -> String {
        format!("study file {}", self.path.display())
    }
}

fn read_trials(conn: &Connection, study: i64) -> anyhow::Result<Vec<TrialRecord>> {
    let mut stmt = conn.prepare(
        "SELECT number, state, params, value, epochs, seconds, worker, heartbeat, note, retry_of, grid
         FROM bottleneck_trials WHERE study = ?1 ORDER BY number",
    )?;
    let rows = stmt.query_map([study], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<f64>>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, f64>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, f64>(7)?,
            r.get::<_, String>(8)?,
            r.get::<_, Option<i64>>(9)?,
            r.get::<_, Option<i64>>(10)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (number, state, params, value, epochs, seconds, worker, heartbeat, note, retry_of, grid) = row?;
        let mut t = TrialRecord::new(number as u32, TrialState::parse(&state)?, params_from_text(&params)?);
        t.value = value;
        t.epochs = epochs as u32;
        t.seconds = seconds;
        t.worker = worker;
        t.heartbeat = heartbeat;
        t.note = note;
        t.retry_of = retry_of.map(|n| n as u32);
        t.grid = grid.map(|g| g as u32);
        out.push(t);
    }
    let mut stmt = conn
        .prepare("SELECT number, epoch, value FROM bottleneck_intermediate WHERE study = ?1 ORDER BY number, epoch")?;
    let values = stmt.query_map([study], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, f64>(2)?)))?;
    for v in values {
        let (number, epoch, value) = v?;
        if let Some(t) = out.iter_mut().find(|t| i64::from(t.number) == number) {
            t.intermediate.push((epoch as u32, value));
        }
    }
    Ok(out)
}

fn insert(conn: &Connection, study: i64, t: &TrialRecord) -> anyhow::Result<()> {
    conn.execute(
        "INSERT INTO bottleneck_trials
         (study, number, state, params, value, epochs, seconds, worker, heartbeat, note, retry_of, grid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            study,
            t.number,
            t.state.name(),
            params_to_text(&t.params)?,
            t.value,
            t.epochs,
            t.seconds,
            t.worker,
            t.heartbeat,
            t.note,
            t.retry_of,
            t.grid
        ],
    )?;
    Ok(())
}

impl Storage for SqliteStorage {
    fn open_study(&mut self, name: &str, info: &StudyInfo) -> anyhow::Result<i64> {
        let ctx = self.context();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = tx
            .query_row(
                "SELECT id, kind, objective, maximise, space FROM bottleneck_studies WHERE name = ?1",
                [name],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        StudyInfo {
                            kind: r.get(1)?,
                            objective: r.get(2)?,
                            maximise: r.get::<_, i64>(3)? != 0,
                            space: r.get(4)?,
                        },
                    ))
                },
            )
            .optional()?;
        let id = match found {
            Some((id, have)) if have == *info => id,
            Some((_, have)) => return Err(mismatch(name, &have, info)),
            None => {
                tx.execute(
                    "INSERT INTO bottleneck_studies (name, kind, objective, maximise, space, created)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![name, info.kind, info.objective, i64::from(info.maximise), info.space, now()],
                )?;
                tx.last_insert_rowid()
            }
        };
        tx.commit().with_context(|| ctx.clone())?;
        Ok(id)
    }

    fn claim(
        &mut self,
        study: i64,
        me: &Worker,
        rules: &ClaimRules,
        sample: &mut SampleFn<'_>,
    ) -> anyhow::Result<Option<TrialRecord>> {
        let ctx = self.context();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).with_context(|| ctx.clone())?;
        let trials = read_trials(&tx, study)?;
        let p = plan(&trials, me, rules, now(), sample)?;
        for (number, note) in &p.fail {
            tx.execute(
                "UPDATE bottleneck_trials SET state = 'failed', note = ?3 WHERE study = ?1 AND number = ?2",
                params![study, number, note],
            )?;
        }
        for r in &p.retries {
            insert(&tx, study, r)?;
        }
        if let Some((t, new)) = &p.take {
            if *new {
                insert(&tx, study, t)?;
            } else {
                tx.execute(
                    "UPDATE bottleneck_trials SET state = 'running', worker = ?3, heartbeat = ?4
                     WHERE study = ?1 AND number = ?2",
                    params![study, t.number, t.worker, t.heartbeat],
                )?;
            }
        }
        tx.commit().with_context(|| ctx.clone())?;
        Ok(p.take.map(|(t, _)| t))
    }

    fn report(&mut self, study: i64, number: u32, epoch: u32, value: f64) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO bottleneck_intermediate (study, number, epoch, value) VALUES (?1, ?2, ?3, ?4)",
            params![study, number, epoch, value],
        )?;
        self.conn.execute(
            "UPDATE bottleneck_trials SET heartbeat = ?3 WHERE study = ?1 AND number = ?2",
            params![study, number, now()],
        )?;
        Ok(())
    }

    fn heartbeat(&mut self, study: i64, number: u32) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE bottleneck_trials SET heartbeat = ?3 WHERE study = ?1 AND number = ?2 AND state = 'running'",
            params![study, number, now()],
        )?;
        Ok(())
    }

    fn finish(&mut self, study: i64, number: u32, end: &TrialEnd) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE bottleneck_trials SET state = ?3, value = ?4, epochs = ?5, seconds = ?6, note = ?7, heartbeat = ?8
             WHERE study = ?1 AND number = ?2",
            params![study, number, end.state.name(), end.value, end.epochs, end.seconds, end.note, now()],
        )?;
        Ok(())
    }

    fn trials(&mut self, study: i64) -> anyhow::Result<Vec<TrialRecord>> {
        let ctx = self.context();
        read_trials(&self.conn, study).with_context(|| ctx)
    }
}
