//! `openova airgap serve`: the bundle as plain static files over HTTP, for nodes that reach the
//! bastion. Read-only (GET and HEAD), no directory listings, nothing outside the bundle, one log
//! line per request. Integrity does not rest on the transport: every node file is checked
//! against its pinned sha256 by the node itself.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use http_body_util::{BodyExt as _, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpListener;

type Body = BoxBody<Bytes, std::io::Error>;

/// One line per request: time, peer, method, path, status, bytes.
pub type RequestLog = Arc<dyn Fn(&str) + Send + Sync>;

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut resp = Response::new(
        Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *resp.status_mut() = status;
    resp
}

/// The file below `root` that URL path `path` names, or `None` for anything that could leave
/// the directory (`..`, absolute segments, encoded separators) or is not a plain file.
pub fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(path.strip_prefix('/')?)?;
    if decoded.is_empty() || decoded.contains('\\') || decoded.contains('\0') {
        return None;
    }
    let rel = Path::new(&decoded);
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let full = root.join(rel);
    // Symbolic links could point anywhere; a bundle holds none.
    let meta = std::fs::symlink_metadata(&full).ok()?;
    meta.is_file().then_some(full)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            let b = u8::from_str_radix(hex, 16).ok()?;
            if b == b'/' {
                return None;
            }
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn respond(root: &Path, req: &Request<Incoming>) -> (Response<Body>, u64) {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "read-only: GET and HEAD only\n",
        );
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET, HEAD"),
        );
        return (r, 0);
    }
    let Some(path) = resolve(root, req.uri().path()) else {
        return (text(StatusCode::NOT_FOUND, "not found\n"), 0);
    };
    let Ok(file) = tokio::fs::File::open(&path).await else {
        return (text(StatusCode::NOT_FOUND, "not found\n"), 0);
    };
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let body: Body = if req.method() == Method::HEAD {
        Full::new(Bytes::new())
            .map_err(|never| match never {})
            .boxed()
    } else {
        let chunks = futures::stream::unfold(Some(file), |state| async move {
            let mut file = state?;
            let mut buf = vec![0u8; 64 * 1024];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Frame::data(Bytes::from(buf))), Some(file)))
                }
                Err(e) => Some((Err(e), None)),
            }
        });
        StreamBody::new(chunks).boxed()
    };
    let mut resp = Response::new(body);
    let headers = resp.headers_mut();
    if let Ok(v) = hyper::header::HeaderValue::from_str(&len.to_string()) {
        headers.insert(hyper::header::CONTENT_LENGTH, v);
    }
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/octet-stream"),
    );
    (resp, len)
}

/// Binds `addr` and returns the bound address and the serving future, which logs every request
/// through `log`.
pub async fn serve(
    root: PathBuf,
    addr: SocketAddr,
    log: RequestLog,
) -> std::io::Result<(SocketAddr, impl std::future::Future<Output = ()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let root = Arc::new(root);
    let fut = async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                continue;
            };
            let root = root.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let root = root.clone();
                    let log = log.clone();
                    async move {
                        let (resp, len) = respond(&root, &req).await;
                        let now = time::OffsetDateTime::now_utc()
                            .format(&time::format_description::well_known::Rfc3339)
                            .unwrap_or_default();
                        log(&format!(
                            "{now} {} {} {} {} {}",
                            peer.ip(),
                            req.method(),
                            req.uri().path(),
                            resp.status().as_u16(),
                            if resp.status() == StatusCode::OK {
                                len
                            } else {
                                0
                            }
                        ));
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    };
    Ok((local, fut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_stays_inside_the_bundle() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("k3s")).unwrap();
        std::fs::write(dir.path().join("k3s/k3s"), b"bin").unwrap();
        std::fs::write(dir.path().join("a b"), b"x").unwrap();
        assert!(resolve(dir.path(), "/k3s/k3s").is_some());
        assert!(resolve(dir.path(), "/a%20b").is_some());
        for bad in [
            "/",
            "/k3s",
            "/../etc/passwd",
            "/k3s/../../x",
            "/k3s%2Fk3s",
            "//etc/passwd",
            "/%2e%2e/x",
            "k3s/k3s",
        ] {
            assert!(resolve(dir.path(), bad).is_none(), "{bad}");
        }
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link")).unwrap();
        assert!(resolve(dir.path(), "/link").is_none());
    }
}
