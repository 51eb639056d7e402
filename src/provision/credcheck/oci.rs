//! OCI API request signing: HTTP Signatures (draft-cavage-08, "version 1") with `rsa-sha256`,
//! as OCI's "Request Signatures" page and its Go SDK specify it. GET, HEAD and DELETE sign
//! `date (request-target) host`; POST, PUT and PATCH also `content-length content-type
//! x-content-sha256` (the body's SHA-256 in base64).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The smallest API signing key OCI accepts.
pub const MIN_KEY_BITS: usize = 2048;

/// Why a PEM text is not a usable OCI API signing key. Never carries the key text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the API private key is not a PEM private key: expected a block starting with \
         -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY----- (the key you generated \
         for the API key, not the public key)"
    )]
    NotPem,
    #[error(
        "the API private key is encrypted with a passphrase; openova needs it unencrypted \
         (openssl rsa -in key.pem -out plain.pem) and keeps it only in the keyring"
    )]
    Encrypted,
    #[error("the API private key could not be read as an RSA key: {0}")]
    Unreadable(String),
    #[error(
        "the API private key has {bits} bits; OCI requires an RSA key of at least {MIN_KEY_BITS} bits"
    )]
    TooShort { bits: usize },
}

/// An RSA signing key read from PEM (PKCS#1 or PKCS#8).
pub struct ApiKey {
    key: RsaPrivateKey,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({} bits, value hidden)", self.bits())
    }
}

impl ApiKey {
    /// Reads and validates a key for real use (at least [`MIN_KEY_BITS`]).
    pub fn from_pem(pem: &SecretString) -> Result<ApiKey, KeyError> {
        let key = Self::from_pem_any_size(pem)?;
        let bits = key.bits();
        if bits < MIN_KEY_BITS {
            return Err(KeyError::TooShort { bits });
        }
        Ok(key)
    }

    /// Reads a key of any size (the SDK's published test vectors use a 1024-bit key).
    pub fn from_pem_any_size(pem: &SecretString) -> Result<ApiKey, KeyError> {
        let text = pem.expose_secret().trim();
        if text.contains("ENCRYPTED") {
            return Err(KeyError::Encrypted);
        }
        let key = if text.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            RsaPrivateKey::from_pkcs1_pem(text).map_err(|e| KeyError::Unreadable(e.to_string()))?
        } else if text.starts_with("-----BEGIN PRIVATE KEY-----") {
            RsaPrivateKey::from_pkcs8_pem(text).map_err(|e| KeyError::Unreadable(e.to_string()))?
        } else {
            return Err(KeyError::NotPem);
        };
        Ok(ApiKey { key })
    }

    pub fn bits(&self) -> usize {
        self.key.size() * 8
    }

    pub fn public_key(&self) -> RsaPublicKey {
        self.key.to_public_key()
    }

    /// Base64 RSASSA-PKCS1-v1_5 signature over SHA-256 of `message`.
    pub fn sign(&self, message: &str) -> String {
        let signer = SigningKey::<Sha256>::new(self.key.clone());
        BASE64.encode(signer.sign(message.as_bytes()).to_bytes())
    }
}

/// `keyId`: `<tenancy OCID>/<user OCID>/<fingerprint>`.
pub fn key_id(tenancy: &str, user: &str, fingerprint: &str) -> String {
    format!("{tenancy}/{user}/{fingerprint}")
}

/// Base64 SHA-256 of a body, the value of `x-content-sha256`.
pub fn content_sha256(body: &[u8]) -> String {
    BASE64.encode(Sha256::digest(body))
}

/// One request as the signer sees it: `target` is the path and query exactly as sent.
#[derive(Debug, Clone)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub target: &'a str,
    pub host: &'a str,
    pub date: &'a str,
    /// `(content-type, body)` for POST, PUT and PATCH.
    pub body: Option<(&'a str, &'a [u8])>,
}

