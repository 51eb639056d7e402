//! Owns a throwaway Kubernetes control plane — Debian's etcd plus a kube-apiserver built from
//! Debian's sources — started on free loopback ports in a private temporary directory.
//!
//! Tests use it instead of a mock of our own client; the `playground` command uses it to give a
//! developer a local API server to try the console against. Their harness helpers that skip or
//! panic (`require`, `shared`) live in `tests/support/apiserver.rs`. The binaries come from
//! `tests/k8s/build-apiserver.sh` (cached per version) and are never downloaded here.
//!
//! Processes are always stopped by PID (apiserver first, then etcd), never by name. Children get
//! `PR_SET_PDEATHSIG` so that a killed test runner leaves no orphans behind.

mod binaries;
mod process;

use std::fmt::Write as _;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::Rng as _;

pub use binaries::{Binaries, K8S_VERSION, default_cache_dir};

/// Kubeconfig context (and user) that is a member of `system:masters`.
pub const ADMIN_CONTEXT: &str = "admin";
/// Kubeconfig context (and user) with no RBAC grants beyond discovery.
pub const UNPRIVILEGED_CONTEXT: &str = "unprivileged";
/// Name of the unprivileged user as the API server authenticates it (for RBAC bindings).
pub const UNPRIVILEGED_USER: &str = "unprivileged";

/// Environment variable that turns a missing API server into a test failure instead of a skip.
pub const REQUIRE_ENV: &str = "OPENOVA_REQUIRE_K8S";

/// How long a cold start may take on a loaded two-core machine before we give up.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// What went wrong while preparing, starting or talking to the local control plane.
#[derive(Debug, thiserror::Error)]
pub enum TestEnvError {
    #[error(
        "Kubernetes test binaries not found: {missing}. Run `tests/k8s/build-apiserver.sh` \
         and set OPENOVA_K8S_BIN_DIR to the directory it prints"
    )]
    BinariesMissing { missing: String },
    #[error("could not create the working directory {path}: {source}")]
    WorkDir { path: PathBuf, source: io::Error },
    #[error("could not write {path}: {source}")]
    WriteFile { path: PathBuf, source: io::Error },
    #[error("could not read {path}: {source}")]
    ReadFile { path: PathBuf, source: io::Error },
    #[error("could not find free loopback ports: {0}")]
    Ports(io::Error),
    #[error("could not generate the service-account key with openssl: {detail}")]
    KeyGen { detail: String },
    #[error("could not start {program}: {source}")]
    Spawn { program: String, source: io::Error },
    #[error("{what} exited during start-up ({status}); last log lines:\n{log_tail}")]
    Exited {
        what: &'static str,
        status: String,
        log_tail: String,
    },
    #[error("{what} was not ready after {waited:?}; last log lines:\n{log_tail}")]
    NotReady {
        what: &'static str,
        waited: Duration,
        log_tail: String,
    },
    #[error("kubeconfig {path} could not be loaded: {source}")]
    Kubeconfig {
        path: PathBuf,
        source: kube::config::KubeconfigError,
    },
    #[error("could not build a Kubernetes client: {0}")]
    Client(#[source] kube::Error),
    #[error("kubectl {args} failed ({status}): {stderr}")]
    Kubectl {
        args: String,
        status: String,
        stderr: String,
    },
    #[error("Kubernetes API call failed while {doing}: {source}")]
    Api {
        doing: String,
        #[source]
        source: kube::Error,
    },
}

type Result<T, E = TestEnvError> = std::result::Result<T, E>;

/// Loopback ports of one control plane; kept across restarts so clients reconnect to the same URL.
#[derive(Debug, Clone, Copy)]
struct Ports {
    etcd_client: u16,
    etcd_peer: u16,
    apiserver: u16,
}

impl Ports {
    fn pick() -> Result<Self> {
        // Hold all three listeners at once so the kernel cannot hand out the same port twice.
        let listeners = (0..3)
            .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
            .collect::<io::Result<Vec<_>>>()
            .map_err(TestEnvError::Ports)?;
        let port = |i: usize| -> Result<u16> {
            Ok(listeners[i]
                .local_addr()
                .map_err(TestEnvError::Ports)?
                .port())
        };
        Ok(Self {
            etcd_client: port(0)?,
            etcd_peer: port(1)?,
            apiserver: port(2)?,
        })
    }
}

