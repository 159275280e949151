//! DNS, as much as the agent needs: the wire format of messages
//! ([`message`]: a total, zero-copy parser of untrusted bytes, and the
//! query), the system's resolver configuration ([`resolv`]), a
//! non-blocking lookup of SRV and TXT records (DNS-SD) or of A and AAAA
//! records for the event loop ([`client`]), and a host name's address
//! from /etc/hosts and that lookup ([`host`]: collectors' names). No
//! thread, no libc resolver: `getaddrinfo` cannot look up SRV records,
//! blocks, and would add ~36 KB to a mips binary; `res_search` blocks.

pub mod client;
pub mod host;
pub mod message;
pub mod resolv;
