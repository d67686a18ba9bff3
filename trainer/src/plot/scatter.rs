//! Scatter plots: points coloured by class (with a legend) or by a value (with a colour bar), and
//! arrows from points to points.

use std::path::Path;

use plotters::prelude::*;

use super::lines::save_rgb;
use super::{FONT, ensure_font, plot_err};

/// Ten colours that stay distinct side by side (matplotlib's tab10).
pub const CLASS_COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// A perceptually ordered colour map (viridis, five stops, linear in between), `t` in [0, 1].
#[must_use]
pub fn viridis(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] =
        [(68.0, 1.0, 84.0), (59.0, 82.0, 139.0), (33.0, 145.0, 140.0), (94.0, 201.0, 98.0), (253.0, 231.0, 37.0)];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let x = t * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// How points are coloured.
#[derive(Debug, Clone)]
pub enum Coloring<'a> {
    /// By class index, with a legend of these names.
    Classes(&'a [u8], &'a [String]),
    /// By a value, with a colour bar titled with the given name.
    Values(&'a [f64], &'a str),
}

/// An arrow from one point to another.
pub type Arrow = ((f64, f64), (f64, f64));

/// Axis labels and title.
#[derive(Debug, Clone, Copy)]
pub struct Axes<'a> {
    /// Caption.
    pub title: &'a str,
    /// X axis label.
    pub x: &'a str,
    /// Y axis label.
    pub y: &'a str,
}

fn bounds(v: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let lo = v.clone().fold(f64::INFINITY, f64::min);
    let hi = v.fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad, hi + pad)
}

/// Draws `points` coloured as `coloring` says, plus optional arrows `(from, to)`, into a PNG.
///
/// # Errors
/// When drawing or writing fails.
pub fn scatter(
    path: &Path,
    axes: Axes<'_>,
    points: &[(f64, f64)],
    coloring: &Coloring<'_>,
    arrows: &[Arrow],
) -> anyhow::Result<()> {
    ensure_font();
    anyhow::ensure!(!points.is_empty(), "no points to plot for {}", path.display());
    let all = points.iter().copied().chain(arrows.iter().flat_map(|&(a, b)| [a, b]));
    let (x0, x1) = bounds(all.clone().map(|p| p.0));
    let (y0, y1) = bounds(all.map(|p| p.1));
    let (w, h) = (900u32, 720u32);
    let legend_w = 170u32;
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let (plot, side) = root.split_horizontally(w - legend_w);
        let mut chart = ChartBuilder::on(&plot)
            .caption(axes.title, (FONT, 22))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc(axes.x)
            .y_desc(axes.y)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(230, 230, 230))
            .draw()
            .map_err(plot_err)?;
        let radius = if points.len() > 2000 { 2 } else { 3 };
        match coloring {
            Coloring::Classes(labels, names) => {
                chart
                    .draw_series(points.iter().zip(labels.iter()).map(|(&p, &l)| {
                        Circle::new(p, radius, CLASS_COLORS[usize::from(l) % CLASS_COLORS.len()].mix(0.75).filled())
                    }))
                    .map_err(plot_err)?;
                for (i, name) in names.iter().enumerate() {
                    let y = 60 + 24 * i as i32;
                    side.draw(&Circle::new((14, y), 6, CLASS_COLORS[i % CLASS_COLORS.len()].filled()))
                        .map_err(plot_err)?;
                    side.draw_text(name, &(FONT, 15).into_font().color(&BLACK), (28, y - 8)).map_err(plot_err)?;
                }
            }
            Coloring::Values(values, name) => {
                // The scale spans the 2nd to 98th percentile, so that a few outlying values do not
                // squeeze every other point into one colour; the ends say when values go beyond.
                let (lo, hi, clipped) = robust_range(values);
                let t = |v: f64| if hi > lo { ((v - lo) / (hi - lo)).clamp(0.0, 1.0) } else { 0.5 };
                chart
                    .draw_series(
                        points
                            .iter()
                            .zip(values.iter())
                            .map(|(&p, &v)| Circle::new(p, radius + 1, viridis(t(v)).filled())),
                    )
                    .map_err(plot_err)?;
                // Colour bar: top is the largest value.
                let (top, bottom) = (60i32, h as i32 - 80);
                side.draw_text(name, &(FONT, 15).into_font().color(&BLACK), (10, top - 30)).map_err(plot_err)?;
                for y in top..bottom {
                    let c = viridis(1.0 - f64::from(y - top) / f64::from(bottom - top));
                    side.draw(&Rectangle::new([(10, y), (36, y + 1)], c.filled())).map_err(plot_err)?;
                }
                let (up, down) = if clipped { ("≥ ", "≤ ") } else { ("", "") };
                for (label, y) in [
                    (format!("{up}{hi:.3}"), top),
                    (format!("{:.3}", (lo + hi) / 2.0), (top + bottom) / 2),
                    (format!("{down}{lo:.3}"), bottom),
                ] {
                    side.draw_text(&label, &(FONT, 14).into_font().color(&BLACK), (42, y - 7)).map_err(plot_err)?;
                }
            }
        }
        for &(a, b) in arrows {
            chart
                .draw_series(std::iter::once(PathElement::new(vec![a, b], RGBColor(60, 60, 60).stroke_width(1))))
                .map_err(plot_err)?;
            chart.draw_series(std::iter::once(Circle::new(b, 2, RGBColor(214, 39, 40).filled()))).map_err(plot_err)?;
        }
        root.present().map_err(plot_err)?;
    }
    save_rgb(path, w, h, buf)
}

/// The 2nd and 98th percentiles of `values` (their whole range when few or all inside), and
/// whether some values fall outside.
fn robust_range(values: &[f64]) -> (f64, f64, bool) {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let (Some(&min), Some(&max)) = (v.first(), v.last()) else { return (0.0, 1.0, false) };
    if v.len() < 20 {
        return (min, max, false);
    }
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    let (lo, hi) = (at(0.02), at(0.98));
    if hi > lo { (lo, hi, lo > min || hi < max) } else { (min, max, false) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_runs_from_purple_to_yellow() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
    }

    #[test]
    fn writes_a_png() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.png");
        let pts = [(0.0, 0.0), (1.0, 2.0), (2.0, 1.0)];
        scatter(
            &p,
            Axes { title: "t", x: "x", y: "y" },
            &pts,
            &Coloring::Values(&[0.0, 0.5, 1.0], "code"),
            &[((0.0, 0.0), (1.0, 1.0))],
        )
        .unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
    }

    #[test]
    fn colour_scale_ignores_a_few_outliers() {
        let mut v: Vec<f64> = (0..100).map(f64::from).collect();
        v.push(1e6);
        let (lo, hi, clipped) = robust_range(&v);
        assert!(clipped && lo >= 1.0 && hi < 100.0, "{lo} {hi}");
        assert_eq!(robust_range(&[1.0, 2.0]), (1.0, 2.0, false));
    }
}
