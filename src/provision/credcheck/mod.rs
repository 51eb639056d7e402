//! Live credential checks: one read-only request per provider, authenticated the way that
//! provider's API requires (Hetzner Cloud: a bearer token; Huawei Cloud: AK/SK signing
//! `SDK-HMAC-SHA256`; OCI: an HTTP signature `rsa-sha256`), reported as one [`Outcome`] whose
//! message names what the operator can do about it.
//!
//! Every base URL can be replaced (a flag, a `platform.toml` field); `HTTPS_PROXY`,
//! `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` are honoured. No check is ever retried: five failed
//! Huawei signatures in a row lock the access key for five minutes.

pub mod huawei;
pub mod oci;

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::domain::naming::Provider;

/// Hetzner Cloud API base.
pub const HETZNER_API_URL: &str = "https://api.hetzner.cloud/v1";
/// Huawei Cloud's global IAM endpoint (the SDK's default).
pub const HUAWEI_IAM_URL: &str = "https://iam.myhuaweicloud.com";
/// The check waits at most this long for an answer unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Most bytes of an answer body read for its error code.
const BODY_LIMIT: u64 = 64 * 1024;

/// OCI's Identity endpoint of a region.
pub fn oci_identity_url(region: &str) -> String {
    format!("https://identity.{region}.oci.oraclecloud.com")
}

/// The flag and `platform.toml` field that replace a provider's check endpoint.
pub fn endpoint_option(provider: Provider) -> (&'static str, &'static str) {
    match provider {
        Provider::Hetzner => ("--hetzner-api-url", "endpoints.hetzner_api"),
        Provider::HuaweiCloud => ("--huawei-iam-url", "endpoints.huawei_iam"),
        Provider::Oci => ("--oci-identity-url", "endpoints.oci_identity"),
    }
}

/// A provider's credentials, resolved from their references.
pub enum Credentials {
    Hetzner {
        token: SecretString,
    },
    Huawei {
        access_key: SecretString,
        secret_key: SecretString,
        /// Huawei region id, e.g. `eu-west-101`: the IAM project looked up.
        region: String,
        /// When given, the project the region must resolve to.
        project_id: Option<String>,
    },
    Oci {
        tenancy_ocid: String,
        user_ocid: String,
        fingerprint: String,
        /// PEM text of the API signing key.
        private_key: SecretString,
        /// OCI region id, e.g. `eu-frankfurt-1`.
        region: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, values hidden)", self.provider().name())
    }
}

impl Credentials {
    pub fn provider(&self) -> Provider {
        match self {
            Credentials::Hetzner { .. } => Provider::Hetzner,
            Credentials::Huawei { .. } => Provider::HuaweiCloud,
            Credentials::Oci { .. } => Provider::Oci,
        }
    }

    /// The values that must never appear in anything the check reports.
    fn secrets(&self) -> Vec<&str> {
        match self {
            Credentials::Hetzner { token } => vec![token.expose_secret()],
            Credentials::Huawei {
                access_key,
                secret_key,
                ..
            } => vec![access_key.expose_secret(), secret_key.expose_secret()],
            Credentials::Oci { private_key, .. } => vec![private_key.expose_secret()],
        }
    }

    fn default_base(&self) -> String {
        match self {
            Credentials::Hetzner { .. } => HETZNER_API_URL.to_owned(),
            Credentials::Huawei { .. } => HUAWEI_IAM_URL.to_owned(),
            Credentials::Oci { region, .. } => oci_identity_url(region),
        }
    }
}

/// How the check reaches the internet.
#[derive(Debug, Clone, Default)]
pub enum ProxyChoice {
    /// `ALL_PROXY`/`HTTPS_PROXY`/`HTTP_PROXY` (and lower-case forms) with `NO_PROXY`.
    #[default]
    Environment,
    /// Never through a proxy.
    Direct,
    /// Through this proxy.
    Use(ureq::Proxy),
}

/// Where and how to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Replaces the provider's endpoint (`https://host[:port][/prefix]`).
    pub base_url: Option<String>,
    pub timeout: Duration,
    pub proxy: ProxyChoice,
    /// The signing time; now when `None`.
    pub now: Option<time::OffsetDateTime>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            base_url: None,
            timeout: DEFAULT_TIMEOUT,
            proxy: ProxyChoice::Environment,
            now: None,
        }
    }
}

