"""Where a webhook may be sent: the one rule that classifies a network address.

Pure: no Django, no network. The caller resolves a host name (``resolve`` is handed in), and
asks here whether each address it got may be reached. The same rule runs when an endpoint is
created and again at each delivery, on the very addresses the delivery then connects to, so a
name that resolves elsewhere later (DNS rebinding) is refused then too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# resolve(host, port) -> the addresses the host resolves to; raises OSError when it does not.
Resolver = Callable[[str, int], Iterable[str]]

# The clouds' instance metadata services: they hand out credentials, so no setting allows them.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Oracle
        "169.254.170.2",  # AWS ECS task credentials
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)

# Why an address is refused, in the words shown after "resolves to ... (a/an ...)".
METADATA = "cloud metadata"
UNSPECIFIED = "unspecified"
MULTICAST = "multicast"
RESERVED = "reserved"
LOOPBACK = "loopback"
LINK_LOCAL = "link-local"
PRIVATE = "private"
# Never reachable, whatever the settings say.
ALWAYS_REFUSED = frozenset({METADATA, UNSPECIFIED, MULTICAST, RESERVED})


def classify(address: Address) -> str | None:
    """The kind of a non-public address (``LOOPBACK``, ``METADATA``, ...); None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 and 64:ff9b::7f00:1 reach the IPv4 address inside them.
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address in ipaddress.ip_network("64:ff9b::/96"):
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            return classify(inner) or (None if address.is_global else PRIVATE)
    if address in METADATA_ADDRESSES:
        return METADATA
    if address.is_unspecified:
        return UNSPECIFIED
    if address.is_loopback:
        return LOOPBACK
    if address.is_link_local:
        return LINK_LOCAL
    if address.is_multicast:
        return MULTICAST
    if address.is_reserved:
        return RESERVED
    if address.is_private or not address.is_global:
        return PRIVATE
    return None


def refusal(address: Address, *, allow_private: bool) -> str | None:
    """Why ``address`` may not be reached (its kind), or None when it may."""
    kind = classify(address)
    if kind is None or (allow_private and kind not in ALWAYS_REFUSED):
        return None
    return kind


def parse_address(text: str) -> Address | None:
    """The address ``text`` spells (IPv6 with or without brackets, no zone), or None for a name."""
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Destination:
    """A host's addresses, each allowed; or why the host may not be reached."""

    addresses: tuple[Address, ...] = ()
    # (address, kind) of the first refused address; None with ``unresolved`` too.
    refused: tuple[Address, str] | None = None
    unresolved: str = ""  # why the host did not resolve

    @property
    def allowed(self) -> bool:
        return bool(self.addresses) and self.refused is None and not self.unresolved


def check_destination(host: str, port: int, resolve: Resolver, *, allow_private: bool) -> Destination:
    """Resolve ``host`` with ``resolve`` and check every address it gives.

    One refused address refuses the host: a name with a public and a private address could
    otherwise be sent to either.
    """
    literal = parse_address(host)
    if literal is not None:
        found: list[Address] = [literal]
    else:
        try:
            found = [a for a in (parse_address(str(text)) for text in resolve(host, port)) if a is not None]
        except OSError as exc:
            return Destination(unresolved=str(exc) or exc.__class__.__name__)
        if not found:
            return Destination(unresolved="no address")
    for address in found:
        kind = refusal(address, allow_private=allow_private)
        if kind is not None:
            return Destination(refused=(address, kind))
    return Destination(addresses=tuple(dict.fromkeys(found)))
