//! Grids of small images with row labels (reconstructions, samples, traversals).

use std::path::Path;

use plotters::prelude::*;

use super::lines::save_rgb;
use super::{FONT, ensure_font, plot_err};
use crate::data::ImageShape;

/// One row of a grid: a label and images of channel-major values in [0, 255] (grey, or the red,
/// green and blue planes).
#[derive(Debug, Clone)]
pub struct GridRow {
    /// Text at the left of the row.
    pub label: String,
    /// The images, each `channels * height * width` bytes.
    pub images: Vec<Vec<u8>>,
}

/// Draws rows of grey (`channels` 1) or RGB (`channels` 3) images, each pixel `zoom` x `zoom`,
/// with labels, into a PNG at `path`.
///
/// # Errors
/// When drawing or writing fails.
pub fn image_grid(path: &Path, title: &str, rows: &[GridRow], shape: ImageShape, zoom: usize) -> anyhow::Result<()> {
    let (height, width) = (shape.side, shape.side);
    let plane = height * width;
    ensure_font();
    let cols = rows.iter().map(|r| r.images.len()).max().unwrap_or(0).max(1);
    let label_w = if rows.iter().any(|r| !r.label.is_empty()) { 150 } else { 10 };
    let (cell_w, cell_h) = (width * zoom + 4, height * zoom + 4);
    let top = if title.is_empty() { 8 } else { 40 };
    // Wide enough for the title too (a grid of few columns, e.g. three classes, is narrower than
    // its title): about 11 pixels per character at the title's size.
    let title_w = 20 + 11 * title.chars().count();
    let (w, h) = ((label_w + cols * cell_w + 10).max(title_w) as u32, (top + rows.len() * cell_h + 8) as u32);
    // Images are copied into the buffer pixel by pixel (exact, no anti-aliasing); plotters then
    // draws only the text on top.
    let mut buf = vec![255u8; (w * h * 3) as usize];
    for (r, row) in rows.iter().enumerate() {
        let y0 = top + r * cell_h + 2;
        for (c, img) in row.images.iter().enumerate() {
            let x0 = label_w + c * cell_w + 2;
            for i in 0..plane.min(img.len()) {
                let at = |c: usize| img.get(c * plane + i).copied().unwrap_or(0);
                let rgb = if shape.channels >= 3 { [at(0), at(1), at(2)] } else { [at(0); 3] };
                let (py, px) = (i / width, i % width);
                for dy in 0..zoom {
                    let y = y0 + py * zoom + dy;
                    let start = (y * w as usize + x0 + px * zoom) * 3;
                    if let Some(line) = buf.get_mut(start..start + zoom * 3) {
                        for dot in line.chunks_exact_mut(3) {
                            dot.copy_from_slice(&rgb);
                        }
                    }
                }
            }
        }
    }
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        if !title.is_empty() {
            root.draw_text(title, &(FONT, 20).into_font().color(&BLACK), (10, 10)).map_err(plot_err)?;
        }
        for (r, row) in rows.iter().enumerate() {
            let y0 = top + r * cell_h;
            root.draw_text(&row.label, &(FONT, 16).into_font().color(&BLACK), (8, (y0 + cell_h / 2 - 8) as i32))
                .map_err(plot_err)?;
        }
        root.present().map_err(plot_err)?;
    }
    save_rgb(path, w, h, buf)
}