/// What the provider said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The credentials work.
    Accepted { detail: String },
    /// 401: the provider did not accept the credentials (or the signature or the clock).
    Unauthorized { detail: String },
    /// 403: authenticated, but not allowed to read.
    Forbidden { detail: String },
    /// No answer in time.
    Timeout,
    /// The host name did not resolve.
    DnsFailure { host: String },
    /// No connection (refused, reset, TLS, proxy).
    Unreachable { reason: String },
    /// Any other HTTP status.
    Unexpected { status: u16, detail: String },
    /// The credentials are not well formed; nothing was sent.
    Invalid { message: String },
}

/// The outcome of one check, with what it concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub provider: Provider,
    /// The URL asked (no credentials in it).
    pub url: String,
    pub outcome: Outcome,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        matches!(self.outcome, Outcome::Accepted { .. })
    }

    /// Short result word: ok, 401, 403, timeout, dns, unreachable, http <status>, invalid.
    pub fn label(&self) -> String {
        match &self.outcome {
            Outcome::Accepted { .. } => "ok".into(),
            Outcome::Unauthorized { .. } => "401".into(),
            Outcome::Forbidden { .. } => "403".into(),
            Outcome::Timeout => "timeout".into(),
            Outcome::DnsFailure { .. } => "dns".into(),
            Outcome::Unreachable { .. } => "unreachable".into(),
            Outcome::Unexpected { status, .. } => format!("http {status}"),
            Outcome::Invalid { .. } => "invalid".into(),
        }
    }

    /// One paragraph for the operator, naming the options that apply.
    pub fn message(&self) -> String {
        let name = self.provider.name();
        let (flag, field) = endpoint_option(self.provider);
        let reach = format!(
            "Behind a proxy set HTTPS_PROXY (NO_PROXY lists hosts that bypass it); for another \
             endpoint pass {flag} URL or set {field} in platform.toml; at a site without internet \
             access skip the live check with --offline."
        );
        let fields = match self.provider {
            Provider::Hetzner => {
                "the API token (Hetzner console → project → Security → API tokens)"
            }
            Provider::HuaweiCloud => {
                "the access key ID and secret access key (My Credentials → Access Keys), and the \
                 machine's clock (signatures are time-bound)"
            }
            Provider::Oci => {
                "the tenancy OCID, user OCID, the fingerprint of the uploaded API key and that it \
                 matches the private key, and the machine's clock (more than 5 minutes off is \
                 rejected)"
            }
        };
        match &self.outcome {
            Outcome::Accepted { detail } => detail.clone(),
            Outcome::Unauthorized { detail } => format!(
                "{name} rejected the credentials (401{}): check {fields}.",
                detail_suffix(detail)
            ),
            Outcome::Forbidden { detail } => {
                let grant = match self.provider {
                    Provider::Hetzner => {
                        "use a token of the project that will hold the platform, with Read & Write permission"
                    }
                    Provider::HuaweiCloud => {
                        "grant the user IAM read permission (e.g. the IAM ReadOnlyAccess policy) or use another access key"
                    }
                    Provider::Oci => "grant the user a policy that allows reading its own user",
                };
                format!(
                    "{name} accepted the credentials but refused the read (403{}): {grant}.",
                    detail_suffix(detail)
                )
            }
            Outcome::Timeout => format!(
                "{name} did not answer at {} within the time limit. {reach}",
                self.url
            ),
            Outcome::DnsFailure { host } => {
                format!("{name} could not be reached: the name {host} does not resolve. {reach}")
            }
            Outcome::Unreachable { reason } => format!(
                "{name} could not be reached at {}: {reason}. {reach}",
                self.url
            ),
            Outcome::Unexpected { status, detail } => format!(
                "{name} answered {status} at {}{}; the credentials could not be confirmed.",
                self.url,
                detail_suffix(detail)
            ),
            Outcome::Invalid { message } => message.clone(),
        }
    }
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(", {detail}")
    }
}

/// Why a base URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{url:?} is not a base URL: write https://host[:port][/path] (plain http only for localhost)"
)]
pub struct BadBaseUrl {
    pub url: String,
}

/// A parsed base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    pub scheme: &'static str,
    /// `host[:port]` as written.
    pub authority: String,
    /// Path prefix without a trailing `/` (may be empty).
    pub prefix: String,
}

