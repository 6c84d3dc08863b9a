//! slaacd-engine started alone. The test plays both of its peers over the
//! channels the daemon uses: the parent (fd 3, `EngineMain.start`, serving
//! `Kernel`) and the frontend (the direct channel passed by fd, serving
//! `Frontend`, calling `Engine`). It asserts the proposals the real engine
//! binary sends for real Router Advertisements, that it refuses a longer
//! list of them than the frontend ever sends, and that the frontend's drop
//! summaries reach a monitor with their counts.

mod harness;

use std::cell::RefCell;
use std::net::Ipv6Addr;
use std::rc::Rc;
use std::time::Duration;

use capnp::capability::Promise;
use harness::{PATIENCE, peer_runtime, start_child, wait_for_call};
use slaacd_ipc::convert::{read_ip6, write_ip6};
use slaacd_ipc::slaacd_capnp::{
    engine, engine_main, frontend, interface_report, kernel, monitor_event, monitor_listener,
    monitored_drop,
};
use slaacd_ipc::{Channel, Side, send_fd};
use slaacd_tests::require_root;
use slaacd_tests::slaacd::require_user;
use slaacd_wire::{NdOption, PrefixInformation, RouterAdvert, RouterPreference};

const INDEX: u32 = 7;
const ROUTER: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);

/// What the engine asked its peers to do, in order.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    Solicit(u32),
    Address {
        address: Ipv6Addr,
        prefix_len: u8,
        valid: u32,
        preferred: u32,
    },
    DefaultRoute {
        router: Ipv6Addr,
        lifetime: u32,
    },
    WithdrawDefaultRoute(Ipv6Addr),
    Other(&'static str),
}

type Calls = Rc<RefCell<Vec<Call>>>;

struct FakeKernel(Calls);

impl kernel::Server for FakeKernel {
    async fn configure_address(
        self: Rc<Self>,
        params: kernel::ConfigureAddressParams,
        _: kernel::ConfigureAddressResults,
    ) -> Result<(), capnp::Error> {
        let p = params.get()?.get_proposal()?;
        self.0.borrow_mut().push(Call::Address {
            address: read_ip6(p.get_address()?),
            prefix_len: p.get_prefix_length(),
            valid: p.get_valid_lifetime(),
            preferred: p.get_preferred_lifetime(),
        });
        Ok(())
    }

    async fn configure_default_route(
        self: Rc<Self>,
        params: kernel::ConfigureDefaultRouteParams,
        _: kernel::ConfigureDefaultRouteResults,
    ) -> Result<(), capnp::Error> {
        let r = params.get()?.get_route()?;
        self.0.borrow_mut().push(Call::DefaultRoute {
            router: read_ip6(r.get_router()?),
            lifetime: r.get_lifetime(),
        });
        Ok(())
    }

    async fn withdraw_default_route(
        self: Rc<Self>,
        params: kernel::WithdrawDefaultRouteParams,
        _: kernel::WithdrawDefaultRouteResults,
    ) -> Result<(), capnp::Error> {
        let router = read_ip6(params.get()?.get_router()?);
        self.0.borrow_mut().push(Call::WithdrawDefaultRoute(router));
        Ok(())
    }

    async fn configure_route(
        self: Rc<Self>,
        _: kernel::ConfigureRouteParams,
        _: kernel::ConfigureRouteResults,
    ) -> Result<(), capnp::Error> {
        self.0.borrow_mut().push(Call::Other("route"));
        Ok(())
    }

    async fn configure_dns(
        self: Rc<Self>,
        _: kernel::ConfigureDnsParams,
        _: kernel::ConfigureDnsResults,
    ) -> Result<(), capnp::Error> {
        self.0.borrow_mut().push(Call::Other("dns"));
        Ok(())
    }

    async fn configure_link_parameters(
        self: Rc<Self>,
        _: kernel::ConfigureLinkParametersParams,
        _: kernel::ConfigureLinkParametersResults,
    ) -> Result<(), capnp::Error> {
        self.0.borrow_mut().push(Call::Other("link parameters"));
        Ok(())
    }
}

struct FakeFrontend(Calls);

impl frontend::Server for FakeFrontend {
    async fn send_solicitation(
        self: Rc<Self>,
        params: frontend::SendSolicitationParams,
        _: frontend::SendSolicitationResults,
    ) -> Result<(), capnp::Error> {
        self.0
            .borrow_mut()
            .push(Call::Solicit(params.get()?.get_if_index()));
        Ok(())
    }
}

/// A typical RA: one /64 for addresses and on-link, router lifetime 1800 s.
fn advertisement() -> Vec<u8> {
    advertisement_with_router_lifetime(1800)
}

