"""Who may wait to log in to the harbor: unauthenticated connections, in all and per client, each capped.

A client is its IPv4 address or its IPv6 /64 (:func:`client_key`), as for the
failed-login limits. :class:`Pending` hands a new connection a :class:`PendingSlot`
while :class:`HarborLimits`' caps allow, and the slot is given back once it has
logged in or gone.
"""

import ipaddress

import attrs

from ..scenario.model import HarborLimits


def client_key(address: str) -> str:
    """What the limits count by: the IPv4 address, or the /64 network of an IPv6 address.

    One IPv6 host commonly owns a whole /64, so counting single IPv6 addresses
    would give it 2**64 fresh starts.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


@attrs.define
class PendingSlot:
    """One unauthenticated connection's place; given back once, on login or at its end."""

    pending: "Pending"
    address: str
    held: bool = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.pending.give_back(self.address)

    def __enter__(self) -> "PendingSlot":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


class Pending:
    """Unauthenticated connections, in all and per address, each within its cap."""

    def __init__(self, limits: HarborLimits) -> None:
        self._limits = limits
        self.total = 0
        self._by_address: dict[str, int] = {}

    def take(self, address: str) -> PendingSlot | None:
        """A place for a new connection from ``address``, or None when there is none."""
        from_address = self._by_address.get(address, 0)
        if self.total >= self._limits.max_pending or from_address >= self._limits.max_pending_per_address:
            return None
        self.total += 1
        self._by_address[address] = from_address + 1
        return PendingSlot(self, address)

    def give_back(self, address: str) -> None:
        self.total -= 1
        left = self._by_address[address] - 1
        if left:
            self._by_address[address] = left
        else:
            del self._by_address[address]
