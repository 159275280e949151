//! A non-blocking client of OpenWrt's ubus: hostapd's per-BSS objects
//! (stations, counters, notifications), the broker's object events, and
//! our own objects.
//!
//! # How the pieces fit
//!
//! - [`blob`]: libubox's `blob`/`blobmsg` encoding. [`BlobBuf`] builds
//!   (reused between messages, byte-identical to libubox), [`Attrs`] /
//!   [`Attr`] / [`Field`] / [`Value`] read without copying, [`to_json`]
//!   renders a table as the `ubus` command prints it.
//! - [`message`]: the 8-byte header, the message types and attribute ids
//!   of `ubusmsg.h`, framing on the stream ([`message::frame_len`]),
//!   parsing ([`Message`], [`MsgAttrs`]) and the builders of every message
//!   a client sends, attribute for attribute as libubus sends them.
//! - [`client`]: [`Connection`], the socket, a bounded send queue and the
//!   receive buffer, driven by the caller's `poll(2)` loop: requests return
//!   their sequence number, [`Connection::read`] hands out [`Event`]s.
//!
//! ```no_run
//! use wsflowd::ubus::{Connection, Event, DEFAULT_SOCKET};
//! # fn main() -> std::io::Result<()> {
//! let mut ubus = Connection::connect(DEFAULT_SOCKET.as_ref())?;
//! let lookup = ubus.lookup(Some("hostapd.*"))?; // queued until HELLO
//! loop {
//!     let mut pfd = [wsflowd::sys::pollfd(ubus.fd(), ubus.poll_events())];
//!     wsflowd::sys::poll(&mut pfd, -1)?;
//!     ubus.flush()?;
//!     let mut done = false;
//!     ubus.read(|event| match event {
//!         Event::Data { seq, attrs, .. } if seq == lookup => {
//!             if let Ok(Some(o)) = wsflowd::ubus::ObjectInfo::parse(attrs) {
//!                 println!("{} is object {:#x}", o.path, o.id);
//!             }
//!         }
//!         Event::Status { seq, .. } if seq == lookup => done = true,
//!         Event::Closed => done = true,
//!         _ => {}
//!     })?;
//!     if done {
//!         return Ok(());
//!     }
//! }
//! # }
//! ```
//!
//! # Talking to hostapd
//!
//! - Find the BSS objects: LOOKUP `hostapd.*`, and register an event
//!   listener (a nameless object, [`Connection::add_object`] with `None`)
//!   for `ubus.object.*`: ubusd announces `ubus.object.add` / `remove`
//!   `{id, path}` as objects come and go.
//! - Call methods with [`Connection::invoke`]; hostapd's methods want
//!   INT32 arguments: build them with [`BlobBuf::int32`].
//! - Subscribe: a nameless object, then [`Connection::subscribe`]; the
//!   notifications arrive as [`Event::Invoke`] on that object, and
//!   [`Event::Unsubscribe`] when the BSS goes away. A notification that
//!   is not `no_reply` (hostapd's `notify_response` mode for `probe`,
//!   `auth`, `assoc`) waits for our STATUS: answer 0 at once, or the
//!   station is held up (hostapd waits up to 100 ms).
//!
//! # Why our own client
//!
//! `ubus-zero` (the pure-Rust client) converts JSON to blobmsg and makes
//! every number INT64 (hostapd's methods want INT32), hides NO_REPLY,
//! allows one object per connection and does not reconnect; libubus means
//! C, libubox and uloop in a binary that must stay small. The protocol is
//! small: this module is std + `libc`, allocates nothing per message in
//! steady state (buffers are kept and reused), never blocks after
//! `connect`, and treats every byte from the socket as untrusted (no
//! panics; errors say what is wrong and at which byte).
//!
//! # Sockets
//!
//! ubusd listens on [`DEFAULT_SOCKET`] (`/var/run/ubus/ubus.sock`) since
//! ubus moved it in October 2020 (OpenWrt 21.02 and later); 19.07 and
//! older used [`LEGACY_SOCKET`] (`/var/run/ubus.sock`); the agent takes the
//! legacy one when only it exists.

pub mod blob;
pub mod client;
pub mod message;

pub use blob::{
    to_json, to_json_indented, Attr, Attrs, BlobBuf, BlobmsgType, Error, ErrorKind, Field, Mark,
    Value,
};
pub use client::{
    Connection, Event, ReadStatus, DEFAULT_QUEUE_LIMIT, DEFAULT_SOCKET, LEGACY_SOCKET,
};
pub use message::{status, Message, MsgAttrs, ObjectInfo, MAX_MSG_LEN};
