//! `openova airgap pin|bundle|verify|serve` against a loopback "upstream" stand-in: a small HTTP
//! server that serves node artifacts with known checksums (with range requests), an OCI
//! registry's chart manifests and blobs behind an anonymous bearer token, and the OpenTofu
//! provider registry protocol. It records every request, so the tests can see what was fetched,
//! what was resumed and what was never asked for.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use openova::airgap::artifacts::ArtifactTable;
use openova::domain::platform::PlatformConfig;

const BIN: &str = env!("CARGO_BIN_EXE_openova");
const TOKEN: &str = "standin-pull-token";
/// Versions the stand-in registry offers per provider type; the newest matching the modules'
/// constraints are 1.49.1, 1.60.2, 6.18.0, 4.0.6 and 3.6.3.
fn provider_versions(ty: &str) -> &'static [&'static str] {
    match ty {
        "hcloud" => &["1.48.0", "1.49.1", "2.0.0"],
        "huaweicloud" => &["1.59.0", "1.60.2"],
        "oci" => &["5.9.0", "6.18.0", "7.0.0"],
        "tls" => &["4.0.6", "5.0.0"],
        "random" => &["3.6.3", "4.0.0"],
        _ => &[],
    }
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Deterministic content of `size` bytes for `name`.
fn content(name: &str, size: usize) -> Vec<u8> {
    let seed = Sha256::digest(name.as_bytes());
    (0..size).map(|i| seed[i % 32] ^ (i / 32) as u8).collect()
}

#[derive(Debug, Clone)]
struct Request {
    path: String,
    range: Option<String>,
}

#[derive(Default)]
struct State {
    files: BTreeMap<String, Vec<u8>>,
    /// Paths served slowly (to be killed mid-download).
    slow: BTreeSet<String>,
    /// Paths served with one byte changed.
    tampered: BTreeSet<String>,
    requests: Vec<Request>,
}

struct StandIn {
    base: String,
    state: Arc<Mutex<State>>,
}

impl StandIn {
    fn start() -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let (s, b) = (state.clone(), base.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (s, b) = (s.clone(), b.clone());
                std::thread::spawn(move || {
                    let _ = handle(stream, &s, &b);
                });
            }
        });
        StandIn { base, state }
    }

    fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    fn clear_requests(&self) {
        self.state.lock().unwrap().requests.clear();
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
    slow: bool,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if slow {
        for chunk in body.chunks(32 * 1024) {
            stream.write_all(chunk)?;
            stream.flush()?;
            std::thread::sleep(Duration::from_millis(40));
        }
    } else {
        stream.write_all(body)?;
    }
    stream.flush()
}

fn chart_blob(chart: &str, tag: &str) -> Vec<u8> {
    content(&format!("chart {chart} {tag}"), 24 * 1024)
}

fn provider_zip(name: &str) -> Vec<u8> {
    content(name, 48 * 1024)
}

