//! Flow samples and counter samples, in compact and expanded form.

use super::counters::CounterRecord;
use super::flow::FlowRecord;
use super::list::List;
use super::xdr::{DecodeError, EncodeError, Reader, Writer};
use super::{split_format, Decode, Encode, Visit, Visitor};

/// Compact samples (formats 1, 2) carry ifIndex values below 2^24;
/// expanded ones (formats 3, 4) any 32-bit value. An agent uses one form for
/// all its samples: compact unless some ifIndex is 2^24 or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleForm {
    Compact,
    Expanded,
}

impl SampleForm {
    /// For the log (`{:?}` would link Debug's machinery).
    pub fn name(self) -> &'static str {
        match self {
            SampleForm::Compact => "Compact",
            SampleForm::Expanded => "Expanded",
        }
    }

    /// The form an agent must use given its largest ifIndex.
    pub fn for_max_if_index(max_if_index: u32) -> SampleForm {
        if max_if_index < 1 << 24 {
            SampleForm::Compact
        } else {
            SampleForm::Expanded
        }
    }
}

/// Kinds of `sFlowDataSource`.
pub mod source_kind {
    pub const IF_INDEX: u32 = 0;
    pub const VLAN: u32 = 1;
    pub const PHYSICAL_ENTITY: u32 = 2;
    pub const LOGICAL_ENTITY: u32 = 3;
}

/// An sFlow data source: its kind and index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataSource {
    pub kind: u32,
    pub index: u32,
}

impl DataSource {
    /// The data source of an interface.
    pub const fn interface(if_index: u32) -> Self {
        DataSource {
            kind: source_kind::IF_INDEX,
            index: if_index,
        }
    }

    /// The host itself, as hsflowd reports it (entPhysicalEntry 1).
    pub const HOST: DataSource = DataSource {
        kind: source_kind::PHYSICAL_ENTITY,
        index: 1,
    };

    fn encode(&self, w: &mut Writer, form: SampleForm) -> Result<(), EncodeError> {
        match form {
            SampleForm::Compact => {
                if self.kind > 0xff || self.index >= 1 << 24 {
                    return Err(EncodeError::Invalid(
                        "data source does not fit a compact sample",
                    ));
                }
                w.u32(self.kind << 24 | self.index)
            }
            SampleForm::Expanded => {
                w.u32(self.kind)?;
                w.u32(self.index)
            }
        }
    }

    fn decode(r: &mut Reader, form: SampleForm) -> Result<Self, DecodeError> {
        Ok(match form {
            SampleForm::Compact => {
                let v = r.u32("source_id")?;
                DataSource {
                    kind: v >> 24,
                    index: v & 0x00ff_ffff,
                }
            }
            SampleForm::Expanded => DataSource {
                kind: r.u32("source_id.source_id_type")?,
                index: r.u32("source_id.source_id_index")?,
            },
        })
    }
}

/// Reason codes for discarded packets (interface format 1).
pub mod discard_reason {
    pub const UNKNOWN: u32 = 256;
    pub const TTL_EXCEEDED: u32 = 257;
    pub const ACL: u32 = 258;
    pub const NO_BUFFER_SPACE: u32 = 259;
    pub const RED: u32 = 260;
    pub const TRAFFIC_SHAPING: u32 = 261;
    pub const PACKET_TOO_BIG: u32 = 262;
    /// Promiscuously received packet not intended for this device (802.11).
    pub const PROMISCUOUS: u32 = 263;
}

/// The input or output `interface` of a flow sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interface {
    /// 0 single interface, 1 discarded, 2 multiple interfaces.
    pub format: u32,
    pub value: u32,
}

impl Interface {
    pub const UNKNOWN: Interface = Interface::index(0);
    /// The agent's device itself: traffic it originates (as input) or that
    /// terminates in it (as output).
    pub const INTERNAL: Interface = Interface::index(0x3FFF_FFFF);

    pub const fn index(if_index: u32) -> Self {
        Interface {
            format: 0,
            value: if_index,
        }
    }

