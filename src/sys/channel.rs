//! Owned values handed from one thread to another through a socket pair,
//! without a lock.
//!
//! Why not `std::sync::mpsc` or a queue behind a mutex: the event loop
//! must never wait for a lock the other thread holds (a thread preempted
//! while holding one would hold the loop up for a scheduling quantum), and
//! the loop needs a descriptor to poll for what arrives. Each datagram of
//! a private Unix socket pair carries the address of one boxed value: the
//! sender gives the box up, the receiver takes it back, once.
//!
//! What makes taking it back sound: the pair is made here and its two
//! sockets go only into one [`Sender`] and one [`Receiver`] of the same
//! `T`; a socket pair has no address, so nothing else can send into it;
//! the receiving socket never sends and the sending one is never read;
//! and a datagram is queued whole or not at all (a failed send gives the
//! box back to the sender, a queued one is the receiver's).
//!
//! Values still queued when the receiver is dropped are leaked, not
//! dropped (leaking is safe; the agent keeps its channels for its life).

use std::io;
use std::marker::PhantomData;
use std::mem::size_of;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixDatagram;

/// The sending end: moves values of type `T` to the [`Receiver`].
pub struct Sender<T> {
    sock: UnixDatagram,
    /// Owns the `T`s in flight as far as `Send`/`Sync` are concerned.
    _carries: PhantomData<T>,
}

/// The receiving end; readable (for `poll`) when a value is waiting.
pub struct Receiver<T> {
    sock: UnixDatagram,
    _carries: PhantomData<T>,
}

/// A new channel: values sent into the [`Sender`] come out of the
/// [`Receiver`], in order. Both ends block until
/// [`set_nonblocking`](Sender::set_nonblocking) says otherwise.
pub fn channel<T: Send>() -> io::Result<(Sender<T>, Receiver<T>)> {
    let (a, b) = UnixDatagram::pair()?;
    Ok((
        Sender {
            sock: a,
            _carries: PhantomData,
        },
        Receiver {
            sock: b,
            _carries: PhantomData,
        },
    ))
}

impl<T: Send> Sender<T> {
    /// Sends `value`; gives it back when it could not be queued (the
    /// queue is full and the end non-blocking, or the receiver is gone).
    pub fn send(&self, value: T) -> Result<(), T> {
        let ptr = Box::into_raw(Box::new(value));
        match self.sock.send(&(ptr as usize).to_ne_bytes()) {
            Ok(_) => Ok(()),
            // The datagram was not queued (Unix datagrams are queued whole
            // or not at all), so no receiver can have `ptr`.
            // SAFETY: `ptr` is from Box::into_raw above; ownership comes
            // back here, once.
            Err(_) => Err(*unsafe { Box::from_raw(ptr) }),
        }
    }

    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.sock.set_nonblocking(nonblocking)
    }
}

impl<T: Send> Receiver<T> {
    /// The next value: one that is waiting (a non-blocking end), or the
    /// next to come (a blocking end). `None` if none is waiting or the
    /// socket failed.
    pub fn recv(&self) -> Option<T> {
        let mut buf = [0u8; size_of::<usize>()];
        match self.sock.recv(&mut buf) {
            Ok(n) if n == buf.len() => {
                let ptr = usize::from_ne_bytes(buf) as *mut T;
                // Only the `Sender<T>` made with this end writes into the
                // pair (see the module documentation), one whole datagram
                // per value.
                // SAFETY: the address of a `Box<T>` the sender gave up,
                // delivered once.
                Some(*unsafe { Box::from_raw(ptr) })
            }
            _ => None,
        }
    }

    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.sock.set_nonblocking(nonblocking)
    }
}

impl<T> AsFd for Receiver<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cross_threads_in_order_and_come_back_when_not_queued() {
        let (tx, rx) = channel::<Vec<u32>>().unwrap();
        let worker = std::thread::spawn(move || {
            for i in 0..100u32 {
                tx.send(vec![i; 3]).unwrap();
            }
        });
        for i in 0..100u32 {
            assert_eq!(rx.recv(), Some(vec![i; 3]));
        }
        worker.join().unwrap();

        // A full queue of a non-blocking end hands the value back.
        let (tx, rx) = channel::<String>().unwrap();
        tx.set_nonblocking(true).unwrap();
        let mut sent = 0;
        let back = loop {
            match tx.send(format!("value {sent}")) {
                Ok(()) => sent += 1,
                Err(back) => break back,
            }
        };
        assert_eq!(back, format!("value {sent}"));
        rx.set_nonblocking(true).unwrap();
        for i in 0..sent {
            assert_eq!(rx.recv(), Some(format!("value {i}")));
        }
        assert_eq!(rx.recv(), None);
        // The receiver gone: the value comes back.
        drop(rx);
        assert_eq!(tx.send("after".into()), Err("after".to_string()));
    }
}
