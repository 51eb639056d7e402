//! `openova playground` as an operator runs it: the real binary starts a real API server, the
//! manager and the helm-controller stand-in, seeds the Platform and prints the console command;
//! the printed kubeconfig and context reach the Platform, whose Components become Healthy; SIGINT
//! stops everything, leaving no process and no file behind. Also its refusals, which need no
//! API server.
//!
//! Without the Kubernetes binaries the live test skips loudly, unless OPENOVA_REQUIRE_K8S=1 (CI).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

#[path = "support/apiserver.rs"]
mod apiserver;

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kube::Api;
use openova::crd::{Component, Health, Platform};

const START: Duration = Duration::from_secs(150);
const CONVERGE: Duration = Duration::from_secs(120);

fn playground(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_openova"));
    cmd.arg("playground")
        .env("HOME", home)
        .env("OPENOVA_STATE_DIR", home.join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// PIDs whose parent is `pid`, with their command names.
fn children_of(pid: u32) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The command name sits in parentheses and may contain spaces; fields follow it.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(pid) {
            let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
            out.push((child, comm.trim().to_string()));
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

struct Stop(Option<Child>);

impl Drop for Stop {
    // A failed assertion must not leave the playground running.
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn playground_starts_seeds_converges_and_sigint_leaves_nothing_behind() {
    let Some(bins) = apiserver::require() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let mut child = playground(home.path())
        .env("OPENOVA_K8S_BIN_DIR", bins.apiserver.parent().unwrap())
        .args(["--release-delay-ms", "50"])
        .spawn()
        .expect("playground starts");
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut guard = Stop(Some(child));
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    // Read until the console command is printed.
    let started = Instant::now();
    let mut printed = Vec::new();
    let command = loop {
        let left = START.saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(" tui manage --kubeconfig ");
                printed.push(line.clone());
                if found {
                    break line.trim().to_string();
                }
            }
            Err(_) => {
                drop(guard);
                panic!(
                    "no console command printed within {START:?}; stdout:\n{}\nstderr:\n{}",
                    printed.join("\n"),
                    err_thread.join().unwrap_or_default()
                );
            }
        }
    };
    let all = printed.join("\n");
    assert!(all.contains("Platform acme-corp"), "{all}");
    assert!(all.contains("2 upgrades available"), "{all}");
    let words: Vec<&str> = command.split_whitespace().collect();
    // Not on PATH in a test: the command names this very binary, so it runs as pasted.
    assert_eq!(
        std::fs::canonicalize(words[0]).unwrap(),
        std::fs::canonicalize(env!("CARGO_BIN_EXE_openova")).unwrap(),
        "{command}"
    );
    let after = |flag: &str| {
        words
            .iter()
            .position(|w| *w == flag)
            .and_then(|i| words.get(i + 1))
            .unwrap_or_else(|| panic!("`{command}` has no {flag} value"))
            .to_string()
    };
    let kubeconfig = PathBuf::from(after("--kubeconfig"));
    let context = after("--context");
    assert_eq!(context, "hz-fsn-rtz-prod");
    assert!(kubeconfig.is_file(), "{} exists", kubeconfig.display());
    let work_dir = kubeconfig.parent().unwrap().to_owned();

    let kids = children_of(pid);
    let names: Vec<&str> = kids.iter().map(|(_, n)| n.as_str()).collect();
    assert!(
        names.contains(&"etcd") && names.iter().any(|n| n.starts_with("kube-apiserver")),
        "etcd and kube-apiserver run as the playground's children: {kids:?}"
    );

    // The printed command's kubeconfig and context are all a client needs.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let kc = kube::config::Kubeconfig::read_from(&kubeconfig).expect("kubeconfig reads");
        let options = kube::config::KubeConfigOptions {
            context: Some(context.clone()),
            ..Default::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kc, &options)
            .await
            .expect("context resolves");
        let client = kube::Client::try_from(config).expect("client");
        let platforms: Api<Platform> = Api::default_namespaced(client.clone());
        let platform = platforms.get("acme-corp").await.expect("Platform exists");
        assert_eq!(platform.spec.regions[0].cluster, "hz-fsn-rtz-prod");
        let components: Api<Component> = Api::default_namespaced(client.clone());
        let deadline = Instant::now() + CONVERGE;
        loop {
            let list = components.list(&Default::default()).await.expect("list");
            let healthy = list
                .items
                .iter()
                .filter(|c| c.status.as_ref().and_then(|s| s.health) == Some(Health::Healthy))
                .count();
            // cilium, grafana and cnpg plus what grafana requires.
            if list.items.len() > 3 && healthy == list.items.len() {
                let p = platforms.get("acme-corp").await.expect("Platform");
                let upgrades = p.status.as_ref().and_then(|s| s.upgrade_count);
                if upgrades == Some(2) {
                    break;
                }
            }
            if Instant::now() > deadline {
                let states: Vec<String> = list
                    .items
                    .iter()
                    .map(|c| {
                        format!(
                            "{}={:?}",
                            kube::ResourceExt::name_any(c),
                            c.status.as_ref().and_then(|s| s.health)
                        )
                    })
                    .collect();
                panic!("Components not all Healthy with 2 upgrades after {CONVERGE:?}: {states:?}");
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    drop(rt);

    // Ctrl-C: everything stops, nothing is left.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let mut child = guard.0.take().unwrap();
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if stopped.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("playground still running 30 s after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = err_thread.join().unwrap();
    assert!(status.success(), "exit {status:?}; stderr:\n{stderr}");
    assert!(stderr.contains("Playground stopped"), "{stderr}");
    for (kid, name) in &kids {
        assert!(!alive(*kid), "{name} (pid {kid}) still runs after SIGINT");
    }
    assert!(
        !work_dir.exists(),
        "{} is removed on exit",
        work_dir.display()
    );
}

#[test]
fn playground_without_server_binaries_names_the_build_script() {
    let home = tempfile::tempdir().unwrap();
    let empty = home.path().join("bin");
    std::fs::create_dir(&empty).unwrap();
    let out = playground(home.path())
        .env("OPENOVA_K8S_BIN_DIR", &empty)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("tests/k8s/build-apiserver.sh"), "{stderr}");
    assert!(stderr.contains("kube-apiserver"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing is printed as ready");
}

#[test]
fn playground_unknown_component_is_refused_before_starting_anything() {
    let home = tempfile::tempdir().unwrap();
    let out = playground(home.path())
        .args(["--components", "cilium,nosuch"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--components: `nosuch` is not in the catalog"),
        "{stderr}"
    );
    assert!(!stderr.contains("Starting etcd"), "{stderr}");
}
