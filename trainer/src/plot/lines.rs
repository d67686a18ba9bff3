//! Line charts: loss curves and other series over epochs or examples seen.

use std::path::Path;

use anyhow::Context as _;
use plotters::prelude::*;

use super::{FONT, ensure_font, plot_err};

/// One named line.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// Points drawn as grey dots under the lines (e.g. the data a curve should cover), unnamed.
pub type Dots = [(f64, f64)];

/// Axis labels and options of a chart.
#[derive(Debug, Clone)]
pub struct Chart<'a> {
    /// Caption above the chart.
    pub title: &'a str,
    /// X axis label.
    pub x_label: &'a str,
    /// Y axis label.
    pub y_label: &'a str,
    /// Logarithmic y axis (for losses spanning decades).
    pub log_y: bool,
}

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Draws `series` as lines with markers into a PNG at `path` (written atomically).
///
/// # Errors
/// When there is nothing to draw, or drawing or writing fails.
pub fn line_chart(path: &Path, chart: &Chart<'_>, series: &[Series]) -> anyhow::Result<()> {
    line_chart_with_dots(path, chart, series, &[])
}

/// [`line_chart`] with `dots` drawn first.
///
/// # Errors
/// As [`line_chart`].
pub fn line_chart_with_dots(path: &Path, chart: &Chart<'_>, series: &[Series], dots: &Dots) -> anyhow::Result<()> {
    ensure_font();
    // The dots count for the axes too: a curve must not crop the data it is drawn over.
    let points: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .chain(dots.iter().copied())
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    anyhow::ensure!(!points.is_empty(), "no data to plot for {}", path.display());
    let (mut x0, mut x1) = bounds(points.iter().map(|p| p.0));
    if x0 == x1 {
        x0 -= 0.5;
        x1 += 0.5;
    }
    let positive: Vec<f64> = points.iter().map(|p| p.1).filter(|&y| y > 0.0).collect();
    let (y0, y1) = bounds(points.iter().map(|p| p.1));
    // A log axis only helps (and only gets tick labels) when the values span over a decade.
    let log_y = chart.log_y && positive.len() == points.len() && y1 / y0 > 10.0;
    let integer_x = points.iter().all(|p| p.0.fract() == 0.0);
    let (w, h) = (900u32, 560u32);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut builder = ChartBuilder::on(&root);
        builder.caption(chart.title, (FONT, 24)).margin(16).x_label_area_size(48).y_label_area_size(80);
        if log_y {
            let (lo, hi) = (y0 / 1.15, y1 * 1.15);
            let mut c = builder.build_cartesian_2d(x0..x1, (lo..hi).log_scale()).map_err(plot_err)?;
            draw(&mut c, chart, series, dots, integer_x)?;
        } else {
            let pad = ((y1 - y0) * 0.06).max(1e-9);
            let mut c = builder.build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad)).map_err(plot_err)?;
            draw(&mut c, chart, series, dots, integer_x)?;
        }
        root.present().map_err(plot_err)?;
    }
    save_rgb(path, w, h, buf)
}

fn draw<'a, DB, Y>(
    c: &mut ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    chart: &Chart<'_>,
    series: &[Series],
    dots: &Dots,
    integer_x: bool,
) -> anyhow::Result<()>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    // Epoch axes get whole-number labels only.
    let x_format = |x: &f64| match (integer_x, x.fract() == 0.0) {
        (true, true) => format!("{x:.0}"),
        (true, false) => String::new(),
        (false, _) => format!("{x}"),
    };
    c.configure_mesh()
        .x_label_formatter(&x_format)
        .x_labels(12)
        .y_labels(8)
        .x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .map_err(plot_err)?;
    c.draw_series(dots.iter().map(|&p| Circle::new(p, 2, RGBColor(170, 170, 170).filled()))).map_err(plot_err)?;
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(|p| p.1.is_finite()).collect();
        let drawn = c.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2))).map_err(plot_err)?;
        // Unnamed lines (many trials in one figure) stay out of the legend.
        if !s.name.is_empty() {
            drawn
                .label(s.name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        }
        if pts.len() <= 60 {
            c.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(plot_err)?;
        }
    }
    if series.iter().any(|s| !s.name.is_empty()) {
        // The legend goes in the corner away from where the lines end (their last points).
        let (ys, ye) = (c.y_range().start, c.y_range().end);
        let mid = |y: f64| (y - ys) / (ye - ys).max(f64::MIN_POSITIVE);
        let ends_high =
            series.iter().filter_map(|s| s.points.last()).filter(|p| p.1.is_finite()).any(|p| mid(p.1) > 0.6);
        let position = if ends_high { SeriesLabelPosition::LowerRight } else { SeriesLabelPosition::UpperRight };
        c.configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT, 15))
            .position(position)
            .draw()
            .map_err(plot_err)?;
    }
    Ok(())
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// Encodes an RGB buffer as PNG at `path`, atomically.
pub(crate) fn save_rgb(path: &Path, w: u32, h: u32, buf: Vec<u8>) -> anyhow::Result<()> {
    let img = image::RgbImage::from_raw(w, h, buf).context("image buffer has the wrong size")?;
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).context("encoding PNG")?;
    crate::util::atomic_write_bytes(path, &png).with_context(|| format!("writing {}", path.display()))
}
