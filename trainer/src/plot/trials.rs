//! Figures of a study's trials: the objective per trial with the best so far, and one panel per
//! parameter (objective against the parameter's value).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::lines::save_rgb;
use super::{FONT, ensure_font, plot_err};

const COMPLETE: RGBColor = RGBColor(31, 119, 180);
const PRUNED: RGBColor = RGBColor(214, 39, 40);
const BEST: RGBColor = RGBColor(44, 160, 44);

/// One parameter's panel.
#[derive(Debug, Clone)]
pub struct Panel {
    /// The parameter's key.
    pub name: String,
    /// Log scale on x.
    pub log_x: bool,
    /// Labels of a categorical parameter, at x = 0, 1, ...; `None` for a number.
    pub categories: Option<Vec<String>>,
    /// `(x, objective, pruned)` per trial.
    pub points: Vec<(f64, f64, bool)>,
}

/// y range with a margin, and `headroom` (a share of the range) free above the data for a
/// legend; log when the values are positive and span over a decade.
fn y_range(ys: impl Iterator<Item = f64> + Clone, headroom: f64) -> (f64, f64, bool) {
    let (lo, hi) = ys.clone().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(y), b.max(y)));
    let log = lo > 0.0 && hi / lo > 10.0;
    if log {
        (lo / 1.2, hi * 1.2 * (hi / lo).powf(headroom), true)
    } else {
        let pad = ((hi - lo) * 0.08).max(1e-9 + hi.abs() * 1e-6);
        (lo - pad, hi + pad + (hi - lo) * headroom, false)
    }
}

/// A tick label: plain for ordinary magnitudes, `1e-4` for small and large ones.
#[must_use]
pub fn tick(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if (0.01..1e4).contains(&x.abs()) {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{x:.0e}")
    }
}

/// `path`: the objective of every trial against its number (complete: dots, pruned: crosses at
/// their last value), with the best complete value so far as a line.
///
/// # Errors
/// When there is nothing to draw, or drawing or writing fails.
pub fn history(
    path: &Path,
    title: &str,
    y_label: &str,
    complete: &[(f64, f64)],
    pruned: &[(f64, f64)],
    best: &[(f64, f64)],
) -> anyhow::Result<()> {
    ensure_font();
    let all: Vec<(f64, f64)> = complete.iter().chain(pruned).chain(best).copied().filter(|p| p.1.is_finite()).collect();
    anyhow::ensure!(!all.is_empty(), "no trial values to plot for {}", path.display());
    let x1 = all.iter().map(|p| p.0).fold(0.0, f64::max) + 1.0;
    // Room above the points for the legend, so that it covers none.
    let (y0, y1, log) = y_range(all.iter().map(|p| p.1), 0.3);
    let (w, h) = (900u32, 560u32);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut b = ChartBuilder::on(&root);
        b.caption(title, (FONT, 22)).margin(16).x_label_area_size(48).y_label_area_size(80);
        macro_rules! draw {
            ($c:expr) => {{
                let mut c = $c;
                c.configure_mesh()
                    .x_desc("trial")
                    .y_desc(y_label)
                    .x_label_formatter(&|x: &f64| if x.fract() == 0.0 { format!("{x:.0}") } else { String::new() })
                    .label_style((FONT, 15))
                    .axis_desc_style((FONT, 17))
                    .light_line_style(WHITE)
                    .bold_line_style(RGBColor(225, 225, 225))
                    .draw()
                    .map_err(plot_err)?;
                c.draw_series(LineSeries::new(best.iter().copied(), BEST.stroke_width(2)))
                    .map_err(plot_err)?
                    .label("best so far")
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BEST.stroke_width(2)));
                c.draw_series(complete.iter().map(|&p| Circle::new(p, 4, COMPLETE.filled())))
                    .map_err(plot_err)?
                    .label("complete")
                    .legend(|(x, y)| Circle::new((x + 10, y), 4, COMPLETE.filled()));
                if !pruned.is_empty() {
                    c.draw_series(pruned.iter().map(|&p| Cross::new(p, 5, PRUNED.stroke_width(2))))
                        .map_err(plot_err)?
                        .label("pruned (value when stopped)")
                        .legend(|(x, y)| Cross::new((x + 10, y), 5, PRUNED.stroke_width(2)));
                }
                c.configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .label_font((FONT, 15))
                    .position(SeriesLabelPosition::UpperRight)
                    .draw()
                    .map_err(plot_err)?;
            }};
        }
        if log {
            draw!(b.build_cartesian_2d(-0.5..x1, (y0..y1).log_scale()).map_err(plot_err)?);
        } else {
            draw!(b.build_cartesian_2d(-0.5..x1, y0..y1).map_err(plot_err)?);
        }
        root.present().map_err(plot_err)?;
    }
    save_rgb(path, w, h, buf)
}

