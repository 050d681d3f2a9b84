"""`npsloop bench salesforce`: Salesforce API calls per 1,000 responses, npsloop's sync against a naive one.

1,000 responses from 800 distinct contacts across 300 accounts, 20% detractors, go through the whole local
stack (webhook, score, sync); the stand-in counts the API calls as Salesforce would. Then a naive sync of the
same responses, one record at a time (lookup, upsert, contact update, a Task per detractor), runs against the
same stand-in, and the two are compared.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import requests

from npsloop.salesforce.sync import soql_string
from npsloop_local.bench import producer
from npsloop_local.resources import aws_client
from npsloop_local.signing import standard_webhooks_headers
from npsloop_local.stack import LocalStack, StackOptions

RESPONSES, CONTACTS, ACCOUNTS, DETRACTOR_SHARE = 1_000, 800, 300, 0.2
API = "/services/data/v62.0"


class StandinSession:
    """Talks to the stand-in as an admin or a naive integration would."""

    def __init__(self, url: str):
        self.url = url
        grant = {"grant_type": "client_credentials", "client_id": "bench", "client_secret": "bench"}
        token = requests.post(f"{url}/services/oauth2/token", data=grant, timeout=30)
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        answer = requests.request(method, f"{self.url}{API}/{path}", headers=self.headers, timeout=60, **kwargs)
        answer.raise_for_status()
        return answer

    def create_all(self, sobject: str, records: list[dict[str, Any]]) -> list[str]:
        ids = []
        for start in range(0, len(records), 200):
            chunk = [{"attributes": {"type": sobject}, **r} for r in records[start : start + 200]]
            ids += [
                r["id"]
                for r in self.call("POST", "composite/sobjects", json={"allOrNone": True, "records": chunk}).json()
            ]
        return ids

    def stats(self) -> dict[str, Any]:
        return requests.get(f"{self.url}/__standin/stats", timeout=30).json()

    def reset_stats(self) -> None:
        requests.post(f"{self.url}/__standin/stats/reset", timeout=30)

    def count(self, sobject: str) -> int:
        return len(requests.get(f"{self.url}/__standin/records/{sobject}", timeout=60).json())


def responses(seed: int = 7, count: int = RESPONSES, answered_on: str | None = None) -> list[dict[str, Any]]:
    """1,000 answers (or `count`): every one of the 800 contacts answers once, the rest are further answers of
    contacts drawn at random (fewer than 800: that many contacts answer once); a fifth are detractors. They are
    spread over 20 days of November 2026, or over the hours of one day (`answered_on`, YYYY-MM-DD) as live
    traffic is."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible data set, not a secret)
    extra = count - CONTACTS
    if extra < 0:
        who = rng.sample(range(CONTACTS), count)
    else:
        who = list(range(CONTACTS)) + (rng.sample(range(CONTACTS), extra) if extra <= CONTACTS
                                       else rng.choices(range(CONTACTS), k=extra))  # fmt: skip
    rng.shuffle(who)
    detractors = set(rng.sample(range(count), int(count * DETRACTOR_SHARE)))
    return [{"response_id": f"bench-{i}", "email": f"contact{c}@bench.example",
             "score": rng.randint(0, 6) if i in detractors else rng.randint(7, 10),
             "responded_at": f"{answered_on or f'2026-11-{1 + i % 20:02d}'}T{i % 24:02d}:00:00Z", "touchpoint": "bench"}
            for i, c in enumerate(who)]  # fmt: skip


def seed_org(org: StandinSession) -> None:
    accounts = org.create_all("Account", [{"Name": f"Account {a}"} for a in range(ACCOUNTS)])
    org.create_all("Contact", [{"LastName": f"Contact {c}", "Email": f"contact{c}@bench.example",
                                "AccountId": accounts[c % ACCOUNTS]} for c in range(CONTACTS)])  # fmt: skip


def post_all(stack: LocalStack, answers: list[dict[str, Any]], clients: int = 4) -> dict[str, float]:
    """Post every answer signed to the stack's generic webhook; returns when each POST started (epoch seconds)."""
    secret = stack.secret["sources"]["generic"]["signing_secret"]
    posted: dict[str, float] = {}

    def post(answer: dict[str, Any]) -> None:
        body = json.dumps(answer).encode()
        headers = {"content-type": "application/json", **standard_webhooks_headers(secret, body)}
        posted[answer["response_id"]] = time.time()
        reply = requests.post(f"{stack.api_url}/webhooks/generic", data=body, headers=headers, timeout=60)
        if reply.status_code != 202:
            raise RuntimeError(f"the stack answered {reply.status_code}: {reply.text}")

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(post, answers))
    return posted


