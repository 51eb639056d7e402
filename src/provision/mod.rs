//! Provisioning with OpenTofu: embedded modules, per-run workspaces, the runner, its events and
//! the hand-over to the new cluster.

pub mod credcheck;
pub mod events;
pub mod follow;
pub mod handover;
pub mod launch;
pub mod modules;
pub mod plan;
pub mod runner;
pub mod secrets_pipe;
pub mod supervisor;
pub mod tfvars;
