//! The two per-connection queues of file descriptors, with imsg semantics.
//!
//! A sender queues an fd and gets its sequence number, then sends the call
//! that names that number; the stream writer attaches queued fds to the next
//! bytes it writes. The receiver numbers fds in arrival order (the same order,
//! so the numbers agree) and a call takes its fd by number. Taking an fd closes
//! every older unclaimed one, so an orphan cannot shift the fds after it.
//!
//! This module must never hand out an fd under a number other than the one it
//! arrived as, never hold more than [`MAX_UNCLAIMED_FDS`] received fds, and
//! never hand out anything after the stream reported a protocol error.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::MAX_FDS_PER_MESSAGE;

/// How many received fds may wait for their call before the peer is treated
/// as flooding. The daemon passes at most a handful at a time.
pub const MAX_UNCLAIMED_FDS: usize = 64;

/// What the peer did wrong on the stream; fatal for the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error(
        "the peer attached more file descriptors to one message than the {MAX_FDS_PER_MESSAGE} \
         this end accepts; the kernel truncated the control data"
    )]
    ControlTruncated,
    #[error("the peer sent more than {MAX_UNCLAIMED_FDS} file descriptors that no call claimed")]
    TooManyUnclaimed,
    #[error("the peer sent an unexpected control message (level {level}, type {kind})")]
    UnexpectedControlMessage { level: i32, kind: i32 },
}

/// Why a call could not take the fd it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TakeFdError {
    #[error("no file descriptor is attached (sequence number 0)")]
    NotAttached,
    #[error("file descriptor #{seq} has not arrived")]
    NotArrived { seq: u64 },
    #[error("file descriptor #{seq} was already taken or closed as unclaimed")]
    Gone { seq: u64 },
    #[error("the channel failed: {0}")]
    ChannelFailed(#[source] ProtocolError),
}

/// The fds of one connection: those queued to be sent and those received but
/// not yet claimed. Shared (`Rc`) between the stream halves and the RPC code.
#[derive(Debug, Default)]
pub struct FdQueues {
    state: RefCell<State>,
}

#[derive(Debug, Default)]
struct State {
    outgoing: VecDeque<OwnedFd>,
    /// Sequence number of the last fd queued for sending (0: none yet).
    last_queued: u64,
    /// Received fds with their sequence numbers, oldest first.
    incoming: VecDeque<(u64, OwnedFd)>,
    /// Sequence number of the last fd received (0: none yet).
    last_received: u64,
    failure: Option<ProtocolError>,
}

impl FdQueues {
    /// Queues `fd` to travel with the next bytes written and returns the
    /// sequence number to put in the call's `Fd` parameter. Queue it before
    /// sending the call: the fd then arrives with or before the call.
    pub fn queue_outgoing(&self, fd: OwnedFd) -> u64 {
        let mut state = self.state.borrow_mut();
        state.last_queued += 1;
        state.outgoing.push_back(fd);
        state.last_queued
    }

    /// Takes the received fd numbered `seq`, closing every older unclaimed one.
    pub fn take_incoming(&self, seq: u64) -> Result<OwnedFd, TakeFdError> {
        if seq == 0 {
            return Err(TakeFdError::NotAttached);
        }
        let mut state = self.state.borrow_mut();
        if let Some(failure) = state.failure {
            return Err(TakeFdError::ChannelFailed(failure));
        }
        if seq > state.last_received {
            return Err(TakeFdError::NotArrived { seq });
        }
        while state
            .incoming
            .front()
            .is_some_and(|(older, _)| *older < seq)
        {
            state.incoming.pop_front();
        }
        match state.incoming.pop_front() {
            Some((front, fd)) if front == seq => Ok(fd),
            Some(newer) => {
                state.incoming.push_front(newer);
                Err(TakeFdError::Gone { seq })
            }
            None => Err(TakeFdError::Gone { seq }),
        }
    }

    /// The raw numbers of the next fds to attach to a write, at most
    /// [`MAX_FDS_PER_MESSAGE`]. They stay owned by the queue until
    /// [`FdQueues::mark_sent`] closes them.
    pub(super) fn next_outgoing_batch(&self) -> Vec<RawFd> {
        let state = self.state.borrow();
        state
            .outgoing
            .iter()
            .take(MAX_FDS_PER_MESSAGE)
            .map(AsRawFd::as_raw_fd)
            .collect()
    }

    /// How many fds wait to be sent.
    pub(super) fn outgoing_len(&self) -> usize {
        self.state.borrow().outgoing.len()
    }

    /// Closes the first `count` outgoing fds: the kernel holds its own
    /// references once sendmsg succeeded.
    pub(super) fn mark_sent(&self, count: usize) {
        self.state.borrow_mut().outgoing.drain(..count);
    }

