//! One agent per network namespace.

use std::io;

/// Proof that this process is the only agent of its kind in this network
/// namespace: an abstract Unix socket bound under a name, which the kernel
/// gives to one socket at a time and frees when the process ends, however
/// it ends (no stale lock file, nothing to clean up, nothing to write:
/// the daemon runs in a jail without a writable /var/run). Abstract names
/// belong to the network namespace, as the interfaces an agent samples do.
#[derive(Debug)]
pub struct InstanceLock {
    _socket: std::os::unix::net::UnixDatagram,
    name: String,
}

impl InstanceLock {
    /// Takes `name`; `Ok(None)` when another process holds it.
    pub fn acquire(name: &str) -> io::Result<Option<InstanceLock>> {
        use std::os::linux::net::SocketAddrExt;
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
        match std::os::unix::net::UnixDatagram::bind_addr(&address) {
            Ok(socket) => Ok(Some(InstanceLock {
                _socket: socket,
                name: name.to_owned(),
            })),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The abstract socket name (shown by `ss -xlp` as `@name`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_lock_is_held_once_and_freed_with_its_owner() {
        let name = format!("wsflowd-test-lock-{}", std::process::id());
        let held = InstanceLock::acquire(&name).unwrap().expect("free");
        assert_eq!(held.name(), name);
        assert!(InstanceLock::acquire(&name).unwrap().is_none(), "taken");
        drop(held);
        assert!(InstanceLock::acquire(&name).unwrap().is_some(), "freed");
    }
}
