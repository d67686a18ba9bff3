//! The search space: `RunConfig` keys (`model.latent`, `train.lr`, ...) with a distribution each,
//! read from a TOML file (format in `docs/tuning.md`), and applied to a base configuration.
//!
//! ```toml
//! [params]
//! "model.latent" = { int = [4, 64], log = true }
//! "train.lr" = { float = [1e-4, 1e-2], log = true }
//! "train.optimizer" = { choice = ["adam", "sgd"] }
//! "model.dropout" = { float = [0.0, 0.5], grid = [0.0, 0.2, 0.4] }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Context as _, bail};
use toml::Value;

use crate::config::RunConfig;

/// One trial's parameters: key to value.
pub type Params = BTreeMap<String, Value>;

/// How a parameter is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// A real number in `[lo, hi]`, uniform or log-uniform.
    Float {
        /// Lowest value.
        lo: f64,
        /// Highest value.
        hi: f64,
        /// Log-uniform (both bounds positive).
        log: bool,
    },
    /// An integer in `[lo, hi]`, uniform or log-uniform.
    Int {
        /// Lowest value.
        lo: i64,
        /// Highest value.
        hi: i64,
        /// Log-uniform (both bounds positive).
        log: bool,
    },
    /// One of these values (numbers, strings, booleans, or tables of several keys at once).
    Choice(Vec<Value>),
}

/// A parameter of the space.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The dotted `RunConfig` key it sets (a table value sets several keys under it).
    pub key: String,
    /// Its distribution.
    pub dist: Dist,
    /// The values a grid search takes (default: the choices, or every integer of a small range).
    pub grid: Option<Vec<Value>>,
}

/// Parameters, sorted by key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchSpace {
    /// The parameters.
    pub params: Vec<Param>,
}

/// The most integers a range may hold to be a grid by itself.
const MAX_INT_GRID: i64 = 16;

impl Param {
    /// The values a grid search takes.
    ///
    /// # Errors
    /// For a float range, or a large integer range, without `grid = [...]`.
    pub fn grid_values(&self) -> anyhow::Result<Vec<Value>> {
        if let Some(g) = &self.grid {
            return Ok(g.clone());
        }
        match &self.dist {
            Dist::Choice(c) => Ok(c.clone()),
            Dist::Int { lo, hi, .. } if hi - lo < MAX_INT_GRID => Ok((*lo..=*hi).map(Value::Integer).collect()),
            _ => bail!("{}: a grid search needs the values to try; add grid = [...] to this parameter", self.key),
        }
    }

    /// Whether `v` is a value of the parameter's distribution.
    #[must_use]
    pub fn contains(&self, v: &Value) -> bool {
        match (&self.dist, v) {
            (Dist::Float { lo, hi, .. }, Value::Float(x)) => (*lo..=*hi).contains(x),
            (Dist::Float { lo, hi, .. }, Value::Integer(x)) => (*lo..=*hi).contains(&(*x as f64)),
            (Dist::Int { lo, hi, .. }, Value::Integer(x)) => (*lo..=*hi).contains(x),
            (Dist::Choice(c), v) => c.contains(v),
            _ => false,
        }
    }
}

fn number(v: &Value, what: &str) -> anyhow::Result<f64> {
    match v {
        Value::Float(f) if f.is_finite() => Ok(*f),
        Value::Integer(i) => Ok(*i as f64),
        _ => bail!("{what}: {v} is not a finite number"),
    }
}

fn pair(v: &Value, key: &str, kind: &str) -> anyhow::Result<(Value, Value)> {
    match v.as_array().map(Vec::as_slice) {
        Some([a, b]) => Ok((a.clone(), b.clone())),
        _ => bail!("{key}: {kind} takes [lowest, highest], got {v}"),
    }
}

