//! openova: bootstrap wizard, day-2 console and Lifecycle Manager for the OpenOva platform.
//!
//! Layers (see docs/architecture.md): `domain` is pure; `store`, `secrets`, `provision`, `cluster`
//! are adapters that each own one outside thing; `tui`, `cmd`, `manager` are drivers.

pub mod airgap;
pub mod catalog;
pub mod cli;
pub mod cluster;
pub mod cmd;
pub mod crd;
pub mod domain;
pub mod manager;
pub mod paths;
pub mod provision;
pub mod secrets;
pub mod store;
pub mod telemetry;
pub mod testenv;
pub mod tui;