fn handle(mut stream: TcpStream, state: &Mutex<State>, base: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let _method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let range = headers.get("range").cloned();
    state.lock().unwrap().requests.push(Request {
        path: path.clone(),
        range: range.clone(),
    });
    let authorized = headers.get("authorization") == Some(&format!("Bearer {TOKEN}"));
    let json = |v: serde_json::Value| serde_json::to_vec(&v).unwrap();
    let ctype = [("Content-Type", "application/json".to_owned())];

    if path == "/token" {
        return respond(
            &mut stream,
            "200 OK",
            &ctype,
            &json(serde_json::json!({"token": TOKEN})),
            false,
        );
    }
    if let Some(rest) = path.strip_prefix("/v2/") {
        if !authorized {
            let challenge = format!(
                "Bearer realm=\"{base}/token\",service=\"stand-in\",scope=\"repository:x:pull\""
            );
            return respond(
                &mut stream,
                "401 Unauthorized",
                &[("WWW-Authenticate", challenge)],
                b"",
                false,
            );
        }
        let segs: Vec<&str> = rest.split('/').collect();
        if let [org, chart, "manifests", tag] = segs.as_slice() {
            assert_eq!(*org, "openova-io");
            let blob = chart_blob(chart, tag);
            let manifest = serde_json::json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": format!("sha256:{}", sha(b"{}")), "size": 2},
                "layers": [{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "digest": format!("sha256:{}", sha(&blob)), "size": blob.len()}]
            });
            return respond(&mut stream, "200 OK", &ctype, &json(manifest), false);
        }
        if let [_, chart, "blobs", digest] = segs.as_slice() {
            // The tag is not in a blob URL: find it by digest among the catalog's charts.
            for c in openova::catalog::embedded().components() {
                if c.chart.name == *chart {
                    let blob = chart_blob(chart, &c.latest().chart_version.to_string());
                    if format!("sha256:{}", sha(&blob)) == *digest {
                        return respond(&mut stream, "200 OK", &[], &blob, false);
                    }
                }
            }
        }
        return respond(&mut stream, "404 Not Found", &[], b"", false);
    }
    if let Some(rest) = path.strip_prefix("/v1/providers/") {
        let segs: Vec<&str> = rest.split('/').collect();
        match segs.as_slice() {
            [_ns, ty, "versions"] => {
                let versions: Vec<_> = provider_versions(ty)
                    .iter()
                    .map(|v| serde_json::json!({"version": v, "platforms": [{"os": "linux", "arch": "amd64"}]}))
                    .collect();
                return respond(
                    &mut stream,
                    "200 OK",
                    &ctype,
                    &json(serde_json::json!({"versions": versions})),
                    false,
                );
            }
            [_ns, ty, version, "download", os, arch] => {
                let filename = format!("terraform-provider-{ty}_{version}_{os}_{arch}.zip");
                let zip = provider_zip(&filename);
                let doc = serde_json::json!({
                    "filename": filename,
                    "download_url": format!("{base}/dl/{filename}"),
                    "shasum": sha(&zip),
                });
                return respond(&mut stream, "200 OK", &ctype, &json(doc), false);
            }
            _ => return respond(&mut stream, "404 Not Found", &[], b"", false),
        }
    }
    if let Some(filename) = path.strip_prefix("/dl/") {
        return respond(&mut stream, "200 OK", &[], &provider_zip(filename), false);
    }
    let (file, slow, tampered) = {
        let st = state.lock().unwrap();
        (
            st.files.get(&path).cloned(),
            st.slow.contains(&path),
            st.tampered.contains(&path),
        )
    };
    let Some(mut body) = file else {
        return respond(&mut stream, "404 Not Found", &[], b"", false);
    };
    if tampered {
        let mid = body.len() / 2;
        body[mid] ^= 0x01;
    }
    if let Some(from) = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok())
    {
        let total = body.len();
        if from >= total {
            return respond(&mut stream, "416 Range Not Satisfiable", &[], b"", false);
        }
        let cr = format!("bytes {from}-{}/{total}", total - 1);
        return respond(
            &mut stream,
            "206 Partial Content",
            &[("Content-Range", cr)],
            &body[from..],
            slow,
        );
    }
    respond(&mut stream, "200 OK", &[], &body, slow)
}

/// The module's artifact table with every upstream URL on the stand-in and every sha256 that of
/// the stand-in's content; the images tarball is the big, slow file.
fn stand_in_table(standin: &StandIn, dir: &Path) -> (PathBuf, ArtifactTable) {
    let mut table = ArtifactTable::builtin().unwrap();
    let mut st = standin.state.lock().unwrap();
    for a in &mut table.artifacts {
        let size = match a.name.as_str() {
            n if n.starts_with("k3s-images") => 3 * 1024 * 1024,
            n if n.starts_with("k3s-binary") => 512 * 1024,
            _ => 40 * 1024,
        };
        let body = content(&a.name, size);
        let path = format!("/upstream/{}", a.path);
        a.upstream = format!("{}{path}", standin.base);
        a.sha256 = sha(&body);
        if a.name == "k3s-images-amd64" {
            st.slow.insert(path.clone());
        }
        st.files.insert(path, body);
    }
    let file = dir.join("artifacts.json");
    std::fs::write(&file, serde_json::to_string_pretty(&table).unwrap()).unwrap();
    (file, table)
}

/// A platform.toml with the provider of the example and no components beyond the mandatory set:
/// the default selection.
fn default_config(dir: &Path) -> PathBuf {
    let mut cfg = PlatformConfig::example();
    cfg.components.clear();
    let path = dir.join("platform.toml");
    std::fs::write(&path, cfg.to_toml().unwrap()).unwrap();
    path
}

