//! Where openova keeps its local state: the XDG state directory (`~/.local/state/openova`),
//! overridable with `OPENOVA_STATE_DIR` so tests and several operators on one bastion stay apart.

use std::path::{Path, PathBuf};

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

/// The operator's home directory, if the platform knows one.
pub fn home_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf())
}

/// A path the operator typed, made absolute: a leading `~` (alone or `~/…`) is the home
/// directory, a relative path is taken from the current directory. One rule for every path
/// the wizard asks for (export, SSH key).
pub fn expand_user(path: &str) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    expand_user_in(path, home_dir().as_deref(), &cwd)
}

/// [`expand_user`] with the home and current directories given.
pub fn expand_user_in(path: &str, home: Option<&Path>, cwd: &Path) -> PathBuf {
    let path = path.trim();
    let expanded = match (path, home) {
        ("~", Some(home)) => home.to_path_buf(),
        (p, Some(home)) if p.starts_with("~/") => home.join(&p[2..]),
        (p, _) => PathBuf::from(p),
    };
    if expanded.is_absolute() {
        expanded
    } else {
        cwd.join(expanded)
    }
}

/// A path as shown to the operator: under the home directory it starts with `~/`.
pub fn show_path(path: &Path) -> String {
    show_path_in(path, home_dir().as_deref())
}

/// [`show_path`] with the home directory given.
pub fn show_path_in(path: &Path, home: Option<&Path>) -> String {
    match home.and_then(|h| path.strip_prefix(h).ok()) {
        Some(rest) if !rest.as_os_str().is_empty() => format!("~/{}", rest.display()),
        _ => path.display().to_string(),
    }
}

/// Create the parent directory of `file` when it is missing, the new leaf with mode 0700 (as
/// `~/.ssh` must be); an existing directory is left as it is.
pub fn ensure_parent(file: &Path) -> std::io::Result<()> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => create_private_dir(dir),
        _ => Ok(()),
    }
}

/// Where the wizard offers to keep a generated SSH private key: `~/.ssh/openova-<slug>_ed25519`.
pub fn default_ssh_key_path(slug: &str) -> String {
    let slug = if slug.is_empty() { "admin" } else { slug };
    format!("~/.ssh/openova-{slug}_ed25519")
}

/// Where the wizard offers to export platform.toml: the current directory, shown in full.
pub fn default_export_path() -> String {
    show_path(&expand_user("platform.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_user_takes_tilde_as_home_and_relative_from_cwd() {
        let home = Path::new("/home/op");
        let cwd = Path::new("/srv/work");
        let f = |p: &str| expand_user_in(p, Some(home), cwd);
        assert_eq!(f("~/.ssh/k"), PathBuf::from("/home/op/.ssh/k"));
        assert_eq!(f("~"), PathBuf::from("/home/op"));
        assert_eq!(f("platform.toml"), PathBuf::from("/srv/work/platform.toml"));
        assert_eq!(f("/tmp/x"), PathBuf::from("/tmp/x"));
        // `~user` is not expanded: it is a name, taken from the current directory.
        assert_eq!(f("~bob/x"), PathBuf::from("/srv/work/~bob/x"));
        assert_eq!(
            show_path_in(Path::new("/home/op/.ssh/k"), Some(home)),
            "~/.ssh/k"
        );
        assert_eq!(show_path_in(Path::new("/srv/x"), Some(home)), "/srv/x");
    }

    #[test]
    fn defaults_are_shown_in_full() {
        assert_eq!(default_ssh_key_path("acme"), "~/.ssh/openova-acme_ed25519");
        let export = default_export_path();
        assert!(
            export.starts_with('/') || export.starts_with("~/"),
            "{export}"
        );
        assert!(export.ends_with("/platform.toml"), "{export}");
    }

    #[test]
    fn ensure_parent_creates_a_missing_directory_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("new/.ssh/key");
        ensure_parent(&file).unwrap();
        let mode = std::fs::metadata(tmp.path().join("new/.ssh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        // An existing directory keeps its mode.
        let open = tmp.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_parent(&open.join("f")).unwrap();
        let mode = std::fs::metadata(&open).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
    }
}
