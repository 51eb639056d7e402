//! openova: bootstrap wizard, day-2 console and Lifecycle Manager for the OpenOva platform.
//!
//! Layers (see docs/architecture.md): `domain` is pure; `store`, `secrets`, `provision`, `cluster`
//! are adapters that each own one outside thing; `tui`, `cmd`, `manager` are drivers; `cli`
//! wires them. Developer tools (`devtools`, `testenv`, the helm-controller stand-in, the console
//! fixtures) exist only with the `dev-tools` feature, which tests and benches turn on.

pub mod airgap;
pub mod catalog;
pub mod cli;
pub mod cluster;
pub mod cmd;
pub mod crd;
pub mod deploy;
#[cfg(feature = "dev-tools")]
pub mod devtools;
pub mod domain;
pub mod manager;
pub mod paths;
pub mod provision;
pub mod secrets;
pub mod store;
pub mod telemetry;
#[cfg(feature = "dev-tools")]
pub mod testenv;
pub mod timefmt;
pub mod tui;
