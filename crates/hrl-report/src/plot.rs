//! Plot set-up: an embedded font (no system font libraries needed) and the colour cycle.

use std::sync::Once;

use plotters::style::{FontStyle, RGBColor, register_font};

/// Registers the embedded DejaVu Sans as `sans-serif`; call before drawing text.
pub fn ensure_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The embedded font is valid; a failure here would be a packaging bug.
        register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans font failed to load"));
    });
}

/// A colour-blind-friendly cycle (Okabe-Ito).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
];

/// The `index`-th colour of the cycle.
pub fn colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// `1.5M`, `200k`, `950`.
pub fn human_count(x: f64) -> String {
    match x.abs() {
        v if v >= 1e6 => format!("{:.1}M", x / 1e6),
        v if v >= 1e3 => format!("{:.0}k", x / 1e3),
        _ => format!("{x:.0}"),
    }
}
