//! The pure core: naming, platform configuration, catalog model, dependency resolution, upgrade
//! planning and health roll-up. No I/O, no async, no terminal, no Kubernetes client.

pub mod alerts;
pub mod catalog;
pub mod health;
pub mod naming;
pub mod platform;
pub mod resolve;
pub mod uninstall;
pub mod upgrade;
pub mod window;
