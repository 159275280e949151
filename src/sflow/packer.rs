//! Packing samples into datagrams of bounded size.
//!
//! Samples are encoded straight into one preallocated buffer behind space
//! reserved for the datagram header, which is written when the datagram is
//! sent (its sequence number, uptime and sample count are known only then).
//! No allocation happens per sample.

use super::datagram::{encode_header, header_len, AgentAddress};
use super::sample::{CountersSample, FlowSample, SampleForm};
use super::xdr::{EncodeError, Writer};

/// Where finished datagrams go.
pub trait DatagramSink {
    fn send_datagram(&mut self, datagram: &[u8]);
}

impl<F: FnMut(&[u8])> DatagramSink for F {
    fn send_datagram(&mut self, datagram: &[u8]) {
        self(datagram)
    }
}

/// What every datagram of an agent shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackerConfig {
    pub agent_address: AgentAddress,
    pub sub_agent_id: u32,
    /// Upper bound of the UDP payload.
    pub max_datagram_bytes: usize,
    pub form: SampleForm,
}

pub struct DatagramPacker {
    config: PackerConfig,
    buf: Vec<u8>,
    /// Bytes used, header space included.
    len: usize,
    samples: u32,
    /// Sequence number of the last datagram sent.
    sequence: u32,
}

impl DatagramPacker {
    pub fn new(config: PackerConfig) -> Self {
        let len = header_len(config.agent_address);
        DatagramPacker {
            buf: vec![0; config.max_datagram_bytes.max(len)],
            config,
            len,
            samples: 0,
            sequence: 0,
        }
    }

    pub fn config(&self) -> &PackerConfig {
        &self.config
    }

    /// Applies a new configuration. Pending samples are sent first under the
    /// old one; the datagram sequence number carries on.
    pub fn reconfigure(&mut self, config: PackerConfig, now: u32, sink: &mut impl DatagramSink) {
        if config == self.config {
            return;
        }
        self.flush(now, sink);
        self.len = header_len(config.agent_address);
        if config.max_datagram_bytes.max(self.len) != self.buf.len() {
            self.buf = vec![0; config.max_datagram_bytes.max(self.len)];
        }
        self.config = config;
    }

    /// Sequence number of the last datagram sent (0 before the first).
    pub fn sequence_number(&self) -> u32 {
        self.sequence
    }

    /// Adds a flow sample; sends the current datagram first if the sample
    /// does not fit in it. `now` is the agent's uptime in milliseconds.
    pub fn push_flow(
        &mut self,
        sample: &FlowSample,
        now: u32,
        sink: &mut impl DatagramSink,
    ) -> Result<(), EncodeError> {
        let form = self.config.form;
        self.push(now, sink, |w| sample.encode(w, form))
    }

    /// Adds a counter sample, like [`DatagramPacker::push_flow`].
    pub fn push_counters(
        &mut self,
        sample: &CountersSample,
        now: u32,
        sink: &mut impl DatagramSink,
    ) -> Result<(), EncodeError> {
        let form = self.config.form;
        self.push(now, sink, |w| sample.encode(w, form))
    }

    fn push(
        &mut self,
        now: u32,
        sink: &mut impl DatagramSink,
        encode: impl Fn(&mut Writer) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        match self.append(&encode) {
            Err(EncodeError::NoSpace) if self.samples > 0 => {
                self.flush(now, sink);
                self.append(&encode)
            }
            other => other,
        }
    }

    fn append(
        &mut self,
        encode: impl Fn(&mut Writer) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let mut w = Writer::new(&mut self.buf[self.len..]);
        encode(&mut w)?;
        self.len += w.position();
        self.samples += 1;
        Ok(())
    }

    /// Sends the pending samples, if any, as one datagram.
    pub fn flush(&mut self, now: u32, sink: &mut impl DatagramSink) {
        if self.samples == 0 {
            return;
        }
        self.sequence = self.sequence.wrapping_add(1);
        let header = header_len(self.config.agent_address);
        let mut w = Writer::new(&mut self.buf[..header]);
        encode_header(
            &mut w,
            self.config.agent_address,
            self.config.sub_agent_id,
            self.sequence,
            now,
            self.samples,
        )
        .expect("the header space is reserved for this agent address");
        sink.send_datagram(&self.buf[..self.len]);
        self.len = header;
        self.samples = 0;
    }
}
