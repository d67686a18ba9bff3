//! Metric curves per epoch, one line per split.

use crate::fit::{Column, History, Metric, Split};
use crate::plot::lines::{Chart, Series, line_chart};
use crate::run_dir::RunDir;

/// `figures/<file>`: every split's value of `metric` per epoch.
///
/// # Errors
/// When drawing or writing fails.
pub fn curves(
    run: &RunDir,
    history: &History,
    metric: Metric,
    title: &str,
    file: &str,
    log_y: bool,
) -> anyhow::Result<()> {
    let series: Vec<Series> = Split::ALL
        .iter()
        .map(|&split| epoch_series(split.name(), history, Column::new(split, metric)))
        .filter(|s| !s.points.is_empty())
        .collect();
    let chart = Chart { title, x_label: "epoch", y_label: metric.name(), log_y };
    line_chart(&run.figure(file), &chart, &series)
}

/// The values of `column` against epochs, as a line named `name`.
#[must_use]
pub fn epoch_series(name: &str, history: &History, column: Column) -> Series {
    Series { name: name.into(), points: history.series(column).into_iter().map(|(e, v)| (e as f64, v)).collect() }
}