impl SignedRequest<'_> {
    /// The signed header names in order, and their `name: value` lines.
    fn lines(&self) -> (Vec<&'static str>, Vec<String>) {
        let mut names = vec!["date", "(request-target)", "host"];
        let mut lines = vec![
            format!("date: {}", self.date),
            format!(
                "(request-target): {} {}",
                self.method.to_ascii_lowercase(),
                self.target
            ),
            format!("host: {}", self.host),
        ];
        let method = self.method.to_ascii_uppercase();
        if matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
            let (ctype, body) = self.body.unwrap_or(("application/json", b""));
            names.extend(["content-length", "content-type", "x-content-sha256"]);
            lines.push(format!("content-length: {}", body.len()));
            lines.push(format!("content-type: {ctype}"));
            lines.push(format!("x-content-sha256: {}", content_sha256(body)));
        }
        (names, lines)
    }

    /// The signing string: one `name: value` line per signed header, no trailing newline.
    pub fn signing_string(&self) -> String {
        self.lines().1.join("\n")
    }

    /// The signed header list, as in the `headers` parameter.
    pub fn header_list(&self) -> String {
        self.lines().0.join(" ")
    }
}

/// The `Authorization` header value.
pub fn authorization(key: &ApiKey, key_id: &str, req: &SignedRequest<'_>) -> String {
    format!(
        "Signature version=\"1\",headers=\"{}\",keyId=\"{key_id}\",algorithm=\"rsa-sha256\",signature=\"{}\"",
        req.header_list(),
        key.sign(&req.signing_string())
    )
}

