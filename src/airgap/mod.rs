//! Air-gapped sites: the artifact table of the nodes' first boot, and the bundle a connected
//! machine builds for a site without egress (`openova airgap pin|bundle|verify|serve`).
//!
//! A bundle is a plain directory, laid out so that it can be served as is (by `openova airgap
//! serve`, an object-storage bucket or any static web server) as the artifact source of
//! `platform.toml` `[airgap] artifacts`:
//!
//! ```text
//! k3s/<version>/...              node artifacts, at the table's `path`
//! charts/cilium-<v>.tgz, flux/   (the same table)
//! components/<chart>-<v>.tgz     wrapper charts of the selected components (OCI chart layer)
//! providers/<host>/<ns>/<type>/  OpenTofu providers, packed provider-mirror layout
//! images.txt                     every container image the platform runs, one per line
//! artifacts.json                 the pinned artifact table the node files were checked against
//! manifest.json                  every file above with its size and sha256
//! README.md                      how to carry it in
//! ```

pub mod artifacts;
pub mod bundle;
pub mod pin;
pub mod serve;

pub use bundle::{BundleError, BundleOptions, Manifest, ManifestFile, bundle, verify};
