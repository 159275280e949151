//! DNS, as much as DNS-SD needs: the wire format of messages
//! ([`message`]: a total, zero-copy parser of untrusted bytes, and the
//! query), the system's resolver configuration ([`resolv`]), and a
//! non-blocking lookup of SRV and TXT records for the event loop
//! ([`client`]). No thread, no libc resolver: `getaddrinfo` cannot look up
//! SRV records, and `res_search` blocks.

pub mod client;
pub mod message;
pub mod resolv;
