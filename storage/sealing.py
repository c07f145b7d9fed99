"""Sealing a secret ballot's choices so that a reader of the database cannot read them.

Each secret ballot gets an X25519 key pair when it opens. Its private half is
never stored: it is derived, when needed, from the server's ballot secret (the
`BALLOT_SECRET` setting, or the key file the command line creates, never the
database) and the ballot's random salt, with keyed BLAKE2b (libsodium's
generic hash, as `crypto_kdf` does). A vote is sealed with libsodium's sealed
box to the public half (PyNaCl's `SealedBox`) and opened only at closing.

The payload is padded to a fixed length, so that the length of a sealed box
says nothing about the choice (unit codes differ in length). Inside it, a tag
keyed by the server's secret binds the choice to the ballot and the receipt: a
box written by someone who knows only the public key (anyone who reads the
database) is counted as invalid, not as a vote.

The library does all the cryptography; this module only chooses what goes in.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass

from nacl.encoding import HexEncoder, RawEncoder
from nacl.exceptions import CryptoError
from nacl.hash import blake2b
from nacl.public import PrivateKey, PublicKey, SealedBox

SECRET_MIN_LENGTH = 32  # characters: the secret must be random, not a password
PAYLOAD_BYTES = 192  # every sealed box holds this many bytes (plus the library's 48)
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: read aloud and typed back
RECEIPT_LENGTH = 10  # about 49 bits: no two receipts of a ballot collide in practice

_master: bytes | None = None


class BallotSecretMissing(RuntimeError):
    """A secret ballot was opened, voted in or counted before the server's ballot secret was set."""


class SealMismatch(RuntimeError):
    """The configured ballot secret is not the one the ballot was opened with: it cannot be counted."""


def use_ballot_secret(secret: str) -> None:
    """Set the process's ballot secret (bot/cli.py does, from the settings or the key file)."""
    global _master
    if len(secret) < SECRET_MIN_LENGTH:
        raise ValueError(f"the ballot secret must have at least {SECRET_MIN_LENGTH} characters")
    _master = blake2b(secret.encode(), digest_size=64, person=b"ktd-ballot-key", encoder=RawEncoder)


def new_ballot_secret() -> str:
    """A fresh random ballot secret (for the key file)."""
    return secrets.token_urlsafe(32)


def _master_key() -> bytes:
    if _master is None:
        raise BallotSecretMissing("no ballot secret is set: see BALLOT_SECRET in .env.example")
    return _master


def _derived(salt: bytes, purpose: bytes) -> bytes:
    return blake2b(salt, digest_size=32, key=_master_key(), person=purpose, encoder=RawEncoder)


def _private_key(salt: str) -> PrivateKey:
    return PrivateKey.from_seed(_derived(bytes.fromhex(salt), b"ktd-seal"))


@dataclass(frozen=True)
class SealKey:
    """What the database keeps of a ballot's key: the public half and the salt (hex)."""

    public_key: str
    salt: str


@dataclass(frozen=True)
class Unsealed:
    """A sealed box opened: the choice and the voter's receipt code."""

    choice: str
    receipt: str


def new_seal_key() -> SealKey:
    """A new ballot's key: a random salt, and the public half of the key derived from it."""
    salt = secrets.token_hex(16)
    public = _private_key(salt).public_key.encode(HexEncoder).decode()
    return SealKey(public_key=public, salt=salt)


def new_receipt() -> str:
    """A voter's receipt code, e.g. `K7QF3-M2XAB`: random, so it says nothing about the choice."""
    code = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))
    return f"{code[:5]}-{code[5:]}"


def _tag(key: SealKey, ballot_id: int, choice: str, receipt: str) -> str:
    message = json.dumps([ballot_id, choice, receipt]).encode()
    return blake2b(message, digest_size=16, key=_derived(bytes.fromhex(key.salt), b"ktd-auth"),
                   encoder=HexEncoder).decode()


def seal(key: SealKey, *, ballot_id: int, choice: str, receipt: str) -> bytes:
    """A choice and its receipt sealed to the ballot's public key, always the same length."""
    body = json.dumps({"b": ballot_id, "c": choice, "r": receipt, "t": _tag(key, ballot_id, choice, receipt)},
                      separators=(",", ":")).encode()
    if len(body) > PAYLOAD_BYTES:
        raise ValueError(f"a choice of {len(choice)} characters does not fit a sealed ballot")
    padded = body + b" " * (PAYLOAD_BYTES - len(body))
    return SealedBox(PublicKey(key.public_key.encode(), encoder=HexEncoder)).encrypt(padded)


class Opener:
    """Opens the sealed boxes of one ballot at closing time, with the private key derived once."""

    def __init__(self, key: SealKey, ballot_id: int) -> None:
        private = _private_key(key.salt)
        if not hmac.compare_digest(private.public_key.encode(HexEncoder).decode(), key.public_key):
            raise SealMismatch(f"ballot {ballot_id} was opened with another ballot secret")
        self._box = SealedBox(private)
        self._key = key
        self._ballot_id = ballot_id

    def open(self, sealed: bytes) -> Unsealed | None:
        """The choice and receipt in a box; None for a box that is not a genuine ballot of this ballot."""
        try:
            body = json.loads(self._box.decrypt(sealed).rstrip(b" "))
        except (CryptoError, ValueError):
            return None
        if not isinstance(body, dict):
            return None
        ballot_id, choice, receipt, tag = body.get("b"), body.get("c"), body.get("r"), body.get("t")
        if ballot_id != self._ballot_id or not isinstance(choice, str) or not isinstance(receipt, str) \
                or not isinstance(tag, str):
            return None
        if not hmac.compare_digest(tag, _tag(self._key, self._ballot_id, choice, receipt)):
            return None
        return Unsealed(choice=choice, receipt=receipt)
