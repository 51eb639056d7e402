//! Owns secrets (provider tokens, S3 keys, generated SSH private keys): the `SecretStore` trait,
//! a store backed by the Linux kernel keyring (keyutils) and an in-memory one, and the names of
//! keyring entries and of the `keyring:` references in platform.toml that point at them. There
//! is deliberately no file-backed store: if no keyring works, secrets stay in memory only.
//!
//! Naming, in one place: an entry is filed under the service [`SERVICE`] with a user name (the
//! *entry name*, e.g. `4f2a…/draft-7/provider_token`); a `keyring:` reference writes the service
//! first, `keyring:openova/4f2a…/draft-7/provider_token`. The wizard writes entries with
//! [`draft_entry`], exports references with [`reference_path`], and every reader (the wizard
//! starting a run, `openova bootstrap` headless) resolves a reference with [`get_referenced`].

use std::collections::HashMap;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};

/// The keyring service name every entry is filed under.
pub const SERVICE: &str = "openova";

/// The entry name of one of a draft's secrets: `<database instance>/draft-<id>/<secret>`. The
/// instance (the drafts database's id) keeps the entries of two databases on one host apart; an
/// empty instance leaves it out.
pub fn draft_entry(instance: &str, draft: i64, secret: &str) -> String {
    if instance.is_empty() {
        format!("draft-{draft}/{secret}")
    } else {
        format!("{instance}/draft-{draft}/{secret}")
    }
}

/// What [`run_entry`] files the key of a run's saved plans under.
pub const PLAN_KEY: &str = "plan-key";

/// The entry name of one of a run's own secrets, `run-<id>/<secret>`: the key its saved plans
/// are encrypted with ([`PLAN_KEY`]), which `openova bootstrap apply --plan` reads back.
pub fn run_entry(run: &str, secret: &str) -> String {
    format!("run-{run}/{secret}")
}

/// The OS keyring, unless `OPENOVA_KEYRING=off` keeps everything in memory (shared hosts,
/// tests); `None` also when no keyring works here.
pub fn keyring_unless_off() -> Option<KeyringStore> {
    if std::env::var("OPENOVA_KEYRING").is_ok_and(|v| v == "off") {
        return None;
    }
    KeyringStore::open()
}

/// The path a `keyring:` reference writes for an entry: the service, then the entry name.
pub fn reference_path(entry: &str) -> String {
    format!("{SERVICE}/{entry}")
}

/// The entry name a `keyring:` reference path points at: the path without its leading
/// `openova/`. A path without that prefix is read as the entry name itself.
pub fn entry_of_reference(path: &str) -> &str {
    path.strip_prefix(SERVICE)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(path)
}

/// The secret a `keyring:` reference path points at, from `store`; `None` when there is no such
/// entry (kernel keyring entries expire).
pub fn get_referenced(
    store: &dyn SecretStore,
    path: &str,
) -> Result<Option<SecretString>, SecretError> {
    store.get(entry_of_reference(path))
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Never carries the secret itself: only which entry and what the keyring said.
    #[error("keyring: cannot store `{name}`: {reason}")]
    Store { name: String, reason: String },
    #[error("keyring: cannot read `{name}`: {reason}")]
    Read { name: String, reason: String },
    #[error("keyring: cannot delete `{name}`: {reason}")]
    Delete { name: String, reason: String },
    #[error("the secret store's lock was poisoned by an earlier panic")]
    Poisoned,
}

/// Where secrets go, with a plain sentence for the operator about what is kept and for how long.
pub trait SecretStore: Send + Sync {
    fn put(&self, name: &str, value: &SecretString) -> Result<(), SecretError>;
    fn get(&self, name: &str) -> Result<Option<SecretString>, SecretError>;
    fn delete(&self, name: &str) -> Result<(), SecretError>;
    /// Short label: "OS keyring (kernel keyutils)" or "memory only".
    fn kind(&self) -> &'static str;
    /// What is kept where and for how long.
    fn explain(&self) -> &'static str;
}

/// A borrowed store is a store (a reader that must not own the wizard's memory copy).
impl<T: SecretStore + ?Sized> SecretStore for &T {
    fn put(&self, name: &str, value: &SecretString) -> Result<(), SecretError> {
        (**self).put(name, value)
    }
    fn get(&self, name: &str) -> Result<Option<SecretString>, SecretError> {
        (**self).get(name)
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        (**self).delete(name)
    }
    fn kind(&self) -> &'static str {
        (**self).kind()
    }
    fn explain(&self) -> &'static str {
        (**self).explain()
    }
}

/// Secrets held in this process only; gone when it exits.
#[derive(Default)]
pub struct MemoryStore {
    values: Mutex<HashMap<String, SecretString>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.values.lock().map(|v| v.len()).unwrap_or(0);
        write!(f, "MemoryStore({n} secrets, values hidden)")
    }
}

impl SecretStore for MemoryStore {
    fn put(&self, name: &str, value: &SecretString) -> Result<(), SecretError> {
        self.values
            .lock()
            .map_err(|_| SecretError::Poisoned)?
            .insert(name.to_string(), SecretString::from(value.expose_secret()));
        Ok(())
    }
    fn get(&self, name: &str) -> Result<Option<SecretString>, SecretError> {
        Ok(self
            .values
            .lock()
            .map_err(|_| SecretError::Poisoned)?
            .get(name)
            .map(|s| SecretString::from(s.expose_secret())))
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.values
            .lock()
            .map_err(|_| SecretError::Poisoned)?
            .remove(name);
        Ok(())
    }
    fn kind(&self) -> &'static str {
        "memory only"
    }
    fn explain(&self) -> &'static str {
        "Secrets stay in this process's memory only: nothing is written anywhere, and they must be \
         entered again after openova exits or the connection drops."
    }
}

