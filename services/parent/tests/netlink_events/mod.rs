//! The kernel's netlink announcements, for the tests that check what a change
//! made the kernel say (no deletion during a refresh, for instance).

use std::time::Duration;

use futures::channel::mpsc::UnboundedReceiver;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::MulticastGroup;

/// The kernel's announcements on the groups [`listen`] joined.
pub type Events = UnboundedReceiver<(
    NetlinkMessage<RouteNetlinkMessage>,
    rtnetlink::sys::SocketAddr,
)>;

/// Joins the netlink multicast `groups`; the connection runs on the current
/// runtime.
pub fn listen(groups: &[MulticastGroup]) -> Events {
    let (connection, _, events) = rtnetlink::new_multicast_connection(groups).unwrap();
    tokio::spawn(connection);
    events
}

/// Everything that arrives within a short quiet period.
pub async fn drain(events: &mut Events) -> Vec<RouteNetlinkMessage> {
    let mut seen = Vec::new();
    while let Ok(Some((message, _))) =
        tokio::time::timeout(Duration::from_millis(300), futures::StreamExt::next(events)).await
    {
        if let NetlinkPayload::InnerMessage(inner) = message.payload {
            seen.push(inner);
        }
    }
    seen
}
