//! Figures as PNG files: line charts and image grids.

pub mod bars;
pub mod grid;
pub mod heatmap;
pub mod lines;
pub mod scatter;
pub mod trials;

use std::sync::Once;

/// The font family every figure uses (DejaVu Sans, shipped with the binary so that figures have
/// text on machines without fonts).
pub const FONT: &str = "sans-serif";

static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the bundled font with plotters (once per process).
pub(crate) fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in and known to parse; an error here would only lose text.
        let _ = plotters::style::register_font(FONT, plotters::style::FontStyle::Normal, FONT_BYTES);
    });
}

/// Plotters' error type is generic over the backend; flatten it to text.
pub(crate) fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing failed: {e:?}")
}
