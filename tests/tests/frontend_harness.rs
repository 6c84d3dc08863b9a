//! slaacd-frontend started alone in a host namespace joined by a veth pair
//! to a peer namespace. The test plays both of its peers over the channels
//! the daemon uses: the parent (fd 3, `FrontendMain.start` with the sockets
//! the parent opens, by the frontend library's own functions) and the engine
//! (the direct channel, serving `Engine`, calling `Frontend`). It asserts
//! what the real frontend binary relays from the wire and the kernel, and
//! what it puts on the wire.

mod harness;

use std::cell::RefCell;
use std::net::Ipv6Addr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::rc::Rc;

use harness::{PATIENCE, peer_runtime, start_child, wait_for_call};
use nix::sched::{CloneFlags, setns};
use slaacd_frontend::{icmp6, netlink, packet};
use slaacd_ipc::convert::{read_ip6, read_link_local};
use slaacd_ipc::slaacd_capnp::{engine, frontend, frontend_main, logging};
use slaacd_ipc::{Channel, Side, send_fd};
use slaacd_tests::capture::{CapturedIcmp, IcmpCapture};
use slaacd_tests::netns::Netns;
use slaacd_tests::ra_sender::{RaSender, advert_with_prefix};
use slaacd_tests::require_root;
use slaacd_tests::slaacd::require_user;

const HOST_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
const ROUTER: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const HOST_LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
/// A link-local address the test adds as optimistic (RFC 4429).
const HOST_OPTIMISTIC: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 3);
const ROUTER_SOLICITATION: u8 = 133;

/// What the frontend asked of the engine, in order.
#[derive(Debug, Clone, PartialEq)]
enum EngineCall {
    Update {
        index: u32,
        name: String,
        running: bool,
        hw_address: Vec<u8>,
        link_local: Option<Ipv6Addr>,
    },
    Remove(u32),
    Advertisement {
        index: u32,
        source: Ipv6Addr,
        packet: Vec<u8>,
    },
    AddressDeleted(u32, Ipv6Addr),
}

type Calls = Rc<RefCell<Vec<EngineCall>>>;

/// The engine's side of the direct channel: it records every call.
struct FakeEngine(Calls);

impl engine::Server for FakeEngine {
    async fn update_interface(
        self: Rc<Self>,
        params: engine::UpdateInterfaceParams,
        _: engine::UpdateInterfaceResults,
    ) -> Result<(), capnp::Error> {
        let state = params.get()?.get_state()?;
        let link_local = read_link_local(state)?;
        self.0.borrow_mut().push(EngineCall::Update {
            index: state.get_if_index(),
            name: state.get_name()?.to_string()?,
            running: state.get_running(),
            hw_address: state.get_hw_address()?.to_vec(),
            link_local,
        });
        Ok(())
    }

    async fn remove_interface(
        self: Rc<Self>,
        params: engine::RemoveInterfaceParams,
        _: engine::RemoveInterfaceResults,
    ) -> Result<(), capnp::Error> {
        let index = params.get()?.get_if_index();
        self.0.borrow_mut().push(EngineCall::Remove(index));
        Ok(())
    }

    /// Records each advertisement of the call as one call of its own.
    async fn router_advertisements(
        self: Rc<Self>,
        params: engine::RouterAdvertisementsParams,
        _: engine::RouterAdvertisementsResults,
    ) -> Result<(), capnp::Error> {
        for ra in params.get()?.get_advertisements()? {
            self.0.borrow_mut().push(EngineCall::Advertisement {
                index: ra.get_if_index(),
                source: read_ip6(ra.get_source()?),
                packet: ra.get_packet()?.to_vec(),
            });
        }
        Ok(())
    }

    async fn address_deleted(
        self: Rc<Self>,
        params: engine::AddressDeletedParams,
        _: engine::AddressDeletedResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let call =
            EngineCall::AddressDeleted(params.get_if_index(), read_ip6(params.get_address()?));
        self.0.borrow_mut().push(call);
        Ok(())
    }
}

