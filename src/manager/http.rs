//! The manager's HTTP endpoint: `/healthz` (process alive), `/readyz` (connected and electing),
//! `/metrics` (OpenMetrics text).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::Prerequisites;
use super::metrics::Metrics;

/// Three fixed GET paths, answered by a `match` on hyper directly: kept hand-written because a
/// router framework would add a dependency tree to the manager image for four lines.
fn respond(metrics: &Metrics, prerequisites: &Prerequisites, path: &str) -> Response<Full<Bytes>> {
    let problem = prerequisites.problem();
    let (status, ctype, body) = match path {
        "/healthz" => (StatusCode::OK, "text/plain", "ok\n".to_string()),
        "/readyz" if problem.is_some() => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            format!("not ready: {}\n", problem.unwrap_or_default()),
        ),
        "/readyz" if metrics.is_ready() => (StatusCode::OK, "text/plain", "ready\n".to_string()),
        "/readyz" => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "not ready\n".to_string(),
        ),
        "/metrics" => (
            StatusCode::OK,
            super::metrics::CONTENT_TYPE,
            metrics.render(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n".to_string(),
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(ctype) {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}

/// Bind `addr` and return the bound address and the serving future.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    prerequisites: Arc<Prerequisites>,
) -> std::io::Result<(SocketAddr, impl std::future::Future<Output = ()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let fut = async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let metrics = metrics.clone();
            let prerequisites = prerequisites.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let resp = respond(&metrics, &prerequisites, req.uri().path());
                    async move { Ok::<_, Infallible>(resp) }
                });
                if let Err(error) = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await
                {
                    tracing::debug!(%error, "HTTP connection ended with an error");
                }
            });
        }
    };
    Ok((local, fut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readyz_follows_readiness_and_unknown_paths_are_404() {
        let m = Metrics::default();
        let p = Prerequisites::default();
        assert_eq!(
            respond(&m, &p, "/readyz").status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        m.set_ready(true);
        assert_eq!(respond(&m, &p, "/readyz").status(), StatusCode::OK);
        assert_eq!(respond(&m, &p, "/healthz").status(), StatusCode::OK);
        assert_eq!(respond(&m, &p, "/nope").status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn readyz_missing_delivery_crds_is_not_ready_with_the_reason() {
        let m = Metrics::default();
        m.set_ready(true);
        let p = Prerequisites::default();
        p.set(vec![(
            crate::crd::DeliveryBackend::Flux,
            "DeliveryCRDsMissing: HelmRelease".to_string(),
        )]);
        let resp = respond(&m, &p, "/readyz");
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(&body[..], b"not ready: DeliveryCRDsMissing: HelmRelease\n");
    }
}