/// The typical RA with another router lifetime (0: not a default router).
fn advertisement_with_router_lifetime(router_lifetime: u16) -> Vec<u8> {
    RouterAdvert {
        cur_hop_limit: 0,
        managed: false,
        other: false,
        preference: RouterPreference::Medium,
        router_lifetime,
        reachable_time: 0,
        retrans_timer: 0,
        options: vec![NdOption::PrefixInformation(PrefixInformation {
            prefix: "2001:db8:1::".parse().unwrap(),
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lifetime: 3600,
            preferred_lifetime: 1800,
        })],
    }
    .emit()
}

/// One call carrying `packets` from the router, in order, as the frontend
/// passes what waited for the engine.
fn send_advertisements(engine: &engine::Client, packets: &[&[u8]]) -> Promise<(), capnp::Error> {
    send_advertisements_from(engine, ROUTER, packets)
}

/// One call carrying `packets` from `router`, in order.
fn send_advertisements_from(
    engine: &engine::Client,
    router: Ipv6Addr,
    packets: &[&[u8]],
) -> Promise<(), capnp::Error> {
    let mut request = engine.router_advertisements_request();
    let count = u32::try_from(packets.len()).expect("a few advertisements");
    let mut list = request.get().init_advertisements(count);
    for (at, packet) in (0..).zip(packets) {
        let mut entry = list.reborrow().get(at);
        entry.set_if_index(INDEX);
        write_ip6(entry.reborrow().init_source(), router);
        entry.set_packet(packet);
    }
    Promise::from_future(async move {
        request.send().promise.await?;
        Ok(())
    })
}

fn dropped(report: interface_report::Reader<'_>, reason: &str) -> u64 {
    report
        .get_dropped()
        .unwrap()
        .iter()
        .find(|counter| counter.get_reason().unwrap().to_str().unwrap() == reason)
        .map_or(0, |counter| counter.get_count())
}

#[test]
fn the_engine_alone_turns_advertisements_into_proposals() {
    with_engine(async |engine, calls| {
        send_advertisements(engine, &[&advertisement()])
            .await
            .unwrap();
        let address = wait_for_call(calls, 0, "an address", |c| {
            matches!(c, Call::Address { .. })
        })
        .await;
        let Call::Address {
            address,
            prefix_len,
            valid,
            preferred,
        } = address
        else {
            unreachable!()
        };
        assert_eq!(
            u128::from(address) >> 64,
            0x2001_0db8_0001_0000,
            "{address} is not in the prefix"
        );
        assert_eq!((prefix_len, valid, preferred), (64, 3600, 1800));
        wait_for_call(calls, 0, "the default route", |c| {
            *c == Call::DefaultRoute {
                router: ROUTER,
                lifetime: 1800,
            }
        })
        .await;
        wait_for_call(calls, 0, "the on-link route", |c| {
            *c == Call::Other("route")
        })
        .await;

        // The same RA again changes nothing: no kernel write.
        let before = calls.borrow().len();
        send_advertisements(engine, &[&advertisement()])
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            calls.borrow().len(),
            before,
            "a repeated RA caused {:?}",
            &calls.borrow()[before..]
        );

        // A malformed RA (an option of length 0) is dropped and counted.
        let mut malformed = advertisement();
        malformed.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        send_advertisements(engine, &[&malformed]).await.unwrap();
        let mut show = engine.show_interfaces_request();
        show.get().set_if_index(0);
        let reply = show.send().promise.await.unwrap();
        let interfaces = reply.get().unwrap().get_interfaces().unwrap();
        assert_eq!(interfaces.len(), 1);
        let report = interfaces.get(0);
        assert_eq!(report.get_name().unwrap().to_str().unwrap(), "h0");
        assert_eq!(dropped(report, "option-length-zero"), 1);
        let routers = report.get_routers().unwrap();
        assert_eq!(routers.len(), 1);
        assert_eq!(read_ip6(routers.get(0).get_source().unwrap()), ROUTER);

        // One call with several RAs: each is taken in, in list order (the
        // router stops being a default router, then is one again), and the
        // malformed one between them is dropped and counted alone.
        let before = calls.borrow().len();
        let leaving = advertisement_with_router_lifetime(0);
        let back = advertisement();
        send_advertisements(engine, &[&leaving, &malformed, &back])
            .await
            .unwrap();
        wait_for_call(calls, before, "the default route again", |c| {
            matches!(c, Call::DefaultRoute { .. })
        })
        .await;
        assert_eq!(
            calls.borrow()[before..],
            [
                Call::WithdrawDefaultRoute(ROUTER),
                Call::DefaultRoute {
                    router: ROUTER,
                    lifetime: 1800,
                },
            ]
        );
        let mut show = engine.show_interfaces_request();
        show.get().set_if_index(INDEX);
        let reply = show.send().promise.await.unwrap();
        let interfaces = reply.get().unwrap().get_interfaces().unwrap();
        assert_eq!(dropped(interfaces.get(0), "option-length-zero"), 2);
    });
}

