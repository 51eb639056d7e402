//! The OpenTofu modules compiled into the binary (`tofu-modules/`) and their extraction into a
//! run's private workspace.
//!
//! A workspace holds `<provider>/` (the root module OpenTofu runs in) next to `shared/` (the
//! cloud-init templates every provider module reads through `../shared`), so the tree on disk is
//! the tree in the repository and `tofu validate` behaves the same in both.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use include_dir::{Dir, DirEntry, include_dir};
use sha2::{Digest, Sha256};

use crate::domain::naming::Provider;

static MODULES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/tofu-modules");

/// Directory, inside the embedded tree and a workspace, of the templates shared by all modules.
pub const SHARED_DIR: &str = "shared";

/// Workspace directories are private to the operator: they hold the tfvars and, with a local
/// backend, the state with the cluster's CA keys.
const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// Why writing the embedded modules into a workspace failed.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    #[error("the binary has no embedded OpenTofu module for {provider}")]
    ModuleMissing { provider: &'static str },
    #[error("cannot create workspace directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write module file {path}: {source}")]
    WriteFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One embedded file, with its path relative to the embedded tree (`hetzner/main.tf`).
#[derive(Debug, Clone, Copy)]
pub struct ModuleFile {
    pub path: &'static Path,
    pub contents: &'static [u8],
}

/// The directory name of a provider's module (`hetzner`, `huawei`, `oci`).
pub fn module_dir_name(provider: Provider) -> &'static str {
    provider.label()
}

/// Providers that have an embedded module, in table order.
pub fn providers() -> Vec<Provider> {
    Provider::ALL
        .iter()
        .copied()
        .filter(|p| MODULES.get_dir(module_dir_name(*p)).is_some())
        .collect()
}

/// Every file a provider's root module needs: its own directory and the shared templates,
/// sorted by path.
pub fn files(provider: Provider) -> Result<Vec<ModuleFile>, ModuleError> {
    let name = module_dir_name(provider);
    let module = MODULES
        .get_dir(name)
        .ok_or(ModuleError::ModuleMissing { provider: name })?;
    let mut out = Vec::new();
    collect(module, &mut out);
    if let Some(shared) = MODULES.get_dir(SHARED_DIR) {
        collect(shared, &mut out);
    }
    out.sort_by(|a, b| a.path.cmp(b.path));
    Ok(out)
}

/// Only the `.tf` files of a provider's module, sorted by path.
pub fn tf_files(provider: Provider) -> Result<Vec<ModuleFile>, ModuleError> {
    Ok(files(provider)?
        .into_iter()
        .filter(|f| f.path.extension().is_some_and(|e| e == "tf"))
        .collect())
}

fn collect(dir: &'static Dir<'static>, out: &mut Vec<ModuleFile>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(d) => collect(d, out),
            DirEntry::File(f) => out.push(ModuleFile {
                path: f.path(),
                contents: f.contents(),
            }),
        }
    }
}