/// An RFC 1123 GMT date, e.g. `Thu, 05 Jan 2014 21:31:40 GMT`.
pub fn http_date(now: time::OffsetDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = now.to_offset(time::UtcOffset::UTC);
    let day = DAYS[usize::from(t.weekday().number_days_from_monday())];
    let month = MONTHS[usize::from(u8::from(t.month()) - 1)];
    format!(
        "{day}, {:02} {month} {:04} {:02}:{:02}:{:02} GMT",
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Whether `s` is an OCI API key fingerprint: 16 lower-case hex bytes separated by `:`.
pub fn is_fingerprint(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 16
        && parts.iter().all(|p| {
            p.len() == 2
                && p.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

pub use crate::domain::platform::is_ocid;

/// A PEM block rebuilt from text whose line breaks were lost or changed (a paste into a
/// one-line field): the base64 body re-wrapped at 64 characters between its BEGIN and END
/// lines. `None` when the text is not one PEM block; a block with headers (an encrypted
/// PKCS#1 key) comes back unchanged so [`ApiKey::from_pem`] can say what it is.
pub fn normalize_pem(text: &str) -> Option<String> {
    let text = text.trim();
    let (label, rest) = text.strip_prefix("-----BEGIN ")?.split_once("-----")?;
    let end = format!("-----END {label}-----");
    let (body, tail) = rest.split_once(&end)?;
    if !tail.trim().is_empty() {
        return None;
    }
    if body.contains(':') {
        return Some(text.to_owned());
    }
    let b64: Vec<char> = body.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.chunks(64) {
        out.extend(line);
        out.push('\n');
    }
    out.push_str(&end);
    out.push('\n');
    Some(out)
}

/// The published 1024-bit test key of OCI's Go SDK (`common/http_signer_test.go`).
#[cfg(test)]
pub(crate) const SDK_TEST_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----
MIICXgIBAAKBgQDCFENGw33yGihy92pDjZQhl0C36rPJj+CvfSC8+q28hxA161QF
NUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6Z4UMR7EOcpfdUE9Hf3m/hs+F
UR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJwoYi+1hqp1fIekaxsyQIDAQAB
AoGBAJR8ZkCUvx5kzv+utdl7T5MnordT1TvoXXJGXK7ZZ+UuvMNUCdN2QPc4sBiA
QWvLw1cSKt5DsKZ8UETpYPy8pPYnnDEz2dDYiaew9+xEpubyeW2oH4Zx71wqBtOK
kqwrXa/pzdpiucRRjk6vE6YY7EBBs/g7uanVpGibOVAEsqH1AkEA7DkjVH28WDUg
f1nqvfn2Kj6CT7nIcE3jGJsZZ7zlZmBmHFDONMLUrXR/Zm3pR5m0tCmBqa5RK95u
412jt1dPIwJBANJT3v8pnkth48bQo/fKel6uEYyboRtA5/uHuHkZ6FQF7OUkGogc
mSJluOdc5t6hI1VsLn0QZEjQZMEOWr+wKSMCQQCC4kXJEsHAve77oP6HtG/IiEn7
kpyUXRNvFsDE0czpJJBvL/aRFUJxuRK91jhjC68sA7NsKMGg5OXb5I5Jj36xAkEA
gIT7aFOYBFwGgQAQkWNKLvySgKbAZRTeLBacpHMuQdl1DfdntvAyqpAZ0lY0RKmW
G6aFKaqQfOXKCyWoUiVknQJAXrlgySFci/2ueKlIE1QqIiLSZ8V8OlpFLRnb1pzI
7U1yQXnTAEFYM560yJlzUpOb1V4cScGd365tiSMvxLOvTA==
-----END RSA PRIVATE KEY-----";

#[cfg(test)]
mod tests {
    use super::*;

    const TENANCY: &str =
        "ocid1.tenancy.oc1..aaaaaaaaba3pv6wkcr4jqae5f15p2b2m2yt2j6rx32uzr4h25vqstifsfdsq";
    const USER: &str =
        "ocid1.user.oc1..aaaaaaaat5nvwcna5j6aqzjcaty5eqbb6qt2jvpkanghtgdaqedqw3rynjq";
    const FINGERPRINT: &str = "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34";
    const DATE: &str = "Thu, 05 Jan 2014 21:31:40 GMT";
    const HOST: &str = "iaas.us-phoenix-1.oraclecloud.com";

    fn key() -> ApiKey {
        ApiKey::from_pem_any_size(&SecretString::from(SDK_TEST_KEY)).unwrap()
    }

    #[test]
    fn get_vector_from_the_sdk_tests() {
        let target = "/20160918/instances?availabilityDomain=Pjwf%3A%20PHX-AD-1&\
            compartmentId=ocid1.compartment.oc1..aaaaaaaam3we6vgnherjq5q2idnccdflvjsnog7mlr6rtdb25gilchfeyjxa\
            &displayName=TeamXInstances&volumeId=ocid1.volume.oc1.phx.abyhqljrgvttnlx73nmrwfaux7kcvzfs3s66izvxf2h4lgvyndsdsnoiwr5q";
        let req = SignedRequest {
            method: "GET",
            target,
            host: HOST,
            date: DATE,
            body: None,
        };
        assert_eq!(
            req.signing_string(),
            format!("date: {DATE}\n(request-target): get {target}\nhost: {HOST}")
        );
        let expected = "GBas7grhyrhSKHP6AVIj/h5/Vp8bd/peM79H9Wv8kjoaCivujVXlpbKLjMPeDUhxkFIWtTtLBj3sUzaFj34XE6YZAHc9r2DmE4pMwOAy/kiITcZxa1oHPOeRheC0jP2dqbTll8fmTZVwKZOKHYPtrLJIJQHJjNvxFWeHQjMaR7M=";
        assert_eq!(key().sign(&req.signing_string()), expected);
        let auth = authorization(&key(), &key_id(TENANCY, USER, FINGERPRINT), &req);
        assert_eq!(
            auth,
            format!(
                "Signature version=\"1\",headers=\"date (request-target) host\",keyId=\"{TENANCY}/{USER}/{FINGERPRINT}\",algorithm=\"rsa-sha256\",signature=\"{expected}\""
            )
        );
    }

    #[test]
    fn post_vector_from_the_sdk_tests() {
        let body = "{\n    \"compartmentId\": \"ocid1.compartment.oc1..aaaaaaaam3we6vgnherjq5q2idnccdflvjsnog7mlr6rtdb25gilchfeyjxa\",\n    \"instanceId\": \"ocid1.instance.oc1.phx.abuw4ljrlsfiqw6vzzxb43vyypt4pkodawglp3wqxjqofakrwvou52gb6s5a\",\n    \"volumeId\": \"ocid1.volume.oc1.phx.abyhqljrgvttnlx73nmrwfaux7kcvzfs3s66izvxf2h4lgvyndsdsnoiwr5q\"\n}";
        assert_eq!(body.len(), 316);
        let req = SignedRequest {
            method: "POST",
            target: "/20160918/volumeAttachments",
            host: HOST,
            date: DATE,
            body: Some(("application/json", body.as_bytes())),
        };
        assert_eq!(
            req.signing_string(),
            format!(
                "date: {DATE}\n(request-target): post /20160918/volumeAttachments\nhost: {HOST}\n\
                 content-length: 316\ncontent-type: application/json\n\
                 x-content-sha256: V9Z20UJTvkvpJ50flBzKE32+6m2zJjweHpDMX/U4Uy0="
            )
        );
        assert_eq!(
            req.header_list(),
            "date (request-target) host content-length content-type x-content-sha256"
        );
        assert_eq!(
            key().sign(&req.signing_string()),
            "Mje8vIDPlwIHmD/cTDwRxE7HaAvBg16JnVcsuqaNRim23fFPgQfLoOOxae6WqKb1uPjYEl0qIdazWaBy/Ml8DRhqlocMwoSXv0fbukP8J5N80LCmzT/FFBvIvTB91XuXI3hYfP9Zt1l7S6ieVadHUfqBedWH0itrtPJBgKmrWso="
        );
    }

    #[test]
    fn key_validation_names_the_problem() {
        let bad = |s: &str| ApiKey::from_pem(&SecretString::from(s)).unwrap_err();
        assert_eq!(bad("hello"), KeyError::NotPem);
        assert_eq!(
            bad("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----"),
            KeyError::Encrypted
        );
        assert!(matches!(
            bad("-----BEGIN RSA PRIVATE KEY-----\nnot base64\n-----END RSA PRIVATE KEY-----"),
            KeyError::Unreadable(_)
        ));
        assert_eq!(bad(SDK_TEST_KEY), KeyError::TooShort { bits: 1024 });
        let msg = bad(SDK_TEST_KEY).to_string();
        assert!(!msg.contains("MIIC"), "{msg}");
    }

    #[test]
    fn a_pem_pasted_on_one_line_is_rewrapped_and_reads() {
        let flat: String = SDK_TEST_KEY.chars().filter(|c| *c != '\n').collect();
        let pem = normalize_pem(&flat).expect("one PEM block");
        assert_eq!(pem.trim_end(), SDK_TEST_KEY.trim_end());
        assert!(ApiKey::from_pem_any_size(&SecretString::from(pem)).is_ok());
        assert_eq!(normalize_pem("/home/ops/.oci/key.pem"), None);
        assert_eq!(
            normalize_pem("-----BEGIN PRIVATE KEY-----AAAA-----END PRIVATE KEY----- x"),
            None
        );
        let encrypted = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----";
        assert_eq!(normalize_pem(encrypted).as_deref(), Some(encrypted));
    }

    #[test]
    fn dates_fingerprints_and_ocids() {
        // The SDK's vector date names the wrong weekday (5 January 2014 was a Sunday).
        let t = time::macros::datetime!(2014-01-02 21:31:40 UTC);
        assert_eq!(http_date(t), "Thu, 02 Jan 2014 21:31:40 GMT");
        let t = time::macros::datetime!(2026-12-04 03:05:09 +01:00);
        assert_eq!(http_date(t), "Fri, 04 Dec 2026 02:05:09 GMT");
        assert!(is_fingerprint(FINGERPRINT));
        assert!(!is_fingerprint(
            "20:3B:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34"
        ));
        assert!(!is_fingerprint("20:3b:97"));
        assert!(is_ocid("tenancy", TENANCY));
        assert!(is_ocid("user", USER));
        assert!(!is_ocid("user", TENANCY));
        assert!(!is_ocid("tenancy", "ocid1.tenancy.oc1..UPPER"));
    }
}
