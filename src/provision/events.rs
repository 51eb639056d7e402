//! OpenTofu's machine-readable UI (`-json`): one line in, one typed [`TofuEvent`] out.
//!
//! Parsing never fails: a message type we do not know is kept as [`TofuEvent::Unknown`], a line
//! that is not a JSON object (a truncated write, plain text from `tofu init`) as
//! [`TofuEvent::Unparsed`]. Only the UI major version 1 is understood; later majors still parse
//! into `Unknown` so a newer OpenTofu degrades to "raw log" instead of stopping a run.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A resource address as OpenTofu reports it in `change.resource` / `hook.resource`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResourceAddr {
    /// Full address, e.g. `module.region["fsn"].hcloud_server.cp[0]`.
    #[serde(default)]
    pub addr: String,
    /// The containing module address, empty for the root module.
    #[serde(default)]
    pub module: String,
    #[serde(default)]
    pub resource_type: String,
    #[serde(default)]
    pub resource_name: String,
    #[serde(default)]
    pub implied_provider: String,
}

/// The shared fields every message carries.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Envelope {
    /// `trace`, `debug`, `info`, `warn` or `error`.
    #[serde(rename = "@level", default)]
    pub level: String,
    /// The human-readable summary OpenTofu would have printed.
    #[serde(rename = "@message", default)]
    pub message: String,
    #[serde(rename = "@module", default)]
    pub module: String,
    /// RFC 3339 with sub-second precision, as written by OpenTofu.
    #[serde(rename = "@timestamp", default)]
    pub timestamp: String,
}

/// A position in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Pos {
    #[serde(default)]
    pub line: u64,
    #[serde(default)]
    pub column: u64,
    #[serde(default)]
    pub byte: u64,
}

/// The file range a diagnostic points at.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Range {
    #[serde(default)]
    pub filename: String,
    #[serde(default)]
    pub start: Pos,
    #[serde(default)]
    pub end: Pos,
}

/// An error or warning from OpenTofu.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Diagnostic {
    /// `error` or `warning`.
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub detail: String,
    /// The resource address the diagnostic is about, when OpenTofu knows it.
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub range: Option<Range>,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == "error"
    }
}

/// A planned or applied change to one resource instance.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub resource: ResourceAddr,
    /// `noop`, `create`, `read`, `update`, `replace`, `delete`, `move`, `import`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// The `hook` object of apply/refresh/provision messages.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Hook {
    #[serde(default)]
    pub resource: ResourceAddr,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub elapsed_seconds: Option<f64>,
    #[serde(default)]
    pub id_key: Option<String>,
    #[serde(default)]
    pub id_value: Option<String>,
    /// Provisioner hooks: the provisioner type (`local-exec`, …).
    #[serde(default)]
    pub provisioner: Option<String>,
    /// Provisioner hooks: one line of the provisioner's output.
    #[serde(default)]
    pub output: Option<String>,
}

/// Counts from `change_summary`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChangeCounts {
    #[serde(default)]
    pub add: u64,
    #[serde(default)]
    pub change: u64,
    #[serde(default)]
    pub import: u64,
    #[serde(default)]
    pub remove: u64,
    /// `plan`, `apply` or `destroy`.
    #[serde(default)]
    pub operation: String,
}

/// One output as reported in the `outputs` message. OpenTofu omits `value` for sensitive
/// outputs; we keep only names, types and the sensitive flag here on purpose.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OutputSummary {
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default, rename = "type")]
    pub ty: Option<Value>,
    #[serde(default)]
    pub action: Option<String>,
}

/// One message of OpenTofu's machine-readable UI.
#[derive(Debug, Clone, PartialEq)]
pub enum TofuEvent {
    Version {
        env: Envelope,
        tofu: String,
        ui: String,
    },
    Log {
        env: Envelope,
    },
    Diagnostic {
        env: Envelope,
        diagnostic: Diagnostic,
    },
    PlannedChange {
        env: Envelope,
        change: Change,
    },
    ResourceDrift {
        env: Envelope,
        change: Change,
    },
    ChangeSummary {
        env: Envelope,
        changes: ChangeCounts,
    },
    ApplyStart {
        env: Envelope,
        hook: Hook,
    },
    ApplyProgress {
        env: Envelope,
        hook: Hook,
    },
    ApplyComplete {
        env: Envelope,
        hook: Hook,
    },
    ApplyErrored {
        env: Envelope,
        hook: Hook,
    },
    RefreshStart {
        env: Envelope,
        hook: Hook,
    },
    RefreshComplete {
        env: Envelope,
        hook: Hook,
    },
    /// `provision_start`, `provision_progress`, `provision_complete`, `provision_errored`.
    Provision {
        env: Envelope,
        kind: String,
        hook: Hook,
    },
    Outputs {
        env: Envelope,
        outputs: std::collections::BTreeMap<String, OutputSummary>,
    },
    /// `test_*` messages from `tofu test`; kept whole, the run never issues them itself.
    Test {
        env: Envelope,
        kind: String,
        raw: String,
    },
    /// A well-formed message of a type this version does not know.
    Unknown {
        env: Envelope,
        kind: String,
        raw: String,
    },
    /// A line that is not a JSON object: plain text or a truncated write.
    Unparsed {
        raw: String,
    },
}

