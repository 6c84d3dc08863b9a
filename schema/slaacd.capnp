@0xd58c1d1b367327ff;
# The messages between slaacd's three processes and slaacctl.
#
# Every interface is named for the process that serves it:
#   Kernel        served by the parent,   used by the engine    (privileged changes)
#   EngineMain    served by the engine,   used by the parent    (start-up, fd 3)
#   Engine        served by the engine,   used by the frontend  (direct channel)
#   FrontendMain  served by the frontend, used by the parent    (start-up, fd 3)
#   Frontend      served by the frontend, used by the engine    (direct channel)
#   Control       served by the frontend, used by slaacctl      (control socket)
#   Logging       served by the parent,   used by the frontend  (`slaacctl log`)
#   MonitorListener      served by slaacctl, used by the engine (`slaacctl monitor`,
#                        through the frontend)
#   MonitorSubscription  served by the engine, held by slaacctl (through the frontend)
#
# File descriptors travel beside the RPC bytes as SCM_RIGHTS (see slaacd-ipc's fd
# stream). A `Fd` names the one the sender queued for the call it is a parameter of.

struct Fd {
  seq @0 :UInt64;
}

# An IPv6 address as two big-endian halves: it cannot have the wrong length.
struct Ip6 {
  high @0 :UInt64;
  low @1 :UInt64;
}

enum RouterPreference {
  medium @0;
  high @1;
  low @2;
}

# Lifetimes are in seconds; 0xffffffff means infinite, as in RFC 4861.

struct AddressProposal {
  ifIndex @0 :UInt32;
  address @1 :Ip6;
  prefixLength @2 :UInt8;
  validLifetime @3 :UInt32;
  preferredLifetime @4 :UInt32;
  temporary @5 :Bool;
}

struct DefaultRouteProposal {
  ifIndex @0 :UInt32;
  router @1 :Ip6;
  lifetime @2 :UInt32;
  preference @3 :RouterPreference;
}

# Which route: on-link prefixes (PIO L flag) are reached directly, Route
# Information routes (RFC 4191) through the router that advertised them.
struct RouteKey {
  ifIndex @0 :UInt32;
  prefix @1 :Ip6;
  prefixLength @2 :UInt8;
  via :union {
    onLink @3 :Void;
    router @4 :Ip6;
  }
}

struct RouteProposal {
  key @0 :RouteKey;
  lifetime @1 :UInt32;
  preference @2 :RouterPreference;
}

# Neighbor Discovery parameters from an RA; 0 leaves a value as it is
# (RFC 4861: unspecified).
struct LinkParameters {
  ifIndex @0 :UInt32;
  curHopLimit @1 :UInt8;
  # Milliseconds.
  reachableTime @2 :UInt32;
  # Milliseconds.
  retransTimer @3 :UInt32;
}

interface Kernel {
  configureAddress @0 (proposal :AddressProposal);
  withdrawAddress @1 (ifIndex :UInt32, address :Ip6, prefixLength :UInt8);
  configureDefaultRoute @2 (route :DefaultRouteProposal);
  withdrawDefaultRoute @3 (ifIndex :UInt32, router :Ip6);
  configureRoute @4 (route :RouteProposal);
  withdrawRoute @5 (key :RouteKey);
  # The interface's IPv6 MTU (at least 1280, at most the link MTU).
  configureMtu @6 (ifIndex :UInt32, mtu :UInt32);
  configureLinkParameters @7 (parameters :LinkParameters);
  # The whole DNS configuration learnt on an interface; empty lists withdraw it.
  configureDns @8 (ifIndex :UInt32, servers :List(Ip6), searchDomains :List(Text));
}

# How the interface identifiers of an interface's stable addresses are made.
enum InterfaceIdentifier {
  # RFC 7217 stable, semantically opaque identifiers.
  stable @0;
  # RFC 4291 modified EUI-64 from the hardware address.
  eui64 @1;
}

# The settings of one managed interface that the engine applies.
struct InterfaceConfig {
  name @0 :Text;
  identifier @1 :InterfaceIdentifier;
  # Whether the interface gets RFC 8981 temporary addresses at all.
  temporaryAddresses @2 :Bool;
  # The interface's own caps, whole; when absent, EngineConfig.limits.
  limits @3 :Limits;
}

# The caps of one interface: when one is reached, new entries are rejected
# and counted, existing ones are never evicted.
struct Limits {
  routers @0 :UInt32;
  prefixes @1 :UInt32;
  addresses @2 :UInt32;
  routes @3 :UInt32;
  dnsServers @4 :UInt32;
  searchDomains @5 :UInt32;
}

