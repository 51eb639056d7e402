//! Headless subcommands: thin drivers that parse arguments, call the domain and adapters, and
//! print for a terminal or a script.

pub mod bootstrap;
pub mod catalog;
pub mod config;
pub mod crds;
pub mod docgen;
pub mod man;
pub mod playground;
pub mod runs;
pub mod secrets;