fn bundle_cmd(standin: &StandIn, table: &Path, config: &Path, out: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["airgap", "bundle", "--out"])
        .arg(out)
        .arg("--config")
        .arg(config)
        .arg("--table")
        .arg(table)
        .args(["--provider-registry", &standin.base])
        .args(["--chart-registry", &standin.base])
        .env("NO_COLOR", "1");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn bundle_complete_then_verify_then_a_changed_byte_is_caught() {
    let standin = StandIn::start();
    let tmp = tempfile::tempdir().unwrap();
    let (table_file, table) = stand_in_table(&standin, tmp.path());
    let config = default_config(tmp.path());
    let out = tmp.path().join("bundle");

    let started = Instant::now();
    let o = run(&mut bundle_cmd(&standin, &table_file, &config, &out));
    let elapsed = started.elapsed();
    assert!(o.status.success(), "{}", text(&o));

    let manifest: openova::airgap::Manifest =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let total: u64 = manifest.files.iter().map(|f| f.size).sum();
    eprintln!(
        "default selection from the stand-in: {} files, {total} bytes, {} components, built in {:.2} s",
        manifest.files.len(),
        manifest.components.len(),
        elapsed.as_secs_f64()
    );

    // Every node artifact, at its table path, with its pinned checksum.
    for a in &table.artifacts {
        let f = manifest.files.iter().find(|f| f.path == a.path).unwrap();
        assert_eq!(f.sha256, a.sha256);
        assert_eq!(f.kind, "node");
        assert_eq!(
            openova::airgap::bundle::hash_file(&out.join(&a.path))
                .unwrap()
                .1,
            a.sha256
        );
    }
    // The mandatory set's charts, pulled through the registry's token.
    let catalog = openova::catalog::embedded();
    let mandatory: Vec<_> = catalog.mandatory().iter().map(|c| c.name.clone()).collect();
    assert!(mandatory.iter().all(|m| manifest.components.contains(m)));
    assert_eq!(
        manifest.components.len(),
        mandatory.len(),
        "default selection is the mandatory set"
    );
    for c in catalog.mandatory() {
        let rel = format!(
            "components/{}-{}.tgz",
            c.chart.name,
            c.latest().chart_version
        );
        assert!(out.join(&rel).is_file(), "{rel}");
    }
    // The Hetzner module's providers, packed mirror layout with network-mirror indexes.
    for (ty, ns, v) in [
        ("hcloud", "hetznercloud", "1.49.1"),
        ("tls", "hashicorp", "4.0.6"),
        ("random", "hashicorp", "3.6.3"),
    ] {
        let dir = out.join(format!("providers/registry.opentofu.org/{ns}/{ty}"));
        assert!(
            dir.join(format!("terraform-provider-{ty}_{v}_linux_amd64.zip"))
                .is_file(),
            "{ty}"
        );
        let index: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap())
                .unwrap();
        assert!(index["versions"][v].is_object(), "{index}");
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{v}.json"))).unwrap())
                .unwrap();
        assert!(
            doc["archives"]["linux_amd64"]["hashes"][0]
                .as_str()
                .unwrap()
                .starts_with("zh:")
        );
    }
    assert!(
        !out.join("providers/registry.opentofu.org/huaweicloud")
            .exists()
    );
    // images.txt: every image of every selected component.
    let images = std::fs::read_to_string(out.join("images.txt")).unwrap();
    for c in catalog.mandatory() {
        for i in &c.images {
            assert!(
                images.lines().any(|l| l == i),
                "{i} missing from images.txt"
            );
        }
    }
    assert!(images.contains("quay.io/cilium/cilium:v1.16.5"));
    // The table the node files were checked against travels with them.
    let carried =
        ArtifactTable::parse(&std::fs::read_to_string(out.join("artifacts.json")).unwrap())
            .unwrap();
    assert_eq!(carried, table);
    assert!(
        manifest
            .files
            .iter()
            .any(|f| f.path == "artifacts.json" && f.kind == "table")
    );
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(readme.contains("openova airgap verify") && readme.contains("artifacts ="));
    assert!(readme.contains("artifact_table = "), "{readme}");
    assert!(!out.join("manifest.json.tmp").exists());
    assert!(
        walk(&out)
            .iter()
            .all(|p| !p.to_string_lossy().ends_with(".part"))
    );

    let ok = run(Command::new(BIN).args(["airgap", "verify"]).arg(&out));
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("intact"), "{}", text(&ok));

    // One byte of one chart changed: verify names it and fails.
    let victim = format!(
        "components/bp-cilium-{}.tgz",
        catalog.get("cilium").unwrap().latest().chart_version
    );
    let mut bytes = std::fs::read(out.join(&victim)).unwrap();
    bytes[100] ^= 0x80;
    std::fs::write(out.join(&victim), &bytes).unwrap();
    std::fs::remove_file(out.join("images.txt")).unwrap();
    let bad = run(Command::new(BIN).args(["airgap", "verify"]).arg(&out));
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    let report = text(&bad);
    assert!(report.contains(&format!("{victim}: sha256 is")), "{report}");
    assert!(report.contains("images.txt: cannot read"), "{report}");
    assert!(report.contains("2 of"), "{report}");

    // Re-running the bundle repairs it, fetching only what is wrong or missing.
    standin.clear_requests();
    let again = run(&mut bundle_cmd(&standin, &table_file, &config, &out));
    assert!(again.status.success(), "{}", text(&again));
    let fetched: Vec<String> = standin
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.starts_with("/upstream/") || p.contains("/blobs/") || p.starts_with("/dl/"))
        .collect();
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert!(fetched[0].contains("/bp-cilium/blobs/"), "{fetched:?}");
    assert!(
        run(Command::new(BIN).args(["airgap", "verify"]).arg(&out))
            .status
            .success()
    );
}