impl SearchSpace {
    /// Parses a space file's text; `origin` names it in errors.
    ///
    /// # Errors
    /// On a malformed file, an unknown distribution, bounds in the wrong order, a log range that is
    /// not positive, or an empty choice.
    pub fn from_toml(text: &str, origin: &str) -> anyhow::Result<Self> {
        let doc: toml::Table = toml::from_str(text).with_context(|| format!("{origin}: not TOML"))?;
        let params = doc
            .get("params")
            .and_then(Value::as_table)
            .with_context(|| format!("{origin}: no [params] table (see `bottleneck tune KIND --print-space`)"))?;
        let mut out = Vec::new();
        for (key, spec) in params {
            let spec = spec
                .as_table()
                .with_context(|| format!("{origin}: {key} must be a table such as {{ float = [0.0, 1.0] }}"))?;
            let log = spec
                .get("log")
                .map(|v| v.as_bool().with_context(|| format!("{origin}: {key}.log must be true or false")))
                .transpose()?
                .unwrap_or(false);
            let known = ["float", "int", "choice", "log", "grid"];
            if let Some(bad) = spec.keys().find(|k| !known.contains(&k.as_str())) {
                bail!("{origin}: {key}: unknown field {bad:?} (float, int, choice, log, grid)");
            }
            let dist = match (spec.get("float"), spec.get("int"), spec.get("choice")) {
                (Some(r), None, None) => {
                    let (a, b) = pair(r, key, "float")?;
                    let (lo, hi) = (number(&a, key)?, number(&b, key)?);
                    Dist::Float { lo, hi, log }
                }
                (None, Some(r), None) => {
                    let (a, b) = pair(r, key, "int")?;
                    let int = |v: &Value| {
                        v.as_integer().with_context(|| format!("{origin}: {key}: int bounds must be integers"))
                    };
                    Dist::Int { lo: int(&a)?, hi: int(&b)?, log }
                }
                (None, None, Some(c)) => {
                    let c = c.as_array().with_context(|| format!("{origin}: {key}: choice takes a list"))?;
                    anyhow::ensure!(!c.is_empty(), "{origin}: {key}: choice is empty");
                    anyhow::ensure!(!log, "{origin}: {key}: log applies to float and int ranges only");
                    Dist::Choice(c.clone())
                }
                _ => bail!("{origin}: {key}: give exactly one of float = [lo, hi], int = [lo, hi] or choice = [...]"),
            };
            match dist {
                Dist::Float { lo, hi, log } => {
                    anyhow::ensure!(lo < hi, "{origin}: {key}: the range [{lo}, {hi}] is empty");
                    anyhow::ensure!(!log || lo > 0.0, "{origin}: {key}: a log range needs positive bounds");
                }
                Dist::Int { lo, hi, log } => {
                    anyhow::ensure!(lo <= hi, "{origin}: {key}: the range [{lo}, {hi}] is empty");
                    anyhow::ensure!(!log || lo > 0, "{origin}: {key}: a log range needs positive bounds");
                }
                Dist::Choice(_) => {}
            }
            let grid = spec
                .get("grid")
                .map(|g| g.as_array().cloned().with_context(|| format!("{origin}: {key}: grid takes a list")))
                .transpose()?;
            let param = Param { key: key.clone(), dist, grid };
            if let Some(g) = &param.grid {
                anyhow::ensure!(!g.is_empty(), "{origin}: {key}: grid is empty");
                if let Some(v) = g.iter().find(|v| !param.contains(v)) {
                    bail!("{origin}: {key}: grid value {v} is outside the parameter's range");
                }
            }
            out.push(param);
        }
        anyhow::ensure!(!out.is_empty(), "{origin}: [params] is empty");
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Self { params: out })
    }

    /// The space as a file's text (what `--print-space` shows).
    #[must_use]
    pub fn to_toml(&self) -> String {
        let mut s = String::from("[params]\n");
        for p in &self.params {
            let dist = match &p.dist {
                Dist::Float { lo, hi, log } => format!(
                    "float = [{}, {}]{}",
                    Value::Float(*lo),
                    Value::Float(*hi),
                    if *log { ", log = true" } else { "" }
                ),
                Dist::Int { lo, hi, log } => format!("int = [{lo}, {hi}]{}", if *log { ", log = true" } else { "" }),
                Dist::Choice(c) => format!("choice = {}", Value::Array(c.clone())),
            };
            let grid = p.grid.as_ref().map_or_else(String::new, |g| format!(", grid = {}", Value::Array(g.clone())));
            let _ = writeln!(s, "{:?} = {{ {dist}{grid} }}", p.key);
        }
        s
    }

    /// Every point of the grid, in a fixed order (the last parameter varies fastest).
    ///
    /// # Errors
    /// When a parameter has no grid values (see [`Param::grid_values`]).
    pub fn grid(&self) -> anyhow::Result<Vec<Params>> {
        let axes: Vec<Vec<Value>> = self.params.iter().map(Param::grid_values).collect::<anyhow::Result<_>>()?;
        let mut points = vec![Params::new()];
        for (p, values) in self.params.iter().zip(&axes) {
            points = points
                .into_iter()
                .flat_map(|point| {
                    values.iter().map(move |v| {
                        let mut q = point.clone();
                        q.insert(p.key.clone(), v.clone());
                        q
                    })
                })
                .collect();
        }
        Ok(points)
    }
}

/// `config` with `params` set: each key is a dotted path into `config.toml` that must exist; a
/// table value sets the keys it holds under that path. The result is checked like a config file.
///
/// # Errors
/// For a key the config does not have (the error lists the ones it has), a value of the wrong
/// type, or a combination that cannot run.
pub fn apply(config: &RunConfig, params: &Params) -> anyhow::Result<RunConfig> {
    let mut doc = Value::try_from(config).context("serialising the base configuration")?;
    for (key, value) in params {
        set(&mut doc, key, value)?;
    }
    let out: RunConfig = doc
        .try_into()
        .map_err(|e| anyhow::anyhow!("the parameters {} do not fit the configuration: {e}", describe(params)))?;
    out.check().with_context(|| format!("the parameters {}", describe(params)))?;
    Ok(out)
}

