"""Salesforce record ids: 15/18-character forms, the case-safe checksum suffix, and key prefixes."""

import hashlib
import re

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID15 = re.compile(r"[0-9A-Za-z]{15}")
_ID18 = re.compile(r"[0-9A-Za-z]{15}[A-Za-z0-5]{3}")


def checksum(id15: str) -> str:
    """The 3-character suffix: per 5-character chunk, bit i is set when character i is an upper-case letter."""
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, char in enumerate(id15[start : start + 5]) if "A" <= char <= "Z")
        suffix += _SUFFIX_ALPHABET[bits]
    return suffix


def to18(record_id: str) -> str | None:
    """The canonical 18-character id for a 15- or 18-character id (the 18-character form in any case), else None."""
    if _ID15.fullmatch(record_id):
        return record_id + checksum(record_id)
    if not _ID18.fullmatch(record_id):
        return None
    bits = [_SUFFIX_ALPHABET.index(char) for char in record_id[15:].upper()]
    id15 = "".join(
        char.upper() if bits[i // 5] & (1 << (i % 5)) else char.lower() for i, char in enumerate(record_id[:15])
    )
    return id15 + checksum(id15)


def make_id(prefix: str, number: int) -> str:
    """The 18-character id number `number` of the object with key prefix `prefix`."""
    digits = ""
    while number:
        number, digit = divmod(number, 62)
        digits = BASE62[digit] + digits
    id15 = f"{prefix}Hs{digits.rjust(10, '0')}"
    return id15 + checksum(id15)


def custom_prefix(sobject: str) -> str:
    """A stable key prefix for an sObject the stand-in does not know (always 'a' + 2 characters, never 'a0X')."""
    digest = int.from_bytes(hashlib.sha256(sobject.lower().encode()).digest()[:4], "big")
    return "a" + BASE62[1:][digest % 61] + BASE62[(digest // 61) % 62]


ORG_ID = to18("00DHs00000OrgNp") or ""
DEFAULT_USER_ID = to18("005Hs00000IntUs") or ""  # the "Integration User" that owns records by default
