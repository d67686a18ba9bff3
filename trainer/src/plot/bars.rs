//! Bar charts: one value per labelled bar, with a mean line and a band of one standard deviation.

use std::path::Path;

use plotters::prelude::*;

use super::lines::save_rgb;
use super::{FONT, ensure_font, plot_err};

/// `path`: a bar per `(label, value)`, the mean as a line and mean ± `std` as a band.
///
/// # Errors
/// When there is nothing to draw, or drawing or writing fails.
pub fn bars(
    path: &Path,
    title: &str,
    y_label: &str,
    bars: &[(String, f64)],
    mean: f64,
    std: f64,
) -> anyhow::Result<()> {
    ensure_font();
    // The mean and spread go in a second title line rather than a legend that could cover a bar.
    let subtitle = format!("line: mean {mean:.4}; band: ± one standard deviation ({std:.4})");
    anyhow::ensure!(!bars.is_empty(), "no values to plot for {}", path.display());
    let (lo, hi) = bars.iter().fold((mean - std, mean + std), |(a, b), &(_, v)| (a.min(v), b.max(v)));
    // Bars start near the smallest value, not at 0, so that differences between folds show.
    let pad = ((hi - lo) * 0.5).max(hi.abs() * 0.01).max(1e-9);
    let (y0, y1) = (lo - pad, hi + pad);
    let n = bars.len();
    let (w, h) = ((200 + 90 * n as u32).max(520), 480u32);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root.titled(title, (FONT, 20)).map_err(plot_err)?;
        let mut c = ChartBuilder::on(&root)
            .caption(&subtitle, (FONT, 15))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, y0..y1)
            .map_err(plot_err)?;
        let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        c.configure_mesh()
            .x_labels(2 * n + 1)
            .x_label_formatter(&|x: &f64| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc(y_label)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()
            .map_err(plot_err)?;
        let blue = RGBColor(31, 119, 180);
        c.draw_series(
            bars.iter().enumerate().map(|(i, &(_, v))| {
                Rectangle::new([(i as f64 - 0.3, y0), (i as f64 + 0.3, v)], blue.mix(0.8).filled())
            }),
        )
        .map_err(plot_err)?;
        let orange = RGBColor(255, 127, 14);
        c.draw_series(std::iter::once(Rectangle::new(
            [(-0.5, mean - std), (n as f64 - 0.5, mean + std)],
            orange.mix(0.15).filled(),
        )))
        .map_err(plot_err)?;
        c.draw_series(LineSeries::new([(-0.5, mean), (n as f64 - 0.5, mean)], orange.stroke_width(2)))
            .map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    save_rgb(path, w, h, buf)
}
