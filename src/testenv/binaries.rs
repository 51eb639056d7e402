//! Finds the etcd, kube-apiserver and kubectl executables the local control plane runs.

use std::path::{Path, PathBuf};

use super::TestEnvError;

/// Kubernetes version built by `tests/k8s/build-apiserver.sh` (Debian's `kubernetes` source).
pub const K8S_VERSION: &str = "1.20.2";

/// The executables of the local control plane.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub apiserver: PathBuf,
    pub kubectl: PathBuf,
    pub etcd: PathBuf,
}

/// Where the build script caches kube-apiserver and kubectl: `OPENOVA_K8S_CACHE`, else
/// `$HOME/.cache/openova/k8s-<version>`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("OPENOVA_K8S_CACHE") {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(format!(".cache/openova/k8s-{K8S_VERSION}")))
}

impl Binaries {
    /// kube-apiserver and kubectl from `OPENOVA_K8S_BIN_DIR` (or the build script's cache);
    /// etcd from that directory, else from `PATH` (Debian's `etcd-server` package).
    pub fn locate() -> Result<Self, TestEnvError> {
        let dir = std::env::var_os("OPENOVA_K8S_BIN_DIR")
            .map(PathBuf::from)
            .or_else(default_cache_dir);
        let in_dir = |name: &str| {
            dir.as_ref()
                .map(|d| d.join(name))
                .filter(|p| is_executable(p))
        };
        let apiserver = in_dir("kube-apiserver");
        let kubectl = in_dir("kubectl");
        let etcd = in_dir("etcd").or_else(|| find_in_path("etcd"));
        let where_ = dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "(no directory: HOME unset)".into());
        match (apiserver, kubectl, etcd) {
            (Some(apiserver), Some(kubectl), Some(etcd)) => Ok(Self {
                apiserver,
                kubectl,
                etcd,
            }),
            (a, k, e) => {
                let mut missing = Vec::new();
                if a.is_none() {
                    missing.push(format!("kube-apiserver in {where_}"));
                }
                if k.is_none() {
                    missing.push(format!("kubectl in {where_}"));
                }
                if e.is_none() {
                    missing.push("etcd in PATH (Debian package etcd-server)".to_owned());
                }
                Err(TestEnvError::BinariesMissing {
                    missing: missing.join(", "),
                })
            }
        }
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}
