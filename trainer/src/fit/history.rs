//! Per-epoch metrics, kept in memory and written as `metrics.csv`.

use std::fmt::Write as _;

use anyhow::{Context as _, bail};

use super::metrics::Column;

/// One row per epoch: `epoch, seconds, lr`, then one column per metric and split, named
/// `<split>_<metric>` (e.g. `train_mse`, `valid_mse`, `test_mse`). Missing values are empty cells.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Metric columns after `epoch, seconds, lr`.
    pub columns: Vec<Column>,
    /// The rows, in epoch order.
    pub rows: Vec<Row>,
}

/// One epoch's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Wall-clock seconds spent training in this epoch (evaluation excluded).
    pub seconds: f64,
    /// Learning rate at the epoch's last step.
    pub lr: f64,
    /// One value per column, `None` where the split does not exist.
    pub values: Vec<Option<f64>>,
}

impl History {
    /// An empty history with these metric columns.
    #[must_use]
    pub fn new(columns: Vec<Column>) -> Self {
        Self { columns, rows: Vec::new() }
    }

    /// Whether the history has `column`.
    #[must_use]
    pub fn has(&self, column: Column) -> bool {
        self.columns.contains(&column)
    }

    /// The value of `column` in `row` (`None` for an empty cell or a column the history lacks).
    #[must_use]
    pub fn value(&self, row: &Row, column: Column) -> Option<f64> {
        let c = self.columns.iter().position(|&n| n == column)?;
        row.values.get(c).copied().flatten()
    }

    /// The values of `column`, with their epochs, skipping empty cells.
    #[must_use]
    pub fn series(&self, column: Column) -> Vec<(usize, f64)> {
        self.rows.iter().filter_map(|r| self.value(r, column).map(|v| (r.epoch, v))).collect()
    }

    /// The last value of `column`.
    #[must_use]
    pub fn last(&self, column: Column) -> Option<f64> {
        self.series(column).last().map(|&(_, v)| v)
    }

    /// Total training seconds.
    #[must_use]
    pub fn total_seconds(&self) -> f64 {
        self.rows.iter().map(|r| r.seconds).sum()
    }

    /// CSV text with a header line.
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut s = String::from("epoch,seconds,lr");
        for c in &self.columns {
            let _ = write!(s, ",{c}");
        }
        s.push('\n');
        for r in &self.rows {
            let _ = write!(s, "{},{:.3},{:e}", r.epoch, r.seconds, r.lr);
            for v in &r.values {
                s.push(',');
                if let Some(v) = v {
                    let _ = write!(s, "{v:.6e}");
                }
            }
            s.push('\n');
        }
        s
    }

    /// Parses what [`History::to_csv`] wrote.
    ///
    /// # Errors
    /// On a malformed header (or an unknown column), row or number.
    pub fn from_csv(text: &str) -> anyhow::Result<Self> {
        let mut lines = text.lines();
        let header = lines.next().context("empty metrics file")?;
        let cols: Vec<&str> = header.split(',').collect();
        if cols.len() < 3 || cols[..3] != ["epoch", "seconds", "lr"] {
            bail!("metrics header should start with epoch,seconds,lr; found {header:?}");
        }
        let columns = cols[3..]
            .iter()
            .map(|c| c.parse::<Column>().map_err(|e| anyhow::anyhow!("metrics header: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut h = Self::new(columns);
        for (n, line) in lines.enumerate() {
            let cells: Vec<&str> = line.split(',').collect();
            if cells.len() != cols.len() {
                bail!("metrics line {} has {} cells, the header {}", n + 2, cells.len(), cols.len());
            }
            let num = |s: &str| s.parse::<f64>().with_context(|| format!("metrics line {}: bad number {s:?}", n + 2));
            h.rows.push(Row {
                epoch: cells[0].parse().with_context(|| format!("metrics line {}: bad epoch", n + 2))?,
                seconds: num(cells[1])?,
                lr: num(cells[2])?,
                values: cells[3..]
                    .iter()
                    .map(|c| if c.is_empty() { Ok(None) } else { num(c).map(Some) })
                    .collect::<Result<_, _>>()?,
            });
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::metrics::{Metric, Split};

    const TRAIN_MSE: Column = Column::new(Split::Train, Metric::Mse);
    const VALID_MSE: Column = Column::new(Split::Valid, Metric::Mse);

    #[test]
    fn csv_round_trips_with_missing_cells() {
        let mut h = History::new(vec![TRAIN_MSE, VALID_MSE]);
        h.rows.push(Row { epoch: 1, seconds: 9.5, lr: 1e-3, values: vec![Some(0.031), None] });
        h.rows.push(Row { epoch: 2, seconds: 9.25, lr: 1e-3, values: vec![Some(0.021), Some(0.0205)] });
        let back = History::from_csv(&h.to_csv()).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.series(VALID_MSE), vec![(2, 0.0205)]);
        assert_eq!(back.last(TRAIN_MSE), Some(0.021));
        assert!(History::from_csv("a,b\n").is_err());
        assert!(History::from_csv("epoch,seconds,lr,train_mse\n1,2,3\n").is_err());
        assert!(History::from_csv("epoch,seconds,lr,train_bleu\n").is_err());
        assert!(History::from_csv("epoch,seconds,lr,train_mse\n1,2,3,nope\n").is_err());
    }
}
