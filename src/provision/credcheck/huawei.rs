//! Huawei Cloud AK/SK request signing, algorithm `SDK-HMAC-SHA256` (Huawei's API request signing
//! guide and the Go SDK's signer): a canonical request of six lines, its SHA-256 in a string to
//! sign, and an HMAC-SHA256 keyed with the secret key. Unlike AWS there is no key derivation.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The algorithm name, first word of the `Authorization` header and of the string to sign.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The header carrying the signing time, `YYYYMMDDTHHMMSSZ` in UTC.
pub const DATE_HEADER: &str = "X-Sdk-Date";

/// One request as the signer sees it. `path` is the unencoded path; `query` the unencoded
/// pairs; `headers` the headers to sign (names in any case), exactly as they will be sent.
#[derive(Debug, Clone)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// Percent-encoding of the scheme: `A-Z a-z 0-9 - _ . ~` stay, every other byte is `%XX`
/// with upper-case hex.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The path with each segment encoded and a `/` appended when it does not end with one.
pub fn canonical_uri(path: &str) -> String {
    let mut out = path.split('/').map(encode).collect::<Vec<_>>().join("/");
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// Keys in byte order, the values of a repeated key sorted, each pair encoded as `k=v`.
pub fn canonical_query(query: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> =
        query.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Lower-case names, sorted, joined by `;`.
pub fn signed_headers(headers: &[(&str, &str)]) -> String {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    names.sort();
    names.join(";")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The six-line canonical request.
pub fn canonical_request(req: &SignedRequest<'_>) -> String {
    let mut headers: Vec<(String, &str)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim()))
        .collect();
    headers.sort();
    let block: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let payload = req
        .headers
        .iter()
        .find(|(n, v)| n.eq_ignore_ascii_case("x-sdk-content-sha256") && *v == "UNSIGNED-PAYLOAD")
        .map_or_else(
            || hex(&Sha256::digest(req.body)),
            |_| "UNSIGNED-PAYLOAD".to_owned(),
        );
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method.to_ascii_uppercase(),
        canonical_uri(req.path),
        canonical_query(req.query),
        block,
        signed_headers(req.headers),
        payload
    )
}

/// `SDK-HMAC-SHA256\n<date>\n<hex sha256 of the canonical request>`.
pub fn string_to_sign(date: &str, canonical: &str) -> String {
    format!("{ALGORITHM}\n{date}\n{}", hex(&Sha256::digest(canonical)))
}

/// Lower-case hex HMAC-SHA256 of the string to sign, keyed with the secret key's bytes.
pub fn signature(secret_key: &SecretString, string_to_sign: &str) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    match Hmac::<Sha256>::new_from_slice(secret_key.expose_secret().as_bytes()) {
        Ok(mut mac) => {
            mac.update(string_to_sign.as_bytes());
            hex(&mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// The `Authorization` header value for `req`, whose headers must include [`DATE_HEADER`].
/// Secret because a replay within the clock window would be accepted.
pub fn authorization(
    access_key: &SecretString,
    secret_key: &SecretString,
    req: &SignedRequest<'_>,
) -> SecretString {
    let date = req
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(DATE_HEADER))
        .map_or("", |(_, v)| *v);
    let sts = string_to_sign(date, &canonical_request(req));
    SecretString::from(format!(
        "{ALGORITHM} Access={}, SignedHeaders={}, Signature={}",
        access_key.expose_secret(),
        signed_headers(req.headers),
        signature(secret_key, &sts)
    ))
}

/// The current time as `X-Sdk-Date` wants it.
pub fn sdk_date(now: time::OffsetDateTime) -> String {
    let t = now.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vector A: the example of Huawei's signing guide.
    #[test]
    fn guide_example_vector() {
        let headers = [
            ("Content-Type", "application/json"),
            ("Host", "service.region.example.com"),
            ("X-Sdk-Date", "20191115T033655Z"),
        ];
        let req = SignedRequest {
            method: "GET",
            path: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
            query: &[
                ("marker", "13551d6b-755d-4757-b956-536f674975c0"),
                ("limit", "2"),
            ],
            headers: &headers,
            body: b"",
        };
        let canonical = canonical_request(&req);
        assert_eq!(
            canonical,
            "GET\n/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\n\
             limit=2&marker=13551d6b-755d-4757-b956-536f674975c0\n\
             content-type:application/json\nhost:service.region.example.com\nx-sdk-date:20191115T033655Z\n\n\
             content-type;host;x-sdk-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&Sha256::digest(&canonical)),
            "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
        );
        let auth = authorization(
            &SecretString::from("QTWAOYTTINDUT2QVKYUC"),
            &SecretString::from("MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"),
            &req,
        );
        assert_eq!(
            auth.expose_secret(),
            "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, \
             Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
        );
    }

    /// Vector B: the Go SDK's `TestSigner_Sign` case 1.
    #[test]
    fn sdk_unit_test_vector() {
        let headers = [("X-Sdk-Date", "20060102T150405Z")];
        let req = SignedRequest {
            method: "GET",
            path: "/path",
            query: &[("limit", "1")],
            headers: &headers,
            body: b"",
        };
        let canonical = canonical_request(&req);
        assert_eq!(
            canonical,
            "GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&Sha256::digest(&canonical)),
            "85c3b7730f308aee452b16138a42a914397e43a8f0d732dfa521c0ef2afa98a4"
        );
        let sts = string_to_sign("20060102T150405Z", &canonical);
        assert_eq!(
            signature(&SecretString::from("SecretKey"), &sts),
            "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
        );
    }

    #[test]
    fn encoding_keeps_unreserved_and_encodes_the_rest_upper_case() {
        assert_eq!(encode("aZ09-_.~"), "aZ09-_.~");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
        assert_eq!(encode("é"), "%C3%A9");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/v3/projects"), "/v3/projects/");
        assert_eq!(canonical_query(&[]), "");
        assert_eq!(
            canonical_query(&[("b", "2"), ("a", "z"), ("a", "y")]),
            "a=y&a=z&b=2"
        );
    }

    #[test]
    fn sdk_date_is_utc_compact() {
        let t = time::macros::datetime!(2019-11-15 03:36:55 UTC);
        assert_eq!(sdk_date(t), "20191115T033655Z");
        let t = time::macros::datetime!(2019-11-15 05:36:55 +02:00);
        assert_eq!(sdk_date(t), "20191115T033655Z");
    }
}
