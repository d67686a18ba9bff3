//! Where a study keeps its trials: an embedded SQLite file (the default; several processes on one
//! machine share it) or a PostgreSQL server (`postgres://...`, for several machines). Samplers
//! and figures only read it; a worker claims trials in a transaction, reports intermediate values,
//! sends heartbeats, and records how each trial ended.

mod api;
mod claim;
pub mod postgres;
pub mod sqlite;

use std::path::Path;

use anyhow::Context as _;

pub use api::{Storage, StudyInfo};
pub use claim::{ClaimRules, Sample, SampleFn};

/// Opens the storage `location` names: `postgres://...` or `postgresql://...` for PostgreSQL,
/// anything else a SQLite file path.
///
/// # Errors
/// When the database cannot be opened or created.
pub fn open(location: &str) -> anyhow::Result<Box<dyn Storage>> {
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        Ok(Box::new(postgres::PgStorage::connect(location)?))
    } else {
        let path = Path::new(location);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        Ok(Box::new(sqlite::SqliteStorage::open(path)?))
    }
}
