//! RA-to-kernel latency: how long from a Router Advertisement reaching the
//! host until the kernel has acknowledged slaacd's first (and last) netlink
//! write for it.
//!
//! Method. One crafted router sends RAs one at a time, [`SPACING`] apart,
//! each of which must change the kernel: the router preference alternates
//! (the default route is rewritten) and the prefix's valid lifetime drops by
//! 10 s (the address and the on-link route are rewritten; RFC 4862's
//! two-hour rule does not apply above two hours). In the host namespace two
//! listeners run on threads of their own:
//! - a packet socket on h0 with SO_TIMESTAMPNS: the kernel's receive time of
//!   each RA, which is when slaacd's raw socket gets it too;
//! - a netlink socket in the address, route and nexthop groups: the kernel
//!   sends each change to its listeners just before it acknowledges the
//!   write, and the thread stamps it (CLOCK_REALTIME, like the packet stamps)
//!   as it wakes.
//!
//! An RA's first write is the first change seen after it and before the next
//! RA; its last write the last one in that window. RAs with no change in their
//! window are counted, not measured. The figures include both wake-ups of
//! the listeners (tens of microseconds), so they slightly overstate slaacd's
//! own time. It only listens in the lab's host namespace.

use std::fmt::Write as _;
use std::io;
use std::mem::size_of;
use std::net::Ipv6Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use slaacd_tests::lab::Lab;
use slaacd_tests::ra_sender::{RaSender, advert_with_prefix};
use slaacd_wire::{NdOption, RouterAdvert, RouterPreference};

use crate::contender::Contender;
use crate::convergence::Client;
use crate::observe::in_namespace;
use crate::stats::percentile;

/// Time between two RAs: far above slaacd's reaction, so each change falls
/// in its RA's window.
const SPACING: Duration = Duration::from_millis(20);
/// The crafted router and its prefix.
const ROUTER: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0xab, 0x99);
const PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x99, 0, 0, 0, 0, 0);
/// The first RA's valid lifetime; each later one is 10 s shorter, and stays
/// above two hours for 9,000 RAs.
const FIRST_VALID_LIFETIME: u32 = 100_000;
const ETH_P_IPV6: u16 = 0x86dd;
const ICMPV6: u8 = 58;
const ROUTER_ADVERTISEMENT: u8 = 134;
/// The nexthop objects' netlink group (RTNLGRP_NEXTHOP).
const RTNLGRP_NEXTHOP: u32 = 32;
/// How often a listener looks at its stop flag.
const RECEIVE_TIMEOUT: Duration = Duration::from_millis(100);

/// RA `n` of the measurement.
fn advert(n: usize) -> RouterAdvert {
    let mut advert = advert_with_prefix(PREFIX);
    advert.preference = if n.is_multiple_of(2) {
        RouterPreference::Medium
    } else {
        RouterPreference::High
    };
    for option in &mut advert.options {
        if let NdOption::PrefixInformation(prefix) = option {
            prefix.valid_lifetime = FIRST_VALID_LIFETIME - 10 * n as u32;
            prefix.preferred_lifetime = 3600;
        }
    }
    advert
}

/// What was measured.
pub struct Latency {
    pub sent: usize,
    /// RAs the host's packet listener saw.
    pub seen: usize,
    /// Per RA with at least one change in its window.
    pub first_write: Vec<Duration>,
    pub last_write: Vec<Duration>,
}

/// Sends `count` RAs to slaacd, one per [`SPACING`], and pairs them with
/// the kernel's changes.
pub fn measure(count: usize) -> anyhow::Result<Latency> {
    anyhow::ensure!(
        count <= 9_000,
        "at most 9000 RAs keep the valid lifetime above two hours"
    );
    let lab = Lab::new();
    let _slaacd = Contender::start(Client::Slaacd, &lab)?;
    lab.host.ip(&["link", "set", "h0", "up"]);
    lab.router_link_local();
    let sender = RaSender::open(&lab.router, "r0")?;
    // The first RA configures the address and route; then let DAD (and the
    // kernel's temporary address's) finish, so their changes stay out.
    sender.send_advert(ROUTER, &advert(0))?;
    std::thread::sleep(Duration::from_secs(3));

    let listeners = in_namespace(lab.host.name(), || Listeners::open("h0"))?;
    let running = listeners.start();
    for n in 1..=count {
        sender
            .send_advert(ROUTER, &advert(n))
            .context("sending the RAs")?;
        std::thread::sleep(SPACING);
    }
    std::thread::sleep(Duration::from_millis(500));
    let (arrivals, changes) = running.stop()?;
    let (first_write, last_write) = pair(&arrivals, &changes);
    Ok(Latency {
        sent: count,
        seen: arrivals.len(),
        first_write,
        last_write,
    })
}

