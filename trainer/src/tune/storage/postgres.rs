//! Study storage on a PostgreSQL server (`--storage postgres://user@host/db`), for workers on
//! several machines. Tables are prefixed `bottleneck_`; claims lock the trials table for the
//! length of one short transaction.

use anyhow::Context as _;
use postgres::{Client, GenericClient, NoTls};

use super::api::{Storage, StudyInfo, mismatch, params_from_text, params_to_text};
use super::claim::{ClaimRules, SampleFn, plan};
use crate::tune::trial::{TrialEnd, TrialRecord, TrialState, Worker, now};

const SCHEMA: &str = "1";

const DDL: &str = "
CREATE TABLE IF NOT EXISTS bottleneck_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO bottleneck_meta (key, value) VALUES ('schema', '1') ON CONFLICT (key) DO NOTHING;
CREATE TABLE IF NOT EXISTS bottleneck_studies (
    id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE NOT NULL, kind TEXT NOT NULL, objective TEXT NOT NULL,
    maximise BOOLEAN NOT NULL, space TEXT NOT NULL, created DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS bottleneck_trials (
    study BIGINT NOT NULL, number BIGINT NOT NULL, state TEXT NOT NULL, params TEXT NOT NULL,
    value DOUBLE PRECISION, epochs BIGINT NOT NULL, seconds DOUBLE PRECISION NOT NULL, worker TEXT NOT NULL,
    heartbeat DOUBLE PRECISION NOT NULL, note TEXT NOT NULL, retry_of BIGINT, grid BIGINT,
    PRIMARY KEY (study, number));
CREATE TABLE IF NOT EXISTS bottleneck_intermediate (
    study BIGINT NOT NULL, number BIGINT NOT NULL, epoch BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (study, number, epoch));
";

/// A connection to the study server.
pub struct PgStorage {
    client: Client,
    url: String,
}

impl std::fmt::Debug for PgStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStorage").field("url", &self.url).finish()
    }
}

impl PgStorage {
    /// Connects to `url` and creates the tables when missing.
    ///
    /// # Errors
    /// When the server cannot be reached, or holds another schema version.
    pub fn connect(url: &str) -> anyhow::Result<Self> {
        let shown = redact(url);
        let mut client =
            Client::connect(url, NoTls).with_context(|| format!("connecting to the study server {shown}"))?;
        let mut tx = client.transaction()?;
        // Two workers creating the tables at once would collide in the catalog: one at a time.
        tx.execute("SELECT pg_advisory_xact_lock(7346251)", &[])?;
        tx.batch_execute(DDL).with_context(|| format!("{shown}: creating the study tables"))?;
        let schema: String = tx.query_one("SELECT value FROM bottleneck_meta WHERE key = 'schema'", &[])?.get(0);
        tx.commit()?;
        anyhow::ensure!(
            schema == SCHEMA,
            "{shown}: study schema {schema} is not supported (this bottleneck reads {SCHEMA})"
        );
        Ok(Self { client, url: shown })
    }
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..s + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

fn read_trials(c: &mut impl GenericClient, study: i64) -> anyhow::Result<Vec<TrialRecord>> {
    let rows = c.query(
        "SELECT number, state, params, value, epochs, seconds, worker, heartbeat, note, retry_of, grid
         FROM bottleneck_trials WHERE study = $1 ORDER BY number",
        &[&study],
    )?;
    let mut out = Vec::new();
    for r in rows {
        let mut t = TrialRecord::new(
            r.get::<_, i64>(0) as u32,
            TrialState::parse(r.get::<_, &str>(1))?,
            params_from_text(r.get::<_, &str>(2))?,
        );
        t.value = r.get(3);
        t.epochs = r.get::<_, i64>(4) as u32;
        t.seconds = r.get(5);
        t.worker = r.get(6);
        t.heartbeat = r.get(7);
        t.note = r.get(8);
        t.retry_of = r.get::<_, Option<i64>>(9).map(|n| n as u32);
        t.grid = r.get::<_, Option<i64>>(10).map(|g| g as u32);
        out.push(t);
    }
    for r in c.query(
        "SELECT number, epoch, value FROM bottleneck_intermediate WHERE study = $1 ORDER BY number, epoch",
        &[&study],
    )? {
        let number: i64 = r.get(0);
        if let Some(t) = out.iter_mut().find(|t| i64::from(t.number) == number) {
            t.intermediate.push((r.get::<_, i64>(1) as u32, r.get(2)));
        }
    }
    Ok(out)
}

fn insert(c: &mut impl GenericClient, study: i64, t: &TrialRecord) -> anyhow::Result<()> {
    c.execute(
        "INSERT INTO bottleneck_trials
         (study, number, state, params, value, epochs, seconds, worker, heartbeat, note, retry_of, grid)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            &study,
            &i64::from(t.number),
            &t.state.name(),
            &params_to_text(&t.params)?,
            &t.value,
            &i64::from(t.epochs),
            &t.seconds,
            &t.worker,
            &t.heartbeat,
            &t.note,
            &t.retry_of.map(i64::from),
            &t.grid.map(i64::from),
        ],
    )?;
    Ok(())
}