impl TofuEvent {
    /// The message `type` (`unparsed` for plain lines).
    pub fn kind(&self) -> &str {
        match self {
            TofuEvent::Version { .. } => "version",
            TofuEvent::Log { .. } => "log",
            TofuEvent::Diagnostic { .. } => "diagnostic",
            TofuEvent::PlannedChange { .. } => "planned_change",
            TofuEvent::ResourceDrift { .. } => "resource_drift",
            TofuEvent::ChangeSummary { .. } => "change_summary",
            TofuEvent::ApplyStart { .. } => "apply_start",
            TofuEvent::ApplyProgress { .. } => "apply_progress",
            TofuEvent::ApplyComplete { .. } => "apply_complete",
            TofuEvent::ApplyErrored { .. } => "apply_errored",
            TofuEvent::RefreshStart { .. } => "refresh_start",
            TofuEvent::RefreshComplete { .. } => "refresh_complete",
            TofuEvent::Outputs { .. } => "outputs",
            TofuEvent::Provision { kind, .. }
            | TofuEvent::Test { kind, .. }
            | TofuEvent::Unknown { kind, .. } => kind,
            TofuEvent::Unparsed { .. } => "unparsed",
        }
    }

    /// The shared envelope, absent for unparsed lines.
    pub fn envelope(&self) -> Option<&Envelope> {
        match self {
            TofuEvent::Version { env, .. }
            | TofuEvent::Log { env }
            | TofuEvent::Diagnostic { env, .. }
            | TofuEvent::PlannedChange { env, .. }
            | TofuEvent::ResourceDrift { env, .. }
            | TofuEvent::ChangeSummary { env, .. }
            | TofuEvent::ApplyStart { env, .. }
            | TofuEvent::ApplyProgress { env, .. }
            | TofuEvent::ApplyComplete { env, .. }
            | TofuEvent::ApplyErrored { env, .. }
            | TofuEvent::RefreshStart { env, .. }
            | TofuEvent::RefreshComplete { env, .. }
            | TofuEvent::Provision { env, .. }
            | TofuEvent::Outputs { env, .. }
            | TofuEvent::Test { env, .. }
            | TofuEvent::Unknown { env, .. } => Some(env),
            TofuEvent::Unparsed { .. } => None,
        }
    }

    /// `info` unless OpenTofu said otherwise; a diagnostic's severity wins over `@level`.
    pub fn level(&self) -> &str {
        match self {
            TofuEvent::Diagnostic { diagnostic, .. } if diagnostic.is_error() => "error",
            TofuEvent::Diagnostic { .. } => "warn",
            TofuEvent::ApplyErrored { .. } => "error",
            _ => match self.envelope() {
                Some(env) if !env.level.is_empty() => &env.level,
                _ => "info",
            },
        }
    }

    /// One line for a log pane: OpenTofu's own `@message`, or the raw text.
    pub fn message(&self) -> &str {
        match self {
            TofuEvent::Unparsed { raw } => raw,
            other => other.envelope().map(|e| e.message.as_str()).unwrap_or(""),
        }
    }
}

