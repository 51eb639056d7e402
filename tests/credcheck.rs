//! Live credential checks against loopback stand-ins of the providers' APIs. The stand-ins verify
//! each signature with their own code (canonical request, HMAC, RSA verification in
//! `support/signatures.rs`, not the signer's; the PTY journeys' stand-ins use it too), answer
//! 200/401/403 or never, and act as an HTTP CONNECT proxy.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench harness: a panic is a failure report

#[path = "support/signatures.rs"]
mod signatures;
use signatures::Request as _;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openova::domain::naming::Provider;
use openova::provision::credcheck::{self, CheckOptions, Credentials, Outcome, ProxyChoice};
use rsa::pkcs8::DecodePrivateKey;
use secrecy::SecretString;

const AK: &str = "HPUAPLANTEDACCESSKEY7Q";
const SK: &str = "planted-huawei-secret-key-3f9a1c7e5b2d8046aa";
const HZ_TOKEN: &str = "hcloud-planted-token-5f3a9c1e7b";
const TENANCY: &str =
    "ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq";
const USER: &str = "ocid1.user.oc1..aaaaaaaat5nvwcna5j6aqzjcaty5eqbb6qt2jvpkanghtgdaqedqw3rynjq";
const FINGERPRINT: &str = "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34";
const KEY_PEM: &str = include_str!("fixtures/oci-test-api-key.pem");

/// One request as the stand-in read it.
type Seen = signatures::Head;

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Seen> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.trim_end().splitn(3, ' ');
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        headers.push((n.trim().to_owned(), v.trim().to_owned()));
    }
    Some(Seen {
        method,
        target,
        headers,
    })
}

