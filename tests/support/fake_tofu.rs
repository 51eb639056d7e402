//! A stand-in `tofu` for the test suite: it speaks OpenTofu's documented machine-readable UI
//! (`-json`) so the runner, supervisor and progress screen are exercised against the real
//! message shapes without a cloud account.
//!
//! Behaviour is chosen by environment variables (inherited through the supervisor, as real
//! provider credentials are):
//! - `FAKE_TOFU_SCENARIO`: `success` (default), `fail` (one resource fails with a diagnostic),
//!   `slow` (each resource takes `FAKE_TOFU_STEP_MS`, default 400 ms, with progress messages).
//! - `FAKE_TOFU_VERSION`: what `version -json` reports (default 1.10.5).
//! - `FAKE_TOFU_KUBECONFIG`: a file whose text `output -json` returns as the sensitive
//!   `kubeconfig` output.
//! - `FAKE_TOFU_SECRET_VAR`: the name of a credential variable that must be set (e.g.
//!   `HCLOUD_TOKEN`); with `FAKE_TOFU_ECHO_SECRET=1` its value is echoed in a diagnostic, as a
//!   careless provider might, so redaction is tested.
//!
//! - `FAKE_TOFU_ARGV_LOG`: a file to which every invocation appends its arguments, one line
//!   each (so tests see that `apply tfplan` applied the saved plan file).
//!
//! `plan -out=FILE` writes the plan as OpenTofu's JSON plan representation (what
//! `tofu show -json FILE` prints: `format_version`, `variables` with every `TF_VAR_` input as a
//! real saved plan carries them, `resource_changes[]` with `change.actions`, `before`, `after`),
//! and `show -json FILE` prints it back. When `TF_ENCRYPTION` configures a `plan` block, the
//! file is sealed (hex, tagged with a digest of that configuration) and `show`/`apply` open it
//! only with the same configuration, as OpenTofu's plan encryption does.
//!
//! The state lock is a file `.fake-tofu.lock` in the working directory, holding the lock ID:
//! plan/apply refuse with OpenTofu's "Error acquiring the state lock" diagnostic when it exists,
//! take it while working and release it on a clean end, including after SIGINT.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: std::ffi::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Where the state lock lives: the working directory, or `FAKE_TOFU_LOCK_PATH` to stand for a
/// shared remote backend whose lock outlives any one workspace.
fn lock_file() -> std::path::PathBuf {
    std::env::var_os("FAKE_TOFU_LOCK_PATH")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| ".fake-tofu.lock".into())
}

const RESOURCES: &[(&str, &str, &str)] = &[
    ("hcloud_network.main", "hcloud_network", "main"),
    ("hcloud_firewall.cluster", "hcloud_firewall", "cluster"),
    (
        "hcloud_server.control_plane[0]",
        "hcloud_server",
        "control_plane",
    ),
    ("hcloud_load_balancer.api", "hcloud_load_balancer", "api"),
];

