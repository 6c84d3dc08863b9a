#!/usr/bin/env python3
"""Independent RFC 7217 test vectors for slaacd-core.

Computes stable addresses with Python's hashlib from the byte layout documented
in crates/core/src/stable_address.rs:

    RID = SHA-256(Prefix[8] || Net_Iface || Network_ID (empty)
                  || DAD_Counter[1] || secret_key)
    IID = RID[24:32]; address = Prefix[8] || IID

and prints one vector per line as `name prefix net_iface_hex counter key_hex
address`. Regenerate with:

    python3 crates/core/tests/data/rfc7217_vector.py > crates/core/tests/data/rfc7217_vector.txt
"""

import hashlib
import ipaddress

VECTORS = [
    # name, prefix, Net_Iface bytes, DAD counter, secret key
    ("ethernet", "2001:db8:1:2::", bytes.fromhex("020000aabbcc"), 0, bytes(range(16))),
    ("second-dad-try", "2001:db8:1:2::", bytes.fromhex("020000aabbcc"), 1, bytes(range(16))),
    ("interface-name", "2001:db8:ffff:1::", b"wg0", 0, bytes(range(100, 132))),
]


def stable_address(prefix, net_iface, counter, key):
    prefix8 = ipaddress.IPv6Address(prefix).packed[:8]
    rid = hashlib.sha256(prefix8 + net_iface + b"" + bytes([counter]) + key).digest()
    return ipaddress.IPv6Address(prefix8 + rid[24:32])


for name, prefix, net_iface, counter, key in VECTORS:
    address = stable_address(prefix, net_iface, counter, key)
    print(name, prefix, net_iface.hex(), counter, key.hex(), address.compressed)
