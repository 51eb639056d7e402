//! Owns secrets (provider tokens, S3 keys, generated SSH private keys): the `SecretStore` trait,
//! a store backed by the Linux kernel keyring (keyutils) and an in-memory one. There is
//! deliberately no file-backed store: if no keyring works, secrets stay in memory only.

use std::collections::HashMap;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};

/// The keyring service name every entry is filed under.
pub const SERVICE: &str = "openova";

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

/// `KEYCTL_JOIN_SESSION_KEYRING` from <linux/keyctl.h>.
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