/// Parse one line of `tofu … -json` output. Never fails.
pub fn parse_line(line: &str) -> TofuEvent {
    let trimmed = line.trim_end_matches(['\r', '\n']);
    let value: Value = match serde_json::from_str(trimmed) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return TofuEvent::Unparsed {
                raw: trimmed.to_owned(),
            };
        }
    };
    let env: Envelope = serde_json::from_value(value.clone()).unwrap_or_default();
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let unknown = |env: Envelope, kind: String| TofuEvent::Unknown {
        env,
        kind,
        raw: trimmed.to_owned(),
    };
    // A known type with a malformed body is kept raw rather than half-parsed.
    fn field<T: serde::de::DeserializeOwned + Default>(v: &Value, key: &str) -> Option<T> {
        match v.get(key) {
            None => Some(T::default()),
            Some(inner) => serde_json::from_value(inner.clone()).ok(),
        }
    }
    let parsed = match kind.as_str() {
        "version" => Some(TofuEvent::Version {
            tofu: value
                .get("tofu")
                .or_else(|| value.get("terraform"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            ui: value
                .get("ui")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            env: env.clone(),
        }),
        "log" => Some(TofuEvent::Log { env: env.clone() }),
        "diagnostic" => field(&value, "diagnostic").map(|diagnostic| TofuEvent::Diagnostic {
            env: env.clone(),
            diagnostic,
        }),
        "planned_change" => field(&value, "change").map(|change| TofuEvent::PlannedChange {
            env: env.clone(),
            change,
        }),
        "resource_drift" => field(&value, "change").map(|change| TofuEvent::ResourceDrift {
            env: env.clone(),
            change,
        }),
        "change_summary" => field(&value, "changes").map(|changes| TofuEvent::ChangeSummary {
            env: env.clone(),
            changes,
        }),
        "apply_start" | "apply_progress" | "apply_complete" | "apply_errored" | "refresh_start"
        | "refresh_complete" => field::<Hook>(&value, "hook").map(|hook| {
            let env = env.clone();
            match kind.as_str() {
                "apply_start" => TofuEvent::ApplyStart { env, hook },
                "apply_progress" => TofuEvent::ApplyProgress { env, hook },
                "apply_complete" => TofuEvent::ApplyComplete { env, hook },
                "apply_errored" => TofuEvent::ApplyErrored { env, hook },
                "refresh_start" => TofuEvent::RefreshStart { env, hook },
                _ => TofuEvent::RefreshComplete { env, hook },
            }
        }),
        k if k.starts_with("provision_") => {
            field::<Hook>(&value, "hook").map(|hook| TofuEvent::Provision {
                env: env.clone(),
                kind: kind.clone(),
                hook,
            })
        }
        "outputs" => field(&value, "outputs").map(|outputs| TofuEvent::Outputs {
            env: env.clone(),
            outputs,
        }),
        k if k.starts_with("test_") => Some(TofuEvent::Test {
            env: env.clone(),
            kind: kind.clone(),
            raw: trimmed.to_owned(),
        }),
        _ => None,
    };
    parsed.unwrap_or_else(|| unknown(env, kind))
}

/// What `tofu output -json` prints: name → `{sensitive, type, value}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OutputValue {
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default)]
    pub value: Value,
}