#[test]
fn bundle_killed_mid_download_resumes_with_a_range_request() {
    let standin = StandIn::start();
    let tmp = tempfile::tempdir().unwrap();
    let (table_file, table) = stand_in_table(&standin, tmp.path());
    let config = default_config(tmp.path());
    let out = tmp.path().join("bundle");
    let images = table.get("k3s-images-amd64").unwrap();
    let part = out.join(format!("{}.part", images.path));

    let mut child = bundle_cmd(&standin, &table_file, &config, &out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0) < 256 * 1024 {
        assert!(Instant::now() < deadline, "the slow download never started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the bundle finished before the kill"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let had = std::fs::metadata(&part).unwrap().len();
    assert!(had > 0 && had < 3 * 1024 * 1024, "{had}");
    assert!(
        !out.join("manifest.json").exists(),
        "no manifest for an unfinished bundle"
    );

    standin.clear_requests();
    let o = run(&mut bundle_cmd(&standin, &table_file, &config, &out));
    assert!(o.status.success(), "{}", text(&o));
    let reqs = standin.requests();
    let for_images: Vec<&Request> = reqs
        .iter()
        .filter(|r| r.path == format!("/upstream/{}", images.path))
        .collect();
    assert_eq!(for_images.len(), 1, "{for_images:?}");
    let from: u64 = for_images[0]
        .range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no range request: {:?}", for_images[0]));
    assert!(from > 0 && from <= had, "resumed at {from} of {had}");
    // What finished before the kill was checked on disk, not fetched again.
    for done in ["k3s-binary-amd64", "k3s-binary-arm64"] {
        let p = format!("/upstream/{}", table.get(done).unwrap().path);
        assert!(!reqs.iter().any(|r| r.path == p), "{done} fetched again");
    }
    assert_eq!(
        openova::airgap::bundle::hash_file(&out.join(&images.path))
            .unwrap()
            .1,
        images.sha256
    );
    assert!(!part.exists());
    assert!(
        run(Command::new(BIN).args(["airgap", "verify"]).arg(&out))
            .status
            .success()
    );
}

#[test]
fn bundle_refuses_a_tampered_file_and_an_unpinned_table() {
    let standin = StandIn::start();
    let tmp = tempfile::tempdir().unwrap();
    let (table_file, table) = stand_in_table(&standin, tmp.path());
    let config = default_config(tmp.path());
    let out = tmp.path().join("bundle");
    let install = table.get("k3s-install").unwrap();
    standin
        .state
        .lock()
        .unwrap()
        .tampered
        .insert(format!("/upstream/{}", install.path));

    let o = run(&mut bundle_cmd(&standin, &table_file, &config, &out));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let msg = text(&o);
    assert!(
        msg.contains(&format!(
            "{} from {}/upstream/{} refused: sha256 is",
            install.path, standin.base, install.path
        )),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("expected {}", install.sha256)),
        "{msg}"
    );
    assert!(!out.join(&install.path).exists());
    assert!(!out.join(format!("{}.part", install.path)).exists());
    assert!(!out.join("manifest.json").exists());

    // The table as shipped has entries without a sha256: nothing is downloaded at all.
    let shipped = ArtifactTable::builtin().unwrap();
    if shipped.check_pinned().is_err() {
        standin.clear_requests();
        let mut cmd = Command::new(BIN);
        cmd.args(["airgap", "bundle", "--out"])
            .arg(tmp.path().join("other"))
            .arg("--config")
            .arg(&config);
        let o = run(&mut cmd);
        assert_eq!(o.status.code(), Some(1));
        assert!(text(&o).contains("has no pinned sha256"), "{}", text(&o));
        assert!(standin.requests().is_empty());
    }
}

#[test]
fn serve_answers_get_and_head_read_only_and_logs_each_request() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bundle");
    std::fs::create_dir_all(dir.join("k3s/v1.31.4-k3s1")).unwrap();
    let body = content("k3s", 200 * 1024);
    std::fs::write(dir.join("k3s/v1.31.4-k3s1/k3s"), &body).unwrap();
    std::fs::write(dir.join("manifest.json"), "{}").unwrap();
    std::fs::write(tmp.path().join("secret.txt"), "outside").unwrap();

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(BIN)
        .args(["airgap", "serve"])
        .arg(&dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.contains("read-only"), "{first}");

    let call = |req: &str| -> (String, Vec<u8>) {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(req.as_bytes()).unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        (
            String::from_utf8_lossy(&all[..split]).into_owned(),
            all[split + 4..].to_vec(),
        )
    };
    let (head, got) =
        call("GET /k3s/v1.31.4-k3s1/k3s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(got, body);
    let (head, got) =
        call("HEAD /k3s/v1.31.4-k3s1/k3s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(
        head.starts_with("HTTP/1.1 200")
            && head
                .to_ascii_lowercase()
                .contains(&format!("content-length: {}", body.len())),
        "{head}"
    );
    assert!(got.is_empty());
    let (head, _) = call(
        "PUT /k3s/v1.31.4-k3s1/k3s HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
    );
    assert!(head.starts_with("HTTP/1.1 405"), "{head}");
    let (head, _) = call("GET /../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    let (head, _) = call("GET /k3s/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 404"), "no listings: {head}");
    assert_eq!(
        std::fs::read(dir.join("k3s/v1.31.4-k3s1/k3s")).unwrap(),
        body,
        "PUT changed nothing"
    );

    let mut lines = Vec::new();
    for _ in 0..5 {
        let mut l = String::new();
        out.read_line(&mut l).unwrap();
        lines.push(l);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        lines[0].contains(&format!(
            "127.0.0.1 GET /k3s/v1.31.4-k3s1/k3s 200 {}",
            body.len()
        )),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("HEAD /k3s/v1.31.4-k3s1/k3s 200"),
        "{lines:?}"
    );
    assert!(
        lines[2].contains("PUT /k3s/v1.31.4-k3s1/k3s 405 0"),
        "{lines:?}"
    );
    assert!(lines[3].contains(" 404 0"), "{lines:?}");
}

#[test]
fn catalog_every_entry_names_its_chart_artifact_and_images() {
    let catalog = openova::catalog::embedded();
    let image =
        regex::Regex::new(r"^[a-z0-9.-]+\.[a-z]{2,}(:[0-9]+)?(/[a-z0-9._-]+)+:[A-Za-z0-9._-]+$")
            .unwrap();
    for c in catalog.components() {
        assert!(!c.images.is_empty(), "{} names no images", c.name);
        for i in &c.images {
            assert!(
                image.is_match(i),
                "{}: {i} is not registry/repository:tag",
                c.name
            );
        }
        let artifact = c.chart_artifact(c.latest());
        assert!(
            artifact.starts_with("oci://")
                && artifact.ends_with(&format!("/{}:{}", c.chart.name, c.latest().chart_version)),
            "{}: {artifact}",
            c.name
        );
    }
}

#[test]
fn airgap_help_explains_each_command() {
    for (sub, needle) in [
        (
            "pin",
            "cross-checked against the checksum upstream publishes",
        ),
        ("pin", "downloads every node first-boot file"),
        ("pin", "the complete table goes to --out"),
        ("bundle", "resume"),
        ("verify", "manifest.json"),
        ("serve", "read-only"),
    ] {
        let o = run(Command::new(BIN).args(["airgap", sub, "--help"]));
        assert!(o.status.success());
        // Words only: clap wraps the text to the terminal's width.
        let t = String::from_utf8_lossy(&o.stdout)
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(t.contains(needle), "{sub}: {t}");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn bundle_without_config_takes_every_module_and_the_whole_catalog() {
    let standin = StandIn::start();
    let tmp = tempfile::tempdir().unwrap();
    let (table_file, _) = stand_in_table(&standin, tmp.path());
    let out = tmp.path().join("bundle");
    let o = run(Command::new(BIN)
        .args(["airgap", "bundle", "--quiet", "--out"])
        .arg(&out)
        .arg("--table")
        .arg(&table_file)
        .args(["--provider-registry", &standin.base])
        .args(["--chart-registry", &standin.base]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).is_empty(),
        "--quiet: {}",
        text(&o)
    );
    let manifest: openova::airgap::Manifest =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let catalog = openova::catalog::embedded();
    assert_eq!(manifest.components.len(), catalog.components().len());
    let charts = manifest.files.iter().filter(|f| f.kind == "chart").count();
    assert_eq!(charts, catalog.components().len());
    let providers: BTreeSet<&str> = manifest
        .files
        .iter()
        .filter(|f| f.kind == "provider")
        .map(|f| f.path.as_str())
        .collect();
    let expected: BTreeSet<String> = [
        ("hetznercloud", "hcloud", "1.49.1"),
        ("huaweicloud", "huaweicloud", "1.60.2"),
        ("oracle", "oci", "6.18.0"),
        ("hashicorp", "tls", "4.0.6"),
        ("hashicorp", "random", "3.6.3"),
    ]
    .iter()
    .map(|(ns, ty, v)| {
        format!(
            "providers/registry.opentofu.org/{ns}/{ty}/terraform-provider-{ty}_{v}_linux_amd64.zip"
        )
    })
    .collect();
    assert_eq!(
        providers,
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        "each provider once, shared ones included"
    );
    let paths: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    let unique: BTreeSet<&str> = paths.iter().copied().collect();
    assert_eq!(paths.len(), unique.len(), "no file twice in the manifest");
    let images = std::fs::read_to_string(out.join("images.txt")).unwrap();
    for c in catalog.components() {
        for i in &c.images {
            assert!(images.lines().any(|l| l == i), "{i}");
        }
    }
    assert!(
        run(Command::new(BIN).args(["airgap", "verify"]).arg(&out))
            .status
            .success()
    );
}

// ---- openova airgap pin ----------------------------------------------------------------------

/// An input table for `pin` on the stand-in: every upstream URL there, the k3s entries checked
/// against `sha256sum-<arch>.txt` files the stand-in publishes, the Cilium chart against a Helm
/// `index.yaml` (and already pinned, correctly), the installer and the Flux manifest with no
/// published checksum. Every sha256 but Cilium's is empty. Returns the table file, the table
/// and each entry's content.
fn pin_input(standin: &StandIn, dir: &Path) -> (PathBuf, ArtifactTable, BTreeMap<String, Vec<u8>>) {
    use openova::airgap::artifacts::ChecksumKind;
    let mut table = ArtifactTable::builtin().unwrap();
    let mut bodies = BTreeMap::new();
    let mut sums: BTreeMap<String, String> = BTreeMap::new();
    let mut st = standin.state.lock().unwrap();
    for a in &mut table.artifacts {
        let size = if a.name.starts_with("k3s-images") {
            2 * 1024 * 1024
        } else {
            64 * 1024
        };
        let body = content(&format!("pin {}", a.name), size);
        let path = format!("/upstream/{}", a.path);
        a.upstream = format!("{}{path}", standin.base);
        a.sha256 = String::new();
        let file = a.upstream.rsplit('/').next().unwrap().to_owned();
        match a.name.as_str() {
            n if n.starts_with("k3s-binary") || n.starts_with("k3s-images") => {
                let arch = if n.ends_with("arm64") {
                    "arm64"
                } else {
                    "amd64"
                };
                let list = format!("/upstream/k3s/sha256sum-{arch}.txt");
                a.checksum_kind = ChecksumKind::Sha256sum;
                a.checksum_url = format!("{}{list}", standin.base);
                // Like k3s's lists: other files of the release around the one asked for.
                let line = format!("{}  {file}\n{}  {file}.sig\n", sha(&body), sha(b"other"));
                sums.entry(list).or_default().push_str(&line);
            }
            "cilium-chart" => {
                a.checksum_kind = ChecksumKind::HelmIndex;
                a.checksum_url = format!("{}/upstream/charts/index.yaml", standin.base);
                a.sha256 = sha(&body);
                let index = format!(
                    "apiVersion: v1\nentries:\n  cilium:\n  - name: cilium\n    version: {v}\n    digest: {}\n    urls:\n    - {}\n  - name: cilium\n    version: 1.16.4\n    digest: {}\n    urls:\n    - cilium-1.16.4.tgz\ngenerated: \"2024-12-19T00:00:00Z\"\n",
                    sha(&body),
                    a.upstream,
                    sha(b"older"),
                    v = a.version,
                );
                st.files
                    .insert("/upstream/charts/index.yaml".into(), index.into_bytes());
            }
            _ => {
                a.checksum_kind = ChecksumKind::None;
                a.checksum_url = String::new();
            }
        }
        bodies.insert(a.name.clone(), body.clone());
        st.files.insert(path, body);
    }
    for (path, text) in sums {
        st.files.insert(path, text.into_bytes());
    }
    drop(st);
    let file = dir.join("input.json");
    std::fs::write(&file, serde_json::to_string_pretty(&table).unwrap()).unwrap();
    (file, table, bodies)
}

fn pin_cmd(table: &Path, out: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["airgap", "pin", "--out"])
        .arg(out)
        .arg("--table")
        .arg(table)
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn pin_writes_a_complete_table_that_the_bundle_accepts() {
    let standin = StandIn::start();
    let tmp = tempfile::tempdir().unwrap();
    let (input, table, bodies) = pin_input(&standin, tmp.path());
    assert!(table.check_pinned().is_err(), "the input is not pinned");
    let out = tmp.path().join("site").join("artifacts.json");

    let o = run(&mut pin_cmd(&input, &out));
    assert!(o.status.success(), "{}", text(&o));
    let report = String::from_utf8_lossy(&o.stdout).into_owned();

    let pinned = ArtifactTable::parse(&std::fs::read_to_string(&out).unwrap()).unwrap();
    pinned.check_pinned().unwrap();
    for a in &pinned.artifacts {
        assert_eq!(a.sha256, sha(&bodies[&a.name]), "{}", a.name);
        assert_eq!(a.upstream, table.get(&a.name).unwrap().upstream);
    }
    // How each value was established, said plainly.
    let line = |name: &str| {
        report
            .lines()
            .find(|l| l.starts_with(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no line for {name}: {report}"))
            .to_owned()
    };
    for name in ["k3s-binary-amd64", "k3s-images-arm64"] {
        let a = table.get(name).unwrap();
        assert!(
            line(name).contains(&format!("cross-checked against {}", a.checksum_url)),
            "{report}"
        );
    }
    assert!(line("cilium-chart").contains("already pinned"), "{report}");
    assert!(
        line("cilium-chart").contains("/upstream/charts/index.yaml agree"),
        "{report}"
    );
    for name in ["k3s-install", "flux-install"] {
        assert!(
            line(name).contains("COMPUTED from the download, not cross-checked"),
            "{report}"
        );
        assert!(
            pinned
                .get(name)
                .unwrap()
                .sha256_source
                .contains(openova::airgap::pin::COMPUTED_NOTE),
            "{name}"
        );
    }
    assert!(
        report.contains("review before use: k3s-install, flux-install were computed"),
        "{report}"
    );
    assert!(report.contains("[airgap] artifact_table = \""), "{report}");
    assert!(
        report.contains(&format!(
            "openova airgap bundle --out DIR --table {}",
            out.display()
        )),
        "{report}"
    );
    // Each checksum list fetched once, each file once.
    let reqs: Vec<String> = standin.requests().into_iter().map(|r| r.path).collect();
    for list in [
        "/upstream/k3s/sha256sum-amd64.txt",
        "/upstream/charts/index.yaml",
    ] {
        assert_eq!(reqs.iter().filter(|p| *p == list).count(), 1, "{reqs:?}");
    }
    assert_eq!(reqs.len(), 2 + 1 + table.artifacts.len(), "{reqs:?}");
    assert!(!tmp.path().join("site/artifacts.json.tmp").exists());

    // An existing --out is kept unless --force; pinning the pinned table again checks every
    // value against upstream once more.
    let again = run(&mut pin_cmd(&out, &out));
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(text(&again).contains("--force"), "{}", text(&again));
    let forced = run(pin_cmd(&out, &out).arg("--force").arg("--quiet"));
    assert!(forced.status.success(), "{}", text(&forced));
    assert!(String::from_utf8_lossy(&forced.stderr).is_empty());
    let report = String::from_utf8_lossy(&forced.stdout);
    assert_eq!(report.matches("already pinned").count(), 7, "{report}");
    assert!(!report.contains("review before use"), "{report}");
    assert_eq!(
        ArtifactTable::parse(&std::fs::read_to_string(&out).unwrap()).unwrap(),
        pinned,
        "re-pinning changes nothing"
    );

    // The bundle takes the pinned table and verifies every node file against it.
    let config = default_config(tmp.path());
    let bundle = tmp.path().join("bundle");
    let b = run(&mut bundle_cmd(&standin, &out, &config, &bundle));
    assert!(b.status.success(), "{}", text(&b));
    for a in &pinned.artifacts {
        assert_eq!(
            std::fs::read(bundle.join(&a.path)).unwrap(),
            bodies[&a.name]
        );
    }
    let carried =
        ArtifactTable::parse(&std::fs::read_to_string(bundle.join("artifacts.json")).unwrap())
            .unwrap();
    assert_eq!(carried, pinned, "the bundle carries the pinned table");
}

#[test]
fn pin_refuses_a_download_unlike_the_published_checksum_and_writes_nothing() {
    let standin = StandIn::start();
    let tmp = tempfile::tempdir().unwrap();
    let (input, table, bodies) = pin_input(&standin, tmp.path());
    let victim = table.get("k3s-binary-arm64").unwrap();
    standin
        .state
        .lock()
        .unwrap()
        .tampered
        .insert(format!("/upstream/{}", victim.path));
    let out = tmp.path().join("pinned.json");

    let o = run(&mut pin_cmd(&input, &out));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let msg = text(&o);
    let mut tampered = bodies[&victim.name].clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0x01;
    assert!(
        msg.contains(&format!(
            "k3s-binary-arm64: refused: the sha256 of the download from {} is {}, but the checksum published at {} is {}; nothing was written",
            victim.upstream,
            sha(&tampered),
            victim.checksum_url,
            sha(&bodies[&victim.name])
        )),
        "{msg}"
    );
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "only the input"
    );

    // A list that does not name the file is no cross-check either.
    let list = "/upstream/k3s/sha256sum-arm64.txt";
    standin
        .state
        .lock()
        .unwrap()
        .files
        .insert(list.into(), b"".to_vec());
    let o = run(&mut pin_cmd(&input, &out));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "k3s-binary-arm64: the checksum published at {}{list} cannot be used: no line for k3s-arm64",
            standin.base
        )),
        "{}",
        text(&o)
    );
    assert!(!out.exists());
}

#[test]
fn pin_refuses_a_wrong_sha256_already_in_the_table() {
    let standin = StandIn::start();
    let tmp = tempfile::tempdir().unwrap();
    let (_, mut table, bodies) = pin_input(&standin, tmp.path());
    let out = tmp.path().join("pinned.json");
    let wrong = "0".repeat(64);

    // Pinned, with nothing published to check against: the download decides.
    let flux = table
        .artifacts
        .iter_mut()
        .find(|a| a.name == "flux-install")
        .unwrap();
    flux.sha256 = wrong.clone();
    let flux_upstream = flux.upstream.clone();
    let input = tmp.path().join("flux.json");
    std::fs::write(&input, serde_json::to_string_pretty(&table).unwrap()).unwrap();
    let o = run(&mut pin_cmd(&input, &out));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "flux-install: refused: the sha256 of the download from {flux_upstream} is {}, but the sha256 pinned in the table is {wrong}; nothing was written",
            sha(&bodies["flux-install"])
        )),
        "{}",
        text(&o)
    );
    assert!(!out.exists());

    // Pinned against a published checksum that says otherwise: refused before the download.
    let flux = table
        .artifacts
        .iter_mut()
        .find(|a| a.name == "flux-install")
        .unwrap();
    flux.sha256 = String::new();
    let k3s = table
        .artifacts
        .iter_mut()
        .find(|a| a.name == "k3s-binary-amd64")
        .unwrap();
    k3s.sha256 = wrong.clone();
    let (k3s_path, k3s_list) = (format!("/upstream/{}", k3s.path), k3s.checksum_url.clone());
    let input = tmp.path().join("k3s.json");
    std::fs::write(&input, serde_json::to_string_pretty(&table).unwrap()).unwrap();
    standin.clear_requests();
    let o = run(&mut pin_cmd(&input, &out));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "k3s-binary-amd64: refused: the sha256 in the table is {wrong}, but the checksum published at {k3s_list} is {}",
            sha(&bodies["k3s-binary-amd64"])
        )),
        "{}",
        text(&o)
    );
    assert!(!standin.requests().iter().any(|r| r.path == k3s_path));
    assert!(!out.exists());
}