def run_pipeline(
    stack: LocalStack, org: StandinSession, answers: list[dict[str, Any]], timeout_s: float = 900
) -> float:
    """Post every answer signed to the stack and wait until each is a record in the stand-in; returns seconds."""
    started = time.monotonic()
    post_all(stack, answers)
    wait_synced(stack, org, answers, started + timeout_s)
    return time.monotonic() - started


def wait_synced(stack: LocalStack, org: StandinSession, answers: list[dict[str, Any]], deadline: float) -> None:
    """Until each answer is a record in the stand-in, each detractor's Task too, and the queues are empty."""
    while org.count("NPS_Response__c") < len(answers) or org.count("Task") < _detractors(answers) or busy(stack):
        if time.monotonic() > deadline:
            raise RuntimeError("the pipeline did not sync every response in time")
        time.sleep(1)


def busy(stack: LocalStack) -> bool:
    """Whether the sync's queue still holds a message, visible or in flight (compute_score publishes to it)."""
    sqs = aws_client("sqs", stack.aws_url)
    for queue in ("SyncQueue",):
        attrs = sqs.get_queue_attributes(QueueUrl=stack.names.refs[queue], AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]  # fmt: skip
        if any(int(v) for v in attrs.values()):
            return True
    return False


def _detractors(answers: list[dict[str, Any]]) -> int:
    return sum(1 for a in answers if a["score"] <= 6)


def naive_sync(org: StandinSession, answers: list[dict[str, Any]]) -> None:
    """What a one-record-at-a-time integration (a Zap per response) spends: lookup, upsert, contact, task."""
    for a in answers:
        # the email goes through soql_string, which quotes and escapes it
        soql = f"SELECT Id, AccountId FROM Contact WHERE Email = {soql_string(a['email'])}"  # noqa: S608 # nosec B608
        found = org.call("GET", "query", params={"q": soql})
        contact = (found.json()["records"] or [{}])[0]
        org.call("PATCH", f"sobjects/NPS_Response__c/Response_Id__c/generic:{a['response_id']}",
                 json={"Score__c": a["score"], "Contact__c": contact.get("Id")})  # fmt: skip
        if contact:
            org.call("PATCH", f"sobjects/Contact/{contact['Id']}", json={"NPS_Last_Score__c": a["score"]})
        if a["score"] <= 6:
            org.call("POST", "sobjects/Task", json={"Subject": f"NPS detractor (naive) {a['response_id']}",
                                                    "WhoId": contact.get("Id")})  # fmt: skip


def figures(npsloop_stats: dict[str, Any], naive_stats: dict[str, Any], seconds: float) -> list[dict[str, Any]]:
    per_1000 = 1000 / RESPONSES
    ours, naive = npsloop_stats["total"] * per_1000, naive_stats["total"] * per_1000
    out = [
        {"figure": f"salesforce_calls.{kind}", "value": n, "unit": "calls"}
        for kind, n in sorted(npsloop_stats["by_kind"].items())
    ]
    out += [
        {"figure": f"salesforce_calls_naive.{kind}", "value": n, "unit": "calls"}
        for kind, n in sorted(naive_stats["by_kind"].items())
    ]
    out.append({"figure": "salesforce_calls_per_1000_responses", "value": ours, "unit": "calls",
                "baseline": naive, "ratio": naive / ours if ours else None})  # fmt: skip
    out.append({"figure": "pipeline_seconds_for_1000_responses", "value": round(seconds, 1), "unit": "s"})
    return out


@contextmanager
def seeded_stack() -> Iterator[tuple[LocalStack, StandinSession, TextIO]]:
    """A fresh local stack logging into a temporary file, its stand-in seeded with the benches' org; stopped after."""
    with tempfile.TemporaryDirectory(prefix="npsloop-bench-") as tmp, (Path(tmp) / "stack.log").open("w") as log:
        stack = LocalStack(StackOptions(port=0, salesforce_port=0, aws_port=0, log=log))
        stack.start()
        try:
            org = StandinSession(stack.standin.url)
            seed_org(org)
            yield stack, org, log
        finally:
            stack.stop()


@producer("salesforce")
def measure() -> list[dict[str, Any]]:
    with seeded_stack() as (stack, org, _):
        answers = responses()
        org.reset_stats()
        seconds = run_pipeline(stack, org, answers)
        ours = org.stats()
        org.reset_stats()
        naive_sync(org, answers)
        naive = org.stats()
    return figures(ours, naive, seconds)
