//! Owns the small widgets every screen reuses: text fields, the key-hint footer, the help
//! overlay and layout helpers.

pub mod field;
pub mod footer;
pub mod help;

use ratatui::layout::Rect;

/// A rectangle of at most `width`×`height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Terminal columns `s` takes (wide characters count double).
pub fn display_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// `s` cut to `width` columns (see [`truncate`]) and padded with spaces to exactly `width`.
pub fn pad(s: &str, width: usize) -> String {
    let mut out = truncate(s, width);
    let used = display_width(&out);
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// Cut `s` to at most `width` terminal columns, ending with `…` when cut. Wide characters count
/// double so a pasted CJK string never breaks the layout.
pub fn truncate(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}
