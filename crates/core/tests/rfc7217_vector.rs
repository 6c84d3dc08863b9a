//! The engine's stable addresses reproduce, bit for bit, the vectors that
//! tests/data/rfc7217_vector.py computes independently with hashlib.

mod common;

use std::net::Ipv6Addr;

use common::*;
use slaacd_core::{Config, Engine, Input, InterfaceState, Output};

struct Vector {
    name: String,
    prefix: Ipv6Addr,
    net_iface: Vec<u8>,
    counter: u8,
    key: Vec<u8>,
    address: Ipv6Addr,
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn vectors() -> Vec<Vector> {
    include_str!("data/rfc7217_vector.txt")
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            Vector {
                name: fields[0].to_owned(),
                prefix: fields[1].parse().unwrap(),
                net_iface: hex(fields[2]),
                counter: fields[3].parse().unwrap(),
                key: hex(fields[4]),
                address: fields[5].parse().unwrap(),
            }
        })
        .collect()
}

/// Runs the engine up to the vector's DAD counter and returns its address.
fn engine_address(vector: &Vector) -> Ipv6Addr {
    let now = std::time::Instant::now();
    let mut engine = Engine::new(Config::new(vector.key.clone(), 1));
    // The "interface-name" vector hashes the name: the interface has no
    // hardware address.
    let (name, hw_address) = if vector.name == "interface-name" {
        (
            String::from_utf8(vector.net_iface.clone()).unwrap(),
            Vec::new(),
        )
    } else {
        ("eth0".to_owned(), vector.net_iface.clone())
    };
    engine.handle(
        now,
        Input::InterfaceUpdate(InterfaceState {
            index: 3,
            name,
            running: true,
            hw_address,
            link_local: None,
        }),
    );
    let ra = advert(1800, vec![pio(vector.prefix, 86_400, 14_400)]);
    engine.handle(
        now,
        Input::RouterAdvertisement {
            index: 3,
            source: router(1),
            packet: ra.emit(),
        },
    );
    let mut address = None;
    for _ in 0..=vector.counter {
        if let Some(failed) = address {
            engine.handle(
                now,
                Input::DadFailed {
                    index: 3,
                    address: failed,
                },
            );
        }
        while let Some(output) = engine.poll_output() {
            if let Output::ConfigureAddress(p) = output {
                address = Some(p.address);
            }
        }
    }
    address.expect("the engine configured an address")
}

#[test]
fn the_engine_reproduces_the_independent_vectors() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 3);
    for vector in &vectors {
        assert_eq!(
            engine_address(vector),
            vector.address,
            "vector {}",
            vector.name
        );
    }
}