fn ts() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn emit(level: &str, message: &str, kind: &str, extra: serde_json::Value) {
    let mut obj = serde_json::json!({
        "@level": level,
        "@message": message,
        "@module": "tofu.ui",
        "@timestamp": ts(),
        "type": kind,
    });
    if let (Some(o), serde_json::Value::Object(e)) = (obj.as_object_mut(), extra) {
        o.extend(e);
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{obj}");
    let _ = out.flush();
}

/// The attributes a real provider would plan for each stand-in resource.
fn after_values(ty: &str) -> serde_json::Value {
    match ty {
        "hcloud_server" => {
            serde_json::json!({"server_type": "cx43", "location": "fsn1", "image": "ubuntu-24.04"})
        }
        "hcloud_load_balancer" => {
            serde_json::json!({"load_balancer_type": "lb11", "location": "fsn1"})
        }
        _ => serde_json::json!({}),
    }
}

/// OpenTofu's JSON plan representation of the stand-in's plan.
fn plan_document(destroy: bool) -> serde_json::Value {
    let changes: Vec<serde_json::Value> = RESOURCES
        .iter()
        .map(|(addr, ty, name)| {
            let (actions, before, after) = if destroy {
                (vec!["delete"], after_values(ty), serde_json::Value::Null)
            } else {
                (vec!["create"], serde_json::Value::Null, after_values(ty))
            };
            serde_json::json!({
                "address": addr, "mode": "managed", "type": ty, "name": name,
                "provider_name": "registry.opentofu.org/hetznercloud/hcloud",
                "change": {"actions": actions, "before": before, "after": after, "after_unknown": {}}
            })
        })
        .collect();
    let variables: serde_json::Map<String, serde_json::Value> = std::env::vars()
        .filter_map(|(k, v)| {
            k.strip_prefix("TF_VAR_")
                .map(|name| (name.to_owned(), serde_json::json!({ "value": v })))
        })
        .collect();
    serde_json::json!({
        "format_version": "1.2",
        "terraform_version": version(),
        "variables": variables,
        "resource_changes": changes,
        "errored": false,
    })
}

const SEALED: &str = "fake-tofu-encrypted-plan:";

/// A digest of the plan encryption `TF_ENCRYPTION` configures, if it configures one.
fn plan_encryption() -> Option<String> {
    use sha2::Digest;
    let cfg = std::env::var("TF_ENCRYPTION").ok()?;
    cfg.contains("plan {")
        .then(|| format!("{:x}", sha2::Sha256::digest(cfg.as_bytes())))
}

fn write_plan(out: &str, doc: &serde_json::Value) {
    let text = doc.to_string();
    let body = match plan_encryption() {
        Some(key) => {
            let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
            format!("{SEALED}{key}:{hex}")
        }
        None => text,
    };
    let _ = std::fs::write(out, body);
}

/// The plan document in `file`, opening a sealed plan with the current configuration.
fn read_plan(file: &str) -> Result<String, String> {
    let text =
        std::fs::read_to_string(file).map_err(|e| format!("The plan file cannot be read: {e}"))?;
    let Some(sealed) = text.strip_prefix(SEALED) else {
        return Ok(text);
    };
    let (key, hex) = sealed.split_once(':').ok_or("The plan file is damaged.")?;
    if plan_encryption().as_deref() != Some(key) {
        return Err("Failed to decrypt the plan file: the encryption configuration (TF_ENCRYPTION) is missing or has another key.".into());
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    bytes
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| "The plan file is damaged.".into())
}

fn plan_is_destroy(doc: &str) -> Option<bool> {
    let v: serde_json::Value = serde_json::from_str(doc).ok()?;
    let first = v.get("resource_changes")?.get(0)?;
    Some(first.pointer("/change/actions/0")?.as_str()? == "delete")
}

fn resource(addr: &str, ty: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "addr": addr, "module": "", "resource": addr, "implied_provider": "hcloud",
        "resource_type": ty, "resource_name": name, "resource_key": null
    })
}

fn version() -> String {
    std::env::var("FAKE_TOFU_VERSION").unwrap_or_else(|_| "1.10.5".into())
}

fn emit_version() {
    let v = version();
    emit(
        "info",
        &format!("OpenTofu {v}"),
        "version",
        serde_json::json!({"tofu": v, "ui": "1.2"}),
    );
}

fn diagnostic(summary: &str, detail: &str, address: Option<&str>) {
    let mut d = serde_json::json!({"severity": "error", "summary": summary, "detail": detail});
    if let Some(a) = address {
        d["address"] = a.into();
        d["range"] = serde_json::json!({"filename": "main.tf", "start": {"line": 40, "column": 1, "byte": 900}, "end": {"line": 40, "column": 30, "byte": 929}});
    }
    emit(
        "error",
        &format!("Error: {summary}"),
        "diagnostic",
        serde_json::json!({ "diagnostic": d }),
    );
}

fn take_lock(operation: &str) -> Result<(), ()> {
    if let Ok(id) = std::fs::read_to_string(lock_file()) {
        let detail = format!(
            "Error message: resource temporarily unavailable\nLock Info:\n  ID:        {}\n  Path:      terraform.tfstate\n  Operation: OperationTypeApply\n  Who:       ops@bastion\n  Version:   {}\n  Created:   2026-01-02 10:00:00.000000000 +0000 UTC\n  Info:      \n\n\nOpenTofu acquires a state lock to protect the state from being written\nby multiple users at the same time. Please resolve the issue above and try\nagain. For most commands, you can disable locking with the \"-lock=false\"\nflag, but this is not recommended.",
            id.split_whitespace().next().unwrap_or(""),
            version()
        );
        diagnostic("Error acquiring the state lock", &detail, None);
        return Err(());
    }
    let id = format!("{:08x}-0000-4000-8000-{:012x}", std::process::id(), 7u64);
    let _ = std::fs::write(lock_file(), format!("{id} {operation}"));
    Ok(())
}

