//! Owns the Organization screen: name, slug (derived, editable), domain, contact email and
//! environment.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{choice, field_row, focused_error, has_error, input_spans, value_width};
use crate::domain::naming;
use crate::tui::bootstrap::keys;
use crate::tui::bootstrap::model::Model;
use crate::tui::bootstrap::update::{FieldId, fields, focused};
use crate::tui::keymap::KeyHint;
use crate::tui::theme::Theme;

pub fn key_hints() -> Vec<KeyHint> {
    keys::all_hints_in(keys::ORGANIZATION)
}

pub fn render(m: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let focus = focused(m);
    let w = value_width(area);
    let mut lines = vec![Line::from(Span::styled(
        "Names below are computed from these values; the slug names the organization's vcluster and Git org.",
        theme.muted,
    ))];
    lines.push(Line::from(""));
    for f in fields(m, m.form.step) {
        let is = focus == Some(f);
        let value = match f {
            FieldId::OrgName => input_spans(&m.inputs.org_name, w, is, false, theme),
            FieldId::OrgSlug => {
                let mut v = input_spans(&m.inputs.org_slug, w.saturating_sub(14), is, false, theme);
                if !m.form.slug_edited && !m.form.org_slug.is_empty() {
                    v.push(Span::styled("  (from name)", theme.muted));
                }
                v
            }
            FieldId::Domain => input_spans(&m.inputs.domain, w, is, false, theme),
            FieldId::Email => input_spans(&m.inputs.email, w, is, false, theme),
            FieldId::Env => choice(
                format!("{} ({})", m.form.env.code(), m.form.env.name()),
                is,
                theme,
            ),
            _ => Vec::new(),
        };
        lines.push(field_row(&f.label(), value, is, has_error(m, f), theme));
    }
    lines.push(Line::from(""));
    if naming::validate_org_slug("slug", &m.form.org_slug).is_ok() {
        lines.push(Line::from(vec![
            Span::styled("  Environment name: ", theme.muted),
            Span::styled(
                naming::environment_name(&m.form.org_slug, m.form.env),
                theme.accent,
            ),
        ]));
    } else {
        lines.push(Line::from(""));
    }
    if let Some(e) = focused_error(m, focus, theme) {
        lines.push(e);
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
