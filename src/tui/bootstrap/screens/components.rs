//! Owns the Components screen: the catalog grouped Mandatory (locked on) / A la carte /
//! Meta-platforms, with a `/` filter; dependency dialogs are raised by `update`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::input_spans;
use crate::domain::catalog::Category;
use crate::tui::bootstrap::model::Model;
use crate::tui::bootstrap::update::{component_rows, selected_count};
use crate::tui::keymap::KeyHint;
use crate::tui::theme::Theme;
use crate::tui::widgets::truncate;

pub fn key_hints(m: &Model) -> Vec<KeyHint> {
    use crate::tui::bootstrap::keys::{COMPONENTS, FILTER_KEPT, FILTERING, all_hints};
    if m.filtering {
        all_hints(FILTERING)
    } else if m.filter.value().is_empty() {
        all_hints(COMPONENTS)
    } else {
        let mut v = all_hints(FILTER_KEPT);
        v.extend(all_hints(COMPONENTS));
        v
    }
}

pub fn render(m: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let [filter_area, list_area, detail_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(2),
    ])
    .areas(area);
    let rows = component_rows(m);
    // The whole selection, also what the filter hides.
    let selected = selected_count(m);
    let mut filter_line = vec![Span::styled(
        format!(" {selected} selected · filter: "),
        theme.muted,
    )];
    if m.filtering || !m.filter.value().is_empty() {
        filter_line.extend(input_spans(&m.filter, 30, m.filtering, false, theme));
    } else {
        filter_line.push(Span::styled("(press /)", theme.muted));
    }
    frame.render_widget(Paragraph::new(Line::from(filter_line)), filter_area);

    // Build display lines: headings interleaved with rows; remember the line of each row.
    let mut lines: Vec<Line> = Vec::new();
    let mut cursor_line = 0;
    let mut last: Option<Category> = None;
    let width = list_area.width as usize;
    for (i, row) in rows.iter().enumerate() {
        if last != Some(row.category) {
            lines.push(Line::from(Span::styled(
                row.category.heading().to_string(),
                theme.title,
            )));
            last = Some(row.category);
        }
        if i == m.component_cursor {
            cursor_line = lines.len();
        }
        let mark = if row.locked {
            "[■]"
        } else if row.selected {
            "[x]"
        } else {
            "[ ]"
        };
        let text = truncate(&format!(" {mark} {:<22} {}", row.name, row.title), width);
        let style = if i == m.component_cursor {
            theme.selected
        } else if row.locked {
            theme.locked
        } else {
            theme.text
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    if rows.is_empty() {
        lines.push(Line::from(Span::styled(
            "  Nothing matches the filter. Esc clears it.",
            theme.muted,
        )));
    }
    let height = list_area.height as usize;
    let offset = cursor_line.saturating_sub(height.saturating_sub(1));
    frame.render_widget(Paragraph::new(lines).scroll((offset as u16, 0)), list_area);

    if let Some(row) = rows.get(m.component_cursor) {
        let mut detail = row.description.clone();
        if row.locked {
            detail.push_str(" · mandatory, always installed");
        }
        frame.render_widget(
            Paragraph::new(Span::styled(detail, theme.muted)).wrap(Wrap { trim: true }),
            detail_area,
        );
    }
}
