//! Terminal UI: runtime shared by the wizard and the console.

pub mod bootstrap;
pub mod manage;
