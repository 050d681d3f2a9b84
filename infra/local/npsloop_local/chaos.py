"""`npsloop chaos` (`make chaos`): many responses through the local stack while Salesforce and the workers fail.

10,000 responses (by default) go in as signed generic webhooks, with 20% duplicate deliveries, updates in order
(revision 1, later revision 2) and out of order (revision 2 first: revision 1 must be answered stale), while the
Salesforce stand-in answers 503 for a minute, expires every session once and answers REQUEST_LIMIT_EXCEEDED in
bursts, and consumer worker processes are SIGKILLed in the middle of a batch. When every queue is quiet, one
`npsloop redrive` runs; then every response must be in Salesforce exactly once with its latest score, the
Aggregates table must equal the counts computed here from what was sent, and every DLQ must be empty.
"""

from __future__ import annotations

import json
import os
import random
import signal
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from npsloop.aggregation import OVERALL_VALUE, keys_for
from npsloop.scoring import Category, classify

TOUCHPOINTS = ("onboarding", "support", "billing", "renewal")
CAMPAIGNS = ("spring", "autumn", None)
FIRST_DAY = datetime(2026, 6, 1, tzinfo=UTC)
DAYS = 150  # answers spread over five months: several days, weeks, months and quarters per segment
COUNTED = ("responses", "promoters", "passives", "detractors")  # + score_0 ... score_10
COUNTER_OF = {Category.PROMOTER: "promoters", Category.PASSIVE: "passives", Category.DETRACTOR: "detractors"}
SEGMENT_PREFIXES = ("overall#", "source#", "touchpoint#", "campaign#")  # the Aggregates table's counted items


class ChaosError(Exception):
    """The chaos run could not go on (deadline, a stack that would not start); the message says where."""


# --- the plan: what is sent, in which wave, and the truth it should produce (pure) -----------------------------
@dataclass(frozen=True)
class Delivery:
    answer: dict[str, Any]
    kind: str  # "first", "duplicate", "update" (revision 2 after 1), "late" (revision 1 after 2: stale)


@dataclass
class Plan:
    waves: list[list[Delivery]]
    latest: dict[str, dict[str, Any]]  # response id -> the answer that must count (its latest revision)
    duplicates: int = 0
    updates: int = 0
    out_of_order: int = 0

    @property
    def deliveries(self) -> int:
        return sum(len(w) for w in self.waves)