    pub const fn discarded(reason: u32) -> Self {
        Interface {
            format: 1,
            value: reason,
        }
    }

    /// Sent to `count` interfaces; 0 = an unknown number greater than one.
    pub const fn multiple(count: u32) -> Self {
        Interface {
            format: 2,
            value: count,
        }
    }

    fn encode(&self, w: &mut Writer, form: SampleForm) -> Result<(), EncodeError> {
        match form {
            SampleForm::Compact => {
                if self.format > 3 || self.value >= 1 << 30 {
                    return Err(EncodeError::Invalid(
                        "interface does not fit a compact sample",
                    ));
                }
                w.u32(self.format << 30 | self.value)
            }
            SampleForm::Expanded => {
                w.u32(self.format)?;
                w.u32(self.value)
            }
        }
    }

    fn decode(r: &mut Reader, form: SampleForm, field: &'static str) -> Result<Self, DecodeError> {
        Ok(match form {
            SampleForm::Compact => {
                let v = r.u32(field)?;
                Interface {
                    format: v >> 30,
                    value: v & 0x3FFF_FFFF,
                }
            }
            SampleForm::Expanded => Interface {
                format: r.u32(field)?,
                value: r.u32(field)?,
            },
        })
    }
}

/// A packet flow sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowSample<'a> {
    pub sequence_number: u32,
    pub source: DataSource,
    pub sampling_rate: u32,
    /// Packets that could have been sampled on this data source.
    pub sample_pool: u32,
    /// Samples lost for lack of resources since the agent started.
    pub drops: u32,
    pub input: Interface,
    pub output: Interface,
    pub records: List<'a, FlowRecord<'a>>,
}

impl<'a> FlowSample<'a> {
    pub const COMPACT_FORMAT: u32 = 1;
    pub const EXPANDED_FORMAT: u32 = 3;

    /// Encodes the sample as a `sample_record` in the given form.
    pub fn encode(&self, w: &mut Writer, form: SampleForm) -> Result<(), EncodeError> {
        let format = match form {
            SampleForm::Compact => Self::COMPACT_FORMAT,
            SampleForm::Expanded => Self::EXPANDED_FORMAT,
        };
        w.record(format, |w| {
            w.u32(self.sequence_number)?;
            self.source.encode(w, form)?;
            w.u32(self.sampling_rate)?;
            w.u32(self.sample_pool)?;
            w.u32(self.drops)?;
            self.input.encode(w, form)?;
            self.output.encode(w, form)?;
            self.records.encode(w)
        })
    }

    fn decode_body(r: &mut Reader<'a>, form: SampleForm) -> Result<Self, DecodeError> {
        Ok(FlowSample {
            sequence_number: r.u32("flow_sample.sequence_number")?,
            source: DataSource::decode(r, form)?,
            sampling_rate: r.u32("flow_sample.sampling_rate")?,
            sample_pool: r.u32("flow_sample.sample_pool")?,
            drops: r.u32("flow_sample.drops")?,
            input: Interface::decode(r, form, "flow_sample.input")?,
            output: Interface::decode(r, form, "flow_sample.output")?,
            records: List::decode(r)?,
        })
    }
}

/// A counter sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountersSample<'a> {
    pub sequence_number: u32,
    pub source: DataSource,
    pub records: List<'a, CounterRecord<'a>>,
}

impl<'a> CountersSample<'a> {
    pub const COMPACT_FORMAT: u32 = 2;
    pub const EXPANDED_FORMAT: u32 = 4;

    /// Encodes the sample as a `sample_record` in the given form.
    pub fn encode(&self, w: &mut Writer, form: SampleForm) -> Result<(), EncodeError> {
        let format = match form {
            SampleForm::Compact => Self::COMPACT_FORMAT,
            SampleForm::Expanded => Self::EXPANDED_FORMAT,
        };
        w.record(format, |w| {
            w.u32(self.sequence_number)?;
            self.source.encode(w, form)?;
            self.records.encode(w)
        })
    }