/// For each arrival, the delay to the first and the last change before the
/// next arrival (or within one spacing, for the last).
fn pair(arrivals: &[Duration], changes: &[Duration]) -> (Vec<Duration>, Vec<Duration>) {
    let mut first = Vec::new();
    let mut last = Vec::new();
    for (i, arrival) in arrivals.iter().enumerate() {
        let end = arrivals.get(i + 1).copied().unwrap_or(*arrival + SPACING);
        let mut window = changes
            .iter()
            .filter(|change| **change >= *arrival && **change < end);
        if let Some(earliest) = window.next() {
            first.push(*earliest - *arrival);
            last.push(*window.next_back().unwrap_or(earliest) - *arrival);
        }
    }
    (first, last)
}

pub fn report(latency: &Latency) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "RAs one at a time, {} ms apart, each changing the default route's preference and \
         the prefix's valid lifetime; kernel receive time (SO_TIMESTAMPNS on a packet socket) \
         to the kernel's change notification (netlink listener).\n",
        SPACING.as_millis()
    );
    let _ = writeln!(
        out,
        "| write | RAs sent | RAs seen | RAs with a write | p50 | p99 | max |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    for (name, samples) in [
        ("first", &latency.first_write),
        ("last", &latency.last_write),
    ] {
        let cell = |q: f64| {
            percentile(samples, q).map_or_else(
                || "-".to_string(),
                |d| format!("{:.3} ms", d.as_secs_f64() * 1000.0),
            )
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {} |",
            latency.sent,
            latency.seen,
            samples.len(),
            cell(0.5),
            cell(0.99),
            cell(1.0),
        );
    }
    out
}

/// The two sockets, opened in the host namespace.
struct Listeners {
    packets: OwnedFd,
    netlink: OwnedFd,
}

/// The listeners' threads.
struct Running {
    stop: Arc<AtomicBool>,
    packets: JoinHandle<io::Result<Vec<Duration>>>,
    netlink: JoinHandle<io::Result<Vec<Duration>>>,
}

impl Listeners {
    /// Opens both sockets in the current namespace.
    fn open(interface: &str) -> anyhow::Result<Listeners> {
        let index = nix::net::if_::if_nametoindex(interface)
            .with_context(|| format!("no interface {interface}"))?;
        let packets = packet_listener(index).context("opening the packet listener")?;
        let netlink = netlink_listener().context("opening the netlink listener")?;
        Ok(Listeners { packets, netlink })
    }

    fn start(self) -> Running {
        let stop = Arc::new(AtomicBool::new(false));
        let packet_stop = stop.clone();
        let netlink_stop = stop.clone();
        let Listeners { packets, netlink } = self;
        Running {
            stop,
            packets: std::thread::spawn(move || receive_adverts(&packets, &packet_stop)),
            netlink: std::thread::spawn(move || receive_changes(&netlink, &netlink_stop)),
        }
    }
}

impl Running {
    /// Stops both threads; returns the RA arrivals and the change times.
    fn stop(self) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
        self.stop.store(true, Ordering::Relaxed);
        let arrivals = self
            .packets
            .join()
            .map_err(|_| anyhow::anyhow!("the packet listener panicked"))?
            .context("receiving RAs")?;
        let changes = self
            .netlink
            .join()
            .map_err(|_| anyhow::anyhow!("the netlink listener panicked"))?
            .context("receiving netlink notifications")?;
        Ok((arrivals, changes))
    }
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn set_option<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live T of the given size.
    check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    })
}

fn new_socket(
    domain: libc::c_int,
    kind: libc::c_int,
    protocol: libc::c_int,
) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2); the result is checked before use.
    let fd = unsafe { libc::socket(domain, kind | libc::SOCK_CLOEXEC, protocol) };
    check(fd)?;
    // SAFETY: fd is a fresh socket nothing else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let timeout = libc::timeval {
        tv_sec: 0,
        tv_usec: RECEIVE_TIMEOUT.as_micros() as libc::suseconds_t,
    };
    set_option(&socket, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &timeout)?;
    set_option(&socket, libc::SOL_SOCKET, libc::SO_RCVBUF, &(4 << 20))?;
    Ok(socket)
}

/// A packet socket receiving IPv6 packets on interface `index`, with kernel
/// receive timestamps.
fn packet_listener(index: u32) -> io::Result<OwnedFd> {
    let protocol = ETH_P_IPV6.to_be();
    let socket = new_socket(libc::AF_PACKET, libc::SOCK_DGRAM, i32::from(protocol))?;
    set_option(&socket, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &1)?;
    // SAFETY: all-zero is a valid sockaddr_ll.
    let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    address.sll_family = libc::AF_PACKET as u16;
    address.sll_protocol = protocol;
    address.sll_ifindex = index as i32;
    // SAFETY: the pointer and length describe `address`.
    check(unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&raw const address).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok(socket)
}