/// Runs `test` against a real engine process started as the parent would
/// ([`start_engine`]), then closes the parent's channel, which must stop the
/// engine, successfully.
fn with_engine(test: impl AsyncFnOnce(&engine::Client, &Calls)) {
    require_root();
    require_user();
    let (parent_end, mut engine_process) = start_child("slaacd-engine");
    tokio::task::LocalSet::new().block_on(&peer_runtime(), async {
        let calls: Calls = Rc::default();
        let Started {
            engine_main,
            parent_rpc,
            engine,
        } = start_engine(parent_end, &calls).await;
        test(&engine, &calls).await;
        // Closing the parent's channel stops the engine.
        drop(engine_main);
        parent_rpc.abort();
    });
    let status = engine_process
        .wait_timeout(PATIENCE)
        .expect("the engine kept running after its parent left");
    assert!(status.success(), "the engine exited with {status}");
}

/// The engine as the test's peers hold it.
struct Started {
    engine_main: engine_main::Client,
    parent_rpc: tokio::task::JoinHandle<Result<(), capnp::Error>>,
    engine: engine::Client,
}

/// Plays the parent (starts the engine with a fake kernel recording into
/// `calls`) and the frontend (reaches the engine over the direct channel),
/// then reports interface h0 up and waits for the engine's solicitation.
async fn start_engine(parent_end: std::os::fd::OwnedFd, calls: &Calls) -> Started {
    // As the parent: start the engine with a kernel and its frontend channel.
    let mut parent = Channel::open(parent_end, Side::Client, |_| None).unwrap();
    let engine_main: engine_main::Client = parent.rpc.bootstrap(Side::Server);
    let parent_rpc = tokio::task::spawn_local(parent.rpc);
    let (engine_end, frontend_end) = slaacd_ipc::child::socketpair().unwrap();
    let mut start = engine_main.start_request();
    start
        .get()
        .set_kernel(capnp_rpc::new_client(FakeKernel(calls.clone())));
    start.get().set_secret_key(&[7; 32]);
    send_fd(
        &parent.queues,
        engine_end,
        start.get().init_frontend_channel(),
    );
    start.send().promise.await.expect("EngineMain.start");

    // As the frontend: reach the engine over the direct channel.
    let fake_frontend: frontend::Client = capnp_rpc::new_client(FakeFrontend(calls.clone()));
    let mut direct =
        Channel::open(frontend_end, Side::Client, |_| Some(fake_frontend.client)).unwrap();
    let engine: engine::Client = direct.rpc.bootstrap(Side::Server);
    tokio::task::spawn_local(direct.rpc);

    let mut update = engine.update_interface_request();
    let mut state = update.get().init_state();
    state.set_if_index(INDEX);
    state.set_name("h0");
    state.set_running(true);
    state.set_hw_address(&[2, 0, 0, 0, 0, 2]);
    state.init_link_local().set_none(());
    update.send().promise.await.unwrap();
    wait_for_call(calls, 0, "a solicitation at link-up", |c| {
        *c == Call::Solicit(INDEX)
    })
    .await;
    Started {
        engine_main,
        parent_rpc,
        engine,
    }
}

/// The routers the engine reports on h0.
async fn routers(engine: &engine::Client) -> Vec<Ipv6Addr> {
    let mut show = engine.show_interfaces_request();
    show.get().set_if_index(INDEX);
    let reply = show.send().promise.await.unwrap();
    let interfaces = reply.get().unwrap().get_interfaces().unwrap();
    interfaces
        .get(0)
        .get_routers()
        .unwrap()
        .iter()
        .map(|router| read_ip6(router.get_source().unwrap()))
        .collect()
}

/// The frontend batches at most 64 RAs a call; the engine refuses a longer
/// list whole (none of it is taken in), says why and counts the refusals.
#[test]
fn an_over_long_advertisement_list_is_refused_whole() {
    with_engine(async |engine, _| {
        let packet = advertisement();
        let refused: Ipv6Addr = "fe80::65".parse().unwrap();

        let error = send_advertisements_from(engine, refused, &[&packet[..]; 65])
            .await
            .expect_err("65 advertisements in one call");
        assert!(
            error
                .to_string()
                .contains("65 advertisements in one call, at most 64: refused"),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("refused calls so far: 1 (65 advertisements)"),
            "{error}"
        );
        assert!(
            routers(engine).await.is_empty(),
            "an RA of the refused call was taken in"
        );

        // The frontend's largest call is taken in.
        send_advertisements(engine, &[&packet[..]; 64])
            .await
            .expect("64 advertisements in one call");
        assert_eq!(routers(engine).await, [ROUTER]);

        let error = send_advertisements_from(engine, refused, &[&packet[..]; 1000])
            .await
            .expect_err("1000 advertisements in one call");
        assert!(
            error
                .to_string()
                .contains("refused calls so far: 2 (1065 advertisements)"),
            "{error}"
        );
        assert_eq!(routers(engine).await, [ROUTER]);
    });
}