    fn decode_body(r: &mut Reader<'a>, form: SampleForm) -> Result<Self, DecodeError> {
        Ok(CountersSample {
            sequence_number: r.u32("counters_sample.sequence_number")?,
            source: DataSource::decode(r, form)?,
            records: List::decode(r)?,
        })
    }
}

/// A `sample_record` of a datagram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sample<'a> {
    Flow(SampleForm, FlowSample<'a>),
    Counters(SampleForm, CountersSample<'a>),
    /// A sample type this decoder does not know, kept as raw bytes.
    Unknown {
        format: u32,
        data: &'a [u8],
    },
}

impl Encode for Sample<'_> {
    fn encode(&self, w: &mut Writer) -> Result<(), EncodeError> {
        match self {
            Sample::Flow(form, s) => s.encode(w, *form),
            Sample::Counters(form, s) => s.encode(w, *form),
            Sample::Unknown { format, data } => {
                w.u32(*format)?;
                w.opaque(data, usize::MAX)
            }
        }
    }
}

impl<'a> Decode<'a> for Sample<'a> {
    const NAME: &'static str = "sample_record";

    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let format = r.u32("sample_record.sample_type")?;
        let mut body = r.nested("sample_record.sample_data")?;
        let b = &mut body;
        // Bytes after the record array are ignored, as for records: the
        // specification lets structures be extended at their end.
        Ok(match split_format(format) {
            (0, 1) => Sample::Flow(
                SampleForm::Compact,
                FlowSample::decode_body(b, SampleForm::Compact)?,
            ),
            (0, 2) => Sample::Counters(
                SampleForm::Compact,
                CountersSample::decode_body(b, SampleForm::Compact)?,
            ),
            (0, 3) => Sample::Flow(
                SampleForm::Expanded,
                FlowSample::decode_body(b, SampleForm::Expanded)?,
            ),
            (0, 4) => Sample::Counters(
                SampleForm::Expanded,
                CountersSample::decode_body(b, SampleForm::Expanded)?,
            ),
            _ => Sample::Unknown {
                format,
                data: b.rest(),
            },
        })
    }

    fn skip(r: &mut Reader<'a>) -> Result<(), DecodeError> {
        r.u32("sample_record.sample_type")?;
        r.nested("sample_record.sample_data").map(drop)
    }
}

fn visit_source(v: &mut dyn Visitor, source: DataSource) {
    v.u32("source_id_type", source.kind);
    v.u32("source_id_index", source.index);
}

fn visit_interface(
    v: &mut dyn Visitor,
    format_name: &'static str,
    name: &'static str,
    i: Interface,
) {
    v.u32(format_name, i.format);
    v.u32(name, i.value);
}

impl Visit for Sample<'_> {
    fn visit(&self, v: &mut dyn Visitor) {
        match self {
            Sample::Flow(form, s) => {
                v.label(
                    "type",
                    match form {
                        SampleForm::Compact => "flow_sample",
                        SampleForm::Expanded => "flow_sample_expanded",
                    },
                );
                v.u32("sequence_number", s.sequence_number);
                visit_source(v, s.source);
                v.u32("sampling_rate", s.sampling_rate);
                v.u32("sample_pool", s.sample_pool);
                v.u32("drops", s.drops);
                visit_interface(v, "input_format", "input", s.input);
                visit_interface(v, "output_format", "output", s.output);
                s.records.visit_as("records", v);
            }
            Sample::Counters(form, s) => {
                v.label(
                    "type",
                    match form {
                        SampleForm::Compact => "counters_sample",
                        SampleForm::Expanded => "counters_sample_expanded",
                    },
                );
                v.u32("sequence_number", s.sequence_number);
                visit_source(v, s.source);
                s.records.visit_as("records", v);
            }
            Sample::Unknown { format, data } => {
                v.label("type", "unknown");
                let (enterprise, format) = split_format(*format);
                v.u32("enterprise", enterprise);
                v.u32("format", format);
                v.bytes("data", data);
            }
        }
    }
}
