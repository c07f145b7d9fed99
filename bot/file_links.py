"""Signed, expiring download links for the files the bot makes (score sheet, minutes, chart).

A channel that cannot send documents (Zalo) sends a link instead. The link
names the outbox message that carried the file and the file's place in it,
until when it is valid, and an HMAC of those under a server secret: nobody
can forge one or widen it to another file. The file is made again from the
data kept in the outbox row (as long as the row is kept, `RecoverySettings.keep_for`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class FileLinks:
    """Makes and checks the links; `base_url` is the public address of the HTTP server."""

    secret: bytes
    base_url: str
    ttl: dt.timedelta = dt.timedelta(days=7)

    def _signature(self, body: str) -> str:
        return hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()[:32]

    def url(self, outbox_id: int, index: int, now: dt.datetime) -> str:
        """The link to file `index` of outbox message `outbox_id`."""
        body = f"{outbox_id}.{index}.{int((now + self.ttl).timestamp())}"
        return f"{self.base_url.rstrip('/')}/files/{body}.{self._signature(body)}"

    def check(self, token: str, now: dt.datetime) -> tuple[int, int] | None:
        """The (outbox id, index) a token names, if it is ours and not expired."""
        parts = token.split(".")
        if len(parts) != 4 or not all(part.isdigit() for part in parts[:3]):
            return None
        body = ".".join(parts[:3])
        if not hmac.compare_digest(parts[3], self._signature(body)):
            return None
        if int(parts[2]) < now.timestamp():
            return None
        return int(parts[0]), int(parts[1])


def derived_secret(*material: str) -> bytes:
    """A links' key derived from secrets the replicas share (their bot tokens)."""
    return hashlib.sha256("\n".join(("file-links", *material)).encode()).digest()
