//! The OpenTofu modules compiled into the binary (`tofu-modules/`) and their extraction into a
//! run's private workspace.
//!
//! The embedded tree holds one directory per provider with what only that cloud needs (`main.tf`,
//! `provider_variables.tf`, `versions.tf`), `common/` with the files every root module holds
//! once (the variable contract, PKI, common resources and outputs) and `shared/` with the
//! cloud-init templates. A workspace holds `<provider>/`, the complete root module OpenTofu runs
//! in (the provider's files and the common files side by side), next to `shared/`, which every
//! module reads through `../shared`.

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

/// Directory, inside the embedded tree only, of the files every provider's root module holds:
/// they are written into `<provider>/` of a workspace.
pub const COMMON_DIR: &str = "common";

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

/// One embedded file as it stands in a workspace.
#[derive(Debug, Clone)]
pub struct ModuleFile {
    /// Path relative to the workspace (`hetzner/main.tf`, `hetzner/variables.tf`).
    pub path: PathBuf,
    /// Path relative to the embedded tree (`hetzner/main.tf`, `common/variables.tf`).
    pub source: &'static Path,
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

/// Every file of a provider's workspace, sorted by workspace path: the provider's own directory,
/// the common files placed next to them in `<provider>/`, and the shared templates.
pub fn files(provider: Provider) -> Result<Vec<ModuleFile>, ModuleError> {
    let name = module_dir_name(provider);
    let module = MODULES
        .get_dir(name)
        .ok_or(ModuleError::ModuleMissing { provider: name })?;
    let mut out = Vec::new();
    collect(module, &mut out);
    if let Some(common) = MODULES.get_dir(COMMON_DIR) {
        let start = out.len();
        collect(common, &mut out);
        for f in &mut out[start..] {
            let inside = f.source.strip_prefix(COMMON_DIR).unwrap_or(f.source);
            f.path = Path::new(name).join(inside);
        }
    }
    if let Some(shared) = MODULES.get_dir(SHARED_DIR) {
        collect(shared, &mut out);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// An embedded file of `shared/` by its path below that directory (`artifacts.json`).
pub fn shared_file(path: &str) -> Option<&'static [u8]> {
    MODULES
        .get_file(Path::new(SHARED_DIR).join(path))
        .map(|f| f.contents())
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
                path: f.path().to_path_buf(),
                source: f.path(),
                contents: f.contents(),
            }),
        }
    }
}

/// SHA-256 over every embedded path and file, hex: identifies the module set a run used.
pub fn embedded_digest() -> String {
    let mut all = Vec::new();
    collect(&MODULES, &mut all);
    all.sort_by(|a, b| a.source.cmp(b.source));
    let mut hash = Sha256::new();
    for f in all {
        hash.update(f.source.to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update((f.contents.len() as u64).to_le_bytes());
        hash.update(f.contents);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a provider's module, the common files into it and the shared templates under
/// `workspace` (directories 0700, files 0600, existing files overwritten) and returns the root
/// module directory, `workspace/<provider>`, where OpenTofu must run.
pub fn extract(provider: Provider, workspace: &Path) -> Result<PathBuf, ModuleError> {
    let files = files(provider)?;
    create_private_dir(workspace)?;
    for file in &files {
        let dest = workspace.join(&file.path);
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
            let embedded = files.iter().any(|f| workspace.join(&f.path) == path);
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

    /// The files of `common/` in the embedded tree, by file name.
    fn common_files() -> Vec<&'static include_dir::File<'static>> {
        let common = MODULES.get_dir(COMMON_DIR).expect("common/ is embedded");
        let files: Vec<_> = common.files().collect();
        assert_eq!(
            files.len(),
            common.entries().len(),
            "common/ holds files only"
        );
        files
    }

    #[test]
    fn common_files_are_the_contract_pki_resources_and_outputs() {
        let mut names: Vec<_> = common_files()
            .iter()
            .map(|f| f.path().file_name().unwrap().to_str().unwrap())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["common.tf", "outputs.tf", "pki.tf", "variables.tf"]);
    }

    #[test]
    fn files_place_the_common_files_in_every_provider_directory() {
        for p in Provider::ALL {
            let dir = module_dir_name(*p);
            let files = files(*p).unwrap();
            for common in common_files() {
                let name = common.path().file_name().unwrap();
                assert!(
                    MODULES.get_file(Path::new(dir).join(name)).is_none(),
                    "{p}: {dir}/ carries its own copy of {}",
                    common.path().display()
                );
                let placed = files
                    .iter()
                    .find(|f| f.path == Path::new(dir).join(name))
                    .unwrap_or_else(|| panic!("{p}: {} not in the workspace", name.display()));
                assert_eq!(placed.source, common.path());
                assert_eq!(placed.contents, common.contents());
            }
            let mut paths: Vec<_> = files.iter().map(|f| &f.path).collect();
            paths.dedup();
            assert_eq!(paths.len(), files.len(), "{p}: a workspace path twice");
            assert!(
                !files.iter().any(|f| f.path.starts_with(COMMON_DIR)),
                "{p}: common/ must not appear in a workspace"
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
        assert!(!ws.join("oci").exists());
        assert!(!ws.join(COMMON_DIR).exists());
    }

    #[test]
    fn extract_every_provider_writes_its_own_and_the_common_files_into_its_root_module() {
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        for p in Provider::ALL {
            let tmp = tempfile::tempdir().unwrap();
            let root = extract(*p, tmp.path()).unwrap();
            let dir = module_dir_name(*p);
            assert_eq!(root, tmp.path().join(dir));
            assert_eq!(mode(&root), 0o700);
            for common in common_files() {
                let dest = root.join(common.path().file_name().unwrap());
                assert_eq!(fs::read(&dest).unwrap(), common.contents(), "{p}");
                assert_eq!(mode(&dest), 0o600, "{}", dest.display());
            }
            let own = MODULES.get_dir(dir).unwrap();
            for name in ["main.tf", "provider_variables.tf", "versions.tf"] {
                let embedded = own.get_file(Path::new(dir).join(name)).unwrap();
                let dest = root.join(name);
                assert_eq!(fs::read(&dest).unwrap(), embedded.contents(), "{p}");
                assert_eq!(mode(&dest), 0o600, "{}", dest.display());
            }
            let mut on_disk: Vec<_> = fs::read_dir(&root)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            on_disk.sort_unstable();
            let mut expected: Vec<_> = own
                .files()
                .chain(common_files())
                .map(|f| f.path().file_name().unwrap().to_str().unwrap().to_owned())
                .collect();
            expected.sort_unstable();
            assert_eq!(on_disk, expected, "{p}");
        }
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
