//! A confusion matrix as a heat map: one cell per (true, predicted) pair with its count, coloured
//! by the share of the true class's images it holds (so that a large class does not wash out the
//! others), class names on both axes.

use std::path::Path;

use plotters::prelude::*;

use super::lines::save_rgb;
use super::scatter::viridis;
use super::{FONT, ensure_font, plot_err};

/// Draws `counts[true][predicted]` with `names` into `path`.
///
/// # Errors
/// When `counts` is not square over `names`, or drawing or writing fails.
pub fn confusion(path: &Path, title: &str, counts: &[Vec<usize>], names: &[String]) -> anyhow::Result<()> {
    ensure_font();
    let k = names.len();
    anyhow::ensure!(counts.len() == k && counts.iter().all(|r| r.len() == k), "confusion matrix is not {k} x {k}");
    let (cell, left, top) = (58u32, 150u32, 70u32);
    let (w, h) = (left + cell * k as u32 + 130, top + cell * k as u32 + 130);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        root.draw_text(title, &(FONT, 20).into_font().color(&BLACK), (10, 12)).map_err(plot_err)?;
        let small = (FONT, 13).into_font().color(&BLACK);
        for (t, row) in counts.iter().enumerate() {
            let total = row.iter().sum::<usize>().max(1) as f64;
            for (p, &c) in row.iter().enumerate() {
                let share = c as f64 / total;
                let (x0, y0) = ((left + cell * p as u32) as i32, (top + cell * t as u32) as i32);
                let color = viridis(share);
                root.draw(&Rectangle::new([(x0, y0), (x0 + cell as i32 - 1, y0 + cell as i32 - 1)], color.filled()))
                    .map_err(plot_err)?;
                // Dark text on the bright end of the scale, white on the dark end.
                let ink = if share > 0.6 { BLACK } else { WHITE };
                let text = c.to_string();
                let tx = x0 + cell as i32 / 2 - 4 * text.len() as i32;
                root.draw_text(&text, &(FONT, 14).into_font().color(&ink), (tx, y0 + cell as i32 / 2 - 7))
                    .map_err(plot_err)?;
            }
            root.draw_text(&names[t], &small, (8, (top + cell * t as u32 + cell / 2 - 7) as i32)).map_err(plot_err)?;
        }
        let below = (top + cell * k as u32 + 8) as i32;
        for (p, name) in names.iter().enumerate() {
            let x = (left + cell * p as u32 + 4) as i32;
            let style = (FONT, 13).into_font().transform(FontTransform::Rotate90).color(&BLACK);
            root.draw_text(name, &style, (x + cell as i32 / 2, below)).map_err(plot_err)?;
        }
        root.draw_text(
            "predicted class",
            &(FONT, 15).into_font().color(&BLACK),
            ((left + cell * k as u32 / 2 - 50) as i32, below + 100),
        )
        .map_err(plot_err)?;
        root.draw_text(
            "true class (rows; colour: share of the row)",
            &(FONT, 15).into_font().color(&BLACK),
            (8, top as i32 - 24),
        )
        .map_err(plot_err)?;
        // Colour scale.
        let sx = (left + cell * k as u32 + 30) as i32;
        for i in 0..200 {
            let c = viridis(1.0 - f64::from(i) / 199.0);
            root.draw(&Rectangle::new([(sx, top as i32 + i), (sx + 18, top as i32 + i + 1)], c.filled()))
                .map_err(plot_err)?;
        }
        root.draw_text("100%", &small, (sx + 24, top as i32 - 4)).map_err(plot_err)?;
        root.draw_text("0%", &small, (sx + 24, top as i32 + 190)).map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    save_rgb(path, w, h, buf)
}