    /// Numbers and stores fds that just arrived. Exceeding the bound fails the
    /// connection; every fd it held is closed then.
    pub(super) fn accept_incoming(&self, fds: Vec<OwnedFd>) -> Result<(), ProtocolError> {
        let mut state = self.state.borrow_mut();
        if let Some(failure) = state.failure {
            return Err(failure);
        }
        if state.incoming.len() + fds.len() > MAX_UNCLAIMED_FDS {
            drop(state);
            drop(fds);
            return Err(self.fail(ProtocolError::TooManyUnclaimed));
        }
        for fd in fds {
            state.last_received += 1;
            let seq = state.last_received;
            state.incoming.push_back((seq, fd));
        }
        Ok(())
    }

    /// Records a fatal protocol error and closes every unclaimed fd. The first
    /// error stays: it is what every later read and take reports.
    pub(super) fn fail(&self, error: ProtocolError) -> ProtocolError {
        let mut state = self.state.borrow_mut();
        state.incoming.clear();
        *state.failure.get_or_insert(error)
    }

    pub(super) fn failure(&self) -> Option<ProtocolError> {
        self.state.borrow().failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::PipeProbe;

    fn receive_probes(queues: &FdQueues, count: usize) -> Vec<PipeProbe> {
        let (probes, read_ends): (Vec<_>, Vec<_>) = (0..count).map(|_| PipeProbe::new()).unzip();
        queues.accept_incoming(read_ends).expect("accept");
        probes
    }

    #[test]
    fn outgoing_numbers_start_at_one_and_sent_fds_are_closed() {
        let queues = FdQueues::default();
        let (first, first_read) = PipeProbe::new();
        let (second, second_read) = PipeProbe::new();
        assert_eq!(queues.queue_outgoing(first_read), 1);
        assert_eq!(queues.queue_outgoing(second_read), 2);
        assert_eq!(queues.next_outgoing_batch().len(), 2);
        queues.mark_sent(1);
        assert!(first.read_ends_all_closed());
        assert!(!second.read_ends_all_closed());
        assert_eq!(queues.next_outgoing_batch().len(), 1);
    }

    #[test]
    fn outgoing_batches_are_bounded() {
        let queues = FdQueues::default();
        let _probes: Vec<_> = (0..MAX_FDS_PER_MESSAGE + 3)
            .map(|_| {
                let (probe, read_end) = PipeProbe::new();
                queues.queue_outgoing(read_end);
                probe
            })
            .collect();
        assert_eq!(queues.next_outgoing_batch().len(), MAX_FDS_PER_MESSAGE);
        queues.mark_sent(MAX_FDS_PER_MESSAGE);
        assert_eq!(queues.next_outgoing_batch().len(), 3);
    }

    #[test]
    fn taking_closes_older_orphans_and_keeps_newer_fds() {
        let queues = FdQueues::default();
        let probes = receive_probes(&queues, 4);
        let third = queues.take_incoming(3).expect("take #3");
        assert!(probes[2].is_read_end(&third));
        assert!(probes[0].read_ends_all_closed());
        assert!(probes[1].read_ends_all_closed());
        assert!(!probes[3].read_ends_all_closed());
        assert_eq!(
            queues.take_incoming(1).err(),
            Some(TakeFdError::Gone { seq: 1 })
        );
        let fourth = queues.take_incoming(4).expect("take #4");
        assert!(probes[3].is_read_end(&fourth));
    }

    #[test]
    fn zero_future_and_repeated_numbers_are_rejected() {
        let queues = FdQueues::default();
        let _probes = receive_probes(&queues, 1);
        assert_eq!(
            queues.take_incoming(0).err(),
            Some(TakeFdError::NotAttached)
        );
        assert_eq!(
            queues.take_incoming(2).err(),
            Some(TakeFdError::NotArrived { seq: 2 })
        );
        assert!(queues.take_incoming(1).is_ok());
        assert_eq!(
            queues.take_incoming(1).err(),
            Some(TakeFdError::Gone { seq: 1 })
        );
    }

    #[test]
    fn flooding_fails_the_queue_and_closes_every_unclaimed_fd() {
        let queues = FdQueues::default();
        let mut probes = receive_probes(&queues, MAX_UNCLAIMED_FDS);
        let (extra, extra_read) = PipeProbe::new();
        probes.push(extra);
        assert_eq!(
            queues.accept_incoming(vec![extra_read]),
            Err(ProtocolError::TooManyUnclaimed)
        );
        assert!(probes.iter().all(PipeProbe::read_ends_all_closed));
        assert_eq!(
            queues.take_incoming(1).err(),
            Some(TakeFdError::ChannelFailed(ProtocolError::TooManyUnclaimed))
        );
        let (late, late_read) = PipeProbe::new();
        assert_eq!(
            queues.accept_incoming(vec![late_read]),
            Err(ProtocolError::TooManyUnclaimed)
        );
        assert!(late.read_ends_all_closed());
    }

    #[test]
    fn the_first_failure_is_the_one_reported() {
        let queues = FdQueues::default();
        assert_eq!(
            queues.fail(ProtocolError::ControlTruncated),
            ProtocolError::ControlTruncated
        );
        assert_eq!(
            queues.fail(ProtocolError::TooManyUnclaimed),
            ProtocolError::ControlTruncated
        );
        assert_eq!(queues.failure(), Some(ProtocolError::ControlTruncated));
    }
}