/// The Linux kernel keyring through the keyring crate's keyutils backend, chosen explicitly
/// (there is no D-Bus Secret Service on a headless bastion).
#[derive(Debug)]
pub struct KeyringStore {
    _private: (),
}

/// `KEYCTL_JOIN_SESSION_KEYRING` from <linux/keyctl.h>. This is the one raw `libc` call of the
/// crate's own code: nix has no wrapper for the keyctl system call.
const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;

impl KeyringStore {
    /// Join a session keyring (an ssh login without PAM's pam_keyinit has none, and keyutils
    /// entries then vanish or fail), then prove the keyring works with a write/read/delete probe.
    /// `None` when no keyring is usable; the caller falls back to memory only and says so.
    pub fn open() -> Option<KeyringStore> {
        // SAFETY: keyctl(JOIN_SESSION_KEYRING, NULL) takes no pointers we own; a NULL name asks
        // the kernel for an anonymous session keyring. Failure is reported via the return value.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_keyctl,
                KEYCTL_JOIN_SESSION_KEYRING,
                std::ptr::null::<libc::c_char>(),
            )
        };
        if rc < 0 {
            tracing::info!("keyring: cannot join a session keyring; secrets stay in memory");
            return None;
        }
        let store = KeyringStore { _private: () };
        let probe = SecretString::from("probe");
        let name = format!("probe-{}", std::process::id());
        let ok = store.put(&name, &probe).is_ok()
            && store
                .get(&name)
                .ok()
                .flatten()
                .is_some_and(|v| v.expose_secret() == "probe");
        let _ = store.delete(&name);
        if ok {
            Some(store)
        } else {
            tracing::info!("keyring: keyutils probe failed; secrets stay in memory");
            None
        }
    }

    fn entry(name: &str) -> Result<keyring::Entry, keyring::Error> {
        let cred = keyring::keyutils::KeyutilsCredential::new_with_target(None, SERVICE, name)?;
        Ok(keyring::Entry::new_with_credential(Box::new(cred)))
    }
}

fn reason(e: &keyring::Error) -> String {
    // keyring errors describe the platform failure, never the password itself.
    e.to_string()
}

impl SecretStore for KeyringStore {
    fn put(&self, name: &str, value: &SecretString) -> Result<(), SecretError> {
        let err = |e: keyring::Error| SecretError::Store {
            name: name.into(),
            reason: reason(&e),
        };
        Self::entry(name)
            .map_err(err)?
            .set_password(value.expose_secret())
            .map_err(err)
    }
    fn get(&self, name: &str) -> Result<Option<SecretString>, SecretError> {
        let err = |e: keyring::Error| SecretError::Read {
            name: name.into(),
            reason: reason(&e),
        };
        match Self::entry(name).map_err(err)?.get_password() {
            Ok(v) => Ok(Some(SecretString::from(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        let err = |e: keyring::Error| SecretError::Delete {
            name: name.into(),
            reason: reason(&e),
        };
        match Self::entry(name).map_err(err)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(err(e)),
        }
    }
    fn kind(&self) -> &'static str {
        "OS keyring (kernel keyutils)"
    }
    fn explain(&self) -> &'static str {
        "Secrets go to the Linux kernel keyring (your persistent keyring): not to disk, lost on \
         reboot, and expired by the kernel after about three days without use. Drafts on disk \
         never contain them."
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_round_trip_and_delete() {
        let s = MemoryStore::new();
        s.put("draft-1/token", &SecretString::from("tok")).unwrap();
        assert_eq!(
            s.get("draft-1/token").unwrap().unwrap().expose_secret(),
            "tok"
        );
        s.delete("draft-1/token").unwrap();
        assert!(s.get("draft-1/token").unwrap().is_none());
    }

    #[test]
    fn a_reference_path_resolves_to_the_entry_it_was_made_from() {
        let entry = draft_entry("db-1", 7, "provider_token");
        assert_eq!(entry, "db-1/draft-7/provider_token");
        assert_eq!(
            reference_path(&entry),
            "openova/db-1/draft-7/provider_token"
        );
        assert_eq!(entry_of_reference(&reference_path(&entry)), entry);
        assert_eq!(draft_entry("", 7, "s3_secret_key"), "draft-7/s3_secret_key");
        // Without the service prefix the path is the entry name; `openovax/…` is not the prefix.
        assert_eq!(entry_of_reference("acme/s3"), "acme/s3");
        assert_eq!(entry_of_reference("openovax/s3"), "openovax/s3");

        let store = MemoryStore::new();
        store.put(&entry, &SecretString::from("tok")).unwrap();
        let got = get_referenced(&store, &reference_path(&entry)).unwrap();
        assert_eq!(got.unwrap().expose_secret(), "tok");
        assert!(
            get_referenced(&store, "openova/db-1/draft-8/provider_token")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn memory_store_debug_never_prints_values() {
        let s = MemoryStore::new();
        s.put("t", &SecretString::from("hunter2-secret")).unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
    }

    #[test]
    fn keyring_store_when_available_round_trips_or_is_absent() {
        // Containers often forbid keyctl; then `open` must say None rather than pretend.
        if let Some(k) = KeyringStore::open() {
            let name = format!("test-{}", std::process::id());
            k.put(&name, &SecretString::from("value")).unwrap();
            assert_eq!(k.get(&name).unwrap().unwrap().expose_secret(), "value");
            k.delete(&name).unwrap();
            assert!(k.get(&name).unwrap().is_none());
        }
    }
}
