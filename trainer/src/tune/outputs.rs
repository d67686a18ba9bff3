//! What a study leaves in its folder, rewritten after every trial from the storage alone:
//! `trials.csv`, `best.toml` (a configuration `bottleneck train --config` trains again), and the
//! figures `history.png` (objective per trial), `params.png` (objective against each parameter)
//! and `curves.png` (the objective per epoch of every trial).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use toml::Value;

use super::space::{Dist, SearchSpace, apply, describe, short};
use super::trial::{TrialRecord, TrialState};
use crate::config::RunConfig;
use crate::fit::Column;
use crate::plot::lines::{Chart, Series, line_chart};
use crate::plot::trials::{Panel, history, panels};
use crate::util::atomic_write_bytes;

/// The best complete trial.
#[must_use]
pub fn best(trials: &[TrialRecord], maximise: bool) -> Option<&TrialRecord> {
    trials.iter().filter(|t| t.state == TrialState::Complete && t.value.is_some_and(f64::is_finite)).min_by(|a, b| {
        let (x, y) = (a.value.unwrap_or(0.0), b.value.unwrap_or(0.0));
        if maximise { y.total_cmp(&x) } else { x.total_cmp(&y) }
    })
}

/// A CSV cell: quoted when it holds a comma, a quote or a line break.
fn cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Table(_) => short(v),
        other => other.to_string(),
    }
}

/// `trials.csv`: number, one column per parameter, value, state, epochs, seconds, worker, note.
#[must_use]
pub fn trials_csv(space: &SearchSpace, trials: &[TrialRecord]) -> String {
    let mut s = String::from("number");
    for p in &space.params {
        let _ = write!(s, ",{}", cell(&p.key));
    }
    s.push_str(",value,state,epochs,seconds,worker,note\n");
    for t in trials {
        let _ = write!(s, "{}", t.number);
        for p in &space.params {
            let _ = write!(s, ",{}", cell(&t.params.get(&p.key).map(value_text).unwrap_or_default()));
        }
        let value = t.value.map_or_else(String::new, |v| format!("{v:.6e}"));
        let _ = writeln!(s, ",{value},{},{},{:.1},{},{}", t.state, t.epochs, t.seconds, cell(&t.worker), cell(&t.note));
    }
    s
}

/// Files written.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// Every file, in the order written.
    pub files: Vec<PathBuf>,
}