/// The parent's logging, which the frontend holds for `slaacctl log`.
struct FakeLogging;

impl logging::Server for FakeLogging {
    async fn set_verbosity(
        self: Rc<Self>,
        _: logging::SetVerbosityParams,
        _: logging::SetVerbosityResults,
    ) -> Result<(), capnp::Error> {
        Ok(())
    }
}

/// The two namespaces: h0 in the host (down, no link-local address until a
/// test adds one), p0 in the peer (up, the router's end).
struct Link {
    host: Netns,
    peer: Netns,
}

impl Link {
    fn new() -> Link {
        require_root();
        let host = Netns::new("fh");
        let peer = Netns::new("fp");
        host.ip(&["link", "add", "h0", "type", "veth", "peer", "name", "p0"]);
        host.ip(&["link", "set", "p0", "netns", peer.name()]);
        // The address the test chooses, none from the kernel; and no
        // solicitations of the kernel's own on the wire.
        host.ip(&["link", "set", "h0", "addrgenmode", "none"]);
        host.ip(&["link", "set", "h0", "address", "02:00:00:00:00:02"]);
        host.sysctl("h0", "accept_ra", "0");
        peer.ip(&["link", "set", "p0", "address", "02:00:00:00:00:01", "up"]);
        Link { host, peer }
    }

    fn h0_index(&self) -> u32 {
        let links = self.host.ip_json(&["link", "show", "dev", "h0"]);
        let index = links[0]["ifindex"].as_u64().expect("h0's index");
        u32::try_from(index).expect("an interface index fits 32 bits")
    }
}

/// What a test body gets: the link, the calls the engine received so far,
/// and the frontend's `Frontend` capability, as the engine holds it.
struct Alone<'a> {
    link: &'a Link,
    h0: u32,
    calls: Calls,
    frontend: frontend::Client,
}

impl Alone<'_> {
    /// Waits until the engine received a call `matches` accepts, after the
    /// first `skip` calls, and returns it.
    async fn call_after(
        &self,
        skip: usize,
        what: &str,
        matches: impl Fn(&EngineCall) -> bool,
    ) -> EngineCall {
        wait_for_call(&self.calls, skip, what, matches).await
    }

    /// Waits for an update of h0 with `running`, after the first `skip` calls.
    async fn update_of_h0(&self, skip: usize, running: bool) {
        let h0 = self.h0;
        let what = format!("an update of h0 with running {running}");
        self.call_after(skip, &what, |call| {
            matches!(call, EngineCall::Update { index, running: now, .. }
                if *index == h0 && *now == running)
        })
        .await;
    }

    fn calls_so_far(&self) -> usize {
        self.calls.borrow().len()
    }
}

/// Starts slaacd-frontend in the host namespace of `link`, managing h0,
/// plays its parent and its engine, runs `body`, then closes the parent's
/// channel and checks that the frontend exits cleanly.
fn with_frontend_alone(link: &Link, body: impl AsyncFnOnce(&Alone<'_>) + Send) {
    require_user();
    let h0 = link.h0_index();
    let control_dir = tempfile::tempdir().expect("a directory for the control socket");
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // This thread lives in the host namespace: the sockets it
                // opens and the frontend it starts belong there.
                let namespace = std::fs::File::open(format!("/run/netns/{}", link.host.name()))
                    .expect("opening the host namespace");
                setns(namespace.as_fd(), CloneFlags::CLONE_NEWNET)
                    .expect("entering the host namespace");
                let sockets = ParentSockets::open(&control_dir.path().join("control.sock"));
                let (parent_end, mut process) = start_child("slaacd-frontend");
                run_peers(parent_end, sockets, link, h0, body);
                let status = process
                    .wait_timeout(PATIENCE)
                    .expect("the frontend kept running after its parent left");
                assert!(status.success(), "the frontend exited with {status}");
            })
            .join()
            .expect("the frontend's test thread panicked");
    });
}

