//! What RaTakeover leaves behind: the link parameters slaacd writes from RAs
//! (IPv6 MTU, hop limit, Neighbor Discovery timers) and its own settings
//! (optimistic DAD) go back to their values from before slaacd when the
//! guard is dropped or restored, or when the interface is renamed away from
//! a managed name (ManagedInterfaces); an interface that takes a managed name
//! is taken over, and a deleted one is forgotten without a write. While a
//! guard holds, the addresses slaacd adds are optimistic. Each test runs in a private network namespace
//! (unshare(CLONE_NEWNET) on its own thread) with a veth pair, against the
//! real /proc/sys. Needs root.

mod common;
mod registry;

use common::{connect, in_private_netns, ip};
use registry::{held, index_of, rename};

use futures::TryStreamExt;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use slaacd_core::AddressProposal;
use slaacd_parent::kernel::KernelWriter;
use slaacd_parent::sysctl::{
    InterfaceSysctls, LinkSettings, ManagedInterfaces, RaTakeover, TemporaryAddresses,
};

/// One link parameter: where it lives, its value before slaacd and the
/// value an RA sets.
struct Parameter {
    conf: bool,
    name: &'static str,
    before: &'static str,
    from_ra: &'static str,
}

const PARAMETERS: [Parameter; 4] = [
    Parameter {
        conf: true,
        name: "mtu",
        before: "1400",
        from_ra: "1300",
    },
    Parameter {
        conf: true,
        name: "hop_limit",
        before: "50",
        from_ra: "64",
    },
    Parameter {
        conf: false,
        name: "base_reachable_time_ms",
        before: "20000",
        from_ra: "45000",
    },
    Parameter {
        conf: false,
        name: "retrans_time_ms",
        before: "1500",
        from_ra: "2500",
    },
];

fn sysctls(conf: bool) -> InterfaceSysctls {
    sysctls_of("veth0", conf)
}

fn sysctls_of(interface: &str, conf: bool) -> InterfaceSysctls {
    if conf {
        InterfaceSysctls::new(interface).unwrap()
    } else {
        InterfaceSysctls::neighbour(interface).unwrap()
    }
}

fn current_parameters() -> Vec<String> {
    parameters_of("veth0")
}

fn parameters_of(interface: &str) -> Vec<String> {
    PARAMETERS
        .iter()
        .map(|p| sysctls_of(interface, p.conf).read(p.name).unwrap())
        .collect()
}

fn accept_ra(interface: &str) -> String {
    sysctls_of(interface, true).read("accept_ra").unwrap()
}

/// slaacd managing veth0, with veth0 taken over.
fn managing_veth0() -> ManagedInterfaces {
    let mut managed = ManagedInterfaces::new(vec![("veth0".into(), TemporaryAddresses::Kernel)]);
    managed.take(index_of("veth0"), "veth0").unwrap();
    managed
}

fn before() -> Vec<String> {
    PARAMETERS.iter().map(|p| p.before.to_owned()).collect()
}

fn from_ra() -> Vec<String> {
    PARAMETERS.iter().map(|p| p.from_ra.to_owned()).collect()
}

/// Writes the "before slaacd" values.
fn prepare_parameters() {
    for p in &PARAMETERS {
        sysctls(p.conf).write(p.name, p.before).unwrap();
    }
}

/// Sets what an RA would, through the parent's own LinkSettings.
fn apply_ra_parameters() {
    let settings = LinkSettings::new("veth0").unwrap();
    let [mtu, hop_limit, reachable, retrans] =
        PARAMETERS.map(|p| p.from_ra.parse::<u32>().unwrap());
    settings.set_mtu(mtu, 1500).unwrap();
    settings
        .set_hop_limit(u8::try_from(hop_limit).unwrap())
        .unwrap();
    settings.set_reachable_time(reachable).unwrap();
    settings.set_retrans_timer(retrans).unwrap();
}

#[test]
fn dropping_the_takeover_restores_the_link_parameters_an_ra_set() {
    in_private_netns(async |_| {
        prepare_parameters();
        let takeover = RaTakeover::take("veth0").unwrap();
        apply_ra_parameters();
        assert_eq!(current_parameters(), from_ra());
        drop(takeover);
        assert_eq!(current_parameters(), before());
        // The kernel uses what was put back, not only the file.
        let table = ip(&["-6", "ntable", "show", "dev", "veth0"]);
        assert!(table.contains("retrans 1500 "), "{table}");
    });
}

#[test]
fn an_explicit_restore_puts_back_link_parameters_and_settings() {
    in_private_netns(async |_| {
        prepare_parameters();
        let conf = sysctls(true);
        conf.write("optimistic_dad", "0").unwrap();
        conf.write("accept_ra", "1").unwrap();
        let takeover = RaTakeover::take("veth0").unwrap();
        assert_eq!(conf.read("optimistic_dad").unwrap(), "1");
        assert_eq!(conf.read("accept_ra").unwrap(), "0");
        apply_ra_parameters();
        takeover.restore().unwrap();
        assert_eq!(current_parameters(), before());
        assert_eq!(conf.read("optimistic_dad").unwrap(), "0");
        assert_eq!(conf.read("accept_ra").unwrap(), "1");
    });
}

#[test]
fn parameters_no_ra_touched_stay_as_they_were() {
    in_private_netns(async |_| {
        prepare_parameters();
        let takeover = RaTakeover::take("veth0").unwrap();
        takeover.restore().unwrap();
        assert_eq!(current_parameters(), before());
    });
}

#[test]
fn an_mtu_the_link_no_longer_allows_is_left_at_the_links() {
    in_private_netns(async |_| {
        let conf = sysctls(true);
        assert_eq!(conf.read("mtu").unwrap(), "1500");
        let takeover = RaTakeover::take("veth0").unwrap();
        ip(&["link", "set", "veth0", "mtu", "1300"]);
        takeover.restore().unwrap();
        assert_eq!(conf.read("mtu").unwrap(), "1300");
    });
}