fn panel(area: &DrawingArea<BitMapBackend<'_>, Shift>, p: &Panel, y_label: &str) -> anyhow::Result<()> {
    let ys = p.points.iter().map(|q| q.1).filter(|y| y.is_finite());
    let (y0, y1, log_y) = y_range(ys, 0.0);
    let (x0, x1) = match &p.categories {
        Some(c) => (-0.5, c.len() as f64 - 0.5),
        None => {
            let (lo, hi) =
                p.points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), q| (a.min(q.0), b.max(q.0)));
            if p.log_x {
                (lo / 1.3, hi * 1.3)
            } else {
                let pad = ((hi - lo) * 0.08).max(1e-9);
                (lo - pad, hi + pad)
            }
        }
    };
    let mut b = ChartBuilder::on(area);
    b.caption(&p.name, (FONT, 17)).margin(8).x_label_area_size(36).y_label_area_size(64);
    let categories = p.categories.clone();
    let fmt_x = move |x: &f64| match &categories {
        Some(c) => {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                c.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        }
        None => tick(*x),
    };
    macro_rules! draw {
        ($c:expr) => {{
            let mut c = $c;
            c.configure_mesh()
                .x_label_formatter(&fmt_x)
                .x_labels(if p.categories.is_some() { p.categories.as_ref().map_or(5, Vec::len) * 2 + 1 } else { 5 })
                .y_labels(5)
                .y_desc(y_label)
                .label_style((FONT, 12))
                .axis_desc_style((FONT, 13))
                .light_line_style(WHITE)
                .bold_line_style(RGBColor(225, 225, 225))
                .draw()
                .map_err(plot_err)?;
            c.draw_series(p.points.iter().filter(|q| !q.2).map(|&(x, y, _)| Circle::new((x, y), 4, COMPLETE.filled())))
                .map_err(plot_err)?;
            c.draw_series(
                p.points.iter().filter(|q| q.2).map(|&(x, y, _)| Cross::new((x, y), 5, PRUNED.stroke_width(2))),
            )
            .map_err(plot_err)?;
        }};
    }
    match (p.log_x && p.categories.is_none(), log_y) {
        (true, true) => draw!(b.build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale()).map_err(plot_err)?),
        (true, false) => draw!(b.build_cartesian_2d((x0..x1).log_scale(), y0..y1).map_err(plot_err)?),
        (false, true) => draw!(b.build_cartesian_2d(x0..x1, (y0..y1).log_scale()).map_err(plot_err)?),
        (false, false) => draw!(b.build_cartesian_2d(x0..x1, y0..y1).map_err(plot_err)?),
    }
    Ok(())
}

/// `path`: one panel per parameter, the objective against its value (complete trials as dots,
/// pruned ones as crosses).
///
/// # Errors
/// When there is nothing to draw, or drawing or writing fails.
pub fn panels(path: &Path, title: &str, y_label: &str, panels: &[Panel]) -> anyhow::Result<()> {
    ensure_font();
    anyhow::ensure!(panels.iter().any(|p| !p.points.is_empty()), "no trial values to plot for {}", path.display());
    let cols = panels.len().clamp(1, 3);
    let rows = panels.len().div_ceil(cols);
    let (w, h) = (380 * cols as u32, 60 + 300 * rows as u32);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root.titled(title, (FONT, 22)).map_err(plot_err)?;
        for (area, p) in root.split_evenly((rows, cols)).iter().zip(panels) {
            if !p.points.is_empty() {
                panel(area, p, y_label)?;
            }
        }
        root.present().map_err(plot_err)?;
    }
    save_rgb(path, w, h, buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_history_and_panels() {
        let dir = tempfile::tempdir().unwrap();
        let h = dir.path().join("h.png");
        history(&h, "t", "valid mse", &[(0.0, 0.03), (2.0, 0.02)], &[(1.0, 0.05)], &[(0.0, 0.03), (2.0, 0.02)])
            .unwrap();
        let p = dir.path().join("p.png");
        let panels_ = vec![
            Panel {
                name: "train.lr".into(),
                log_x: true,
                categories: None,
                points: vec![(1e-4, 0.03, false), (1e-2, 0.05, true)],
            },
            Panel {
                name: "train.optimizer".into(),
                log_x: false,
                categories: Some(vec!["adam".into(), "sgd".into()]),
                points: vec![(0.0, 0.03, false), (1.0, 0.05, true)],
            },
        ];
        panels(&p, "t", "valid mse", &panels_).unwrap();
        for f in [h, p] {
            assert!(image::open(&f).unwrap().width() > 300);
        }
        assert!(history(&dir.path().join("x.png"), "t", "y", &[], &[], &[]).is_err());
    }
}