# What the engine applies besides the secret key.
struct EngineConfig {
  # Every managed interface; one not listed gets the defaults (stable
  # identifiers, temporary addresses as kernelTemporaryAddresses says).
  interfaces @0 :List(InterfaceConfig);
  limits @1 :Limits;
}

interface EngineMain {
  # The parent hands over the capability for kernel changes, the secret key for
  # RFC 7217 stable addresses, and the engine's end of the frontend channel.
  # kernelTemporaryAddresses: the kernel makes RFC 8981 addresses from the
  # stable ones (Linux), so the engine makes none but reports them as on where
  # the interface's config has them.
  # config: per-interface settings and caps; when absent, every interface gets
  # the defaults and the caps are the engine's own.
  start @0 (kernel :Kernel, secretKey :Data, frontendChannel :Fd,
            kernelTemporaryAddresses :Bool, config :EngineConfig);
}

# What the frontend knows about a network interface from the kernel.
struct InterfaceState {
  ifIndex @0 :UInt32;
  name @1 :Text;
  # Operationally up (IFF_UP, IFF_LOWER_UP and IFF_RUNNING): the kernel has
  # set IPv6 up on the link, so an RS sent now can be answered.
  running @2 :Bool;
  hwAddress @3 :Data;
  # The interface's link-local address; absent while it has none.
  linkLocal :union {
    none @4 :Void;
    address @5 :Ip6;
  }
}

# The most Router Advertisements one Engine.routerAdvertisements call carries.
const maxAdvertisementsPerCall :UInt32 = 64;

# The most entries one Engine.frontendDrops call carries.
const maxFrontendDropsPerCall :UInt32 = 64;

interface Engine {
  updateInterface @0 (state :InterfaceState);
  removeInterface @1 (ifIndex :UInt32);
  # Retired: unused since routerAdvertisements (@9) carries every RA. Method
  # ordinals must stay contiguous, so the declaration keeps its place; no
  # process serves or calls it (a call fails as unimplemented).
  retiredRouterAdvertisement @2 (ifIndex :UInt32, source :Ip6, packet :Data);
  # The kernel removed an address (someone deleted it, or it expired).
  addressDeleted @3 (ifIndex :UInt32, address :Ip6);
  # Duplicate address detection failed for an address.
  dadFailed @4 (ifIndex :UInt32, address :Ip6);
  # slaacctl requests, relayed by the frontend. ifIndex 0 means every interface.
  showInterfaces @5 (ifIndex :UInt32) -> (interfaces :List(InterfaceReport));
  sendSolicitation @6 (ifIndex :UInt32) -> (known :Bool);
  # `slaacctl log verbose|brief`, relayed by the frontend: log at this
  # verbosity from now on (0 info, 1 debug, 2 and more trace).
  setVerbosity @7 (verbosity :UInt8);
  # `slaacctl monitor`, relayed by the frontend: the engine calls the listener
  # with its events (of interface ifIndex; 0 means every interface) for as
  # long as the returned subscription is held. Fails beyond a few listeners.
  monitor @8 (ifIndex :UInt32, listener :MonitorListener)
    -> (subscription :MonitorSubscription);
  # The Router Advertisements the frontend received and has not passed on
  # yet, oldest first: the engine takes them in list order, as if each had
  # come alone (one is the common case; a burst comes as a few calls).
  # At most maxAdvertisementsPerCall in one call (the frontend's batch): a
  # longer list is refused whole, before any of it is read, and counted in
  # the engine's log.
  routerAdvertisements @9 (advertisements :List(ReceivedAdvertisement));
  # For `slaacctl monitor` only: what the frontend itself dropped since its
  # previous call, one entry per interface and reason, at most
  # maxFrontendDropsPerCall entries (a longer list is refused). The frontend sends it only while a monitor
  # listens, keeps at most one call unanswered and sends at most ten a
  # second, so a flood costs the engine a bounded number of calls.
  frontendDrops @10 (drops :List(FrontendDropSummary));
}

# Router Advertisements the frontend dropped on one interface for one reason
# since its previous `frontendDrops` call.
struct FrontendDropSummary {
  # 0 if the datagram came without the interface it arrived on.
  ifIndex @0 :UInt32;
  # The interface's name if slaacd manages it; empty if it does not, if it
  # went away, or if ifIndex is 0.
  ifName @1 :Text;
  # As counted in `slaacctl show interface` (e.g. "hop-limit-not-255"), or
  # "interface-not-managed", which is never counted there.
  reason @2 :Text;
  count @3 :UInt64;
  # The source of the last one dropped; :: if that datagram came without one.
  lastSource @4 :Ip6;
}

