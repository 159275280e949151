//! What the agent asks the kernel, asked off the event loop.
//!
//! Netlink requests wait for the kernel's answer, and the kernel may make
//! them wait on its own locks (nl80211 takes the RTNL lock for every
//! command; sysfs files such as a link's `speed` take it too): a
//! non-blocking socket does not help there. So the loop never asks itself:
//! it posts a [`Query`] to one helper thread, which owns the request
//! sockets and reads sysfs, debugfs and /proc, and the [`Answer`] comes
//! back through a socket the loop polls (`Slot::Kernel`). Whatever the
//! kernel does, hostapd's notifications and the sampled frames are served
//! at once.
//!
//! The helper answers one query at a time, in order; the loop asks again
//! only once an answer of the same kind arrived, so that a stalled kernel
//! makes queries wait, never pile up. Queries and answers travel through
//! socket pairs ([`crate::sys::channel`]), not a shared queue behind a
//! lock: the loop never waits on a lock the helper holds (a helper
//! preempted while holding one would hold the loop up for a scheduling
//! quantum).

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use crate::counters::dot11::{self, Dot11Stats};
use crate::counters::host::{self, HostReader};
use crate::counters::interface;
use crate::netlink::{Address, FdbEntry, Link, RouteSocket};
use crate::sflow::{HostCpu, HostMemory, HostNetIo};
use crate::sys::channel::{channel, Receiver, Sender};
use crate::wifi::nl80211::{InterfaceInfo, Nl80211, Station, Survey};

/// What a link's sysfs entry says: its speed and duplex, and its radio if
/// it is a wireless interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkFacts {
    pub speed_bps: u64,
    /// ifDirection: 0 unknown, 1 full duplex, 2 half duplex.
    pub direction: u32,
    /// `phy0`...: the interface is an 802.11 interface of this radio.
    pub radio: Option<String>,
}

/// One interface whose counters are due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterTarget {
    pub if_index: u32,
    /// An access point's interface: its 802.11 figures are wanted too.
    pub wireless: bool,
    /// It reports its radio's utilization (one interface per radio).
    pub radio_reporter: bool,
}

/// A question for the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Every link (with the facts of those in `facts_of`) and the
    /// bridges' forwarding databases.
    Topology { facts_of: Vec<String> },
    /// Every link and every address: to choose the agent address.
    Addresses,
    /// What the counter samples of these interfaces need, and the host's
    /// figures when `host`.
    Counters {
        targets: Vec<CounterTarget>,
        host: bool,
    },
    /// The BSS and the stations of these interfaces (index, name), from
    /// nl80211.
    Stations { interfaces: Vec<(u32, String)> },
}

/// The links and forwarding entries.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// `None`: the links could not be read.
    pub links: Option<Vec<Link>>,
    /// `None`: no bridge, or the table could not be read.
    pub fdb: Option<Vec<FdbEntry>>,
    pub facts: Vec<(String, LinkFacts)>,
}

/// The figures of one interface's counter sample.
#[derive(Debug, Clone)]
pub struct InterfaceFigures {
    pub target: CounterTarget,
    /// `None`: the interface is gone.
    pub link: Option<Link>,
    pub facts: LinkFacts,
    pub stations: Option<Vec<Station>>,
    /// Transmit power, mBm.
    pub tx_power_mbm: Option<i32>,
    pub survey: Option<Vec<Survey>>,
    pub debugfs: Option<Dot11Stats>,
}

/// The host's figures.
#[derive(Debug, Clone)]
pub struct HostFigures {
    pub cpu: HostCpu,
    pub memory: HostMemory,
    pub net_io: HostNetIo,
    pub adapters: Vec<(u32, [u8; 6])>,
}

/// What nl80211 says of one interface and its stations.
#[derive(Debug, Clone)]
pub struct Listing {
    pub if_index: u32,
    pub ifname: String,
    /// `None`: not a wireless interface, or nl80211 did not answer.
    pub info: Option<InterfaceInfo>,
    /// Its radio, as sysfs names it.
    pub radio: Option<String>,
    /// `None`: the stations could not be listed.
    pub stations: Option<Vec<Station>>,
}