/// A `dropped` event as a monitor gets it.
#[derive(Debug, Clone, PartialEq)]
struct SeenDrop {
    if_index: u32,
    if_name: String,
    reason: String,
    source: Option<Ipv6Addr>,
    count: u64,
}

/// Records the `dropped` events it gets.
struct DropListener(Rc<RefCell<Vec<SeenDrop>>>);

impl monitor_listener::Server for DropListener {
    async fn events(
        self: Rc<Self>,
        params: monitor_listener::EventsParams,
        _: monitor_listener::EventsResults,
    ) -> Result<(), capnp::Error> {
        for event in params.get()?.get_events()? {
            let monitor_event::Dropped(drop) = event.which()? else {
                continue;
            };
            let drop = drop?;
            self.0.borrow_mut().push(SeenDrop {
                if_index: event.get_if_index(),
                if_name: event.get_if_name()?.to_string()?,
                reason: drop.get_reason()?.to_string()?,
                source: match drop.get_what().which()? {
                    monitored_drop::what::Advertisement(source) => Some(read_ip6(source?)),
                    monitored_drop::what::Entry(()) => None,
                },
                count: drop.get_count(),
            });
        }
        Ok(())
    }
}

/// One `frontendDrops` call of `entries` summaries on h0, the nth counting
/// n + 1 drops from fe80::n.
fn send_frontend_drops(engine: &engine::Client, entries: u32) -> Promise<(), capnp::Error> {
    let mut request = engine.frontend_drops_request();
    let mut list = request.get().init_drops(entries);
    for at in 0..entries {
        let mut entry = list.reborrow().get(at);
        entry.set_if_index(INDEX);
        entry.set_if_name("h0");
        entry.set_reason("engine-busy");
        entry.set_count(u64::from(at) + 1);
        write_ip6(
            entry.init_last_source(),
            Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, at as u16),
        );
    }
    Promise::from_future(async move {
        request.send().promise.await?;
        Ok(())
    })
}

/// The frontend's summaries become one monitor event each, with the count
/// and the last source, beside the engine's own drops (count 1); more than
/// 64 summaries in a call are refused.
#[test]
fn frontend_drop_summaries_reach_a_monitor_with_their_counts() {
    with_engine(async |engine, _| {
        let drops: Rc<RefCell<Vec<SeenDrop>>> = Rc::default();
        let mut monitor = engine.monitor_request();
        monitor.get().set_if_index(0);
        monitor
            .get()
            .set_listener(capnp_rpc::new_client(DropListener(drops.clone())));
        let subscription = monitor.send().promise.await.expect("Engine.monitor");

        send_frontend_drops(engine, 1).await.expect("one summary");
        let mut malformed = advertisement();
        malformed.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        send_advertisements(engine, &[&malformed]).await.unwrap();
        let engine_busy = SeenDrop {
            if_index: INDEX,
            if_name: "h0".into(),
            reason: "engine-busy".into(),
            source: Some(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0)),
            count: 1,
        };
        let malformed_drop = SeenDrop {
            reason: "option-length-zero".into(),
            source: Some(ROUTER),
            ..engine_busy.clone()
        };
        wait_for_call(&drops, 0, "the engine's own drop", |drop| {
            *drop == malformed_drop
        })
        .await;
        assert_eq!(*drops.borrow(), [engine_busy, malformed_drop]);

        send_frontend_drops(engine, 64).await.expect("64 summaries");
        wait_for_call(&drops, 2, "the last of 64 summaries", |drop| {
            drop.count == 64
        })
        .await;
        let counts: Vec<u64> = drops.borrow()[2..].iter().map(|drop| drop.count).collect();
        assert_eq!(counts, (1..=64).collect::<Vec<_>>());

        let error = send_frontend_drops(engine, 65)
            .await
            .expect_err("65 summaries in one call");
        assert!(
            error
                .to_string()
                .contains("65 frontend drop entries in one call: at most 64"),
            "{error}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(drops.borrow().len(), 66, "a refused call told something");

        drop(subscription);
    });
}