#[derive(Default)]
struct Procs {
    etcd: Option<Child>,
    apiserver: Option<Child>,
}

/// A running (or stopped, restartable) etcd + kube-apiserver pair on loopback.
pub struct ApiServer {
    bins: Binaries,
    dir: PathBuf,
    ports: Ports,
    admin_token: String,
    user_token: String,
    kubeconfig: PathBuf,
    procs: Mutex<Procs>,
    crds_installed: Mutex<bool>,
    delivery_crds_installed: Mutex<bool>,
    removed: Mutex<bool>,
}

impl std::fmt::Debug for ApiServer {
    // Tokens stay out of debug output: test logs are often uploaded as CI artefacts.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiServer")
            .field("dir", &self.dir)
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl ApiServer {
    /// Starts a new, private control plane and waits until `/readyz` answers 200.
    ///
    /// Blocking; from async code call it through `tokio::task::spawn_blocking` when other tasks
    /// must keep running meanwhile.
    pub fn launch() -> Result<Self> {
        Self::launch_with(Binaries::locate()?)
    }

    /// Like [`ApiServer::launch`] with explicitly chosen binaries.
    pub fn launch_with(bins: Binaries) -> Result<Self> {
        sweep_stale_work_dirs();
        let mut attempt = 1;
        loop {
            let dir = make_work_dir()?;
            write_file(
                &dir.join(OWNER_FILE),
                std::process::id().to_string().as_bytes(),
            )?;
            let server = Self::prepare(bins.clone(), dir)?;
            match server.start() {
                Ok(()) => return Ok(server),
                // Free ports are picked by binding and releasing them; another process on the
                // machine may grab one before etcd or the apiserver binds it. Try fresh ports.
                Err(TestEnvError::Exited { ref log_tail, .. })
                    if attempt < 3 && log_tail.contains("address already in use") =>
                {
                    attempt += 1;
                    drop(server);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn prepare(bins: Binaries, dir: PathBuf) -> Result<Self> {
        let ports = Ports::pick()?;
        let admin_token = random_token();
        let user_token = random_token();
        write_file(
            &dir.join("tokens.csv"),
            format!(
                "{admin_token},{ADMIN_CONTEXT},{ADMIN_CONTEXT},\"system:masters\"\n\
                 {user_token},{UNPRIVILEGED_USER},{UNPRIVILEGED_USER}\n"
            )
            .as_bytes(),
        )?;
        generate_sa_key(&dir)?;
        let kubeconfig = dir.join("kubeconfig");
        let server = Self {
            bins,
            dir,
            ports,
            admin_token,
            user_token,
            kubeconfig,
            procs: Mutex::new(Procs::default()),
            crds_installed: Mutex::new(false),
            delivery_crds_installed: Mutex::new(false),
            removed: Mutex::new(false),
        };
        Ok(server)
    }

    /// Path of a kubeconfig with the contexts [`ADMIN_CONTEXT`] (current) and
    /// [`UNPRIVILEGED_CONTEXT`].
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// `https://127.0.0.1:<port>`: the same across [`ApiServer::stop`]/[`ApiServer::start`].
    pub fn base_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.ports.apiserver)
    }

    /// Working directory holding logs, data and certificates (removed on drop).
    pub fn work_dir(&self) -> &Path {
        &self.dir
    }

    /// A client acting as a cluster administrator. Must be called inside a tokio runtime; make
    /// one per runtime, as a client is tied to the runtime it was created in.
    pub async fn admin_client(&self) -> Result<kube::Client> {
        self.client_for(ADMIN_CONTEXT).await
    }

    /// A client for an authenticated user with no RBAC grants.
    pub async fn unprivileged_client(&self) -> Result<kube::Client> {
        self.client_for(UNPRIVILEGED_CONTEXT).await
    }

    async fn client_for(&self, context: &str) -> Result<kube::Client> {
        let kc = kube::config::Kubeconfig::read_from(&self.kubeconfig).map_err(|source| {
            TestEnvError::Kubeconfig {
                path: self.kubeconfig.clone(),
                source,
            }
        })?;
        let options = kube::config::KubeConfigOptions {
            context: Some(context.to_owned()),
            ..Default::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kc, &options)
            .await
            .map_err(|source| TestEnvError::Kubeconfig {
                path: self.kubeconfig.clone(),
                source,
            })?;
        kube::Client::try_from(config).map_err(TestEnvError::Client)
    }

    /// `kubectl` (the binary built alongside the server) pointed at this server as admin.
    pub fn kubectl(&self) -> Command {
        let mut cmd = Command::new(&self.bins.kubectl);
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--context")
            .arg(ADMIN_CONTEXT)
            .env_remove("KUBECONFIG");
        cmd
    }

    /// Runs the built kubectl as admin with `args`, feeding `stdin`; returns its stdout.
    pub fn kubectl_run(&self, args: &[&str], stdin: Option<&str>) -> Result<String> {
        use std::io::Write as _;
        let mut cmd = self.kubectl();
        cmd.args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let joined = args.join(" ");
        let mut child = process::spawn_tied(cmd).map_err(|source| TestEnvError::Spawn {
            program: "kubectl".into(),
            source,
        })?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes())
                .map_err(|source| TestEnvError::Spawn {
                    program: "kubectl (writing its input)".into(),
                    source,
                })?;
        }
        let out = child
            .wait_with_output()
            .map_err(|source| TestEnvError::Spawn {
                program: "kubectl".into(),
                source,
            })?;
        if !out.status.success() {
            return Err(TestEnvError::Kubectl {
                args: joined,
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Applies the generated Platform and Component CRDs with kubectl and waits until both are
    /// established. Idempotent and cheap after the first call.
    pub fn install_crds(&self) -> Result<()> {
        let mut done = lock(&self.crds_installed);
        if *done {
            return Ok(());
        }
        let yaml = crate::crd::crds_yaml().map_err(|e| TestEnvError::Kubectl {
            args: "apply (generated CRDs)".into(),
            status: "not run".into(),
            stderr: e.to_string(),
        })?;
        let names: Vec<String> = crate::crd::all_crds()
            .into_iter()
            .filter_map(|c| c.metadata.name)
            .collect();
        self.apply_crds(&yaml, &names)?;
        *done = true;
        Ok(())
    }

    /// Apply CRD manifests and wait until the CRDs named (`<plural>.<group>`) are served.
    fn apply_crds(&self, yaml: &str, names: &[String]) -> Result<()> {
        self.kubectl_run(&["apply", "-f", "-"], Some(yaml))?;
        let names: Vec<String> = names.iter().map(|n| format!("crd/{n}")).collect();
        let mut wait = vec!["wait", "--for", "condition=established", "--timeout=60s"];
        wait.extend(names.iter().map(String::as_str));
        self.kubectl_run(&wait, None)?;
        Ok(())
    }

    /// Installs [`delivery_crds_yaml`] (once per server) and waits until all three are served.
    pub fn install_delivery_crds(&self) -> Result<()> {
        let mut done = lock(&self.delivery_crds_installed);
        if *done {
            return Ok(());
        }
        let names: Vec<String> = delivery_resources()
            .iter()
            .map(|(r, _)| format!("{}.{}", r.plural, r.group))
            .collect();
        self.apply_crds(&delivery_crds_yaml(), &names)?;
        *done = true;
        Ok(())
    }

    /// Creates a fresh namespace named `<prefix>-<n>-<random>` so tests sharing one server do
    /// not see each other's objects.
    pub async fn namespace(&self, prefix: &str) -> Result<String> {
        use k8s_openapi::api::core::v1::Namespace;
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let suffix: u32 = rand::rng().random_range(0..0x10000);
        let mut clean: String = prefix
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        clean.truncate(40);
        let name = format!("{}-{n}-{suffix:04x}", clean.trim_matches('-'));
        let client = self.admin_client().await?;
        let api: kube::Api<Namespace> = kube::Api::all(client);
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": { "name": name }
        }))
        .map_err(|e| TestEnvError::Api {
            doing: format!("building namespace {name}"),
            source: kube::Error::SerdeError(e),
        })?;
        api.create(&Default::default(), &ns)
            .await
            .map_err(|source| TestEnvError::Api {
                doing: format!("creating namespace {name}"),
                source,
            })?;
        Ok(name)
    }

    /// Starts etcd and the API server (again) on the same ports and data directory, and waits for
    /// `/readyz`. Does nothing for a process that is already running.
    pub fn start(&self) -> Result<()> {
        let mut procs = lock(&self.procs);
        if procs.etcd.is_none() {
            procs.etcd = Some(self.spawn_etcd()?);
        }
        if procs.apiserver.is_none() {
            procs.apiserver = Some(self.spawn_apiserver()?);
        }
        let deadline = Instant::now() + READY_TIMEOUT;
        self.wait_for_cert(&mut procs, deadline)?;
        if !self.kubeconfig.exists() {
            self.write_kubeconfig()?;
        }
        self.wait_ready(&mut procs, deadline)
    }

    /// Stops the API server (SIGKILL, as a crash would), then etcd. Data, certificates and
    /// ports are kept for [`ApiServer::start`].
    pub fn stop(&self) {
        let mut procs = lock(&self.procs);
        stop_procs(&mut procs);
    }

    /// Stops only the API server, leaving etcd and all data in place.
    pub fn kill_apiserver(&self) {
        let mut procs = lock(&self.procs);
        if let Some(child) = procs.apiserver.take() {
            process::kill_and_reap(child);
        }
    }

    /// Stops both processes and deletes the working directory (also what `Drop` does; a server
    /// held in a `static` is stopped with this from `atexit`).
    pub fn shutdown(&self) {
        // try_lock: this also runs from `atexit`, where a thread that died holding the lock
        // must not hang the exit; PDEATHSIG still reaps the children then.
        if let Ok(mut procs) = self.procs.try_lock() {
            stop_procs(&mut procs);
        }
        if let Ok(mut removed) = self.removed.try_lock()
            && !*removed
        {
            *removed = true;
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn spawn_etcd(&self) -> Result<Child> {
        let p = self.ports;
        let client = format!("http://127.0.0.1:{}", p.etcd_client);
        let peer = format!("http://127.0.0.1:{}", p.etcd_peer);
        let mut cmd = Command::new(&self.bins.etcd);
        cmd.arg("--name")
            .arg("openova-test")
            .arg("--data-dir")
            .arg(self.dir.join("etcd"))
            .arg("--listen-client-urls")
            .arg(&client)
            .arg("--advertise-client-urls")
            .arg(&client)
            .arg("--listen-peer-urls")
            .arg(&peer)
            .arg("--initial-advertise-peer-urls")
            .arg(&peer)
            .arg("--initial-cluster")
            .arg(format!("openova-test={peer}"))
            .arg("--log-level")
            .arg("warn");
        self.spawn_logged(cmd, "etcd")
    }

    fn spawn_apiserver(&self) -> Result<Child> {
        let p = self.ports;
        let d = |name: &str| self.dir.join(name);
        let mut cmd = Command::new(&self.bins.apiserver);
        cmd.arg(format!("--etcd-servers=http://127.0.0.1:{}", p.etcd_client))
            .arg("--bind-address=127.0.0.1")
            .arg("--advertise-address=127.0.0.1")
            .arg(format!("--secure-port={}", p.apiserver))
            .arg(format!("--cert-dir={}", d("certs").display()))
            .arg(format!("--token-auth-file={}", d("tokens.csv").display()))
            .arg("--authorization-mode=RBAC")
            .arg("--service-account-issuer=https://kubernetes.default.svc")
            .arg(format!(
                "--service-account-key-file={}",
                d("sa.pub").display()
            ))
            .arg(format!(
                "--service-account-signing-key-file={}",
                d("sa.key").display()
            ))
            .arg("--service-cluster-ip-range=10.96.0.0/24")
            // Without a real node network the endpoint reconciler only logs errors.
            .arg("--endpoint-reconciler-type=none")
            .arg("--v=1");
        self.spawn_logged(cmd, "kube-apiserver")
    }

    fn spawn_logged(&self, mut cmd: Command, name: &str) -> Result<Child> {
        let log_path = self.dir.join(format!("{name}.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|source| TestEnvError::WriteFile {
                path: log_path.clone(),
                source,
            })?;
        let log2 = log.try_clone().map_err(|source| TestEnvError::WriteFile {
            path: log_path,
            source,
        })?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .current_dir(&self.dir);
        process::spawn_tied(cmd).map_err(|source| TestEnvError::Spawn {
            program: name.to_owned(),
            source,
        })
    }

    fn check_alive(&self, procs: &mut Procs) -> Result<()> {
        for (what, slot, log) in [
            ("etcd", &mut procs.etcd, "etcd.log"),
            ("kube-apiserver", &mut procs.apiserver, "kube-apiserver.log"),
        ] {
            if let Some(child) = slot
                && let Ok(Some(status)) = child.try_wait()
            {
                *slot = None;
                return Err(TestEnvError::Exited {
                    what,
                    status: status.to_string(),
                    log_tail: self.log_tail(log),
                });
            }
        }
        Ok(())
    }

    fn wait_for_cert(&self, procs: &mut Procs, deadline: Instant) -> Result<()> {
        let cert = self.dir.join("certs").join("apiserver.crt");
        let started = Instant::now();
        loop {
            if std::fs::metadata(&cert)
                .map(|m| m.len() > 0)
                .unwrap_or(false)
            {
                return Ok(());
            }
            self.check_alive(procs)?;
            if Instant::now() > deadline {
                return Err(TestEnvError::NotReady {
                    what: "kube-apiserver serving certificate",
                    waited: started.elapsed(),
                    log_tail: self.log_tail("kube-apiserver.log"),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn write_kubeconfig(&self) -> Result<()> {
        let cert_path = self.dir.join("certs").join("apiserver.crt");
        let cert = std::fs::read(&cert_path).map_err(|source| TestEnvError::ReadFile {
            path: cert_path,
            source,
        })?;
        let ca = base64::engine::general_purpose::STANDARD.encode(cert);
        let mut yaml = String::new();
        let _ = write!(
            yaml,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: openova-test\n  cluster:\n    \
             server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: {ADMIN_CONTEXT}\n  \
             user:\n    token: {admin}\n- name: {UNPRIVILEGED_CONTEXT}\n  user:\n    token: {user}\n\
             contexts:\n- name: {ADMIN_CONTEXT}\n  context:\n    cluster: openova-test\n    \
             user: {ADMIN_CONTEXT}\n- name: {UNPRIVILEGED_CONTEXT}\n  context:\n    cluster: openova-test\n    \
             user: {UNPRIVILEGED_CONTEXT}\ncurrent-context: {ADMIN_CONTEXT}\n",
            server = self.base_url(),
            admin = self.admin_token,
            user = self.user_token,
        );
        write_file(&self.kubeconfig, yaml.as_bytes())
    }

    fn wait_ready(&self, procs: &mut Procs, deadline: Instant) -> Result<()> {
        let cert_path = self.dir.join("certs").join("apiserver.crt");
        let pem = std::fs::read(&cert_path).map_err(|source| TestEnvError::ReadFile {
            path: cert_path,
            source,
        })?;
        let roots: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
            .build();
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .tls_config(tls)
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(2)))
                .build(),
        );
        let url = format!("{}/readyz", self.base_url());
        let started = Instant::now();
        loop {
            let last = match agent
                .get(&url)
                .header("Authorization", format!("Bearer {}", self.admin_token))
                .call()
            {
                Ok(resp) if resp.status() == 200 => return Ok(()),
                Ok(resp) => format!("HTTP {}", resp.status()),
                Err(e) => e.to_string(),
            };
            self.check_alive(procs)?;
            if Instant::now() > deadline {
                return Err(TestEnvError::NotReady {
                    what: "kube-apiserver /readyz",
                    waited: started.elapsed(),
                    log_tail: format!(
                        "(last answer: {last})\n{}",
                        self.log_tail("kube-apiserver.log")
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_tail(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn stop_procs(procs: &mut Procs) {
    if let Some(child) = procs.apiserver.take() {
        process::kill_and_reap(child);
    }
    if let Some(child) = procs.etcd.take() {
        process::terminate_and_reap(child, Duration::from_secs(5));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking test must not make the server unusable (or unkillable) for the others.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn random_token() -> String {
    let bytes: [u8; 24] = rand::rng().random();
    bytes.iter().fold(String::with_capacity(48), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

const WORK_DIR_PREFIX: &str = "openova-k8s-";
const OWNER_FILE: &str = "owner.pid";

/// Removes working directories left by runs that were killed (SIGKILL leaves no chance to clean
/// up, and etcd preallocates over 100 MB). A directory is stale when the process named in its
/// owner file is gone; directories without one may be in the middle of being created.
fn sweep_stale_work_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with(WORK_DIR_PREFIX)
        {
            continue;
        }
        let dir = entry.path();
        let Ok(text) = std::fs::read_to_string(dir.join(OWNER_FILE)) else {
            continue;
        };
        let Ok(pid) = text.trim().parse::<i32>() else {
            continue;
        };
        // SAFETY: signal 0 only checks whether the process exists; nothing is delivered.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

fn make_work_dir() -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt as _;
    let base = std::env::temp_dir();
    loop {
        let suffix: u64 = rand::rng().random();
        let dir = base.join(format!("{WORK_DIR_PREFIX}{suffix:016x}"));
        // `create` (not `create_all`) fails on an existing directory, so we never reuse one.
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(TestEnvError::WorkDir { path: dir, source }),
        }
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| TestEnvError::WriteFile {
            path: path.to_owned(),
            source,
        })?;
    f.write_all(bytes)
        .map_err(|source| TestEnvError::WriteFile {
            path: path.to_owned(),
            source,
        })
}

fn generate_sa_key(dir: &Path) -> Result<()> {
    let run = |args: &[&str]| -> Result<()> {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| TestEnvError::KeyGen {
                detail: format!("could not run openssl: {e}"),
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(TestEnvError::KeyGen {
                detail: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            })
        }
    };
    run(&["genrsa", "-out", "sa.key", "2048"])?;
    run(&["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"])
}

/// The delivery kinds the manager writes, with their scope.
fn delivery_resources() -> [(kube::api::ApiResource, &'static str); 3] {
    use crate::manager::delivery::{crossplane, flux};
    [
        (flux::helm_release_resource(), "Namespaced"),
        (flux::helm_repository_resource(), "Namespaced"),
        (crossplane::release_resource(), "Cluster"),
    ]
}

/// Minimal CRDs for the delivery objects the manager writes (Flux HelmRelease and HelmRepository,
/// Crossplane provider-helm Release): same group, version, kind and scope as the real ones, with
/// an open schema, because tests and the playground run no Flux or Crossplane.
pub fn delivery_crds_yaml() -> String {
    let mut out = String::new();
    for (r, scope) in delivery_resources() {
        out.push_str(&format!(
            "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  \
             name: {plural}.{group}\nspec:\n  group: {group}\n  names:\n    kind: {kind}\n    \
             listKind: {kind}List\n    plural: {plural}\n    singular: {singular}\n  scope: {scope}\n  \
             versions:\n    - name: {version}\n      served: true\n      storage: true\n      \
             subresources:\n        status: {{}}\n      schema:\n        openAPIV3Schema:\n          \
             type: object\n          properties:\n            spec:\n              type: object\n              \
             x-kubernetes-preserve-unknown-fields: true\n            status:\n              type: object\n              \
             x-kubernetes-preserve-unknown-fields: true\n",
            plural = r.plural,
            group = r.group,
            kind = r.kind,
            singular = r.kind.to_lowercase(),
            version = r.version,
        ));
    }
    out
}

#[cfg(test)]
mod delivery_crd_tests {
    use super::*;

    #[test]
    fn delivery_crds_yaml_parses_as_three_documents() {
        let yaml = delivery_crds_yaml();
        let docs: Vec<serde_json::Value> =
            serde_saphyr::from_multiple(&yaml).expect("valid YAML documents");
        let names: Vec<&str> = docs
            .iter()
            .filter_map(|d| d["metadata"]["name"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "helmreleases.helm.toolkit.fluxcd.io",
                "helmrepositories.source.toolkit.fluxcd.io",
                "releases.helm.crossplane.io"
            ]
        );
    }
}