/// The kernel's answer to a [`Query`].
#[derive(Debug, Clone)]
pub enum Answer {
    Topology(Topology),
    Addresses {
        links: Vec<Link>,
        addresses: Vec<Address>,
    },
    Counters {
        interfaces: Vec<InterfaceFigures>,
        host: Option<HostFigures>,
    },
    Stations(Vec<Listing>),
}

/// The loop's end: posts queries, collects answers.
pub struct Kernel {
    queries: Sender<Query>,
    answers: Receiver<Answer>,
    /// Queries the channel did not take yet (its queue was full).
    waiting: VecDeque<Query>,
}

/// The helper's end: owns what may wait.
struct Helper {
    route: Option<RouteSocket>,
    nl80211: Option<Nl80211>,
    host: HostReader,
}

/// The helper's stack: netlink answers are parsed into vectors on the heap.
const HELPER_STACK: usize = 128 * 1024;

impl Kernel {
    /// Starts the helper with the sockets it will own.
    pub fn start(route: Option<RouteSocket>, nl80211: Option<Nl80211>) -> io::Result<Kernel> {
        let (queries, helper_queries) = channel::<Query>()?;
        let (helper_answers, answers) = channel::<Answer>()?;
        queries.set_nonblocking(true)?;
        answers.set_nonblocking(true)?;
        let mut helper = Helper {
            route,
            nl80211,
            host: HostReader::new(),
        };
        crate::sys::spawn_detached(
            HELPER_STACK,
            Box::new(move || {
                while let Some(query) = helper_queries.recv() {
                    let mut answer = helper.answer(query);
                    // The loop reads answers as they come; should its queue
                    // be full, wait for room rather than lose one.
                    loop {
                        match helper_answers.send(answer) {
                            Ok(()) => break,
                            Err(back) => {
                                answer = back;
                                std::thread::sleep(std::time::Duration::from_millis(10));
                            }
                        }
                    }
                }
            }),
        )?;
        Ok(Kernel {
            queries,
            answers,
            waiting: VecDeque::new(),
        })
    }

    /// Posts a query; its answer comes through [`Kernel::answers`].
    pub fn ask(&mut self, query: Query) {
        self.waiting.push_back(query);
        self.post();
    }

    /// Hands the waiting queries to the helper, as many as its queue
    /// takes.
    fn post(&mut self) {
        while let Some(q) = self.waiting.pop_front() {
            if let Err(q) = self.queries.send(q) {
                self.waiting.push_front(q);
                break;
            }
        }
    }

    /// The answers that arrived (after poll said the socket is readable).
    pub fn answers(&mut self) -> Vec<Answer> {
        let mut out = Vec::new();
        while let Some(a) = self.answers.recv() {
            out.push(a);
        }
        self.post();
        out
    }
}

impl AsFd for Kernel {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.answers.as_fd()
    }
}

impl Helper {
    fn answer(&mut self, query: Query) -> Answer {
        match query {
            Query::Topology { facts_of } => Answer::Topology(self.topology(&facts_of)),
            Query::Addresses => Answer::Addresses {
                links: self.links().unwrap_or_default(),
                addresses: self.addresses(),
            },
            Query::Counters { targets, host } => self.counters(targets, host),
            Query::Stations { interfaces } => Answer::Stations(
                interfaces
                    .into_iter()
                    .map(|(if_index, ifname)| self.listing(if_index, ifname))
                    .collect(),
            ),
        }
    }

    fn links(&mut self) -> Option<Vec<Link>> {
        match self.route.as_mut()?.links() {
            Ok(links) => Some(links),
            Err(e) => {
                crate::warn!("cannot read the interfaces: {e}");
                None
            }
        }
    }

