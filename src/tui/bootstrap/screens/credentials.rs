//! Owns the Credentials screen: the provider token (masked, live-checked), the OpenTofu state
//! backend, SSH access (generate or paste) and where secrets are kept.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{choice, field_row, focused_error, has_error, input_spans, value_width};
use crate::domain::naming;
use crate::tui::bootstrap::keys;
use crate::tui::bootstrap::model::{
    CheckState, Model, OciKeyInput, SecretStorage, SshMode, StateBackend,
};
use crate::tui::bootstrap::update::{FieldId, fields, focused};
use crate::tui::keymap::{KeyHint, hints_in};
use crate::tui::theme::Theme;
use crate::tui::widgets::truncate;

pub fn key_hints(m: &Model) -> Vec<KeyHint> {
    // Ctrl+O is offered where a value is masked: the provider token or secret key (OCI's
    // token field holds the tenancy OCID, shown as typed) and the S3 keys.
    let masked = focused(m).is_some_and(FieldId::masked)
        && !(m.form.provider == naming::Provider::Oci && focused(m) == Some(FieldId::Token));
    hints_in(keys::CREDENTIALS, |a| a != keys::Action::Reveal || masked)
}

pub fn render(m: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let focus = focused(m);
    let w = value_width(area);
    let mut lines = Vec::new();
    for f in fields(m, m.form.step) {
        let is = focus == Some(f);
        let value = match f {
            FieldId::Token => {
                // An OCID is not secret: shown as typed.
                let masked = !m.token.revealed && m.form.provider != naming::Provider::Oci;
                let mut v = input_spans(&m.token.field, w.saturating_sub(14), is, masked, theme);
                v.push(if m.offline {
                    Span::styled("  offline", theme.warn)
                } else {
                    check_badge(&m.check, theme)
                });
                v
            }
            FieldId::Provider => choice(m.form.provider.name().into(), is, theme),
            FieldId::SecretKey => {
                input_spans(&m.secret_key.field, w, is, !m.secret_key.revealed, theme)
            }
            FieldId::OciUser => input_spans(&m.oci_user.field, w, is, false, theme),
            FieldId::OciFingerprint => input_spans(&m.oci_fingerprint.field, w, is, false, theme),
            FieldId::OciKey => oci_key_value(m, w, is, theme),
            FieldId::OciRegion => {
                let region = m.form.regions.first().map(|r| r.location);
                choice(
                    region.map_or_else(String::new, |l| {
                        format!("{} ({}, the first cluster's)", l.api_region(), l.code())
                    }),
                    is,
                    theme,
                )
            }
            FieldId::OciCompartment => {
                if m.form.oci_compartment.is_empty() && !is {
                    vec![Span::styled(
                        "  root compartment (the tenancy)",
                        theme.muted,
                    )]
                } else {
                    input_spans(&m.inputs.oci_compartment, w, is, false, theme)
                }
            }
            FieldId::LiveCheck => choice(
                if m.offline {
                    "skip (offline): credentials are not checked".into()
                } else {
                    "check against the provider's API".into()
                },
                is,
                theme,
            ),
            FieldId::StateBackend => choice(
                match m.form.state_backend {
                    StateBackend::Local => "local (lab only: state stays on this host)".into(),
                    StateBackend::S3 => "S3 bucket (recommended)".into(),
                },
                is,
                theme,
            ),
            FieldId::S3Endpoint => input_spans(&m.inputs.s3_endpoint, w, is, false, theme),
            FieldId::S3Bucket => input_spans(&m.inputs.s3_bucket, w, is, false, theme),
            FieldId::S3Region => input_spans(&m.inputs.s3_region, w, is, false, theme),
            FieldId::S3AccessKey => input_spans(
                &m.s3_access_key.field,
                w,
                is,
                !m.s3_access_key.revealed,
                theme,
            ),
            FieldId::S3SecretKey => input_spans(
                &m.s3_secret_key.field,
                w,
                is,
                !m.s3_secret_key.revealed,
                theme,
            ),
            FieldId::SshMode => choice(
                match m.form.ssh_mode {
                    SshMode::Generate => "generate an Ed25519 key pair here".into(),
                    SshMode::Paste => "paste an existing public key".into(),
                },
                is,
                theme,
            ),
            FieldId::SshKey => ssh_value(m, w, is, theme),
            FieldId::SecretStorage => choice(
                match m.form.secret_storage {
                    SecretStorage::Keyring if m.keyring_unavailable => {
                        "memory only (no keyring works here)".into()
                    }
                    SecretStorage::Keyring => "OS keyring".into(),
                    SecretStorage::Memory => "memory only".into(),
                },
                is,
                theme,
            ),
            _ => Vec::new(),
        };
        let label = match f {
            FieldId::Token => token_label(m.form.provider).to_owned(),
            f => f.label(),
        };
        lines.push(field_row(&label, value, is, has_error(m, f), theme));
    }
    if let Ok(key) = naming::parse_ssh_public_key("ssh", &m.form.ssh_public_key) {
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {:<w$}    ", "SSH fingerprint", w = super::LABEL_WIDTH),
                theme.muted,
            ),
            Span::styled(key.fingerprint(), theme.accent),
        ]));
    }
    if let Some(path) = &m.form.ssh_private_key_saved_to {
        lines.push(Line::from(Span::styled(
            format!("  Private key saved to {path}"),
            theme.muted,
        )));
    }
    lines.push(Line::from(""));
    let explain = if m.form.secret_storage == SecretStorage::Memory || m.keyring_unavailable {
        "Secrets stay in memory only and must be entered again after openova exits. Drafts on disk never contain them."
    } else {
        m.secret_store_explain.as_str()
    };
    lines.push(Line::from(Span::styled(
        format!("  {explain}"),
        theme.muted,
    )));
    // A failed check keeps its reason on screen until the token changes, wherever the focus
    // goes: the badge alone ("✗ failed") does not say what to do.
    if let CheckState::Failed(f) = &m.check {
        lines.push(Line::from(Span::styled(
            format!("  {}", f.explain()),
            theme.error,
        )));
    }
    match &m.check {
        CheckState::Valid(msg) if focus.is_some_and(checks_credentials) => {
            lines.push(Line::from(Span::styled(format!("  {msg}"), theme.ok)));
        }
        CheckState::Failed(_) if focus.is_some_and(checks_credentials) => {}
        _ => {
            if let Some(e) = focused_error(m, focus, theme) {
                lines.push(e);
            } else if let Some(help) = focus.and_then(|f| field_help(m.form.provider, f)) {
                lines.push(Line::from(Span::styled(format!("  {help}"), theme.muted)));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

/// Fields whose Enter runs the live check (their result is shown under them).
fn checks_credentials(f: FieldId) -> bool {
    matches!(
        f,
        FieldId::Token
            | FieldId::SecretKey
            | FieldId::OciUser
            | FieldId::OciFingerprint
            | FieldId::OciKey
    )
}

/// What the token field holds for `provider`.
pub fn token_label(provider: naming::Provider) -> &'static str {
    match provider {
        naming::Provider::HuaweiCloud => "Access key (AK)",
        naming::Provider::Oci => "Tenancy OCID",
        naming::Provider::Hetzner => "API token",
    }
}

/// Where the focused field's value is found, for the providers whose fields need it.
fn field_help(provider: naming::Provider, field: FieldId) -> Option<&'static str> {
    if provider != naming::Provider::Oci {
        return None;
    }
    Some(match field {
        FieldId::Token => "OCI console → Profile → Tenancy → OCID (ocid1.tenancy.oc1..…)",
        FieldId::OciUser => "OCI console → Profile → My profile → OCID (ocid1.user.oc1..…)",
        FieldId::OciFingerprint => {
            "My profile → API keys: the fingerprint of the key uploaded for openova"
        }
        FieldId::OciKey => {
            "Path of the PEM private key file (Enter reads it) or paste the key; it is kept in the keyring only"
        }
        FieldId::OciRegion => {
            "The first cluster's region (Regions can change it); the check asks its Identity service"
        }
        FieldId::OciCompartment => {
            "ocid1.compartment.oc1..…, or empty for the tenancy's root compartment"
        }
        _ => return None,
    })
}

/// The private key field: a path as typed; pasted or read key text never, only what it is.
fn oci_key_value(m: &Model, w: usize, focus: bool, theme: &Theme) -> Vec<Span<'static>> {
    match m.oci_key_input() {
        OciKeyInput::Empty | OciKeyInput::Path(_) => {
            input_spans(&m.oci_key.field, w, focus, false, theme)
        }
        OciKeyInput::Pem(result) => {
            let style = if focus { theme.selected } else { theme.text };
            vec![match result {
                Ok(bits) => Span::styled(format!("  •••• RSA {bits}-bit private key"), style),
                Err(_) => Span::styled("  •••• not a usable private key".to_string(), theme.error),
            }]
        }
    }
}

fn check_badge<'a>(check: &CheckState, theme: &Theme) -> Span<'a> {
    match check {
        CheckState::NotChecked => Span::styled("  not checked", theme.muted),
        CheckState::Checking => Span::styled("  checking…", theme.warn),
        CheckState::Valid(_) => Span::styled("  ✓ valid", theme.ok),
        CheckState::Failed(_) => Span::styled("  ✗ failed", theme.error),
        CheckState::Unsupported(_) => Span::styled("  no check", theme.warn),
    }
}

fn ssh_value(m: &Model, w: usize, focus: bool, theme: &Theme) -> Vec<Span<'static>> {
    match m.form.ssh_mode {
        SshMode::Paste => input_spans(&m.inputs.ssh_public_key, w, focus, false, theme),
        SshMode::Generate if m.form.ssh_public_key.is_empty() => {
            vec![Span::styled(
                "press Enter to generate".to_string(),
                if focus { theme.selected } else { theme.muted },
            )]
        }
        SshMode::Generate => vec![Span::styled(
            format!(
                "  {}",
                truncate(&m.form.ssh_public_key, w.saturating_sub(2))
            ),
            if focus { theme.selected } else { theme.text },
        )],
    }
}