fn respond(stream: &mut TcpStream, status: u16, body: &str) {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Other",
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

type Handler = Arc<dyn Fn(&Seen) -> (u16, String) + Send + Sync>;

/// A loopback server answering with `handler`; when `proxy`, it first accepts `CONNECT`.
struct StandIn {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    connects: Arc<Mutex<Vec<String>>>,
}

impl StandIn {
    fn start(handler: Handler) -> StandIn {
        Self::start_with(handler, false)
    }

    fn start_with(handler: Handler, silent: bool) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connects = Arc::new(Mutex::new(Vec::new()));
        let (s, c) = (seen.clone(), connects.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let Some(mut req) = read_request(&mut reader) else {
                    continue;
                };
                if req.method == "CONNECT" {
                    c.lock().unwrap().push(req.target.clone());
                    let _ = write!(stream, "HTTP/1.1 200 Connection established\r\n\r\n");
                    let Some(inner) = read_request(&mut reader) else {
                        continue;
                    };
                    req = inner;
                }
                s.lock().unwrap().push(req.clone());
                if silent {
                    std::thread::sleep(Duration::from_secs(5));
                    continue;
                }
                let (status, body) = handler(&req);
                respond(&mut stream, status, &body);
            }
        });
        StandIn {
            port,
            seen,
            connects,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

// ---- Huawei: the stand-in's own SDK-HMAC-SHA256 verification ---------------------------------

fn huawei_stand_in(sk: &'static str) -> StandIn {
    StandIn::start(Arc::new(move |req| {
        match signatures::huawei_verify(req, sk) {
        Ok(ak) if ak == AK && req.target == "/v3/projects?name=eu-west-101" => (
            200,
            r#"{"projects":[{"id":"0a1b2c3d4e5f60718293a4b5c6d7e8f9","name":"eu-west-101"}]}"#.into(),
        ),
        Ok(_) => (
            401,
            r#"{"error_msg":"Get secretKey failed, ak not exist","error_code":"APIGW.0301"}"#.into(),
        ),
        Err(_) => (
            401,
            r#"{"error_msg":"Incorrect IAM authentication information: verify aksk signature fail","error_code":"APIGW.0301"}"#.into(),
        ),
    }
    }))
}

fn huawei_creds(sk: &str) -> Credentials {
    Credentials::Huawei {
        access_key: SecretString::from(AK),
        secret_key: SecretString::from(sk),
        region: "eu-west-101".into(),
        project_id: None,
    }
}

fn opts(base: &str) -> CheckOptions {
    CheckOptions {
        base_url: Some(base.to_owned()),
        timeout: Duration::from_secs(5),
        proxy: ProxyChoice::Direct,
        now: None,
    }
}

#[test]
fn huawei_signature_verified_by_the_stand_in() {
    let s = huawei_stand_in(SK);
    let r = credcheck::check(&huawei_creds(SK), &opts(&s.url()));
    assert!(r.ok(), "{r:?}");
    assert!(
        r.message().contains("0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
        "{}",
        r.message()
    );
    let seen = s.seen();
    assert_eq!(seen.len(), 1, "exactly one request, never retried");
    // The stand-in saw the signed host with its port, as the signer used it.
    assert_eq!(
        seen[0].header("Host"),
        Some(format!("127.0.0.1:{}", s.port).as_str())
    );
}

#[test]
fn huawei_wrong_secret_is_401_with_the_fields_named_and_no_secret() {
    let s = huawei_stand_in(SK);
    let wrong = "another-secret-key-that-is-not-right-0000";
    let r = credcheck::check(&huawei_creds(wrong), &opts(&s.url()));
    assert_eq!(r.label(), "401", "{r:?}");
    let m = r.message();
    assert!(
        m.contains("APIGW.0301") && m.contains("secret access key"),
        "{m}"
    );
    assert!(!m.contains(wrong) && !m.contains(AK), "{m}");
    assert_eq!(
        s.seen().len(),
        1,
        "a rejected key is not retried (Huawei locks it after five)"
    );
}

// ---- OCI: the stand-in's own HTTP-signature verification --------------------------------------

fn oci_stand_in(status_when_valid: u16) -> StandIn {
    let public = rsa::RsaPrivateKey::from_pkcs8_pem(KEY_PEM)
        .unwrap()
        .to_public_key();
    StandIn::start(Arc::new(move |req| {
        let want_key_id = format!("{TENANCY}/{USER}/{FINGERPRINT}");
        match signatures::oci_verify(req, &public) {
            Ok(k) if k == want_key_id && req.target == format!("/20160918/users/{USER}") => {
                if status_when_valid == 200 {
                    (200, format!(r#"{{"id":"{USER}","name":"ops"}}"#))
                } else {
                    (
                        status_when_valid,
                        r#"{"code":"NotAuthorizedOrNotFound","message":"Authorization failed or requested resource not found."}"#.into(),
                    )
                }
            }
            _ => (
                401,
                r#"{"code":"NotAuthenticated","message":"The required information to complete authentication was not provided or was incorrect."}"#.into(),
            ),
        }
    }))
}

fn oci_creds(key: &str, fingerprint: &str) -> Credentials {
    Credentials::Oci {
        tenancy_ocid: TENANCY.into(),
        user_ocid: USER.into(),
        fingerprint: fingerprint.into(),
        private_key: SecretString::from(key),
        region: "eu-frankfurt-1".into(),
    }
}

#[test]
fn oci_signature_verified_by_the_stand_in() {
    let s = oci_stand_in(200);
    let r = credcheck::check(&oci_creds(KEY_PEM, FINGERPRINT), &opts(&s.url()));
    assert!(r.ok(), "{r:?}");
    let seen = s.seen();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].header("Date").is_some_and(|d| d.ends_with(" GMT")));
    // A 404 NotAuthorizedOrNotFound means the signature was accepted.
    let s = oci_stand_in(404);
    let r = credcheck::check(&oci_creds(KEY_PEM, FINGERPRINT), &opts(&s.url()));
    assert!(r.ok(), "{r:?}");
}

#[test]
fn oci_wrong_fingerprint_is_401_naming_the_fields() {
    let s = oci_stand_in(200);
    let other = "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99";
    let r = credcheck::check(&oci_creds(KEY_PEM, other), &opts(&s.url()));
    assert_eq!(r.label(), "401", "{r:?}");
    let m = r.message();
    assert!(
        m.contains("NotAuthenticated") && m.contains("fingerprint") && m.contains("clock"),
        "{m}"
    );
    assert!(!m.contains("PRIVATE KEY"), "{m}");
}

#[test]
fn oci_pasted_public_key_is_refused_before_any_request() {
    let s = oci_stand_in(200);
    let r = credcheck::check(
        &oci_creds(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            FINGERPRINT,
        ),
        &opts(&s.url()),
    );
    assert_eq!(r.label(), "invalid", "{r:?}");
    assert!(
        r.message().contains("not the public key"),
        "{}",
        r.message()
    );
    assert!(s.seen().is_empty());
}

// ---- Hetzner, 403, timeout, DNS, unreachable, proxy -------------------------------------------

fn hetzner_stand_in(status: u16) -> StandIn {
    StandIn::start(Arc::new(move |req| {
        let ok = req.header("Authorization") == Some(&format!("Bearer {HZ_TOKEN}"));
        match (ok, status) {
            (false, _) => (
                401,
                r#"{"error":{"code":"unauthorized","message":"unable to authenticate"}}"#.into(),
            ),
            (true, 200) => (200, r#"{"servers":[]}"#.into()),
            (true, s) => (
                s,
                r#"{"error":{"code":"forbidden","message":"Insufficient permissions for this request"}}"#.into(),
            ),
        }
    }))
}

fn hz() -> Credentials {
    Credentials::Hetzner {
        token: SecretString::from(HZ_TOKEN),
    }
}

#[test]
fn hetzner_token_ok_and_403_names_the_permission() {
    let s = hetzner_stand_in(200);
    let r = credcheck::check(&hz(), &opts(&format!("{}/v1", s.url())));
    assert!(r.ok(), "{r:?}");
    assert_eq!(s.seen()[0].target, "/v1/servers?per_page=1");
    let s = hetzner_stand_in(403);
    let r = credcheck::check(&hz(), &opts(&s.url()));
    assert_eq!(r.label(), "403");
    assert!(r.message().contains("Read & Write"), "{}", r.message());
    assert!(!r.message().contains(HZ_TOKEN));
}

#[test]
fn a_silent_endpoint_is_a_timeout_naming_the_options() {
    let s = StandIn::start_with(Arc::new(|_| (200, String::new())), true);
    let mut o = opts(&s.url());
    o.timeout = Duration::from_millis(400);
    let r = credcheck::check(&huawei_creds(SK), &o);
    assert_eq!(r.label(), "timeout", "{r:?}");
    let m = r.message();
    for option in [
        "HTTPS_PROXY",
        "NO_PROXY",
        "--huawei-iam-url",
        "endpoints.huawei_iam",
        "--offline",
    ] {
        assert!(m.contains(option), "{option} missing: {m}");
    }
}

#[test]
fn an_unresolvable_host_is_a_dns_failure() {
    let r = credcheck::check(&hz(), &opts("https://api.openova-check.invalid/v1"));
    assert_eq!(r.label(), "dns", "{r:?}");
    assert!(
        r.message().contains("api.openova-check.invalid"),
        "{}",
        r.message()
    );
    assert!(r.message().contains("--hetzner-api-url"), "{}", r.message());
}

#[test]
fn a_closed_port_is_unreachable() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = credcheck::check(
        &oci_creds(KEY_PEM, FINGERPRINT),
        &opts(&format!("http://127.0.0.1:{port}")),
    );
    assert_eq!(r.label(), "unreachable", "{r:?}");
    assert!(
        r.message().contains("--oci-identity-url"),
        "{}",
        r.message()
    );
}

#[test]
fn the_check_goes_through_a_proxy_unless_no_proxy_matches() {
    let api = hetzner_stand_in(200);
    // The proxy stand-in tunnels: it accepts CONNECT and then answers as the API itself.
    let proxy = hetzner_stand_in(200);
    let via = ureq::Proxy::new(&format!("http://127.0.0.1:{}", proxy.port)).unwrap();
    let mut o = opts(&format!("http://localhost:{}", api.port));
    o.proxy = ProxyChoice::Use(via);
    let r = credcheck::check(&hz(), &o);
    assert!(r.ok(), "{r:?}");
    assert_eq!(
        proxy.connects.lock().unwrap().as_slice(),
        [format!("localhost:{}", api.port)]
    );
    assert!(api.seen().is_empty(), "the request went through the proxy");

    let bypass = ureq::Proxy::builder(ureq::ProxyProtocol::Http)
        .host("127.0.0.1")
        .port(proxy.port)
        .no_proxy("localhost")
        .build()
        .unwrap();
    o.proxy = ProxyChoice::Use(bypass);
    let r = credcheck::check(&hz(), &o);
    assert!(r.ok(), "{r:?}");
    assert_eq!(api.seen().len(), 1, "NO_PROXY sends the request directly");
    assert_eq!(proxy.connects.lock().unwrap().len(), 1);
}

#[test]
fn reports_name_their_provider() {
    let r = credcheck::check(&hz(), &opts("ftp://nowhere"));
    assert_eq!(r.provider, Provider::Hetzner);
    assert!(matches!(r.outcome, Outcome::Invalid { .. }));
    assert!(
        r.message().contains("https://host[:port][/path]"),
        "{}",
        r.message()
    );
}

// ---- `openova bootstrap check`: flags, config endpoints and proxy variables ---------------------

const OPENOVA: &str = env!("CARGO_BIN_EXE_openova");

fn check_cmd(dir: &std::path::Path, config_text: &str, args: &[&str]) -> std::process::Command {
    let config = dir.join("platform.toml");
    std::fs::write(&config, config_text).unwrap();
    let mut c = std::process::Command::new(OPENOVA);
    c.args(["bootstrap", "check", "--config", config.to_str().unwrap()])
        .args(args)
        .env("OPENOVA_STATE_DIR", dir.join("state"))
        .env("HCLOUD_TOKEN", HZ_TOKEN)
        .env_remove("OPENOVA_HETZNER_API_URL")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    c
}

#[test]
fn bootstrap_check_uses_the_flag_then_the_config_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let api = hetzner_stand_in(200);
    let example = openova::domain::platform::EXAMPLE_TOML;
    let out = check_cmd(
        dir.path(),
        example,
        &["--hetzner-api-url", &format!("{}/v1", api.url())],
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Hetzner Cloud credentials: ok"), "{stdout}");
    assert!(!stdout.contains(HZ_TOKEN));
    assert_eq!(api.seen().len(), 1);

    let with_endpoint = format!(
        "{example}\n[endpoints]\nhetzner_api = \"{}/v1\"\n",
        api.url()
    );
    let out = check_cmd(dir.path(), &with_endpoint, &[]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(api.seen().len(), 2);

    // A rejected token: exit 1, the result word and the fields to check.
    let rejected = hetzner_stand_in(200);
    let out = check_cmd(dir.path(), example, &["--hetzner-api-url", &rejected.url()])
        .env("HCLOUD_TOKEN", "another-token")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("credentials: 401") && stdout.contains("API token"),
        "{stdout}"
    );
}

#[test]
fn bootstrap_check_honours_https_proxy_and_no_proxy_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let api = hetzner_stand_in(200);
    let proxy = hetzner_stand_in(200);
    let example = openova::domain::platform::EXAMPLE_TOML;
    let url = format!("http://localhost:{}/v1", api.port);
    let out = check_cmd(dir.path(), example, &["--hetzner-api-url", &url])
        .env("HTTPS_PROXY", format!("http://127.0.0.1:{}", proxy.port))
        .env("HTTP_PROXY", format!("http://127.0.0.1:{}", proxy.port))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        proxy.connects.lock().unwrap().len(),
        1,
        "went through the proxy"
    );
    assert!(api.seen().is_empty());

    let out = check_cmd(dir.path(), example, &["--hetzner-api-url", &url])
        .env("HTTPS_PROXY", format!("http://127.0.0.1:{}", proxy.port))
        .env("HTTP_PROXY", format!("http://127.0.0.1:{}", proxy.port))
        .env("NO_PROXY", "localhost")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        proxy.connects.lock().unwrap().len(),
        1,
        "NO_PROXY bypassed the proxy"
    );
    assert_eq!(api.seen().len(), 1);
}
