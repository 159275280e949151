//! The sFlow version 5 datagram.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::list::List;
use super::sample::Sample;
use super::xdr::{DecodeError, DecodeErrorKind, EncodeError, Reader, Writer};
use super::{Decode, Encode, Visitor};

/// The only datagram version this crate speaks.
pub const VERSION: u32 = 5;

/// The agent address of a datagram; `None` is address type 0 (unknown).
pub type AgentAddress = Option<IpAddr>;

/// A `sample_datagram_v5`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Datagram<'a> {
    pub agent_address: AgentAddress,
    pub sub_agent_id: u32,
    pub sequence_number: u32,
    /// Milliseconds since the agent started.
    pub uptime: u32,
    pub samples: List<'a, Sample<'a>>,
}

/// Size of the datagram header up to and including the sample count.
pub(crate) fn header_len(agent: AgentAddress) -> usize {
    let address = match agent {
        None => 0,
        Some(IpAddr::V4(_)) => 4,
        Some(IpAddr::V6(_)) => 16,
    };
    4 + 4 + address + 4 + 4 + 4 + 4
}

/// Writes the datagram header, ending with the sample count.
pub(crate) fn encode_header(
    w: &mut Writer,
    agent: AgentAddress,
    sub_agent_id: u32,
    sequence_number: u32,
    uptime: u32,
    samples: u32,
) -> Result<(), EncodeError> {
    w.u32(VERSION)?;
    match agent {
        None => w.u32(0)?,
        Some(IpAddr::V4(a)) => {
            w.u32(1)?;
            w.fixed(&a.octets())?;
        }
        Some(IpAddr::V6(a)) => {
            w.u32(2)?;
            w.fixed(&a.octets())?;
        }
    }
    w.u32(sub_agent_id)?;
    w.u32(sequence_number)?;
    w.u32(uptime)?;
    w.u32(samples)
}

impl<'a> Datagram<'a> {
    /// Decodes a datagram. Samples are framed (each one's extent checked)
    /// here and decoded as [`Datagram::samples`] is iterated.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.u32("version")?;
        if version != VERSION {
            return Err(DecodeError {
                offset: 0,
                field: "version",
                kind: DecodeErrorKind::Version(version),
            });
        }
        let at = r;
        let agent_address = match r.u32("agent_address.type")? {
            0 => None,
            1 => Some(IpAddr::V4(Ipv4Addr::from(r.array::<4>("agent_address")?))),
            2 => Some(IpAddr::V6(Ipv6Addr::from(r.array::<16>("agent_address")?))),
            t => return Err(at.error("agent_address.type", DecodeErrorKind::AddressType(t))),
        };
        let datagram = Datagram {
            agent_address,
            sub_agent_id: r.u32("sub_agent_id")?,
            sequence_number: r.u32("sequence_number")?,
            uptime: r.u32("uptime")?,
            samples: List::decode(&mut r)?,
        };
        if !r.is_empty() {
            return Err(r.error(
                "samples",
                DecodeErrorKind::Invalid("bytes after the last sample"),
            ));
        }
        Ok(datagram)
    }

    /// Visits the header fields (not the samples).
    pub fn visit_header(&self, v: &mut dyn Visitor) {
        v.address("agent", self.agent_address);
        v.u32("sub_agent_id", self.sub_agent_id);
        v.u32("datagram_sequence_number", self.sequence_number);
        v.u32("uptime", self.uptime);
    }
}

impl Encode for Datagram<'_> {
    fn encode(&self, w: &mut Writer) -> Result<(), EncodeError> {
        let count = u32::try_from(self.samples.len()).map_err(|_| EncodeError::NoSpace)?;
        encode_header(
            w,
            self.agent_address,
            self.sub_agent_id,
            self.sequence_number,
            self.uptime,
            count,
        )?;
        match self.samples {
            List::Items(samples) => samples.iter().try_for_each(|s| s.encode(w)),
            List::Wire { data, .. } => w.fixed(data),
        }
    }
}
