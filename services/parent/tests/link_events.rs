//! The link announcements as `LinkEvents` reads them, in a private network namespace
//! (unshare(CLONE_NEWNET) on the test's thread) with a veth pair veth0/veth1: a rename and a
//! deletion arrive in the kernel's order, nothing is waiting once they are read, and more
//! announcements than the socket holds are reported as lost, not skipped. Needs root.

#[allow(dead_code)]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{in_private_netns, ip};

use slaacd_parent::interface_names::{LinkEvent, LinkEvents};

fn waiting(events: &LinkEvents) -> Vec<LinkEvent> {
    let mut read = Vec::new();
    events.read_waiting(|event| read.push(event)).unwrap();
    read
}

#[test]
fn renames_and_deletions_in_order() {
    in_private_netns(async |veth0| {
        let events = LinkEvents::subscribe().unwrap();
        let veth1 = nix::net::if_::if_nametoindex("veth1").unwrap();
        ip(&["link", "set", "veth0", "down"]);
        ip(&["link", "set", "veth0", "name", "veth0x"]);
        ip(&["link", "del", "veth0x"]);
        let read = waiting(&events);
        let renamed = LinkEvent::Seen {
            index: veth0,
            name: "veth0x".into(),
        };
        let position = |wanted: &LinkEvent| read.iter().position(|event| event == wanted);
        let renamed_at = position(&renamed).unwrap_or_else(|| panic!("{read:?}"));
        let removed_at =
            position(&LinkEvent::Removed { index: veth0 }).unwrap_or_else(|| panic!("{read:?}"));
        assert!(renamed_at < removed_at, "{read:?}");
        // Its peer goes with it.
        assert!(
            position(&LinkEvent::Removed { index: veth1 }).is_some(),
            "{read:?}"
        );
        assert!(!read.contains(&LinkEvent::Lost), "{read:?}");
        assert_eq!(waiting(&events), []);
    });
}

#[test]
fn an_overrun_is_reported_as_lost() {
    in_private_netns(async |_| {
        let events = LinkEvents::subscribe().unwrap();
        // Far more announcements than the default receive buffer holds, none read meanwhile.
        let mut batch = Command::new("ip")
            .args(["-batch", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let mut commands = String::new();
        for pair in 0..200 {
            commands.push_str(&format!("link add o{pair}a type veth peer name o{pair}b\n"));
        }
        batch
            .stdin
            .take()
            .unwrap()
            .write_all(commands.as_bytes())
            .unwrap();
        assert!(batch.wait().unwrap().success());
        let read = waiting(&events);
        assert!(
            read.contains(&LinkEvent::Lost),
            "{} events, none lost",
            read.len()
        );
        // What came after the loss is read again as usual.
        ip(&["link", "set", "o0a", "name", "o0c"]);
        let index = nix::net::if_::if_nametoindex("o0c").unwrap();
        assert!(waiting(&events).contains(&LinkEvent::Seen {
            index,
            name: "o0c".into()
        }));
    });
}