/// A netlink socket in the IPv6 address, IPv6 route and nexthop groups.
fn netlink_listener() -> io::Result<OwnedFd> {
    let socket = new_socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE)?;
    // SAFETY: all-zero is a valid sockaddr_nl.
    let mut address: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    address.nl_family = libc::AF_NETLINK as u16;
    address.nl_groups = (libc::RTMGRP_IPV6_IFADDR | libc::RTMGRP_IPV6_ROUTE) as u32;
    // SAFETY: the pointer and length describe `address`.
    check(unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&raw const address).cast(),
            size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    })?;
    set_option(
        &socket,
        libc::SOL_NETLINK,
        libc::NETLINK_ADD_MEMBERSHIP,
        &RTNLGRP_NEXTHOP,
    )?;
    Ok(socket)
}

fn timed_out(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Kernel receive times (since the epoch) of the crafted router's RAs.
fn receive_adverts(socket: &OwnedFd, stop: &AtomicBool) -> io::Result<Vec<Duration>> {
    let mut arrivals = Vec::new();
    let mut packet = [0u8; 2048];
    let mut control = [0u64; 16];
    while !stop.load(Ordering::Relaxed) {
        let mut iov = libc::iovec {
            iov_base: packet.as_mut_ptr().cast(),
            iov_len: packet.len(),
        };
        // SAFETY: all-zero is a valid msghdr; the pointers set below
        // describe live buffers.
        let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
        message.msg_iov = &raw mut iov;
        message.msg_iovlen = 1;
        message.msg_control = control.as_mut_ptr().cast();
        message.msg_controllen = size_of::<[u64; 16]>();
        // SAFETY: `message` describes live buffers.
        let length = unsafe { libc::recvmsg(socket.as_raw_fd(), &raw mut message, 0) };
        if length < 0 {
            let error = io::Error::last_os_error();
            if timed_out(&error) {
                continue;
            }
            return Err(error);
        }
        let bytes = &packet[..length as usize];
        let is_ours = bytes.len() > 40
            && bytes[6] == ICMPV6
            && bytes[40] == ROUTER_ADVERTISEMENT
            && bytes[8..24] == ROUTER.octets();
        if let (true, Some(stamp)) = (is_ours, receive_timestamp(&message)) {
            arrivals.push(stamp);
        }
    }
    Ok(arrivals)
}

/// The SCM_TIMESTAMPNS of a received message, since the epoch.
fn receive_timestamp(message: &libc::msghdr) -> Option<Duration> {
    // SAFETY: the CMSG macros walk the control buffer recvmsg filled, within
    // msg_controllen.
    unsafe {
        let mut header = libc::CMSG_FIRSTHDR(message);
        while !header.is_null() {
            if (*header).cmsg_level == libc::SOL_SOCKET
                && (*header).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let stamp: libc::timespec =
                    std::ptr::read_unaligned(libc::CMSG_DATA(header).cast());
                return Some(Duration::new(stamp.tv_sec as u64, stamp.tv_nsec as u32));
            }
            header = libc::CMSG_NXTHDR(message, header);
        }
    }
    None
}

/// When each address, route or nexthop change reached the listener, since
/// the epoch.
fn receive_changes(socket: &OwnedFd, stop: &AtomicBool) -> io::Result<Vec<Duration>> {
    let mut changes = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: the buffer is live and its length is passed.
        let length = unsafe {
            libc::recv(
                socket.as_raw_fd(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                0,
            )
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        if length < 0 {
            let error = io::Error::last_os_error();
            if timed_out(&error) {
                continue;
            }
            return Err(error);
        }
        if length > 0 {
            changes.push(now);
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|v| Duration::from_millis(*v)).collect()
    }

    #[test]
    fn each_arrival_takes_the_changes_before_the_next() {
        let arrivals = ms(&[100, 200, 300]);
        let changes = ms(&[50, 101, 104, 199, 250, 400]);
        let (first, last) = pair(&arrivals, &changes);
        // The 300 ms arrival has nothing within one spacing.
        assert_eq!(first, ms(&[1, 50]));
        assert_eq!(last, ms(&[99, 50]));
    }

    #[test]
    fn every_advert_changes_preference_and_shortens_the_lifetime() {
        let lifetime = |advert: &RouterAdvert| match &advert.options[0] {
            NdOption::PrefixInformation(prefix) => prefix.valid_lifetime,
            other => panic!("{other:?}"),
        };
        let (a, b) = (advert(1), advert(2));
        assert_ne!(a.preference, b.preference);
        assert_eq!(lifetime(&a) - lifetime(&b), 10);
        assert!(lifetime(&advert(9_000)) > 7200);
    }
}