/// An HTTP CONNECT proxy on loopback that tunnels to the target and records each request line.
fn connect_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        for mut client in listener.incoming().flatten() {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                        break;
                    }
                }
                let line = line.trim_end().to_owned();
                s.lock().unwrap().push(line.clone());
                let target = line.split_whitespace().nth(1).unwrap_or_default();
                let mut upstream = TcpStream::connect(target).unwrap();
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .unwrap();
                let (mut down_from, mut down_to) =
                    (upstream.try_clone().unwrap(), client.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut down_from, &mut down_to);
                    let _ = down_to.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut client, &mut upstream);
            });
        }
    });
    (url, seen)
}

#[test]
fn pin_downloads_through_the_https_proxy_of_the_environment() {
    let standin = StandIn::start();
    let tmp = tempfile::tempdir().unwrap();
    let (input, _, _) = pin_input(&standin, tmp.path());
    let (proxy, seen) = connect_proxy();
    let out = tmp.path().join("pinned.json");
    let mut cmd = pin_cmd(&input, &out);
    for var in [
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(var);
    }
    let o = run(cmd.env("HTTPS_PROXY", &proxy));
    assert!(o.status.success(), "{}", text(&o));
    let tunnels = seen.lock().unwrap().clone();
    let target = standin.base.trim_start_matches("http://");
    assert!(
        tunnels
            .iter()
            .all(|l| l.starts_with(&format!("CONNECT {target} "))),
        "{tunnels:?}"
    );
    assert_eq!(
        tunnels.len(),
        standin.requests().len(),
        "every request went through the proxy: {tunnels:?}"
    );
}