/// What the parent opens for the frontend, with the functions it uses.
struct ParentSockets {
    icmp6: OwnedFd,
    packet: OwnedFd,
    netlink: OwnedFd,
    control: OwnedFd,
}

impl ParentSockets {
    fn open(control: &std::path::Path) -> ParentSockets {
        let listener = UnixListener::bind(control).expect("binding the control socket");
        ParentSockets {
            icmp6: icmp6::open_icmp6_socket().expect("opening the ICMPv6 socket"),
            packet: packet::open_packet_socket().expect("opening the packet socket"),
            netlink: netlink::open_netlink_socket().expect("opening the netlink socket"),
            control: listener.into(),
        }
    }
}

fn run_peers(
    parent_end: OwnedFd,
    sockets: ParentSockets,
    link: &Link,
    h0: u32,
    body: impl AsyncFnOnce(&Alone<'_>),
) {
    tokio::task::LocalSet::new().block_on(&peer_runtime(), async {
        let calls: Calls = Rc::default();
        // As the engine: serve Engine on the direct channel, reach Frontend.
        let (engine_end, frontend_end) = slaacd_ipc::child::socketpair().unwrap();
        let fake_engine: engine::Client = capnp_rpc::new_client(FakeEngine(calls.clone()));
        let mut direct =
            Channel::open(engine_end, Side::Server, |_| Some(fake_engine.client)).unwrap();
        let frontend: frontend::Client = direct.rpc.bootstrap(Side::Client);
        tokio::task::spawn_local(direct.rpc);

        // As the parent: hand over the sockets, in the parent's order.
        let mut parent = Channel::open(parent_end, Side::Client, |_| None).unwrap();
        let frontend_main: frontend_main::Client = parent.rpc.bootstrap(Side::Server);
        let parent_rpc = tokio::task::spawn_local(parent.rpc);
        let mut start = frontend_main.start_request();
        let mut params = start.get();
        let queues = &parent.queues;
        send_fd(
            queues,
            frontend_end,
            params.reborrow().init_engine_channel(),
        );
        send_fd(queues, sockets.icmp6, params.reborrow().init_icmp6());
        send_fd(queues, sockets.packet, params.reborrow().init_packet());
        send_fd(queues, sockets.netlink, params.reborrow().init_netlink());
        send_fd(queues, sockets.control, params.reborrow().init_control());
        params.reborrow().init_interfaces(1).set(0, "h0");
        params.set_logging(capnp_rpc::new_client(FakeLogging));
        params.set_control_group(0);
        start.send().promise.await.expect("FrontendMain.start");

        let alone = Alone {
            link,
            h0,
            calls,
            frontend,
        };
        // The first dump announces h0, down.
        alone.update_of_h0(0, false).await;
        body(&alone).await;

        // Closing the parent's channel stops the frontend.
        drop(frontend_main);
        parent_rpc.abort();
    });
}

/// Brings h0 up and waits until the engine hears it is running.
async fn bring_h0_up(alone: &Alone<'_>) {
    let before = alone.calls_so_far();
    alone.link.host.ip(&["link", "set", "h0", "up"]);
    alone.update_of_h0(before, true).await;
}

#[test]
fn an_advertisement_on_the_wire_reaches_the_engine_as_it_was_sent() {
    let link = Link::new();
    with_frontend_alone(&link, async |alone| {
        bring_h0_up(alone).await;
        let sender = RaSender::open(&alone.link.peer, "p0").expect("opening the RA sender");
        let advert = advert_with_prefix("2001:db8:5::".parse().unwrap());
        let before = alone.calls_so_far();
        sender
            .send_advert(ROUTER, &advert)
            .expect("sending the advertisement");
        let call = alone
            .call_after(before, "the advertisement", |call| {
                matches!(call, EngineCall::Advertisement { .. })
            })
            .await;
        let EngineCall::Advertisement {
            index,
            source,
            packet,
        } = call
        else {
            unreachable!()
        };
        assert_eq!((index, source), (alone.h0, ROUTER));
        // The ICMPv6 message exactly as sent, its checksum filled in.
        let mut expected = advert.emit();
        expected[2..4].copy_from_slice(&packet[2..4]);
        assert_eq!(packet, expected);
    });
}

#[test]
fn an_advertisement_with_hop_limit_254_never_reaches_the_engine() {
    let link = Link::new();
    with_frontend_alone(&link, async |alone| {
        bring_h0_up(alone).await;
        let sender = RaSender::open(&alone.link.peer, "p0").expect("opening the RA sender");
        let forwarded = advert_with_prefix("2001:db8:254::".parse().unwrap());
        let marker = advert_with_prefix("2001:db8:255::".parse().unwrap());
        let before = alone.calls_so_far();
        sender
            .send_icmp(ROUTER, 254, &forwarded.emit())
            .expect("sending the forwarded advertisement");
        // The socket keeps the order of the wire: once the marker is in, the
        // one before it was dropped or passed on.
        sender
            .send_advert(ROUTER, &marker)
            .expect("sending the marker");
        let prefix_of = |packet: &[u8]| packet.get(16 + 16..16 + 32).map(<[u8]>::to_vec);
        let marker_prefix = prefix_of(&marker.emit());
        alone
            .call_after(before, "the marker advertisement", |call| {
                matches!(call, EngineCall::Advertisement { packet, .. }
                    if prefix_of(packet) == marker_prefix)
            })
            .await;
        let advertisements: Vec<EngineCall> = alone.calls.borrow()[before..]
            .iter()
            .filter(|call| matches!(call, EngineCall::Advertisement { .. }))
            .cloned()
            .collect();
        assert_eq!(
            advertisements.len(),
            1,
            "the hop limit 254 advertisement reached the engine: {advertisements:#?}"
        );
    });
}

/// Whether an ICMPv6 message's checksum is right for the addresses it
/// travelled between (RFC 8200 8.1 pseudo-header), summed here from scratch
/// rather than by the code under test.
fn icmpv6_checksum_ok(source: Ipv6Addr, destination: Ipv6Addr, message: &[u8]) -> bool {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&source.octets());
    bytes.extend_from_slice(&destination.octets());
    bytes.extend_from_slice(&(message.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&[0, 0, 0, 58]);
    bytes.extend_from_slice(message);
    if bytes.len() % 2 == 1 {
        bytes.push(0);
    }
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|pair| u32::from(u16::from_be_bytes([pair[0], pair[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum == 0xffff
}

/// Asks the frontend for a solicitation on h0 and returns the one the peer
/// sees next, after checking that it came from `from` to ff02::2 with hop
/// limit 255, code 0 and a valid checksum.
async fn solicit(alone: &Alone<'_>, capture: &IcmpCapture, from: Ipv6Addr) -> CapturedIcmp {
    let mut request = alone.frontend.send_solicitation_request();
    request.get().set_if_index(alone.h0);
    request
        .send()
        .promise
        .await
        .expect("Frontend.sendSolicitation");
    let solicitation = capture
        .next_of_type(ROUTER_SOLICITATION, PATIENCE)
        .expect("reading the capture")
        .expect("no router solicitation came");
    let all_routers: Ipv6Addr = "ff02::2".parse().unwrap();
    assert_eq!(solicitation.source, from, "{solicitation:?}");
    assert_eq!(solicitation.destination, all_routers);
    assert_eq!(solicitation.hop_limit, 255);
    assert_eq!(solicitation.message[1], 0, "code");
    assert!(
        icmpv6_checksum_ok(from, all_routers, &solicitation.message),
        "bad checksum: {solicitation:?}"
    );
    solicitation
}

#[test]
fn a_solicitation_call_puts_a_router_solicitation_on_the_wire() {
    let link = Link::new();
    let capture = IcmpCapture::open(&link.peer, "p0").expect("opening the capture");
    with_frontend_alone(&link, async |alone| {
        bring_h0_up(alone).await;

        // Without a link-local address: from the unspecified address,
        // without the link-layer option (RFC 4861 4.1).
        let from_unspecified = solicit(alone, &capture, Ipv6Addr::UNSPECIFIED).await;
        assert_eq!(from_unspecified.message.len(), 8, "{from_unspecified:?}");

        // With a usable link-local address: from it, with the option, type
        // 1, length 1 (8 bytes), h0's MAC.
        let before = alone.calls_so_far();
        alone.link.host.ip(&[
            "addr",
            "add",
            &format!("{HOST_LINK_LOCAL}/64"),
            "dev",
            "h0",
            "nodad",
        ]);
        alone
            .call_after(before, "h0's link-local address", |call| {
                matches!(call, EngineCall::Update { link_local: Some(address), .. }
                    if *address == HOST_LINK_LOCAL)
            })
            .await;
        let from_link_local = solicit(alone, &capture, HOST_LINK_LOCAL).await;
        let mut option = vec![1, 1];
        option.extend_from_slice(&HOST_MAC);
        assert_eq!(from_link_local.message.get(8..), Some(option.as_slice()));
    });
}

#[test]
fn a_solicitation_from_an_optimistic_link_local_address_carries_no_option() {
    let link = Link::new();
    // Linux announces an optimistic address only once its DAD is over, so
    // the frontend learns this one from its first dump: added while h0 is
    // down, it stays optimistic through five probes (RFC 4429).
    link.host.sysctl("h0", "optimistic_dad", "1");
    link.host.sysctl("h0", "dad_transmits", "5");
    let optimistic = format!("{HOST_OPTIMISTIC}/64");
    link.host
        .ip(&["addr", "add", &optimistic, "dev", "h0", "optimistic"]);
    let capture = IcmpCapture::open(&link.peer, "p0").expect("opening the capture");
    with_frontend_alone(&link, async |alone| {
        bring_h0_up(alone).await;
        let from_optimistic = solicit(alone, &capture, HOST_OPTIMISTIC).await;
        assert_eq!(from_optimistic.message.len(), 8, "{from_optimistic:?}");
    });
}

#[test]
fn link_events_reach_the_engine_as_interface_updates_and_removals() {
    let link = Link::new();
    with_frontend_alone(&link, async |alone| {
        bring_h0_up(alone).await;
        let update = alone
            .call_after(0, "h0's update", |call| {
                matches!(call, EngineCall::Update { running: true, .. })
            })
            .await;
        assert_eq!(
            update,
            EngineCall::Update {
                index: alone.h0,
                name: "h0".into(),
                running: true,
                hw_address: HOST_MAC.to_vec(),
                link_local: None,
            }
        );
        // Going down flushes h0's addresses: each deletion is relayed.
        let global: Ipv6Addr = "2001:db8::7".parse().unwrap();
        alone
            .link
            .host
            .ip(&["addr", "add", &format!("{global}/64"), "dev", "h0", "nodad"]);
        let before = alone.calls_so_far();
        alone.link.host.ip(&["link", "set", "h0", "down"]);
        alone.update_of_h0(before, false).await;
        alone
            .call_after(before, "the deletion of the global address", |call| {
                *call == EngineCall::AddressDeleted(alone.h0, global)
            })
            .await;
        bring_h0_up(alone).await;
        // The peer's carrier counts as much as h0's own state.
        let before = alone.calls_so_far();
        alone.link.peer.ip(&["link", "set", "p0", "down"]);
        alone.update_of_h0(before, false).await;
        let before = alone.calls_so_far();
        alone.link.peer.ip(&["link", "set", "p0", "up"]);
        alone.update_of_h0(before, true).await;
        let removed = alone
            .calls
            .borrow()
            .iter()
            .any(|call| matches!(call, EngineCall::Remove(_)));
        assert!(
            !removed,
            "h0 was reported removed: {:#?}",
            alone.calls.borrow()
        );

        // Deleting the link is a removal.
        let before = alone.calls_so_far();
        alone.link.host.ip(&["link", "del", "h0"]);
        alone
            .call_after(before, "the removal of h0", |call| {
                *call == EngineCall::Remove(alone.h0)
            })
            .await;
    });
}