# An ICMPv6 Router Advertisement as received, from the ICMPv6 header on. The
# frontend has already checked the hop limit (255) and that it came whole,
# not in fragments (RFC 6980).
struct ReceivedAdvertisement {
  ifIndex @0 :UInt32;
  source @1 :Ip6;
  packet @2 :Data;
}

interface FrontendMain {
  # The parent hands over every socket the frontend may not open itself, the
  # capability that changes the parent's own log verbosity, and the control
  # socket's group: a process running as that group (or root) may change
  # things through the socket.
  start @0 (engineChannel :Fd, icmp6 :Fd, packet :Fd, netlink :Fd, control :Fd,
            interfaces :List(Text), logging :Logging, controlGroup :UInt32);
}

# Served by the parent, used by the frontend: `slaacctl log` reaches the
# parent's logging through it.
interface Logging {
  # Log at this verbosity from now on (0 info, 1 debug, 2 and more trace).
  setVerbosity @0 (verbosity :UInt8);
}

interface Frontend {
  sendSolicitation @0 (ifIndex :UInt32);
}

interface Control {
  showInterfaces @0 (ifIndex :UInt32) -> (interfaces :List(InterfaceReport));
  sendSolicitation @1 (ifIndex :UInt32) -> (known :Bool);
  # Every process logs at this verbosity from now on (0 info, 1 debug, 2 and
  # more trace).
  #
  # `sendSolicitation` and `setVerbosity` change the daemon: they fail with
  # "permission denied: ..." unless the connecting process ran as root or as
  # the control socket's group (its effective uid or gid at connect, as
  # SO_PEERCRED tells). `showInterfaces` needs only access to the socket,
  # which members of that group have.
  setVerbosity @2 (verbosity :UInt8);
  # `slaacctl monitor`: relayed to the engine's `monitor`. Needs only access
  # to the socket, like `showInterfaces`.
  monitor @3 (ifIndex :UInt32, listener :MonitorListener)
    -> (subscription :MonitorSubscription);
  # The names the daemon manages that no interface has now (a USB adapter
  # not plugged in, a veth not made yet), in the order it was given them:
  # slaacctl tells them apart from unknown names, and `show interface` lists
  # them after the interfaces `showInterfaces` reports. Needs only access to
  # the socket, like `showInterfaces`.
  absentInterfaces @4 () -> (names :List(Text));
}

# What `slaacctl show interface` prints. Ages are seconds before the reply was
# made, so slaacctl needs no clock shared with the daemon.
struct InterfaceReport {
  ifIndex @0 :UInt32;
  name @1 :Text;
  running @2 :Bool;
  temporary @3 :Bool;
  hwAddress @4 :Data;
  linkLocal :union {
    none @5 :Void;
    address @6 :Ip6;
  }
  routers @7 :List(RouterReport);
  addressProposals @8 :List(AddressProposalReport);
  defaultRouteProposals @9 :List(DefaultRouteProposalReport);
  # Router Advertisements dropped on this interface, by reason.
  dropped @10 :List(DropCounter);
  routeProposals @11 :List(RouteProposalReport);
  # The MTU slaacd set from an RA; 0 when none.
  mtu @12 :UInt32;
  dnsServers @13 :List(Ip6);
  searchDomains @14 :List(Text);
}

struct DropCounter {
  reason @0 :Text;
  count @1 :UInt64;
}

struct RouterReport {
  source @0 :Ip6;
  receivedAgo @1 :UInt32;
  curHopLimit @2 :UInt8;
  managed @3 :Bool;
  other @4 :Bool;
  routerLifetime @5 :UInt16;
  preference @6 :RouterPreference;
  reachableTime @7 :UInt32;
  retransTimer @8 :UInt32;
  mtu @9 :UInt32;
  prefixes @10 :List(PrefixReport);
  rdnss @11 :List(RdnssReport);
  dnssl @12 :List(DnsslReport);
  routes @13 :List(RouteInformationReport);
  pref64 @14 :List(Pref64Report);
  # RFC 8910; empty when the RA had none.
  captivePortal @15 :Text;
}

struct DnsslReport {
  domain @0 :Text;
  lifetime @1 :UInt32;
}

struct RouteInformationReport {
  prefix @0 :Ip6;
  prefixLength @1 :UInt8;
  preference @2 :RouterPreference;
  lifetime @3 :UInt32;
}

struct Pref64Report {
  prefix @0 :Ip6;
  prefixLength @1 :UInt8;
  lifetime @2 :UInt32;
}

struct PrefixReport {
  prefix @0 :Ip6;
  prefixLength @1 :UInt8;
  onLink @2 :Bool;
  autonomous @3 :Bool;
  validLifetime @4 :UInt32;
  preferredLifetime @5 :UInt32;
}

