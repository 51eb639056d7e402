//! Owns the Regions screen: one or two regions, each with location, building block, server sizes
//! and counts; the computed cluster names and a monthly estimate update as you change them.

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
use crate::tui::widgets::field::TextField;

pub fn key_hints() -> Vec<KeyHint> {
    keys::all_hints_in(keys::REGIONS)
}

fn size_label(m: &Model, id: &str) -> String {
    match naming::server_size(m.form.provider, id) {
        Some(s) => match s.eur_per_month {
            Some(p) => format!("{id} ({} vCPU, {} GB, €{p:.2}/mo)", s.vcpu, s.ram_gb),
            None => format!("{id} ({} vCPU, {} GB)", s.vcpu, s.ram_gb),
        },
        None => id.to_string(),
    }
}

/// A CIDR list as typed, or what an empty list means when it is not being typed.
fn access_value(
    field: &TextField,
    empty: &str,
    w: usize,
    focus: bool,
    theme: &Theme,
) -> Vec<Span<'static>> {
    if field.value().is_empty() && !focus {
        return vec![Span::styled(format!("  {empty}"), theme.muted)];
    }
    input_spans(field, w, focus, false, theme)
}

pub fn render(m: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let focus = focused(m);
    let w = value_width(area);
    let names = m.cluster_names();
    let mut lines = Vec::new();
    for f in fields(m, m.form.step) {
        let is = focus == Some(f);
        if let FieldId::Location(i) = f {
            lines.push(Line::from(vec![
                Span::styled(format!("  Region {}  cluster/context ", i + 1), theme.title),
                Span::styled(names.get(i).cloned().unwrap_or_default(), theme.accent),
            ]));
        }
        let r = |i: usize| &m.form.regions[i.min(m.form.regions.len() - 1)];
        let value = match f {
            FieldId::RegionCount => choice(
                if m.form.regions.len() == 1 {
                    "1 (single region)".into()
                } else {
                    "2 (WireGuard mesh between regions)".into()
                },
                is,
                theme,
            ),
            FieldId::Location(i) => choice(
                format!(
                    "{} {} ({})",
                    r(i).location.code(),
                    r(i).location.name(),
                    r(i).location.api_region()
                ),
                is,
                theme,
            ),
            FieldId::BuildingBlock(i) => choice(
                format!(
                    "{} {}",
                    r(i).building_block.code(),
                    r(i).building_block.name()
                ),
                is,
                theme,
            ),
            FieldId::ControlPlaneSize(i) => {
                choice(size_label(m, &r(i).control_plane_size), is, theme)
            }
            FieldId::ControlPlaneCount(i) => choice(
                if r(i).control_plane_count == 3 {
                    "3 (HA etcd quorum)".into()
                } else {
                    "1".into()
                },
                is,
                theme,
            ),
            FieldId::WorkerCount(i) => choice(
                if r(i).worker_count == 0 {
                    "0 (control plane runs everything)".into()
                } else {
                    r(i).worker_count.to_string()
                },
                is,
                theme,
            ),
            FieldId::WorkerSize(i) => choice(size_label(m, &r(i).worker_size), is, theme),
            FieldId::ApiCidrs => access_value(&m.inputs.api_allowed_cidrs, "not set", w, is, theme),
            FieldId::SshCidrs => access_value(
                &m.inputs.ssh_allowed_cidrs,
                "nobody (ssh closed)",
                w,
                is,
                theme,
            ),
            _ => Vec::new(),
        };
        lines.push(field_row(&f.label(), value, is, has_error(m, f), theme));
    }
    lines.push(match m.monthly_cost() {
        Some(c) => Line::from(vec![
            Span::styled("  Estimated servers: ", theme.muted),
            Span::styled(format!("€{c:.2}/month"), theme.accent),
            Span::styled(
                " (list prices excl. VAT, traffic, load balancers)",
                theme.muted,
            ),
        ]),
        None => Line::from(Span::styled(
            "  No cost estimate: openova has no price list for this provider.",
            theme.muted,
        )),
    });
    if let Some(e) = focused_error(m, focus, theme) {
        lines.push(e);
    } else if matches!(focus, Some(FieldId::ApiCidrs | FieldId::SshCidrs)) {
        lines.push(Line::from(Span::styled(
            "  IPv4 CIDRs, comma-separated, e.g. the bastion's 198.51.100.7/32",
            theme.muted,
        )));
    }
    // The cost line and a region's error wrap rather than being cut at 80 columns.
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
