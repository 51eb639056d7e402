//! Developer tools that ship in no operator build: `openova playground` (a real API server, the
//! manager and the helm-controller stand-in on loopback, to try the console without a cloud
//! account) and the generator of docs/ (`openova docgen`).

pub mod docgen;
pub mod playground;
