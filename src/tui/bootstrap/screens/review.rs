//! Owns the Review screen: everything on one scrollable page, problems listed first (Enter jumps
//! to the field), secrets masked, export and the start action.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::domain::naming;
use crate::tui::bootstrap::model::{
    CheckState, Model, SecretStorage, StateBackend, TofuCheck, cidr_list,
};
use crate::tui::keymap::KeyHint;
use crate::tui::theme::Theme;

pub fn key_hints() -> Vec<KeyHint> {
    crate::tui::bootstrap::keys::all_hints(crate::tui::bootstrap::keys::REVIEW)
}

/// `••••••••  (64 chars)` — never any character of the secret.
fn masked(len: usize) -> String {
    if len == 0 {
        "(not set)".into()
    } else {
        format!("•••••••• ({len} chars)")
    }
}

pub fn lines<'a>(m: &Model, theme: &Theme) -> Vec<Line<'a>> {
    let f = &m.form;
    let mut out = Vec::new();
    let errors = m.all_errors();
    if errors.is_empty() {
        out.push(Line::from(Span::styled(
            "✓ Everything checks out.",
            theme.ok,
        )));
    } else {
        out.push(Line::from(Span::styled(
            format!(
                "✗ {} problem(s) — Enter on one jumps to its field:",
                errors.len()
            ),
            theme.error,
        )));
        for (i, (step, e)) in errors.iter().enumerate() {
            let style = if i == m.review_cursor {
                theme.selected
            } else {
                theme.error
            };
            out.push(Line::from(Span::styled(
                format!("  {}: {}", step.title(), e),
                style,
            )));
        }
    }
    for w in m.warnings() {
        out.push(Line::from(Span::styled(format!("⚠ {w}"), theme.warn)));
    }
    let section = |t: &str| Line::from(Span::styled(t.to_string(), theme.title));
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("  {k:<18}"), theme.muted),
            Span::styled(v, theme.text),
        ])
    };
    out.push(Line::from(""));
    out.push(section("Organization"));
    out.push(kv("name", f.org_name.clone()));
    out.push(kv("slug", f.org_slug.clone()));
    out.push(kv("domain", f.domain.clone()));
    out.push(kv("contact email", f.email.clone()));
    out.push(kv(
        "environment",
        format!("{} ({})", f.env.code(), f.env.name()),
    ));
    out.push(section("Credentials"));
    if f.provider == naming::Provider::HuaweiCloud {
        out.push(kv(
            "hw access key",
            masked(m.token.field.value().chars().count()),
        ));
        out.push(kv(
            "hw secret key",
            masked(m.secret_key.field.value().chars().count()),
        ));
    } else if f.provider == naming::Provider::Oci {
        for (k, v) in oci_credentials(m) {
            out.push(kv(k, v));
        }
    } else {
        out.push(kv(
            &format!("{} token", f.provider.code()),
            masked(m.token.field.value().chars().count()),
        ));
    }
    out.push(kv(
        "live check",
        match &m.check {
            _ if m.offline => "not checked (offline; o to check)".into(),
            CheckState::Valid(s) => format!("passed: {s}"),
            CheckState::Failed(_) => "failed".into(),
            CheckState::Checking => "running".into(),
            CheckState::NotChecked => "not run".into(),
            CheckState::Unsupported(_) => "not available for this provider".into(),
        },
    ));
    match f.state_backend {
        StateBackend::Local => out.push(kv("tofu state", "local (lab only)".into())),
        StateBackend::S3 => {
            out.push(kv(
                "tofu state",
                format!("s3 {} / {}", f.s3_endpoint, f.s3_bucket),
            ));
            out.push(kv(
                "S3 access key",
                masked(m.s3_access_key.field.value().chars().count()),
            ));
            out.push(kv(
                "S3 secret key",
                masked(m.s3_secret_key.field.value().chars().count()),
            ));
        }
    }
    let fp = naming::parse_ssh_public_key("ssh", &f.ssh_public_key)
        .map(|k| k.fingerprint())
        .unwrap_or_else(|_| "(none)".into());
    out.push(kv("SSH key", fp));
    out.push(kv(
        "secrets kept in",
        match f.secret_storage {
            SecretStorage::Keyring if !m.keyring_unavailable => "OS keyring".into(),
            _ => "memory only".into(),
        },
    ));
    out.push(section("Provider and regions"));
    out.push(kv("provider", f.provider.name().into()));
    for (r, name) in f.regions.iter().zip(m.cluster_names()) {
        out.push(kv(
            "cluster",
            format!(
                "{name}: {} cp {}×{}, workers {}×{}",
                r.location.name(),
                r.control_plane_count,
                r.control_plane_size,
                r.worker_count,
                r.worker_size
            ),
        ));
    }
    if let Some(c) = m.monthly_cost() {
        out.push(kv("estimate", format!("€{c:.2}/month for servers")));
    }
    let access = |text: &str, empty: &str| {
        let list = cidr_list(text);
        if list.is_empty() {
            empty.to_owned()
        } else {
            list.join(", ")
        }
    };
    out.push(kv("API from", access(&f.api_allowed_cidrs, "(not set)")));
    out.push(kv(
        "SSH from",
        access(&f.ssh_allowed_cidrs, "nobody (ssh closed)"),
    ));
    out.push(kv(
        "OpenTofu",
        match &m.tofu {
            TofuCheck::Found { path, version } => format!("{version} at {}", path.display()),
            TofuCheck::Checking => "looking for it…".into(),
            TofuCheck::Problem(_) => "not usable (see the problem above)".into(),
        },
    ));
    out.push(section("Components"));
    let cat = crate::catalog::embedded();
    out.push(kv(
        "mandatory",
        format!("{} components, always installed", cat.mandatory().len()),
    ));
    let chosen: Vec<&str> = f.components.iter().map(String::as_str).collect();
    out.push(kv(
        "selected",
        if chosen.is_empty() {
            "none".into()
        } else {
            chosen.join(", ")
        },
    ));
    out
}

pub fn render(m: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let lines = lines(m, theme);
    let width = area.width.max(1) as usize;
    // Rows after wrapping: the page never scrolls past its last line into blank space.
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    let max = rows.saturating_sub(area.height as usize);
    let scroll = (m.review_scroll as usize).min(max) as u16;
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}

/// OCI's credentials on Review: the OCIDs and fingerprint as entered (not secret), the key
/// only as what it is.
fn oci_credentials(m: &Model) -> Vec<(&'static str, String)> {
    use crate::tui::bootstrap::model::OciKeyInput;
    let shown = |v: &str| {
        if v.trim().is_empty() {
            "not entered".to_owned()
        } else {
            v.trim().to_owned()
        }
    };
    vec![
        ("oci tenancy", shown(m.token.field.value())),
        ("oci user", shown(m.oci_user.field.value())),
        ("oci fingerprint", shown(m.oci_fingerprint.field.value())),
        (
            "oci private key",
            match m.oci_key_input() {
                OciKeyInput::Pem(Ok(bits)) => format!("RSA {bits}-bit (kept, never shown)"),
                OciKeyInput::Pem(Err(_)) => "not a usable private key".into(),
                OciKeyInput::Path(_) => "not read yet (Enter on its field)".into(),
                OciKeyInput::Empty => "not entered".into(),
            },
        ),
        (
            "oci compartment",
            if m.form.oci_compartment.trim().is_empty() {
                "root (the tenancy)".into()
            } else {
                m.form.oci_compartment.trim().to_owned()
            },
        ),
    ]
}
