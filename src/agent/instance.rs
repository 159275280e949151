//! One agent per sub-agent id: two agents with the same configuration
//! would each send every sample, and their collectors would count it twice
//! under the same agent address and sub-agent id. A second agent refuses
//! to start (and a reload to another sub-agent id already in use is
//! refused) unless it is configured as a different sub-agent.

use crate::sys::InstanceLock;

/// The lock of a sub-agent: an abstract socket name, per network
/// namespace (see [`InstanceLock`]).
pub fn lock_name(sub_agent_id: u32) -> String {
    format!("wsflowd/sub-agent/{sub_agent_id}")
}

/// Takes the lock of `sub_agent_id`, or says why not.
pub fn acquire(sub_agent_id: u32) -> Result<InstanceLock, String> {
    let name = lock_name(sub_agent_id);
    match InstanceLock::acquire(&name) {
        Ok(Some(lock)) => Ok(lock),
        Ok(None) => Err(format!(
            "another wsflowd already runs as sub-agent {sub_agent_id} in this network \
             namespace (it holds the abstract socket @{name}; 'ss -xp' shows its process): \
             collectors would receive every sample twice under the same agent address and \
             sub-agent id; stop it, or give this agent another sub_agent_id"
        )),
        Err(e) => Err(format!("cannot take the lock @{name}: {e}")),
    }
}