/// SHA-256 over every embedded path and file, hex: identifies the module set a run used.
pub fn embedded_digest() -> String {
    let mut all = Vec::new();
    collect(&MODULES, &mut all);
    all.sort_by(|a, b| a.path.cmp(b.path));
    let mut hash = Sha256::new();
    for f in all {
        hash.update(f.path.to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update((f.contents.len() as u64).to_le_bytes());
        hash.update(f.contents);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a provider's module and the shared templates under `workspace` (directories 0700,
/// files 0600, existing files overwritten) and returns the root module directory,
/// `workspace/<provider>`, where OpenTofu must run.
pub fn extract(provider: Provider, workspace: &Path) -> Result<PathBuf, ModuleError> {
    let files = files(provider)?;
    create_private_dir(workspace)?;
    for file in &files {
        let dest = workspace.join(file.path);
        if let Some(parent) = dest.parent() {
            create_private_dir(parent)?;
        }
        write_private_file(&dest, file.contents)?;
    }
    remove_stale_sources(workspace, &files)?;
    Ok(workspace.join(module_dir_name(provider)))
}

/// OpenTofu reads every `.tf` file of the root module: one left from an older binary in a
/// resumed workspace would be configuration nobody asked for. Generated files (`*.tf.json`,
/// tfvars, state) are kept.
fn remove_stale_sources(workspace: &Path, files: &[ModuleFile]) -> Result<(), ModuleError> {
    let mut dirs: Vec<&Path> = files.iter().filter_map(|f| f.path.parent()).collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let on_disk = workspace.join(dir);
        let entries = fs::read_dir(&on_disk).map_err(|source| ModuleError::CreateDir {
            path: on_disk.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            let source_file = path.extension().is_some_and(|e| e == "tf" || e == "tftpl");
            let embedded = files.iter().any(|f| workspace.join(f.path) == path);
            if source_file && !embedded && path.is_file() {
                fs::remove_file(&path).map_err(|source| ModuleError::WriteFile {
                    path: path.clone(),
                    source,
                })?;
            }
        }
    }
    Ok(())
}

/// Creates `dir` and any missing parents below an existing ancestor with mode 0700, and
/// tightens `dir` itself if it already existed.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), ModuleError> {
    let err = |source| ModuleError::CreateDir {
        path: dir.to_path_buf(),
        source,
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(err)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE)).map_err(err)
}

/// Writes `contents` to `path` with mode 0600 from the first byte on (a file that existed with
/// looser permissions is tightened before it is truncated).
pub(crate) fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), ModuleError> {
    let err = |source| ModuleError::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    if path.exists() {
        fs::set_permissions(path, fs::Permissions::from_mode(FILE_MODE)).map_err(err)?;
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(err)?;
    file.write_all(contents).map_err(err)?;
    file.sync_all().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_every_provider_has_an_embedded_module() {
        assert_eq!(providers(), Provider::ALL.to_vec());
    }

    #[test]
    fn files_include_shared_templates_for_every_provider() {
        for p in Provider::ALL {
            let files = files(*p).unwrap();
            assert!(
                files
                    .iter()
                    .any(|f| f.path == Path::new("shared/templates/cloud-init.yaml.tftpl")),
                "{p}: shared cloud-init template missing"
            );
            assert!(
                files
                    .iter()
                    .any(|f| f.path == Path::new(module_dir_name(*p)).join("main.tf")),
                "{p}: main.tf missing"
            );
            assert!(
                files.iter().all(|f| {
                    f.path.starts_with(module_dir_name(*p)) || f.path.starts_with(SHARED_DIR)
                }),
                "{p}: files of another provider leaked into its workspace"
            );
        }
    }

    #[test]
    fn extract_into_fresh_workspace_writes_private_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("runs/r1");
        let root = extract(Provider::Hetzner, &ws).unwrap();
        assert_eq!(root, ws.join("hetzner"));
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&ws), 0o700);
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&ws.join("shared/templates")), 0o700);
        assert_eq!(mode(&root.join("main.tf")), 0o600);
        assert_eq!(
            fs::read(root.join("variables.tf")).unwrap(),
            MODULES
                .get_file("hetzner/variables.tf")
                .unwrap()
                .contents()
                .to_vec()
        );
        assert!(!ws.join("oci").exists());
    }

    #[test]
    fn extract_over_loose_existing_file_tightens_and_overwrites_it() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("oci");
        fs::create_dir_all(&root).unwrap();
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(root.join("main.tf"), "stale").unwrap();
        fs::set_permissions(root.join("main.tf"), fs::Permissions::from_mode(0o644)).unwrap();
        extract(Provider::Oci, tmp.path()).unwrap();
        let meta = fs::metadata(root.join("main.tf")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_ne!(fs::read(root.join("main.tf")).unwrap(), b"stale");
        let ws_mode = fs::metadata(tmp.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(ws_mode, 0o700);
    }

    #[test]
    fn extract_into_resumed_workspace_removes_stale_sources_keeps_generated_files() {
        let tmp = tempfile::tempdir().unwrap();
        let root = extract(Provider::HuaweiCloud, tmp.path()).unwrap();
        fs::write(root.join("old_feature.tf"), "resource \"x\" \"y\" {}").unwrap();
        fs::write(tmp.path().join("shared/templates/old.tftpl"), "x").unwrap();
        fs::write(root.join("backend.tf.json"), "{}").unwrap();
        fs::write(root.join("terraform.tfstate"), "{}").unwrap();
        extract(Provider::HuaweiCloud, tmp.path()).unwrap();
        assert!(!root.join("old_feature.tf").exists());
        assert!(!tmp.path().join("shared/templates/old.tftpl").exists());
        assert!(root.join("backend.tf.json").exists());
        assert!(root.join("terraform.tfstate").exists());
        assert!(root.join("main.tf").exists());
    }

    #[test]
    fn embedded_digest_is_stable_hex() {
        let d = embedded_digest();
        assert_eq!(d.len(), 64);
        assert_eq!(d, embedded_digest());
    }
}
