//! What every storage offers, and what the storages share.

use anyhow::Context as _;

use super::claim::{ClaimRules, SampleFn};
use crate::tune::space::Params;
use crate::tune::trial::{TrialEnd, TrialRecord, Worker};

/// What identifies a study beyond its name: trials are only comparable under the same objective
/// and space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyInfo {
    /// The model kind tuned.
    pub kind: String,
    /// The metric column minimised or maximised (`valid_mse`, ...).
    pub objective: String,
    /// Whether larger is better.
    pub maximise: bool,
    /// The space's text.
    pub space: String,
}

/// A study's storage.
pub trait Storage: Send {
    /// Creates the study, or opens it; returns its id.
    ///
    /// # Errors
    /// When a study of that name exists with another objective or space, or on a database error.
    fn open_study(&mut self, name: &str, info: &StudyInfo) -> anyhow::Result<i64>;

    /// In one transaction: fails the running trials whose worker is gone or silent (queueing a
    /// re-run of each), then takes a waiting trial, or starts a new one with parameters from
    /// `sample` while the study has fewer than `rules.budget` trials; `None` when there is nothing
    /// left to do.
    ///
    /// # Errors
    /// On a database error, or an error of `sample`.
    fn claim(
        &mut self,
        study: i64,
        me: &Worker,
        rules: &ClaimRules,
        sample: &mut SampleFn<'_>,
    ) -> anyhow::Result<Option<TrialRecord>>;

    /// Records the objective after `epoch`.
    ///
    /// # Errors
    /// On a database error.
    fn report(&mut self, study: i64, number: u32, epoch: u32, value: f64) -> anyhow::Result<()>;

    /// Says the trial's worker is alive.
    ///
    /// # Errors
    /// On a database error.
    fn heartbeat(&mut self, study: i64, number: u32) -> anyhow::Result<()>;

    /// Records how the trial ended.
    ///
    /// # Errors
    /// On a database error.
    fn finish(&mut self, study: i64, number: u32, end: &TrialEnd) -> anyhow::Result<()>;

    /// Every trial, with its intermediate values, by number.
    ///
    /// # Errors
    /// On a database error.
    fn trials(&mut self, study: i64) -> anyhow::Result<Vec<TrialRecord>>;
}

/// Parameters as stored: a TOML table.
pub(crate) fn params_to_text(params: &Params) -> anyhow::Result<String> {
    toml::to_string(params).context("serialising trial parameters")
}

/// Parameters from their stored text.
pub(crate) fn params_from_text(text: &str) -> anyhow::Result<Params> {
    toml::from_str(text).context("stored trial parameters are not TOML")
}

/// The error when a study exists with another set-up.
pub(crate) fn mismatch(name: &str, have: &StudyInfo, want: &StudyInfo) -> anyhow::Error {
    let what = if have.kind != want.kind {
        format!("it tunes {}, not {}", have.kind, want.kind)
    } else if have.objective != want.objective {
        format!("its objective is {}, not {}", have.objective, want.objective)
    } else {
        "its search space differs from this one".to_string()
    };
    anyhow::anyhow!("study {name:?} exists and {what}; run it with its own options, or pick another --study name")
}