#[test]
fn restoring_after_the_interface_vanished_is_not_an_error() {
    in_private_netns(async |_| {
        let takeover = RaTakeover::take("veth0").unwrap();
        apply_ra_parameters();
        ip(&["link", "del", "veth0"]);
        takeover.restore().unwrap();
    });
}

#[test]
fn addresses_slaacd_adds_on_a_managed_interface_are_optimistic() {
    in_private_netns(async |index| {
        sysctls(true).write("optimistic_dad", "0").unwrap();
        let _takeover = RaTakeover::take("veth0").unwrap();
        let handle = connect();
        let writer = KernelWriter::new(handle.clone(), 1024).unwrap();
        writer
            .configure_address(&AddressProposal {
                index,
                address: "2001:db8:1::10".parse().unwrap(),
                prefix_len: 64,
                valid_lifetime: 600,
                preferred_lifetime: 600,
                temporary: false,
            })
            .await
            .unwrap();
        let messages: Vec<AddressMessage> = handle
            .address()
            .get()
            .set_link_index_filter(index)
            .execute()
            .try_collect()
            .await
            .unwrap();
        let flags = messages
            .iter()
            .filter(|m| {
                m.attributes.contains(&AddressAttribute::Address(
                    "2001:db8:1::10"
                        .parse::<std::net::Ipv6Addr>()
                        .unwrap()
                        .into(),
                ))
            })
            .find_map(|m| {
                m.attributes.iter().find_map(|a| match a {
                    AddressAttribute::Flags(flags) => Some(*flags),
                    _ => None,
                })
            })
            .expect("the address slaacd added");
        assert!(flags.contains(AddressFlags::Optimistic), "{flags:?}");
    });
}

#[test]
fn an_interface_renamed_away_gets_everything_back_at_once() {
    in_private_netns(async |index| {
        prepare_parameters();
        sysctls(true).write("accept_ra", "2").unwrap();
        let mut managed = managing_veth0();
        apply_ra_parameters();
        assert_eq!(accept_ra("veth0"), "0");

        rename("veth0", "veth0x");
        managed.link_seen(index, "veth0x");
        assert_eq!(accept_ra("veth0x"), "2");
        assert_eq!(parameters_of("veth0x"), before());
        assert!(held(&managed).is_empty());
        // Nothing is written again at the end.
        sysctls_of("veth0x", true).write("accept_ra", "1").unwrap();
        managed.restore_all();
        assert_eq!(accept_ra("veth0x"), "1");
    });
}

#[test]
fn an_interface_taking_a_managed_name_is_taken_over_and_restored_at_the_end() {
    in_private_netns(async |index| {
        let mut managed = managing_veth0();
        rename("veth0", "veth0x");
        managed.link_seen(index, "veth0x");

        let newcomer = index_of("veth1");
        sysctls_of("veth1", true).write("accept_ra", "1").unwrap();
        rename("veth1", "veth0");
        managed.link_seen(newcomer, "veth0");
        assert_eq!(accept_ra("veth0"), "0");
        assert_eq!(sysctls(true).read("optimistic_dad").unwrap(), "1");
        assert_eq!(held(&managed), [(newcomer, "veth0".to_owned())]);
        // Later events about the same interface change nothing.
        managed.link_seen(newcomer, "veth0");
        assert_eq!(held(&managed), [(newcomer, "veth0".to_owned())]);

        managed.restore_all();
        assert_eq!(accept_ra("veth0"), "1");
    });
}

#[test]
fn a_deleted_interface_is_forgotten_and_its_successor_left_alone() {
    in_private_netns(async |index| {
        sysctls(true).write("hop_limit", "50").unwrap();
        let mut managed = managing_veth0();
        apply_ra_parameters();
        ip(&["link", "del", "veth0"]);
        managed.link_removed(index);

        ip(&[
            "link", "add", "veth0", "type", "veth", "peer", "name", "veth1",
        ]);
        sysctls(true).write("hop_limit", "33").unwrap();
        sysctls(true).write("accept_ra", "1").unwrap();
        managed.restore_all();
        assert_eq!(sysctls(true).read("hop_limit").unwrap(), "33");
        assert_eq!(accept_ra("veth0"), "1");

        // Seen by its own index, the successor is taken over.
        managed.link_seen(index_of("veth0"), "veth0");
        assert_eq!(accept_ra("veth0"), "0");
    });
}

#[test]
fn names_that_are_not_managed_are_never_taken_over() {
    in_private_netns(async |_| {
        let mut managed = managing_veth0();
        sysctls_of("veth1", true).write("accept_ra", "1").unwrap();
        managed.link_seen(index_of("veth1"), "veth1");
        assert_eq!(accept_ra("veth1"), "1");
        assert_eq!(held(&managed).len(), 1);
    });
}

#[test]
fn a_takeover_waits_for_the_interfaces_sysctls_to_appear() {
    in_private_netns(async |_| {
        let mut managed =
            ManagedInterfaces::new(vec![("late0".into(), TemporaryAddresses::Kernel)]);
        // Announced before its sysctls exist, as after a rename.
        managed.link_seen(4242, "late0");
        assert!(managed.is_waiting());
        managed.retry();
        assert!(managed.is_waiting());

        ip(&[
            "link", "add", "late0", "type", "veth", "peer", "name", "late1",
        ]);
        managed.retry();
        assert!(!managed.is_waiting());
        assert_eq!(accept_ra("late0"), "0");
        assert_eq!(held(&managed), [(4242, "late0".to_owned())]);
    });
}
