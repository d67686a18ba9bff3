//! A comparison of training set-ups as one figure with its data: `<stem>.png` and `<stem>.csv`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::plot::lines::{Chart, Series, line_chart};
use crate::util::atomic_write_bytes;

/// Writes `name,x,y` rows of every series, and a line chart, into `dir`.
///
/// # Errors
/// On I/O or drawing failure.
pub fn write_comparison(dir: &Path, stem: &str, chart: &Chart<'_>, series: &[Series]) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut csv = format!("series,{},{}\n", chart.x_label, chart.y_label);
    for s in series {
        for (x, y) in &s.points {
            csv.push_str(&format!("{},{x},{y:e}\n", s.name));
        }
    }
    let csv_path = dir.join(format!("{stem}.csv"));
    atomic_write_bytes(&csv_path, csv.as_bytes()).with_context(|| format!("writing {}", csv_path.display()))?;
    let png = dir.join(format!("{stem}.png"));
    line_chart(&png, chart, series)?;
    Ok(png)
}
