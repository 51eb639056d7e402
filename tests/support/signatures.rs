//! Signature verification written independently of the signers in `provision::credcheck`, for
//! the loopback stand-ins of the providers' APIs: Huawei Cloud's SDK-HMAC-SHA256 (canonical
//! request, string to sign, HMAC) and OCI's HTTP signature (rsa-sha256 over the signed headers).
#![allow(dead_code)]

use base64::Engine as _;
use hmac::{Hmac, Mac};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use sha2::{Digest, Sha256};

/// One request as a stand-in read it.
pub trait Request {
    fn method(&self) -> &str;
    /// Path and query as sent.
    fn target(&self) -> &str;
    /// A header's value, the name matched without regard to case.
    fn header(&self, name: &str) -> Option<&str>;
}

/// A request head as text (`GET /x HTTP/1.1` then `Name: value` lines).
#[derive(Debug, Clone)]
pub struct Head {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn parse(head: &str) -> Head {
        let mut lines = head.lines();
        let mut first = lines.next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_owned();
        let target = first.next().unwrap_or("").to_owned();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Head {
            method,
            target,
            headers,
        }
    }
}

impl Request for Head {
    fn method(&self) -> &str {
        &self.method
    }
    fn target(&self) -> &str {
        &self.target
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn unpct(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Recomputes the signature from what arrived; Err says which part is wrong.
pub fn huawei_verify(req: &dyn Request, sk: &str) -> Result<String, String> {
    let auth = req.header("Authorization").ok_or("no Authorization")?;
    let rest = auth
        .strip_prefix("SDK-HMAC-SHA256 ")
        .ok_or("wrong algorithm")?;
    let mut access = None;
    let mut signed = None;
    let mut sig = None;
    for part in rest.split(", ") {
        let (k, v) = part.split_once('=').ok_or("bad field")?;
        match k {
            "Access" => access = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => sig = Some(v),
            _ => return Err(format!("unknown field {k}")),
        }
    }
    let (access, signed, sig) = (
        access.ok_or("no Access")?,
        signed.ok_or("no SignedHeaders")?,
        sig.ok_or("no Signature")?,
    );
    if !signed.split(';').any(|h| h == "x-sdk-date") {
        return Err("x-sdk-date not signed".into());
    }
    let (path, query) = req.target().split_once('?').unwrap_or((req.target(), ""));
    let mut uri: String = path
        .split('/')
        .map(|seg| pct(&unpct(seg)))
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    let mut q: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct(&unpct(k)), pct(&unpct(v)))
        })
        .collect();
    q.sort();
    let q = q
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut canonical_headers = String::new();
    for name in signed.split(';') {
        let v = req
            .header(name)
            .ok_or_else(|| format!("signed header {name} not sent"))?;
        canonical_headers.push_str(&format!("{name}:{}\n", v.trim()));
    }
    let empty_hash = format!("{:x}", Sha256::digest(b""));
    let canonical = format!(
        "{}\n{uri}\n{q}\n{canonical_headers}\n{signed}\n{empty_hash}",
        req.method()
    );
    let date = req.header("X-Sdk-Date").ok_or("no X-Sdk-Date")?;
    let sts = format!(
        "SDK-HMAC-SHA256\n{date}\n{:x}",
        Sha256::digest(canonical.as_bytes())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(sk.as_bytes()).unwrap();
    mac.update(sts.as_bytes());
    let want: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if want != sig {
        return Err("signature mismatch".into());
    }
    Ok(access.to_owned())
}

// ---- OCI ----

pub fn oci_verify(req: &dyn Request, public: &rsa::RsaPublicKey) -> Result<String, String> {
    let auth = req.header("Authorization").ok_or("no Authorization")?;
    let rest = auth.strip_prefix("Signature ").ok_or("not a Signature")?;
    let mut params = std::collections::HashMap::new();
    for part in rest.split(',') {
        let (k, v) = part.split_once('=').ok_or("bad param")?;
        params.insert(k.trim(), v.trim().trim_matches('"'));
    }
    if params.get("version") != Some(&"1") || params.get("algorithm") != Some(&"rsa-sha256") {
        return Err("version or algorithm".into());
    }
    let headers = params.get("headers").ok_or("no headers")?;
    let names: Vec<&str> = headers.split(' ').collect();
    for required in ["date", "(request-target)", "host"] {
        if !names.contains(&required) {
            return Err(format!("{required} not signed"));
        }
    }
    let mut lines = Vec::new();
    for n in &names {
        let v = if *n == "(request-target)" {
            format!("{} {}", req.method().to_lowercase(), req.target())
        } else {
            req.header(n)
                .ok_or_else(|| format!("{n} not sent"))?
                .to_owned()
        };
        lines.push(format!("{n}: {v}"));
    }
    let sig = base64::engine::general_purpose::STANDARD
        .decode(params.get("signature").ok_or("no signature")?)
        .map_err(|_| "signature not base64")?;
    let sig = Signature::try_from(sig.as_slice()).map_err(|_| "signature shape")?;
    VerifyingKey::<Sha256>::new(public.clone())
        .verify(lines.join("\n").as_bytes(), &sig)
        .map_err(|_| "signature mismatch".to_owned())?;
    Ok(params.get("keyId").ok_or("no keyId")?.to_string())
}