fn write(path: &Path, text: &str, w: &mut Written) -> anyhow::Result<()> {
    atomic_write_bytes(path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    w.files.push(path.to_path_buf());
    Ok(())
}

/// Writes the study's files into `dir`.
///
/// # Errors
/// On an I/O or drawing failure.
pub fn write_all(
    dir: &Path,
    study: &str,
    base: &RunConfig,
    space: &SearchSpace,
    trials: &[TrialRecord],
    objective: Column,
    maximise: bool,
) -> anyhow::Result<Written> {
    let mut w = Written::default();
    write(&dir.join("trials.csv"), &trials_csv(space, trials), &mut w)?;
    if let Some(b) = best(trials, maximise) {
        let config = apply(base, &b.params)?;
        let text = format!(
            "# The best trial of study {study:?}: trial {} ({objective} {:.6}) with {}.\n\
             # `bottleneck train --config best.toml` trains it again; `bottleneck cv --config best.toml` \
             cross-validates it.\n{}",
            b.number,
            b.value.unwrap_or(f64::NAN),
            describe(&b.params),
            config.to_toml()?
        );
        write(&dir.join("best.toml"), &text, &mut w)?;
    }
    let figures = dir.join("figures");
    std::fs::create_dir_all(&figures).with_context(|| format!("creating {}", figures.display()))?;
    let scored: Vec<&TrialRecord> = trials.iter().filter(|t| t.value.is_some_and(f64::is_finite)).collect();
    if scored.is_empty() {
        return Ok(w);
    }
    let point = |t: &TrialRecord| (f64::from(t.number), t.value.unwrap_or(f64::NAN));
    let complete: Vec<(f64, f64)> =
        scored.iter().filter(|t| t.state == TrialState::Complete).map(|t| point(t)).collect();
    let pruned: Vec<(f64, f64)> = scored.iter().filter(|t| t.state == TrialState::Pruned).map(|t| point(t)).collect();
    // A step line: the best value holds until a trial beats it.
    let mut best_so_far: Vec<(f64, f64)> = Vec::new();
    for &(x, y) in &complete {
        let b = best_so_far.last().map_or(y, |&(_, b)| if maximise { b.max(y) } else { b.min(y) });
        if let Some(&(_, prev)) = best_so_far.last() {
            best_so_far.push((x, prev));
        }
        best_so_far.push((x, b));
    }
    let verb = if maximise { "maximised" } else { "minimised" };
    let path = figures.join("history.png");
    history(
        &path,
        &format!("Study {study}: {objective} per trial ({verb})"),
        &objective.to_string(),
        &complete,
        &pruned,
        &best_so_far,
    )?;
    w.files.push(path);

    let mut ps = Vec::new();
    for p in &space.params {
        let categories = match &p.dist {
            Dist::Choice(c) => Some(c.iter().map(short).collect::<Vec<_>>()),
            _ => None,
        };
        let points = scored
            .iter()
            .filter(|t| t.state != TrialState::Failed)
            .filter_map(|t| {
                let v = t.params.get(&p.key)?;
                let x = match (&p.dist, v) {
                    (Dist::Choice(c), v) => c.iter().position(|c| c == v)? as f64,
                    (_, Value::Float(f)) => *f,
                    (_, Value::Integer(i)) => *i as f64,
                    _ => return None,
                };
                Some((x, t.value.unwrap_or(f64::NAN), t.state == TrialState::Pruned))
            })
            .collect();
        let log_x = matches!(p.dist, Dist::Float { log: true, .. } | Dist::Int { log: true, .. });
        ps.push(Panel { name: p.key.clone(), log_x, categories, points });
    }
    let path = figures.join("params.png");
    panels(
        &path,
        &format!("Study {study}: {objective} against each parameter (crosses: pruned)"),
        &objective.to_string(),
        &ps,
    )?;
    w.files.push(path);

    // Named lines only when few enough to read in a legend.
    let named = scored.len() <= 8;
    let series: Vec<Series> = scored
        .iter()
        .map(|t| Series {
            name: if named { format!("#{} {}", t.number, describe(&t.params)) } else { String::new() },
            points: t.intermediate.iter().map(|&(e, v)| (f64::from(e), v)).collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    if !series.is_empty() {
        let path = figures.join("curves.png");
        let title = format!("Study {study}: {objective} per epoch, one line per trial");
        line_chart(
            &path,
            &Chart { title: &title, x_label: "epoch", y_label: &objective.to_string(), log_y: true },
            &series,
        )?;
        w.files.push(path);
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::space::Params;

    #[test]
    fn csv_quotes_what_needs_it_and_best_respects_direction() {
        let space =
            SearchSpace::from_toml("[params]\n\"train\" = { choice = [{ optimizer = \"sgd\", lr = 0.05 }] }", "s")
                .unwrap();
        let mut p = Params::new();
        p.insert("train".into(), space.params[0].grid_values().unwrap()[0].clone());
        let mut a = TrialRecord::new(0, TrialState::Complete, p.clone());
        a.value = Some(0.5);
        a.note = "a, b".into();
        let mut b = TrialRecord::new(1, TrialState::Complete, p);
        b.value = Some(0.7);
        let csv = trials_csv(&space, &[a.clone(), b.clone()]);
        assert!(csv.starts_with("number,train,value,state,epochs,seconds,worker,note\n"), "{csv}");
        assert!(csv.contains("\"a, b\"") && csv.contains("lr=0.05 optimizer=sgd"), "{csv}");
        assert_eq!(best(&[a.clone(), b.clone()], false).unwrap().number, 0);
        assert_eq!(best(&[a, b], true).unwrap().number, 1);
    }
}