impl BaseUrl {
    pub fn parse(url: &str) -> Result<BaseUrl, BadBaseUrl> {
        let bad = || BadBaseUrl {
            url: url.to_owned(),
        };
        let (scheme, rest) = if let Some(r) = url.strip_prefix("https://") {
            ("https", r)
        } else if let Some(r) = url.strip_prefix("http://") {
            ("http", r)
        } else {
            return Err(bad());
        };
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let host = match authority.rsplit_once(':') {
            Some((h, p)) if p.parse::<u16>().is_ok_and(|n| n > 0) => h,
            Some(_) => return Err(bad()),
            None => authority,
        };
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        let loopback = host == "localhost" || host == "127.0.0.1";
        if !host_ok
            || (scheme == "http" && !loopback)
            || prefix.contains(['?', '#'])
            || url.chars().any(char::is_whitespace)
        {
            return Err(bad());
        }
        Ok(BaseUrl {
            scheme,
            authority: authority.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    fn host(&self) -> &str {
        self.authority
            .rsplit_once(':')
            .map_or(self.authority.as_str(), |(h, _)| h)
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}://{}{}", self.scheme, self.authority, path_and_query)
    }
}

/// Checks `creds` with one request. Blocking; run it off the UI thread.
pub fn check(creds: &Credentials, opts: &CheckOptions) -> CheckReport {
    let provider = creds.provider();
    let base_text = opts
        .base_url
        .clone()
        .unwrap_or_else(|| creds.default_base());
    let report = |url: String, outcome| CheckReport {
        provider,
        url,
        outcome,
    };
    let base = match BaseUrl::parse(&base_text) {
        Ok(b) => b,
        Err(e) => {
            return report(
                base_text,
                Outcome::Invalid {
                    message: e.to_string(),
                },
            );
        }
    };
    let now = opts.now.unwrap_or_else(time::OffsetDateTime::now_utc);
    let prepared = match prepare(creds, &base, now) {
        Ok(p) => p,
        Err(message) => {
            return report(base.url(&base.prefix), Outcome::Invalid { message });
        }
    };
    let url = base.url(&prepared.target);
    tracing::debug!(%url, provider = provider.code(), "checking provider credentials");
    let outcome = send(&url, &base, &prepared.headers, opts)
        .map(|(status, body)| {
            let detail = scrub(&error_detail(&body), &creds.secrets());
            interpret(creds, status, &body, detail)
        })
        .unwrap_or_else(|o| o);
    report(url, outcome)
}

/// The path-and-query to ask and the headers to send (values may be secret).
struct Prepared {
    target: String,
    headers: Vec<(&'static str, SecretString)>,
}

fn prepare(
    creds: &Credentials,
    base: &BaseUrl,
    now: time::OffsetDateTime,
) -> Result<Prepared, String> {
    match creds {
        Credentials::Hetzner { token } => {
            if token.expose_secret().trim().is_empty() {
                return Err("the Hetzner API token is empty".into());
            }
            Ok(Prepared {
                target: format!("{}/servers?per_page=1", base.prefix),
                headers: vec![(
                    "Authorization",
                    SecretString::from(format!("Bearer {}", token.expose_secret().trim())),
                )],
            })
        }
        Credentials::Huawei {
            access_key,
            secret_key,
            region,
            ..
        } => {
            if access_key.expose_secret().is_empty() || secret_key.expose_secret().is_empty() {
                return Err(
                    "the Huawei Cloud access key ID and secret access key are both needed".into(),
                );
            }
            let path = format!("{}/v3/projects", base.prefix);
            let query = [("name", region.as_str())];
            let date = huawei::sdk_date(now);
            let signed = [
                ("Host", base.authority.as_str()),
                (huawei::DATE_HEADER, date.as_str()),
            ];
            let auth = huawei::authorization(
                access_key,
                secret_key,
                &huawei::SignedRequest {
                    method: "GET",
                    path: &path,
                    query: &query,
                    headers: &signed,
                    body: b"",
                },
            );
            Ok(Prepared {
                target: format!("{path}?{}", huawei::canonical_query(&query)),
                headers: vec![
                    ("Host", SecretString::from(base.authority.clone())),
                    (huawei::DATE_HEADER, SecretString::from(date)),
                    ("Authorization", auth),
                ],
            })
        }
        Credentials::Oci {
            tenancy_ocid,
            user_ocid,
            fingerprint,
            private_key,
            ..
        } => {
            if !oci::is_ocid("tenancy", tenancy_ocid) {
                return Err(
                    "the OCI tenancy OCID is not of the form ocid1.tenancy.oc1..<id>".into(),
                );
            }
            if !oci::is_ocid("user", user_ocid) {
                return Err("the OCI user OCID is not of the form ocid1.user.oc1..<id>".into());
            }
            if !oci::is_fingerprint(fingerprint) {
                return Err(
                    "the OCI API key fingerprint must be 16 lower-case hex bytes separated by ':' \
                     (as the console shows it, e.g. 20:3b:97:…)"
                        .into(),
                );
            }
            let key = oci::ApiKey::from_pem(private_key).map_err(|e| e.to_string())?;
            let target = format!("{}/20160918/users/{user_ocid}", base.prefix);
            let date = oci::http_date(now);
            let auth = oci::authorization(
                &key,
                &oci::key_id(tenancy_ocid, user_ocid, fingerprint),
                &oci::SignedRequest {
                    method: "GET",
                    target: &target,
                    host: base.host(),
                    date: &date,
                    body: None,
                },
            );
            Ok(Prepared {
                target,
                headers: vec![
                    ("Host", SecretString::from(base.host().to_owned())),
                    ("Date", SecretString::from(date)),
                    ("Authorization", SecretString::from(auth)),
                ],
            })
        }
    }
}

fn agent(opts: &CheckOptions) -> ureq::Agent {
    let proxy = match &opts.proxy {
        ProxyChoice::Environment => ureq::Proxy::try_from_env(),
        ProxyChoice::Direct => None,
        ProxyChoice::Use(p) => Some(p.clone()),
    };
    ureq::Agent::config_builder()
        .timeout_global(Some(opts.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(proxy)
        .build()
        .into()
}

/// One GET; the status and at most [`BODY_LIMIT`] bytes of the body, or the transport outcome.
fn send(
    url: &str,
    base: &BaseUrl,
    headers: &[(&'static str, SecretString)],
    opts: &CheckOptions,
) -> Result<(u16, String), Outcome> {
    let mut req = agent(opts).get(url).header("Accept", "application/json");
    for (name, value) in headers {
        req = req.header(*name, value.expose_secret());
    }
    match req.call() {
        Ok(mut resp) => {
            let status = resp.status().as_u16();
            let body = resp
                .body_mut()
                .with_config()
                .limit(BODY_LIMIT)
                .read_to_string()
                .unwrap_or_default();
            Ok((status, body))
        }
        Err(e) => Err(transport_outcome(&e, base)),
    }
}

fn transport_outcome(e: &ureq::Error, base: &BaseUrl) -> Outcome {
    match e {
        ureq::Error::Timeout(_) => Outcome::Timeout,
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => Outcome::Timeout,
        ureq::Error::HostNotFound => Outcome::DnsFailure {
            host: base.host().to_owned(),
        },
        ureq::Error::Io(io) if io.to_string().contains("failed to lookup address") => {
            Outcome::DnsFailure {
                host: base.host().to_owned(),
            }
        }
        // ureq's error text names the host and the transport failure, never request headers.
        other => Outcome::Unreachable {
            reason: other.to_string(),
        },
    }
}

fn interpret(creds: &Credentials, status: u16, body: &str, detail: String) -> Outcome {
    let name = creds.provider().name();
    match (creds, status) {
        (Credentials::Hetzner { .. }, 200) => Outcome::Accepted {
            detail: "token accepted by the Hetzner Cloud API".into(),
        },
        (
            Credentials::Huawei {
                region, project_id, ..
            },
            200,
        ) => {
            let projects: Vec<(String, String)> = serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("projects").and_then(|p| p.as_array()).cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.get("id")?.as_str()?.to_owned(),
                        p.get("name")?.as_str()?.to_owned(),
                    ))
                })
                .collect();
            match (projects.first(), project_id) {
                (None, _) => Outcome::Accepted {
                    detail: format!(
                        "access key accepted by Huawei Cloud IAM, but no project named {region} is \
                         visible: check the region, or that the region is enabled for the account"
                    ),
                },
                (Some((id, _)), Some(want)) if !projects.iter().any(|(i, _)| i == want) => {
                    Outcome::Invalid {
                        message: format!(
                            "access key accepted by Huawei Cloud IAM, but project {want} is not the \
                             project of {region} ({id}): correct huawei.project_id in platform.toml \
                             or leave it out"
                        ),
                    }
                }
                (Some((id, _)), _) => Outcome::Accepted {
                    detail: format!(
                        "access key accepted by Huawei Cloud IAM; project {id} serves {region}"
                    ),
                },
            }
        }
        (Credentials::Oci { .. }, 200) => Outcome::Accepted {
            detail: "API key accepted by the OCI Identity service".into(),
        },
        // NotAuthorizedOrNotFound: the signature was accepted; policy hides the user.
        (Credentials::Oci { .. }, 404) => Outcome::Accepted {
            detail: format!(
                "API key accepted by the OCI Identity service (the user itself is not readable: {})",
                if detail.is_empty() { "404" } else { &detail }
            ),
        },
        (_, 401) => Outcome::Unauthorized { detail },
        (_, 403) => Outcome::Forbidden { detail },
        (_, s) => {
            tracing::debug!(
                provider = name,
                status = s,
                "unexpected credential check answer"
            );
            Outcome::Unexpected { status: s, detail }
        }
    }
}

/// The provider's error code and message from an error body, at most 200 characters.
fn error_detail(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        return String::new();
    };
    let field = |v: &serde_json::Value, keys: &[&str]| {
        keys.iter()
            .find_map(|k| v.get(*k).and_then(|x| x.as_str()).map(str::to_owned))
    };
    // Hetzner nests {"error":{"code","message"}}; Huawei uses error_code/error_msg; OCI code/message.
    let inner = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
    let code = field(inner, &["code", "error_code"]);
    let msg = field(inner, &["message", "error_msg"]);
    let text = match (code, msg) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c,
        (None, Some(m)) => m,
        (None, None) => String::new(),
    };
    let clean: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    clean
}

/// Replaces any secret value that a server echoed back.
fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(*s, "[redacted]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_parse_or_say_how_to_write_them() {
        let b = BaseUrl::parse("https://iam.myhuaweicloud.com").unwrap();
        assert_eq!(
            (b.scheme, b.authority.as_str(), b.prefix.as_str()),
            ("https", "iam.myhuaweicloud.com", "")
        );
        let b = BaseUrl::parse("http://127.0.0.1:8080/v1/").unwrap();
        assert_eq!(
            (b.authority.as_str(), b.prefix.as_str(), b.host()),
            ("127.0.0.1:8080", "/v1", "127.0.0.1")
        );
        for bad in [
            "ftp://x",
            "http://example.com",
            "https://",
            "https://a b",
            "https://h:0",
            "https://h/p?q",
        ] {
            let e = BaseUrl::parse(bad).unwrap_err();
            assert!(
                e.to_string().contains("https://host[:port][/path]"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn error_details_come_from_each_providers_error_shape() {
        assert_eq!(
            error_detail(r#"{"error":{"code":"unauthorized","message":"unable to authenticate"}}"#),
            "unauthorized: unable to authenticate"
        );
        assert_eq!(
            error_detail(
                r#"{"error_msg":"Incorrect IAM authentication information: verify aksk signature fail","error_code":"APIGW.0301","request_id":"x"}"#
            ),
            "APIGW.0301: Incorrect IAM authentication information: verify aksk signature fail"
        );
        assert_eq!(
            error_detail(
                r#"{"code":"NotAuthenticated","message":"The required information to complete authentication was not provided."}"#
            ),
            "NotAuthenticated: The required information to complete authentication was not provided."
        );
        assert_eq!(error_detail("<html>"), "");
        assert_eq!(
            scrub("token abcd1234 echoed", &["abcd1234"]),
            "token [redacted] echoed"
        );
    }

    #[test]
    fn malformed_credentials_are_reported_without_a_request() {
        let creds = Credentials::Oci {
            tenancy_ocid: "ocid1.tenancy.oc1..aaaa".into(),
            user_ocid: "ocid1.user.oc1..bbbb".into(),
            fingerprint: "20:3b".into(),
            private_key: SecretString::from("x"),
            region: "eu-frankfurt-1".into(),
        };
        let opts = CheckOptions {
            // Nothing listens there; an attempted request would be Unreachable, not Invalid.
            base_url: Some("http://127.0.0.1:9".into()),
            ..CheckOptions::default()
        };
        let r = check(&creds, &opts);
        assert!(matches!(r.outcome, Outcome::Invalid { .. }), "{r:?}");
        assert!(r.message().contains("fingerprint"), "{}", r.message());
    }
}