    fn addresses(&mut self) -> Vec<Address> {
        match self.route.as_mut().map(RouteSocket::addresses) {
            Some(Ok(a)) => a,
            Some(Err(e)) => {
                crate::warn!("cannot read the interface addresses: {e}");
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    fn facts(name: &str) -> LinkFacts {
        let (speed_bps, direction) = interface::link_speed(name);
        LinkFacts {
            speed_bps,
            direction,
            radio: radio_name(name),
        }
    }

    fn topology(&mut self, facts_of: &[String]) -> Topology {
        let links = self.links();
        let fdb = self.route.as_mut().and_then(|r| match r.fdb() {
            Ok(fdb) => Some(fdb),
            Err(e) => {
                crate::debug!("cannot read the bridge forwarding database: {e}");
                None
            }
        });
        let facts = facts_of
            .iter()
            .map(|name| (name.clone(), Helper::facts(name)))
            .collect();
        Topology { links, fdb, facts }
    }

    fn counters(&mut self, targets: Vec<CounterTarget>, host: bool) -> Answer {
        let links = self.links().unwrap_or_default();
        let mut interfaces = Vec::with_capacity(targets.len());
        for target in targets {
            let link = links
                .iter()
                .find(|l| l.if_index == target.if_index)
                .cloned();
            let facts = link
                .as_ref()
                .map(|l| Helper::facts(&l.name))
                .unwrap_or_default();
            let mut figures = InterfaceFigures {
                target,
                link,
                facts,
                stations: None,
                tx_power_mbm: None,
                survey: None,
                debugfs: None,
            };
            if figures.target.wireless {
                let i = figures.target.if_index;
                if let Some(n) = &mut self.nl80211 {
                    figures.stations = n.station_dump(i).ok();
                    figures.tx_power_mbm = n.interface_info(i).ok().and_then(|i| i.tx_power_mbm);
                    if figures.target.radio_reporter {
                        figures.survey = n.survey_dump(i).ok();
                    }
                }
                figures.debugfs = figures
                    .facts
                    .radio
                    .as_deref()
                    .and_then(|p| dot11::read_debugfs(Path::new(dot11::DEBUGFS_ROOT), p));
            }
            interfaces.push(figures);
        }
        let host = host.then(|| HostFigures {
            cpu: self.host.cpu(),
            memory: self.host.memory(),
            net_io: host::net_io(&links),
            adapters: host::adapters(&links),
        });
        Answer::Counters { interfaces, host }
    }

    fn listing(&mut self, if_index: u32, ifname: String) -> Listing {
        let Some(n) = &mut self.nl80211 else {
            return Listing {
                if_index,
                ifname,
                info: None,
                radio: None,
                stations: None,
            };
        };
        let info = n.interface_info(if_index).ok();
        let stations = if info.as_ref().is_some_and(InterfaceInfo::is_ap) {
            match n.station_dump(if_index) {
                Ok(s) => Some(s),
                Err(e) => {
                    crate::debug!("nl80211: cannot list the stations of {ifname}: {e}");
                    None
                }
            }
        } else {
            None
        };
        Listing {
            radio: radio_name(&ifname),
            if_index,
            ifname,
            info,
            stations,
        }
    }
}

/// The radio of a wireless interface, as sysfs names it (`phy0`, or what
/// the system renamed it to).
pub fn radio_name(ifname: &str) -> Option<String> {
    if ifname.is_empty() || ifname.contains('/') || ifname == "." || ifname == ".." {
        return None;
    }
    crate::sys::file::read_to_string(format!("/sys/class/net/{ifname}/phy80211/name"))
        .ok()
        .map(|p| p.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// The helper answers in order, and the loop's end wakes for it.
    #[test]
    fn answers_come_back_through_the_socket() {
        let mut k = Kernel::start(RouteSocket::open().ok(), None).unwrap();
        k.ask(Query::Topology {
            facts_of: vec!["lo".into()],
        });
        k.ask(Query::Stations {
            interfaces: vec![(1, "lo".into())],
        });
        let mut got = Vec::new();
        let end = Instant::now() + Duration::from_secs(5);
        while got.len() < 2 && Instant::now() < end {
            let mut fds = [crate::sys::pollfd(
                std::os::fd::AsRawFd::as_raw_fd(&k.as_fd()),
                libc::POLLIN,
            )];
            let _ = crate::sys::poll(&mut fds, 100);
            got.extend(k.answers());
        }
        assert!(
            matches!(&got[0], Answer::Topology(t) if t.links.as_ref().is_some_and(|l| l.iter().any(|l| l.name == "lo")))
        );
        let Answer::Stations(l) = &got[1] else {
            panic!("stations answer");
        };
        assert_eq!((l[0].if_index, l[0].info.is_none()), (1, true));
    }
}
