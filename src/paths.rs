//! Where openova keeps its local state: the XDG state directory (`~/.local/state/openova`),
//! overridable with `OPENOVA_STATE_DIR` so tests and several operators on one bastion stay apart.

use std::path::PathBuf;

/// The state directory. `OPENOVA_STATE_DIR` wins; then `$XDG_STATE_HOME/openova`;
/// then `~/.local/state/openova`.
pub fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("OPENOVA_STATE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("openova");
    }
    if let Some(base) = directories::BaseDirs::new() {
        return base.home_dir().join(".local/state/openova");
    }
    PathBuf::from(".openova-state")
}

/// The SQLite database with drafts and provisioning runs.
pub fn database() -> PathBuf {
    state_dir().join("openova.db")
}

/// Log files written by tracing-appender (never the terminal while a TUI runs).
pub fn log_dir() -> PathBuf {
    state_dir().join("logs")
}

/// Per-run OpenTofu workspaces: `runs/<id>/`.
pub fn runs_dir() -> PathBuf {
    state_dir().join("runs")
}

/// Create the state directory (mode 0700 on Unix) if missing.
pub fn ensure_state_dir() -> std::io::Result<PathBuf> {
    let dir = state_dir();
    create_private_dir(&dir)?;
    Ok(dir)
}

/// Create `dir` and its parents; the leaf gets mode 0700 so other users on a shared bastion
/// cannot read drafts, run logs or workspaces.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