impl Storage for PgStorage {
    fn open_study(&mut self, name: &str, info: &StudyInfo) -> anyhow::Result<i64> {
        let mut tx = self.client.transaction()?;
        tx.execute("LOCK TABLE bottleneck_studies IN SHARE ROW EXCLUSIVE MODE", &[])?;
        let found = tx.query_opt(
            "SELECT id, kind, objective, maximise, space FROM bottleneck_studies WHERE name = $1",
            &[&name],
        )?;
        let id = match found {
            Some(r) => {
                let have = StudyInfo { kind: r.get(1), objective: r.get(2), maximise: r.get(3), space: r.get(4) };
                if have != *info {
                    return Err(mismatch(name, &have, info));
                }
                r.get(0)
            }
            None => tx
                .query_one(
                    "INSERT INTO bottleneck_studies (name, kind, objective, maximise, space, created)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    &[&name, &info.kind, &info.objective, &info.maximise, &info.space, &now()],
                )?
                .get(0),
        };
        tx.commit()?;
        Ok(id)
    }

    fn claim(
        &mut self,
        study: i64,
        me: &Worker,
        rules: &ClaimRules,
        sample: &mut SampleFn<'_>,
    ) -> anyhow::Result<Option<TrialRecord>> {
        let mut tx = self.client.transaction()?;
        // One claim at a time per server: SHARE ROW EXCLUSIVE conflicts with itself.
        tx.execute("LOCK TABLE bottleneck_trials IN SHARE ROW EXCLUSIVE MODE", &[])?;
        let trials = read_trials(&mut tx, study)?;
        let p = plan(&trials, me, rules, now(), sample)?;
        for (number, note) in &p.fail {
            tx.execute(
                "UPDATE bottleneck_trials SET state = 'failed', note = $3 WHERE study = $1 AND number = $2",
                &[&study, &i64::from(*number), note],
            )?;
        }
        for r in &p.retries {
            insert(&mut tx, study, r)?;
        }
        if let Some((t, new)) = &p.take {
            if *new {
                insert(&mut tx, study, t)?;
            } else {
                tx.execute(
                    "UPDATE bottleneck_trials SET state = 'running', worker = $3, heartbeat = $4
                     WHERE study = $1 AND number = $2",
                    &[&study, &i64::from(t.number), &t.worker, &t.heartbeat],
                )?;
            }
        }
        tx.commit()?;
        Ok(p.take.map(|(t, _)| t))
    }

    fn report(&mut self, study: i64, number: u32, epoch: u32, value: f64) -> anyhow::Result<()> {
        let n = i64::from(number);
        self.client.execute(
            "INSERT INTO bottleneck_intermediate (study, number, epoch, value) VALUES ($1, $2, $3, $4)
             ON CONFLICT (study, number, epoch) DO UPDATE SET value = EXCLUDED.value",
            &[&study, &n, &i64::from(epoch), &value],
        )?;
        self.client.execute(
            "UPDATE bottleneck_trials SET heartbeat = $3 WHERE study = $1 AND number = $2",
            &[&study, &n, &now()],
        )?;
        Ok(())
    }

    fn heartbeat(&mut self, study: i64, number: u32) -> anyhow::Result<()> {
        self.client.execute(
            "UPDATE bottleneck_trials SET heartbeat = $3 WHERE study = $1 AND number = $2 AND state = 'running'",
            &[&study, &i64::from(number), &now()],
        )?;
        Ok(())
    }

    fn finish(&mut self, study: i64, number: u32, end: &TrialEnd) -> anyhow::Result<()> {
        self.client.execute(
            "UPDATE bottleneck_trials SET state = $3, value = $4, epochs = $5, seconds = $6, note = $7, heartbeat = $8
             WHERE study = $1 AND number = $2",
            &[
                &study,
                &i64::from(number),
                &end.state.name(),
                &end.value,
                &i64::from(end.epochs),
                &end.seconds,
                &end.note,
                &now(),
            ],
        )?;
        Ok(())
    }

    fn trials(&mut self, study: i64) -> anyhow::Result<Vec<TrialRecord>> {
        read_trials(&mut self.client, study).with_context(|| format!("reading the study on {}", self.url))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(super::redact("postgres://ann:secret@db:5432/s"), "postgres://ann@db:5432/s");
        assert_eq!(super::redact("postgres://db/s"), "postgres://db/s");
    }
}
