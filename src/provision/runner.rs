//! Running the `tofu` executable.
