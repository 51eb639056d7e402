//! Air-gapped sites: the artifact table of the nodes' first boot.

pub mod artifacts;