/// Parse the single JSON document of `tofu output -json`.
pub fn parse_outputs(
    text: &str,
) -> Result<std::collections::BTreeMap<String, OutputValue>, serde_json::Error> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RES: &str = r#"{"addr":"hcloud_server.cp[0]","module":"","resource":"hcloud_server.cp[0]","implied_provider":"hcloud","resource_type":"hcloud_server","resource_name":"cp","resource_key":0}"#;

    #[test]
    fn parse_line_version_message_reads_tofu_and_ui_versions() {
        let ev = parse_line(
            r#"{"@level":"info","@message":"OpenTofu 1.8.3","@module":"tofu.ui","@timestamp":"2026-01-02T10:00:00.000000Z","tofu":"1.8.3","type":"version","ui":"1.2"}"#,
        );
        match ev {
            TofuEvent::Version { tofu, ui, env } => {
                assert_eq!(tofu, "1.8.3");
                assert_eq!(ui, "1.2");
                assert_eq!(env.message, "OpenTofu 1.8.3");
            }
            other => panic!("expected version, got {other:?}"),
        }
    }

    #[test]
    fn parse_line_apply_complete_reads_hook_address_and_elapsed() {
        let line = format!(
            r#"{{"@level":"info","@message":"hcloud_server.cp[0]: Creation complete after 41s [id=123]","@module":"tofu.ui","@timestamp":"2026-01-02T10:00:41Z","hook":{{"resource":{RES},"action":"create","id_key":"id","id_value":"123","elapsed_seconds":41}},"type":"apply_complete"}}"#
        );
        match parse_line(&line) {
            TofuEvent::ApplyComplete { hook, .. } => {
                assert_eq!(hook.resource.addr, "hcloud_server.cp[0]");
                assert_eq!(hook.resource.resource_type, "hcloud_server");
                assert_eq!(hook.action, "create");
                assert_eq!(hook.elapsed_seconds, Some(41.0));
                assert_eq!(hook.id_value.as_deref(), Some("123"));
            }
            other => panic!("expected apply_complete, got {other:?}"),
        }
    }

    #[test]
    fn parse_line_diagnostic_reads_severity_summary_detail_and_range() {
        let ev = parse_line(
            r#"{"@level":"error","@message":"Error: Invalid server type","@module":"tofu.ui","@timestamp":"2026-01-02T10:00:00Z","diagnostic":{"severity":"error","summary":"Invalid server type","detail":"cx99 does not exist","address":"hcloud_server.cp[0]","range":{"filename":"main.tf","start":{"line":12,"column":3,"byte":200},"end":{"line":12,"column":20,"byte":217}}},"type":"diagnostic"}"#,
        );
        assert_eq!(ev.level(), "error");
        match ev {
            TofuEvent::Diagnostic { diagnostic, .. } => {
                assert!(diagnostic.is_error());
                assert_eq!(diagnostic.summary, "Invalid server type");
                assert_eq!(diagnostic.detail, "cx99 does not exist");
                let range = diagnostic.range.expect("range");
                assert_eq!((range.filename.as_str(), range.start.line), ("main.tf", 12));
            }
            other => panic!("expected diagnostic, got {other:?}"),
        }
    }

    #[test]
    fn parse_line_change_summary_reads_counts_and_operation() {
        match parse_line(
            r#"{"@level":"info","@message":"Plan: 3 to add, 0 to change, 1 to destroy.","@module":"tofu.ui","@timestamp":"2026-01-02T10:00:00Z","changes":{"add":3,"change":0,"import":0,"remove":1,"operation":"plan"},"type":"change_summary"}"#,
        ) {
            TofuEvent::ChangeSummary { changes, .. } => {
                assert_eq!((changes.add, changes.change, changes.remove), (3, 0, 1));
                assert_eq!(changes.operation, "plan");
            }
            other => panic!("expected change_summary, got {other:?}"),
        }
    }

    #[test]
    fn parse_line_planned_change_reads_resource_and_action() {
        let line = format!(
            r#"{{"@level":"info","@message":"hcloud_server.cp[0]: Plan to create","@module":"tofu.ui","@timestamp":"2026-01-02T10:00:00Z","change":{{"resource":{RES},"action":"create"}},"type":"planned_change"}}"#
        );
        match parse_line(&line) {
            TofuEvent::PlannedChange { change, .. } => {
                assert_eq!(change.resource.addr, "hcloud_server.cp[0]");
                assert_eq!(change.action, "create");
            }
            other => panic!("expected planned_change, got {other:?}"),
        }
    }

    #[test]
    fn parse_line_outputs_keeps_sensitive_flag_without_value() {
        match parse_line(
            r#"{"@level":"info","@message":"Outputs: 2","@module":"tofu.ui","@timestamp":"2026-01-02T10:00:00Z","outputs":{"kubeconfig":{"sensitive":true,"type":"string"},"lb_ipv4":{"sensitive":false,"type":"string","value":"192.0.2.10"}},"type":"outputs"}"#,
        ) {
            TofuEvent::Outputs { outputs, .. } => {
                assert!(outputs["kubeconfig"].sensitive);
                assert!(!outputs["lb_ipv4"].sensitive);
            }
            other => panic!("expected outputs, got {other:?}"),
        }
    }

    #[test]
    fn parse_line_unknown_type_is_kept_with_raw_text() {
        let line = r#"{"@level":"info","@message":"something new","@module":"tofu.ui","@timestamp":"2026-01-02T10:00:00Z","type":"ephemeral_open","extra":1}"#;
        match parse_line(line) {
            TofuEvent::Unknown { kind, raw, env } => {
                assert_eq!(kind, "ephemeral_open");
                assert_eq!(raw, line);
                assert_eq!(env.message, "something new");
            }
            other => panic!("expected unknown, got {other:?}"),
        }
    }

    #[test]
    fn parse_line_truncated_json_is_kept_unparsed() {
        let line = r#"{"@level":"info","@message":"hcloud_server.cp[0]: Creat"#;
        assert_eq!(
            parse_line(line),
            TofuEvent::Unparsed {
                raw: line.to_owned()
            }
        );
    }

    #[test]
    fn parse_line_known_type_with_malformed_body_is_kept_unknown() {
        let ev = parse_line(r#"{"type":"change_summary","changes":"not an object"}"#);
        assert_eq!(ev.kind(), "change_summary");
        assert!(matches!(ev, TofuEvent::Unknown { .. }));
    }

    #[test]
    fn parse_line_plain_text_is_unparsed_with_its_text_as_message() {
        let ev = parse_line("Initializing provider plugins...\n");
        assert_eq!(ev.message(), "Initializing provider plugins...");
        assert_eq!(ev.kind(), "unparsed");
    }

    #[test]
    fn parse_outputs_reads_sensitive_values() {
        let outs = parse_outputs(
            r#"{"kubeconfig":{"sensitive":true,"type":"string","value":"apiVersion: v1"}}"#,
        )
        .expect("parse");
        assert!(outs["kubeconfig"].sensitive);
        assert_eq!(outs["kubeconfig"].value, Value::from("apiVersion: v1"));
    }

    proptest::proptest! {
        #[test]
        fn parse_line_any_input_never_panics(s in ".{0,200}") {
            let _ = parse_line(&s);
        }
    }
}