fn set(doc: &mut Value, key: &str, value: &Value) -> anyhow::Result<()> {
    let mut at = &mut *doc;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let here = parts[..i].join(".");
        let table = at.as_table_mut().with_context(|| format!("{key}: {here} is not a table"))?;
        let mut have: Vec<String> =
            table.keys().map(|k| if i == 0 { k.clone() } else { format!("{here}.{k}") }).collect();
        match table.get_mut(*part) {
            Some(next) => at = next,
            None => {
                have.sort();
                bail!("{key}: the configuration has no {part:?} here; keys at this level: {}", have.join(", "));
            }
        }
    }
    match (at, value) {
        (Value::Table(t), Value::Table(v)) => {
            for (k, x) in v {
                set_in(t, key, k, x)?;
            }
        }
        (slot, v) => *slot = v.clone(),
    }
    Ok(())
}

fn set_in(table: &mut toml::Table, key: &str, k: &str, v: &Value) -> anyhow::Result<()> {
    match table.get_mut(k) {
        Some(slot) => {
            *slot = v.clone();
            Ok(())
        }
        None => bail!("{key}.{k}: the configuration has no such key"),
    }
}

/// `key = value, ...` for messages and tables.
#[must_use]
pub fn describe(params: &Params) -> String {
    params.iter().map(|(k, v)| format!("{k} = {}", short(v))).collect::<Vec<_>>().join(", ")
}

/// A value in few characters: floats with 4 significant digits, tables inline.
#[must_use]
pub fn short(v: &Value) -> String {
    match v {
        Value::Float(f) => {
            let plain = format!("{f}");
            if plain.len() <= 7 {
                plain
            } else if (1e-3..1e4).contains(&f.abs()) {
                // Four significant digits: 0.4627, 12.35.
                let decimals = (3 - f.abs().log10().floor() as i32).max(0) as usize;
                let s = format!("{f:.decimals$}");
                if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
            } else {
                format!("{f:.3e}")
            }
        }
        Value::String(s) => s.clone(),
        Value::Table(t) => t.iter().map(|(k, v)| format!("{k}={}", short(v))).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPACE: &str = r#"
        [params]
        "train.lr" = { float = [1e-4, 1e-2], log = true }
        "model.latent" = { int = [4, 6] }
        "train" = { choice = [{ optimizer = "sgd", lr = 0.05 }, { optimizer = "adam", lr = 0.001 }] }
        "model.dropout" = { float = [0.0, 0.5], grid = [0.0, 0.25] }
    "#;

    #[test]
    fn parses_and_prints_back() {
        let s = SearchSpace::from_toml(SPACE, "space.toml").unwrap();
        assert_eq!(
            s.params.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
            ["model.dropout", "model.latent", "train", "train.lr"]
        );
        assert_eq!(SearchSpace::from_toml(&s.to_toml(), "again").unwrap(), s);
    }

    #[test]
    fn bad_spaces_name_the_key() {
        for (text, says) in [
            ("[params]\n\"a\" = { float = [1.0, 0.5] }", "empty"),
            ("[params]\n\"a\" = { float = [0.0, 1.0], log = true }", "positive"),
            ("[params]\n\"a\" = { choice = [] }", "empty"),
            ("[params]\n\"a\" = { floats = [0, 1] }", "unknown field"),
            ("[params]\n\"a\" = { float = [0.0, 1.0], grid = [2.0] }", "outside"),
            ("x = 1", "no [params]"),
        ] {
            let e = SearchSpace::from_toml(text, "s.toml").unwrap_err().to_string();
            assert!(e.contains("s.toml") && e.contains(says), "{e}");
        }
    }

    #[test]
    fn short_values_read_well() {
        assert_eq!(short(&Value::Float(0.462_712_3)), "0.4627");
        assert_eq!(short(&Value::Float(0.000_123_456)), "1.235e-4");
        assert_eq!(short(&Value::Float(0.25)), "0.25");
        assert_eq!(short(&Value::Float(12.345_678)), "12.35");
        assert_eq!(short(&Value::String("adam".into())), "adam");
    }

    #[test]
    fn grid_is_the_product_and_needs_values_for_floats() {
        let s = SearchSpace::from_toml(SPACE, "s").unwrap();
        assert!(s.grid().unwrap_err().to_string().contains("train.lr"));
        let s = SearchSpace { params: s.params.into_iter().filter(|p| p.key != "train.lr").collect() };
        let g = s.grid().unwrap();
        assert_eq!(g.len(), 2 * 3 * 2);
        let mut seen: Vec<String> = g.iter().map(describe).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 12);
    }
}