def _answer(i: int, rng: random.Random, contacts: int) -> dict[str, Any]:
    at = FIRST_DAY + timedelta(days=rng.randrange(DAYS), hours=rng.randrange(24), minutes=rng.randrange(60))
    who = rng.randrange(contacts * 10 // 9) if contacts else 0  # about one respondent in ten is no Contact
    answer = {"response_id": f"chaos-{i}", "score": rng.randint(0, 10), "email": f"person{who}@chaos.example",
              "touchpoint": rng.choice(TOUCHPOINTS), "responded_at": at.isoformat(), "updated_at": at.isoformat()}
    campaign = rng.choice(CAMPAIGNS)
    return {**answer, "campaign": campaign} if campaign else answer


def _revised(answer: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Revision 2: a new score and maybe touchpoint, given a day later."""
    later = datetime.fromisoformat(answer["updated_at"]) + timedelta(days=1)
    score = rng.choice([s for s in range(11) if s != answer["score"]])
    return {**answer, "score": score, "touchpoint": rng.choice(TOUCHPOINTS), "updated_at": later.isoformat()}


def plan_run(responses: int, *, waves: int = 20, duplicate_share: float = 0.2, update_share: float = 0.03,
             out_of_order_share: float = 0.03, contacts: int = 1000, seed: int = 8) -> Plan:  # fmt: skip
    """Spread `responses` over `waves` sent one after the other (the deliveries of a wave go concurrently).

    An update's revision 2 comes in a later wave than its revision 1; an out-of-order update's revision 1 in a
    later wave than its revision 2, so it is stale for sure. A duplicate repeats a response's first delivery in
    that wave or a later one, before its next revision (in the same wave it may race the original: also chaos).
    """
    if waves < 2:
        raise ValueError("updates need at least two waves")
    rng = random.Random(seed)  # noqa: S311 (a reproducible data set, not a secret)
    plan = Plan([[] for _ in range(waves)], {})
    ids = list(range(responses))
    changed = rng.sample(ids, int(responses * (update_share + out_of_order_share)))
    out_of_order = set(changed[: int(responses * out_of_order_share)])
    updated = set(changed) - out_of_order
    twice = set(rng.sample(ids, int(responses * duplicate_share)))
    for i in ids:
        first = _answer(i, rng, contacts)
        wave = rng.randrange(waves - 1)
        later = rng.randrange(wave + 1, waves)
        end = waves  # the first delivery may be repeated up to (not into) the wave of the next revision
        if i in updated:
            second = _revised(first, rng)
            plan.waves[wave].append(Delivery(first, "first"))
            plan.waves[later].append(Delivery(second, "update"))
            plan.latest[first["response_id"]], end = second, later
            plan.updates += 1
        elif i in out_of_order:
            second = _revised(first, rng)
            plan.waves[wave].append(Delivery(second, "first"))
            plan.waves[later].append(Delivery(first, "late"))
            plan.latest[first["response_id"]], first, end = second, second, later
            plan.out_of_order += 1
        else:
            plan.waves[wave].append(Delivery(first, "first"))
            plan.latest[first["response_id"]] = first
        if i in twice:
            plan.waves[rng.randrange(wave, end)].append(Delivery(first, "duplicate"))
            plan.duplicates += 1
    for deliveries in plan.waves:
        rng.shuffle(deliveries)
    return plan


def _counter(score: int) -> Counter:
    return Counter({"responses": 1, COUNTER_OF[classify(score)]: 1, f"score_{score}": 1})


def expected_counts(latest: Iterable[Mapping[str, Any]], account_of: Mapping[str, str]) -> dict[tuple, Counter]:
    """The counts the answers must produce: each response once, with its latest answer.

    Segments at ingest (overall, source, touchpoint, campaign) by day and month (the periods the Aggregates table
    stores); the account the sync matched by email (`account_of`: lower-cased email -> Account id) by month, as the
    Responses table's ByAccount index gives it.
    """
    counts: dict[tuple, Counter] = {}
    for answer in latest:
        at = datetime.fromisoformat(answer["responded_at"])
        segments = {"overall": OVERALL_VALUE, "source": "generic", "touchpoint": answer.get("touchpoint"),
                    "campaign": answer.get("campaign")}  # fmt: skip
        keys = keys_for({s: v for s, v in segments.items() if v}, at)
        account = account_of.get((answer.get("email") or "").lower())
        if account:
            keys += keys_for({"account": account}, at, ("month",))
        for key in keys:
            counts.setdefault(tuple(key), Counter()).update(_counter(answer["score"]))
    return counts


def compare_counts(expected: Mapping[tuple, Counter], actual: Mapping[tuple, Mapping[str, int]]) -> list[str]:
    """Every aggregate item whose response and category counts differ from the truth, described."""
    problems = []
    for key in sorted(set(expected) | set(actual)):
        want = {a: n for a, n in expected.get(key, {}).items() if n}
        have = {a: int(n) for a, n in actual.get(key, {}).items() if n and _is_counted(a)}
        if want != have:
            diff = {a: (have.get(a, 0), want.get(a, 0)) for a in sorted(set(want) | set(have))
                    if have.get(a, 0) != want.get(a, 0)}  # fmt: skip
            problems.append(f"{key[0]} {key[1]}: " + ", ".join(f"{a} {h} (truth {w})" for a, (h, w) in diff.items()))
    return problems


def _is_counted(attribute: str) -> bool:
    return attribute in COUNTED or attribute.startswith("score_")


@dataclass
class SalesforceCheck:
    in_salesforce: int
    duplicates: int
    lost: int
    unknown: int
    outdated: list[str]  # response ids whose record does not carry the latest score


def check_records(records: Iterable[Mapping[str, Any]], latest: Mapping[str, Mapping[str, Any]]) -> SalesforceCheck:
    """NPS_Response__c records against the truth: exactly one per response, with its latest score."""
    ids: Counter = Counter()
    scores: dict[str, Any] = {}
    for record in records:
        rid = str(record.get("Response_Id__c") or "").removeprefix("generic:")
        ids[rid] += 1
        scores[rid] = record.get("Score__c")
    outdated = sorted(rid for rid, answer in latest.items() if rid in scores and scores[rid] != answer["score"])
    return SalesforceCheck(in_salesforce=len(set(ids) & set(latest)), duplicates=sum(n - 1 for n in ids.values()),
                           lost=len(set(latest) - set(ids)), unknown=len(set(ids) - set(latest)),
                           outdated=outdated)  # fmt: skip


def final_line(sent: int, check: SalesforceCheck, dlq: int) -> str:
    return (f"{sent} sent, {check.in_salesforce} in Salesforce, {check.duplicates} duplicates, {check.lost} lost, "
            f"DLQ {dlq}")  # fmt: skip


# --- the run against the local stack ------------------------------------------------------------------------------
@dataclass
class ChaosOptions:
    responses: int = 10_000
    waves: int = 20
    deadline_seconds: float = 600
    outage_seconds: float = 60  # the stand-in answers 503 this long
    burst: int = 5  # REQUEST_LIMIT_EXCEEDED answers in a row, twice
    kills: tuple[str, ...] = ("SyncSalesforceFunction", "ComputeScoreFunction")
    visibility_seconds: int | None = None  # shorter consumer-queue visibility timeouts (small runs); default template
    parameters: dict[str, str] = field(default_factory=dict)  # template parameters instead of their defaults
    log_path: Path | None = None  # keep the stack's log here (default: a temporary file, its tail shown on failure)
    senders: int = 4
    contacts: int = 1000
    accounts: int = 100
    seed: int = 8
    say: Callable[[str], None] = partial(print, flush=True)  # progress shows when piped, too


@dataclass
class Tally:
    answers: Counter = field(default_factory=Counter)  # recorded / duplicate / stale / refused
    retried: int = 0
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: str, retries: int, problem: str | None = None) -> None:
        with self.lock:
            self.answers[outcome] += 1
            self.retried += retries
            if problem and len(self.refused) < 5:
                self.refused.append(problem)


class Deadline:
    def __init__(self, seconds: float):
        self.started = time.monotonic()
        self.at = self.started + seconds
        self.seconds = seconds

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def check(self, doing: str) -> None:
        if time.monotonic() > self.at:
            raise ChaosError(f"the {self.seconds:.0f} s deadline passed while {doing}")


class Killer:
    """SIGKILLs a function's worker process while it is inside an invocation, in a thread of its own."""

    def __init__(self, stack: Any, deadline: Deadline, say: Callable[[str], None]):
        self.stack, self.deadline, self.say = stack, deadline, say
        self.done: list[str] = []
        self.threads: list[threading.Thread] = []

    def kill_mid_batch(self, function: str) -> None:
        thread = threading.Thread(target=self._kill, args=(function,), daemon=True)
        thread.start()
        self.threads.append(thread)

    def _kill(self, function: str) -> None:
        pool = self.stack.pools[function]
        while time.monotonic() < self.deadline.at:
            busy = {pid: seconds for pid, seconds in pool.busy().items() if seconds >= 0.05}
            if busy:
                pid = next(iter(busy))
                os.kill(pid, signal.SIGKILL)
                self.done.append(f"{function} pid {pid} ({busy[pid]:.2f} s into a batch)")
                self.say(f"  killed {self.done[-1]}")
                return
            time.sleep(0.01)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(max(0.0, self.deadline.at - time.monotonic()))


def run(options: ChaosOptions) -> int:
    """The whole chaos run; prints progress, the figures and the final line; 0 when every check holds."""
    from npsloop_local.bench_salesforce import StandinSession
    from npsloop_local.stack import LocalStack, StackOptions
    from npsloop_local.template import Template

    say = options.say
    deadline = Deadline(options.deadline_seconds)
    plan = plan_run(options.responses, waves=options.waves, contacts=options.contacts, seed=options.seed)
    say(f"chaos: {options.responses} responses in {plan.deliveries} deliveries over {options.waves} waves: "
        f"{plan.duplicates} duplicates, {plan.updates} updates in order, {plan.out_of_order} out of order")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="npsloop-chaos-") as tmp, \
            Path(options.log_path or Path(tmp) / "stack.log").open("w") as log:
        template = Template()
        unknown = set(options.parameters) - set(template.parameters)
        if unknown:
            say(f"chaos: template.yaml has no parameter {', '.join(sorted(unknown))}")
            return 2
        template.parameters.update(options.parameters)
        stack = LocalStack(StackOptions(port=0, salesforce_port=0, aws_port=0, log=log), template)
        try:
            stack.start()
            say(f"  local stack up in {deadline.elapsed():.0f} s (log {log.name} while it runs)")
            org = StandinSession(stack.standin.url)
            account_of = _seed_org(org, options)
            _shorten_visibility(stack, options.visibility_seconds)
            return _run(stack, org, plan, account_of, options, deadline)
        except ChaosError as exc:
            say(f"chaos: FAILED: {exc}")
            say("--- end of the stack log ---\n" + Path(log.name).read_text()[-3000:])
            return 1
        finally:
            stack.stop()


def _seed_org(org: Any, options: ChaosOptions) -> dict[str, str]:
    """Accounts and Contacts in the stand-in; returns each Contact's email -> its Account id."""
    accounts = org.create_all("Account", [{"Name": f"Chaos account {a}"} for a in range(options.accounts)])
    account_of = {f"person{c}@chaos.example": accounts[c % len(accounts)] for c in range(options.contacts)}
    org.create_all("Contact", [{"LastName": f"Person {c}", "Email": email, "AccountId": account}
                               for c, (email, account) in enumerate(account_of.items())])  # fmt: skip
    return account_of


def _shorten_visibility(stack: Any, seconds: int | None) -> None:
    if seconds is None:
        return
    from npsloop_local.resources import aws_client

    sqs = aws_client("sqs", stack.aws_url)
    for queue in _consumer_queues(stack):
        sqs.set_queue_attributes(QueueUrl=stack.names.refs[queue], Attributes={"VisibilityTimeout": str(seconds)})


def _consumer_queues(stack: Any) -> list[str]:
    return sorted({source.queue for fn in stack.template.functions() for source in fn.queues})


def _run(stack: Any, org: Any, plan: Plan, account_of: dict[str, str], options: ChaosOptions,
         deadline: Deadline) -> int:  # fmt: skip
    from npsloop_local.ops import Target
    from npsloop_local.salesforce_ops import dead_letter_queues, redrive

    say = options.say
    target = Target(aws_url=stack.aws_url)
    dlqs = sorted(set(dead_letter_queues(target).values()))
    killer = Killer(stack, deadline, say)
    faults = _fault_schedule(stack, options, killer)
    tally = Tally()
    post = _poster(stack, tally)
    started = time.monotonic()
    with ThreadPoolExecutor(options.senders) as pool:
        for number, deliveries in enumerate(plan.waves):
            deadline.check(f"sending wave {number + 1}")
            for action in faults.get(number, ()):
                action()
            list(pool.map(post, deliveries))
            sent = sum(tally.answers.values())
            say(f"  wave {number + 1}/{len(plan.waves)}: {sent} deliveries answered, "
                f"{sent / (time.monotonic() - started):.1f}/s, {deadline.elapsed():.0f} s in")  # fmt: skip
    ingest_seconds = time.monotonic() - started
    killer.join()
    _settle(stack, target, deadline, "the pipeline worked through every queue", say)
    say(f"  every queue quiet after {time.monotonic() - started:.0f} s")
    settled_seconds = time.monotonic() - started
    before = _depths(target, dlqs)
    moved = redrive(target, progress=False)
    say(f"  npsloop redrive: {sum(moved.values())} messages back ({_nonzero(moved)})")
    _settle(stack, target, deadline, "the redriven messages were worked through", say)
    after = _depths(target, dlqs)
    records = org_records(org, "NPS_Response__c")
    check = check_records(records, plan.latest)
    tasks = Counter(t.get("Subject") for t in org_records(org, "Task"))
    counts = compare_counts(expected_counts(plan.latest.values(), account_of), _counted(target, account_of.values()))
    failed_batches = {p.name: p.failed_batches for p in stack.pollers if p.failed_batches}
    dlq_after = sum(after.values())
    problems = []
    if tally.answers["refused"]:
        problems.append(f"{tally.answers['refused']} deliveries refused, e.g. {tally.refused}")
    if tally.answers["stale"] != plan.out_of_order:
        problems.append(f"{tally.answers['stale']} answered stale, {plan.out_of_order} revisions 1 came late")
    if len(killer.done) < len(options.kills):
        problems.append(f"only {len(killer.done)} of {len(options.kills)} kills found a worker in a batch")
    if check.unknown or check.outdated:
        problems.append(f"{check.unknown} unknown records, {len(check.outdated)} without their latest score "
                        f"(e.g. {check.outdated[:5]})")  # fmt: skip
    if any(n > 1 for n in tasks.values()):
        problems.append(f"{sum(n - 1 for n in tasks.values())} Tasks made twice for one response")
    if counts:
        problems.append(f"{len(counts)} aggregate items differ from the truth, e.g. {counts[:5]}")
    check_failed = check.lost or check.duplicates or check.in_salesforce != len(plan.latest) or dlq_after
    load = _uptime()
    rate = len(plan.latest) / settled_seconds
    for line in [
        f"sent          {len(plan.latest)} responses in {plan.deliveries} deliveries ({plan.duplicates} duplicates, "
        f"{plan.updates} updates in order, {plan.out_of_order} revision 2 before revision 1)",
        f"answers       {tally.answers['recorded']} recorded, {tally.answers['duplicate']} duplicate, "
        f"{tally.answers['stale']} stale, {tally.answers['refused']} refused; {tally.retried} retries after 409/429",
        f"faults        503 for {options.outage_seconds:g} s, 1 session expiry, 2 bursts of {options.burst} "
        f"REQUEST_LIMIT_EXCEEDED; left in the stand-in: {len(org_control(org, 'faults'))}",
        f"kills         {len(killer.done)} SIGKILL mid-batch: {'; '.join(killer.done) or 'none'}; "
        f"failed batches {failed_batches or 0}",
        f"time          sending {ingest_seconds:.0f} s ({plan.deliveries / ingest_seconds:.1f} deliveries/s); every "
        f"queue quiet after {settled_seconds:.0f} s ({rate:.1f} responses/s end to end); "
        f"total {deadline.elapsed():.0f} s",
        f"Salesforce    {check.in_salesforce} records, {check.duplicates} duplicates, {check.lost} lost, "
        f"{check.unknown} unknown, {len(check.outdated)} without their latest score; {len(tasks)} detractor Tasks, "
        f"{sum(n - 1 for n in tasks.values())} made twice",
        f"aggregates    {len(expected_counts(plan.latest.values(), account_of))} items against the truth, "
        f"{len(counts)} differ",
        f"DLQ           {sum(before.values())} before redrive ({_nonzero(before)}), {dlq_after} after",
        f"functions     {_busy_functions(stack)}",
        f"load          {load}",
    ]:  # fmt: skip
        say(line)
    for problem in problems:
        say(f"FAILED: {problem}")
    say(final_line(len(plan.latest), check, dlq_after))
    return 1 if problems or check_failed else 0


def _fault_schedule(stack: Any, options: ChaosOptions, killer: Killer) -> dict[int, list[Callable[[], None]]]:
    """What happens before which wave: kills early (a killed batch waits out its visibility timeout), then the
    outage, the session expiry and the bursts spread over the run."""
    import requests

    def fault(body: dict[str, Any]) -> Callable[[], None]:
        def add() -> None:
            requests.post(f"{stack.standin.url}/__standin/faults", json=body, timeout=30).raise_for_status()
            options.say(f"  stand-in fault: {body}")

        return add

    def expire() -> None:
        requests.post(f"{stack.standin.url}/__standin/expire-tokens", timeout=30).raise_for_status()
        options.say("  stand-in: every session expired")

    def kill(function: str) -> Callable[[], None]:
        return lambda: killer.kill_mid_batch(function)

    last = options.waves - 1
    steps: list[tuple[int, Callable[[], None]]] = [
        (min(1, last), kill(options.kills[0]) if options.kills else lambda: None),
        (min(2, last), fault({"status": 503, "errorCode": "SERVER_UNAVAILABLE", "seconds": options.outage_seconds})),
        (min(3, last), kill(options.kills[1]) if len(options.kills) > 1 else lambda: None),
        (last * 2 // 5, expire),
        (last // 2, fault({"status": 403, "errorCode": "REQUEST_LIMIT_EXCEEDED", "count": options.burst})),
        (last * 3 // 4, fault({"status": 403, "errorCode": "REQUEST_LIMIT_EXCEEDED", "count": options.burst})),
    ]
    schedule: dict[int, list[Callable[[], None]]] = {}
    for wave, action in steps:
        schedule.setdefault(wave, []).append(action)
    return schedule


def _poster(stack: Any, tally: Tally) -> Callable[[Delivery], None]:
    import requests

    from npsloop_local.signing import standard_webhooks_headers

    secret = stack.secret["sources"]["generic"]["signing_secret"]
    sessions = threading.local()

    def post(delivery: Delivery) -> None:
        session = getattr(sessions, "session", None) or requests.Session()
        sessions.session = session
        body = json.dumps(delivery.answer).encode()
        for retries in range(6):
            headers = {"content-type": "application/json", **standard_webhooks_headers(secret, body)}
            reply = session.post(f"{stack.api_url}/webhooks/generic", data=body, headers=headers, timeout=60)
            if reply.status_code not in (409, 429):
                break
            time.sleep(0.2 * (retries + 1))
        answer = reply.json() if reply.headers.get("content-type", "").startswith("application/json") else {}
        if reply.status_code == 202 and "response_id" in answer:
            tally.add("recorded", retries)
        elif reply.status_code == 200 and answer.get("duplicate"):
            tally.add("duplicate", retries)
        elif reply.status_code == 200 and answer.get("stale"):
            tally.add("stale", retries)
        else:
            tally.add("refused", retries, f"{reply.status_code} {reply.text[:200]}")

    return post


def _settle(stack: Any, target: Any, deadline: Deadline, what: str, say: Callable[[str], None]) -> None:
    """Until every queue (DLQs aside) is empty, visible, in flight and delayed, and every stream is read to its end,
    twice two seconds apart."""
    from npsloop_local.pollers import StreamPoller

    sqs = target.client("sqs")
    queues = {q: stack.names.refs[q] for q in _consumer_queues(stack)}
    streams = [p for p in stack.pollers if isinstance(p, StreamPoller)]
    quiet, said = 0, time.monotonic()
    while quiet < 2:
        deadline.check(f"waiting until {what}")
        depths = {q: _depth(sqs, url, all_states=True) for q, url in queues.items()}
        depths.update({f"{p.name} (stream)": int(not p.caught_up) for p in streams})
        quiet = 0 if any(depths.values()) else quiet + 1
        if time.monotonic() - said >= 15:
            say(f"  waiting until {what}: {_nonzero(depths)} ({deadline.elapsed():.0f} s in)")
            said = time.monotonic()
        time.sleep(2)


def _depth(sqs: Any, url: str, all_states: bool = False) -> int:
    names = ["ApproximateNumberOfMessages"]
    if all_states:
        names += ["ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(v) for v in attrs.values())


def _depths(target: Any, dlqs: list[str]) -> dict[str, int]:
    sqs = target.client("sqs")
    return {dlq: _depth(sqs, target.physical(dlq), all_states=True) for dlq in dlqs}


def _nonzero(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "none"


def org_records(org: Any, sobject: str) -> list[dict[str, Any]]:
    return org_control(org, f"records/{sobject}")


def org_control(org: Any, path: str) -> Any:
    import requests

    return requests.get(f"{org.url}/__standin/{path}", timeout=120).json()


def _counted(target: Any, accounts: Iterable[str]) -> dict[tuple, dict[str, int]]:
    """Every counted item of the Aggregates table (one Scan; the chaos table holds a few thousand items), and each
    account's months as the ByAccount index counts them."""
    from npsloop.stores.responses import AccountCounts

    ddb = target.client("dynamodb")
    index = AccountCounts(target.physical("ResponsesTable"), ddb)
    out: dict[tuple, dict[str, int]] = {}
    for account in set(accounts):
        for sk, item in index.between(f"account#{account}", "month#0000", "month#9999").items():
            out[(f"account#{account}", sk)] = item
    request: dict[str, Any] = {"TableName": target.physical("AggregatesTable")}
    while True:
        page = ddb.scan(**request)
        for item in page["Items"]:
            if item["pk"]["S"].startswith(SEGMENT_PREFIXES):
                out[(item["pk"]["S"], item["sk"]["S"])] = {k: int(v["N"]) for k, v in item.items() if "N" in v}
        if "LastEvaluatedKey" not in page:
            return out
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _busy_functions(stack: Any) -> str:
    """The queue- and stream-fed functions' invocations and their mean time (where a run's time goes)."""
    fed = [fn.logical_id for fn in stack.template.functions() if fn.queues or fn.streams]
    used = {name: stack.pools[name].usage for name in fed if stack.pools[name].usage.invocations}
    return "; ".join(f"{name} {u.invocations} invocations, {u.seconds:.0f} s in all ({u.seconds / u.invocations:.2f} s "
                     f"each)" for name, u in sorted(used.items(), key=lambda kv: -kv[1].seconds))  # fmt: skip


def _uptime() -> str:
    """The load averages `uptime` shows, and the cores they share (other work on the machine slows the run)."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"