struct RdnssReport {
  server @0 :Ip6;
  lifetime @1 :UInt32;
}

struct AddressProposalReport {
  id @0 :UInt64;
  state @1 :Text;
  temporary @2 :Bool;
  validLifetime @3 :UInt32;
  preferredLifetime @4 :UInt32;
  # Seconds until the proposal's next timer, if one is armed.
  timeout :union {
    none @5 :Void;
    seconds @6 :UInt32;
  }
  updatedAgo @7 :UInt32;
  address @8 :Ip6;
  prefix @9 :Ip6;
  prefixLength @10 :UInt8;
}

struct DefaultRouteProposalReport {
  id @0 :UInt64;
  state @1 :Text;
  router @2 :Ip6;
  routerLifetime @3 :UInt32;
  preference @4 :RouterPreference;
  timeout :union {
    none @5 :Void;
    seconds @6 :UInt32;
  }
  updatedAgo @7 :UInt32;
}

struct RouteProposalReport {
  id @0 :UInt64;
  state @1 :Text;
  key @2 :RouteKey;
  lifetime @3 :UInt32;
  preference @4 :RouterPreference;
  timeout :union {
    none @5 :Void;
    seconds @6 :UInt32;
  }
  updatedAgo @7 :UInt32;
}

# `slaacctl monitor`: served by slaacctl, called by the engine (through the
# frontend) with what happens, as it happens.
interface MonitorListener {
  # The next events, oldest first. The engine sends the next call only once
  # this one has returned, and keeps a bounded queue meanwhile: when it
  # overflows, the oldest events are dropped, and `lost` says how many were
  # dropped just before these.
  events @0 (events :List(MonitorEvent), lost :UInt64);
}

# Served by the engine: the listener stays registered while this capability
# is held, and is dropped when it is released (slaacctl exited).
interface MonitorSubscription {}

# One thing the engine saw or did.
struct MonitorEvent {
  # Microseconds since the Unix epoch, by the engine's clock.
  time @0 :UInt64;
  # 0 only for an advertisement the frontend dropped that came without the
  # interface it arrived on.
  ifIndex @1 :UInt32;
  # Empty when the engine no longer knows the interface, and for the
  # frontend's drops on an interface slaacd does not manage.
  ifName @2 :Text;
  union {
    # An advertisement passed the checks and is taken in.
    advertisement @3 :MonitoredAdvertisement;
    # An advertisement, or one of its entries, was dropped.
    dropped @4 :MonitoredDrop;
    # A Router Solicitation is to be sent.
    solicitation @5 :Void;
    # The engine proposed a change to the kernel.
    proposed @6 :MonitoredProposal;
    # The parent carried a proposal out.
    applied @7 :MonitoredProposal;
    # The parent could not carry a proposal out.
    failed @8 :MonitoredFailure;
  }
}

struct MonitoredAdvertisement {
  source @0 :Ip6;
  # Seconds; 0: not a default router.
  routerLifetime @1 :UInt16;
  preference @2 :RouterPreference;
}

# A drop, counted under `reason` as in `slaacctl show interface` (but for
# "interface-not-managed", which no interface counts).
struct MonitoredDrop {
  reason @0 :Text;
  # A cap was reached: the new router or entry was refused, none evicted.
  limit @1 :Bool;
  what :union {
    # The whole advertisement from this source.
    advertisement @2 :Ip6;
    # One entry of an advertisement (prefix, route, DNS server or domain,
    # MTU), or an address to be made from one.
    entry @3 :Void;
  }
  # How many drops the event stands for: more than one when the frontend
  # summed a burst up (`advertisement` is then the source of the last one).
  count @4 :UInt64 = 1;
}

enum ProposalChange {
  # Proposed for the first time (or again after it was lost).
  created @0;
  # Proposed again with new lifetimes or values.
  updated @1;
  # Taken back.
  withdrawn @2;
}

# A proposal; a withdrawal carries only what names the thing withdrawn
# (lifetimes 0, flags false, preference medium).
struct MonitoredProposal {
  change @0 :ProposalChange;
  union {
    address @1 :AddressProposal;
    defaultRoute @2 :DefaultRouteProposal;
    route @3 :RouteProposal;
    mtu @4 :UInt32;
    linkParameters @5 :LinkParameters;
    # Withdrawn when both lists are empty.
    dns @6 :DnsProposal;
  }
}

struct DnsProposal {
  servers @0 :List(Ip6);
  searchDomains @1 :List(Text);
}

struct MonitoredFailure {
  proposal @0 :MonitoredProposal;
  # What the parent said.
  error @1 :Text;
}
