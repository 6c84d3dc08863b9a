//! Router Advertisements processed per second by the engine core, for a
//! typical advertisement (2 PIOs, RDNSS, DNSSL, MTU, SLLA) seen for the first
//! time (router, two stable addresses and a default route created) and for
//! the same advertisement repeated (the common case on a busy link).

use std::hint::black_box;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use slaacd_core::{Config, Engine, Input, InterfaceState, RouterPreference};
use slaacd_wire::{NdOption, PrefixInformation, RouterAdvert};

const INDEX: u32 = 2;

fn typical_advertisement() -> Vec<u8> {
    let pio = |third: u16| {
        NdOption::PrefixInformation(PrefixInformation {
            prefix: Ipv6Addr::new(0x2001, 0xdb8, third, 0, 0, 0, 0, 0),
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lifetime: 86_400,
            preferred_lifetime: 14_400,
        })
    };
    RouterAdvert {
        cur_hop_limit: 64,
        managed: false,
        other: true,
        preference: RouterPreference::Medium,
        router_lifetime: 1800,
        reachable_time: 0,
        retrans_timer: 0,
        options: vec![
            NdOption::SourceLinkLayerAddress(vec![0x02, 0, 0, 0, 0, 1]),
            NdOption::Mtu(1500),
            pio(1),
            pio(2),
            NdOption::Rdnss {
                lifetime: 1800,
                servers: vec![
                    "2001:db8::53".parse().unwrap(),
                    "2001:db8::54".parse().unwrap(),
                ],
            },
            NdOption::Dnssl {
                lifetime: 1800,
                domains: vec!["example.org".into(), "lab.example.org".into()],
            },
        ],
    }
    .emit()
}

fn engine_with_interface(now: Instant) -> Engine {
    let mut engine = Engine::new(Config::new(vec![0x42; 16], 1));
    engine.handle(
        now,
        Input::InterfaceUpdate(InterfaceState {
            index: INDEX,
            name: "eth0".into(),
            running: true,
            hw_address: vec![0x02, 0, 0, 0xaa, 0xbb, 0xcc],
            link_local: None,
        }),
    );
    while engine.poll_output().is_some() {}
    engine
}

fn input(packet: &[u8]) -> Input {
    Input::RouterAdvertisement {
        index: INDEX,
        source: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
        packet: packet.to_vec(),
    }
}

fn advertisements(c: &mut Criterion) {
    let packet = typical_advertisement();
    let start = Instant::now();
    let mut group = c.benchmark_group("advertisement");
    group.throughput(Throughput::Elements(1));

    group.bench_function("first", |b| {
        b.iter_batched(
            || (engine_with_interface(start), input(&packet)),
            |(mut engine, input)| {
                engine.handle(start, input);
                while let Some(output) = engine.poll_output() {
                    black_box(output);
                }
                engine
            },
            BatchSize::SmallInput,
        )
    });

    group.bench_function("repeated", |b| {
        let mut engine = engine_with_interface(start);
        engine.handle(start, input(&packet));
        while engine.poll_output().is_some() {}
        let mut now = start;
        b.iter_batched(
            || input(&packet),
            |input| {
                // A millisecond apart: far from any refresh point.
                now += Duration::from_millis(1);
                engine.handle(now, input);
                while let Some(output) = engine.poll_output() {
                    black_box(output);
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, advertisements);
criterion_main!(benches);