fn release_lock() {
    let _ = std::fs::remove_file(lock_file());
}

fn check_secret() -> Result<(), ()> {
    let Ok(name) = std::env::var("FAKE_TOFU_SECRET_VAR") else {
        return Ok(());
    };
    match std::env::var(&name) {
        Ok(v) if !v.is_empty() => {
            if std::env::var("FAKE_TOFU_ECHO_SECRET").as_deref() == Ok("1") {
                diagnostic(
                    "Provider produced a warning",
                    &format!("request to api.hetzner.cloud with token {v} was rate limited"),
                    None,
                );
            }
            Ok(())
        }
        _ => {
            diagnostic(
                "Missing credentials",
                &format!("The provider needs {name} in the environment."),
                None,
            );
            Err(())
        }
    }
}

fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

fn stop_gracefully(operation: &str) -> i32 {
    emit(
        "info",
        "Interrupt received. Please wait for OpenTofu to exit or data loss may occur. Gracefully shutting down...",
        "log",
        serde_json::json!({}),
    );
    diagnostic(
        "execution halted",
        &format!("The {operation} was interrupted; the state was saved and the lock released."),
        None,
    );
    release_lock();
    1
}

fn plan(args: &[String]) -> i32 {
    let destroy = args.iter().any(|a| a == "-destroy");
    let out = args
        .iter()
        .find_map(|a| a.strip_prefix("-out="))
        .map(str::to_owned);
    emit_version();
    if check_secret().is_err() || take_lock("plan").is_err() {
        return 1;
    }
    let action = if destroy { "delete" } else { "create" };
    for (addr, ty, name) in RESOURCES {
        emit(
            "info",
            &format!("{addr}: Plan to {action}"),
            "planned_change",
            serde_json::json!({"change": {"resource": resource(addr, ty, name), "action": action}}),
        );
    }
    let n = RESOURCES.len();
    let (add, remove) = if destroy { (0, n) } else { (n, 0) };
    emit(
        "info",
        &format!("Plan: {add} to add, 0 to change, {remove} to destroy."),
        "change_summary",
        serde_json::json!({"changes": {"add": add, "change": 0, "import": 0, "remove": remove, "operation": "plan"}}),
    );
    if let Some(out) = out {
        write_plan(&out, &plan_document(destroy));
    }
    release_lock();
    0
}

