//! Owns the Credentials screen: the provider token (masked, live-checked), the OpenTofu state
//! backend, SSH access (generate or paste) and where secrets are kept.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{choice, field_row, focused_error, has_error, input_spans, value_width};
use crate::domain::naming;
use crate::tui::bootstrap::keys;
use crate::tui::bootstrap::model::{CheckState, Model, SecretStorage, SshMode, StateBackend};
use crate::tui::bootstrap::update::{FieldId, fields, focused};
use crate::tui::keymap::{KeyHint, hints_in};
use crate::tui::theme::Theme;
use crate::tui::widgets::truncate;

pub fn key_hints(m: &Model) -> Vec<KeyHint> {
    let secret = focused(m).and_then(FieldId::secret).is_some();
    hints_in(keys::CREDENTIALS, |a| a != keys::Action::Reveal || secret)
}

pub fn render(m: &Model, frame: &mut Frame, area: Rect, theme: &Theme) {
    let focus = focused(m);
    let w = value_width(area);
    let mut lines = Vec::new();
    for f in fields(m, m.form.step) {
        let is = focus == Some(f);
        let value = match f {
            FieldId::Token => {
                let mut v = input_spans(
                    &m.token.field,
                    w.saturating_sub(14),
                    is,
                    !m.token.revealed,
                    theme,
                );
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
        CheckState::Valid(msg) if matches!(focus, Some(FieldId::Token | FieldId::SecretKey)) => {
            lines.push(Line::from(Span::styled(format!("  {msg}"), theme.ok)));
        }
        CheckState::Failed(_) if matches!(focus, Some(FieldId::Token | FieldId::SecretKey)) => {}
        _ => {
            if let Some(e) = focused_error(m, focus, theme) {
                lines.push(e);
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

/// What the token field holds for `provider`.
pub fn token_label(provider: naming::Provider) -> &'static str {
    match provider {
        naming::Provider::HuaweiCloud => "Access key (AK)",
        _ => "API token",
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
