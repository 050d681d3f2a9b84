"""SES bounce and complaint notifications (SES -> SNS -> SQS) put the addresses on the opt-out list.

Permanent bounces and complaints opt out; transient bounces (a full mailbox) do not. Both notification
shapes are understood: identity notifications (`notificationType`) and configuration-set events (`eventType`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger

from npsloop.stores.optouts import OptOutStore, address_hash

logger = Logger(child=True)


def opt_outs(notification: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(address, reason) pairs a notification calls for; empty for deliveries and transient bounces."""
    kind = str(notification.get("notificationType") or notification.get("eventType") or "").lower()
    if kind == "bounce":
        bounce = notification.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return []
        return [(r["emailAddress"], "bounce") for r in bounce.get("bouncedRecipients", []) if r.get("emailAddress")]
    if kind == "complaint":
        complaint = notification.get("complaint") or {}
        return [(r["emailAddress"], "complaint") for r in complaint.get("complainedRecipients", [])
                if r.get("emailAddress")]  # fmt: skip
    return []


def unwrap(body: str) -> dict[str, Any]:
    """The SES notification in an SQS body: inside an SNS envelope's Message, or raw (raw message delivery)."""
    outer = json.loads(body)
    if isinstance(outer, dict) and outer.get("Type") == "Notification" and isinstance(outer.get("Message"), str):
        outer = json.loads(outer["Message"])
    if not isinstance(outer, dict):
        raise ValueError("not a notification object")
    return outer


def handle(records: Sequence[Mapping[str, Any]], optouts: OptOutStore) -> list[str]:
    """Returns the ids of records that could not be read (left for the DLQ)."""
    poison = []
    for record in records:
        try:
            pairs = opt_outs(unwrap(record["body"]))
        except (KeyError, TypeError, ValueError):
            poison.append(record.get("messageId", ""))
            continue
        for address, reason in pairs:
            optouts.add(address, reason)
            logger.info("address opted out", extra={"address_hash": address_hash(address)[:16], "reason": reason})
    return poison