fn apply(args: &[String]) -> i32 {
    emit_version();
    let Some(plan_file) = args.iter().rev().find(|a| !a.starts_with('-')) else {
        diagnostic("No plan file", "apply needs a saved plan", None);
        return 1;
    };
    let destroy = match read_plan(plan_file) {
        Ok(doc) => plan_is_destroy(&doc).unwrap_or(false),
        Err(why) => {
            diagnostic("Failed to load \"tfplan\" as a plan file", &why, None);
            return 1;
        }
    };
    if check_secret().is_err() || take_lock("apply").is_err() {
        return 1;
    }
    let scenario = std::env::var("FAKE_TOFU_SCENARIO").unwrap_or_else(|_| "success".into());
    let step = match scenario.as_str() {
        "slow" => Duration::from_millis(
            std::env::var("FAKE_TOFU_STEP_MS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(400),
        ),
        _ => Duration::from_millis(20),
    };
    let action = if destroy { "delete" } else { "create" };
    let (verb, done) = if destroy {
        ("Destroying...", "Destruction complete")
    } else {
        ("Creating...", "Creation complete")
    };
    let mut added = 0;
    for (i, (addr, ty, name)) in RESOURCES.iter().enumerate() {
        if interrupted() {
            return stop_gracefully("apply");
        }
        let res = resource(addr, ty, name);
        emit(
            "info",
            &format!("{addr}: {verb}"),
            "apply_start",
            serde_json::json!({"hook": {"resource": res, "action": action}}),
        );
        let started = Instant::now();
        let mut last_progress = Instant::now();
        while started.elapsed() < step {
            if interrupted() {
                // Real OpenTofu lets the in-flight call finish before stopping.
                emit(
                    "info",
                    &format!("{addr}: {done} after 0s [id={i}]"),
                    "apply_complete",
                    serde_json::json!({"hook": {"resource": res, "action": action, "id_key": "id", "id_value": i.to_string(), "elapsed_seconds": 0}}),
                );
                return stop_gracefully("apply");
            }
            std::thread::sleep(Duration::from_millis(10));
            if last_progress.elapsed() >= Duration::from_millis(100) {
                last_progress = Instant::now();
                let secs = started.elapsed().as_secs();
                emit(
                    "info",
                    &format!("{addr}: Still creating... [{secs}s elapsed]"),
                    "apply_progress",
                    serde_json::json!({"hook": {"resource": res, "action": action, "elapsed_seconds": secs}}),
                );
            }
        }
        let secs = started.elapsed().as_secs();
        if scenario == "fail" && i == 2 {
            emit(
                "error",
                &format!("{addr}: Creation errored after {secs}s"),
                "apply_errored",
                serde_json::json!({"hook": {"resource": res, "action": action, "elapsed_seconds": secs}}),
            );
            diagnostic(
                "server type cx99 not found",
                "The server type cx99 does not exist in location fsn1 (invalid_input).",
                Some(addr),
            );
            release_lock();
            return 1;
        }
        emit(
            "info",
            &format!("{addr}: {done} after {secs}s [id={}]", 1000 + i),
            "apply_complete",
            serde_json::json!({"hook": {"resource": res, "action": action, "id_key": "id", "id_value": (1000 + i).to_string(), "elapsed_seconds": secs}}),
        );
        added += 1;
    }
    // A message type this OpenTofu knows and we may not: it must be kept, never fatal.
    emit(
        "info",
        "Ephemeral resources closed",
        "ephemeral_summary",
        serde_json::json!({"count": 0}),
    );
    if !destroy {
        emit(
            "info",
            "Outputs: 2",
            "outputs",
            serde_json::json!({"outputs": {
                "kubeconfig": {"sensitive": true, "type": "string"},
                "lb_ipv4": {"sensitive": false, "type": "string", "value": "192.0.2.10"}
            }}),
        );
    }
    let (a, r) = if destroy { (0, added) } else { (added, 0) };
    emit(
        "info",
        &format!("Apply complete! Resources: {a} added, 0 changed, {r} destroyed."),
        "change_summary",
        serde_json::json!({"changes": {"add": a, "change": 0, "import": 0, "remove": r, "operation": if destroy {"destroy"} else {"apply"}}}),
    );
    release_lock();
    0
}

fn output() -> i32 {
    let kubeconfig = std::env::var("FAKE_TOFU_KUBECONFIG")
        .ok()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_else(|| {
            "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n".into()
        });
    let doc = serde_json::json!({
        "kubeconfig": {"sensitive": true, "type": "string", "value": kubeconfig},
        "lb_ipv4": {"sensitive": false, "type": "string", "value": "192.0.2.10"}
    });
    println!("{doc}");
    0
}

fn main() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let act = SigAction::new(
        SigHandler::Handler(on_sigint),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        let _ = sigaction(Signal::SIGINT, &act);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(log) = std::env::var_os("FAKE_TOFU_ARGV_LOG") {
        use std::io::Write as _;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(f, "{}", args.join(" "));
        }
    }
    let code = match args.first().map(String::as_str) {
        Some("version") => {
            println!(
                "{}",
                serde_json::json!({"terraform_version": version(), "platform": "linux_amd64", "provider_selections": {}, "terraform_outdated": false})
            );
            0
        }
        Some("init") => {
            println!(
                "\nInitializing the backend...\n\nInitializing provider plugins...\n- Finding hetznercloud/hcloud versions matching \"~> 1.49\"...\n- Installing hetznercloud/hcloud v1.49.1...\n\nOpenTofu has been successfully initialized!"
            );
            if lock_file().exists() {
                eprintln!("Warning: a state lock is present");
            }
            0
        }
        Some("plan") => plan(&args),
        Some("apply") => apply(&args),
        Some("output") => output(),
        Some("show") => match args.iter().skip(1).find(|a| !a.starts_with('-')) {
            Some(file) => match read_plan(file) {
                Ok(doc) => {
                    println!("{doc}");
                    0
                }
                Err(e) => {
                    eprintln!("Error: Failed to read the given file as a state or plan file: {e}");
                    1
                }
            },
            None => {
                eprintln!("fake tofu: show without a plan file is not supported");
                2
            }
        },
        Some("force-unlock") => {
            release_lock();
            println!("OpenTofu state has been successfully unlocked!");
            0
        }
        other => {
            eprintln!("fake tofu: unsupported command {other:?}");
            2
        }
    };
    std::process::exit(code);
}
