"""One cold start, in a fresh process with a function's environment: `python -m npsloop_local.coldstart_probe MODULE`.

Prints `{"import_ms": …, "setup_ms": …}`: the import of the handler module, then the setup its first invocation
does: the wiring factory it calls (settings, stores), the secret and field mapping it reads, the source adapter a
delivery or fetch job names (and the HTTP pool a fetch uses), the Salesforce session it opens, one AWS client
per service its ports call, and the models of npsloop.models it validates (`VALIDATES`: built on first use).
`MODULE` "baseline" is `import boto3` + one DynamoDB client.
Only the standard library is imported before the clock starts.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

# how npsloop's ports name their client (the raw archive's writers: firehose; only the tools read it with s3)
CLIENT_PROPERTIES = ("ddb", "s3", "firehose", "events", "sqs", "ses", "comprehend")


def clients(*ports: Any) -> None:
    """Create the AWS clients these ports create on first use (dataclasses of ports are opened up)."""
    for port in ports:
        if dataclasses.is_dataclass(port):
            clients(*(getattr(port, f.name) for f in dataclasses.fields(port)))
        for name in CLIENT_PROPERTIES:
            if isinstance(getattr(type(port), name, None), property):
                getattr(port, name)


def _ingest(factory: str, source: str, fetches: bool = False) -> Callable[[], None]:
    """Every delivery names one source, whose adapter is imported on first use; a fetch job's is read from the tool's
    API through the container's HTTP pool."""

    def setup() -> None:
        from npsloop import wiring
        from npsloop.sources import adapter

        s, archive, store, _fetch_queue = getattr(wiring, factory)()
        wiring.secret(s.secret_arn)
        wiring.mapping(s.mapping_parameter)
        adapter(source)
        store.counting.themes_of("a comment")  # the theme taxonomy, built for the first comment stored
        if fetches:
            from npsloop import outbound

            outbound.pool()
        clients(archive, store)  # the fetch queue: only for a source that sends ids (ingest), a retry (fetch)

    return setup


def _compute_score() -> None:
    from npsloop import wiring

    clients(*wiring.score())
    wiring.sentiment()


def _sync_salesforce() -> None:
    from npsloop import wiring

    ports, _, _ = wiring.sync()
    clients(ports)
    ports.api.query("SELECT Id FROM Contact LIMIT 1")  # opens the session (token); one query rides along


def _notify() -> None:
    from npsloop import wiring

    clients(wiring.notify()[1])


def _with_secret(factory: str) -> Callable[[], None]:
    def setup() -> None:
        from npsloop import wiring

        s, *ports = getattr(wiring, factory)()
        wiring.secret(s.secret_arn)
        clients(*ports)

    return setup


def _settings_and_ports(factory: str) -> Callable[[], None]:
    def setup() -> None:
        from npsloop import wiring

        made = getattr(wiring, factory)()
        clients(*(made if isinstance(made, tuple) else (made,)))

    return setup


def _surveys_api() -> None:
    from npsloop import wiring

    _, keys, _, ports, _ = wiring.surveys_api()  # reads the secret
    clients(keys, ports)  # the key, each recipient's opt-out and claim, the queue of invitations
    if ports.salesforce:  # with an org: recipients' Contacts are asked for HasOptedOutOfEmail (session and a query)
        ports.salesforce().query("SELECT Id, HasOptedOutOfEmail FROM Contact LIMIT 1")


def _answer_survey() -> None:
    from npsloop import wiring

    s, ports = wiring.answer_survey()
    wiring.secret(s.secret_arn)
    clients(ports.ledger, ports.clicks)  # a click (GET) is noted and held; a comment (POST) follows on a warm one


def _record_click() -> None:
    from npsloop import wiring

    s, ports = wiring.answer_survey()
    wiring.secret(s.secret_arn)
    clients(ports)  # the ledger's clicks, then the answer recorded: archive, response store


def _baseline() -> None:
    import boto3

    boto3.client("dynamodb", region_name=os.environ["AWS_REGION"])


SETUP: dict[str, Callable[[], None]] = {
    "ingest_webhook": _ingest("ingest", "typeform"),
    "fetch_response": _ingest("fetch", "surveymonkey", fetches=True),  # each fetch GETs the tool's API (urllib3)
    "compute_score": _compute_score,
    "sync_salesforce": _sync_salesforce,
    "notify": _notify,
    "hooks_api": _settings_and_ports("hooks_api"),
    "deliver_hooks": _with_secret("deliver"),
    "unsubscribe": _with_secret("unsubscribe"),
    "email_feedback": _settings_and_ports("email_feedback"),
    "reports_api": _settings_and_ports("reports"),
    "surveys_api": _surveys_api,
    "send_survey": _settings_and_ports("send_survey"),  # reads the secret (the sender); SES and both stores
    "answer_survey": _answer_survey,
    "record_click": _record_click,
    "remind_surveys": _settings_and_ports("remind_surveys"),  # the planned reminders, the responses, the queue
}


# The models of npsloop.models (built on first use: models.DEFERRED) each function's typical first invocation
# validates or makes; the others are built by the first request on a path that needs them (reports' CSV export).
VALIDATES: dict[str, tuple[str, ...]] = {
    "ingest_webhook": ("CanonicalResponse",),  # the answer it stores (the table's stream is the event)
    "fetch_response": ("FetchJob", "CanonicalResponse"),
    "compute_score": ("CanonicalResponse", "ScoredEvent"),  # the stored answer read back, the ResponseScored
    "sync_salesforce": ("ScoredEvent", "LinkedEvent"),
    "notify": ("LinkedEvent",),
    "record_click": ("CanonicalResponse",),
}


def _build_models(module: str) -> None:
    from npsloop import models

    for name in VALIDATES.get(module, ()):
        getattr(models, name).model_rebuild()  # what its first validation would do


def main(module: str) -> dict[str, float]:
    started = time.perf_counter()
    if module != "baseline":
        importlib.import_module(f"{module}.handler")
    imported = time.perf_counter()
    if module == "baseline":
        _baseline()
    else:
        SETUP[module]()
        _build_models(module)
    done = time.perf_counter()
    return {"import_ms": (imported - started) * 1000, "setup_ms": (done - imported) * 1000}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
