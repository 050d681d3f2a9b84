"""`npsloop local`: moto, the functions in worker processes, their routes, queue and stream pollers, schedules, and
the Salesforce stand-in."""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from npsloop.apikeys import ApiKeyStore
from npsloop_local import state
from npsloop_local.http_api import HttpApi
from npsloop_local.pollers import Poller, QueuePoller, StreamPoller
from npsloop_local.resources import aws_client, create_all
from npsloop_local.schedules import ADMIN_ROUTE, ScheduleTimer, admin_invoke
from npsloop_local.template import REGION, ROOT, Physical, Template
from npsloop_local.workers import WorkerPool, WorkerSpec

DEFAULT_SECRETS = Path(__file__).with_name("secrets.default.json")
DEFAULT_MAPPING = Path(__file__).with_name("mapping.default.json")
HOST = "127.0.0.1"


class StackConfigError(Exception):
    """The options or the --secrets file cannot be used; the message says why."""


@dataclass
class StackOptions:
    port: int = 3000
    salesforce_port: int = 3001
    aws_port: int = 3002
    state_dir: Path | None = None
    api_keys: list[str] = field(default_factory=list)
    secrets_file: Path | None = None
    mapping_file: Path | None = None
    http_workers: int = 2
    allow_loopback_targets: bool = False  # hooks may target http://127.0.0.1 (tests only)
    run_functions: bool = True  # False: moto with the resources, the secret and the stand-in only (cold-start bench)
    log: TextIO = sys.stdout


def _merge(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    out = dict(defaults)
    for key, value in given.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def local_secret(secrets_file: Path | None) -> tuple[dict[str, Any], bool]:
    """The secret's value: the --secrets file over the shipped defaults; True when it names a real org."""
    defaults = json.loads(DEFAULT_SECRETS.read_text())
    defaults.pop("_comment", None)
    given: dict[str, Any] = {}
    if secrets_file is not None:
        try:
            given = json.loads(Path(secrets_file).read_text())
        except (OSError, ValueError) as exc:
            raise StackConfigError(f"--secrets {secrets_file}: {exc}") from None
        if not isinstance(given, dict) or not isinstance(given.get("sources"), dict):
            raise StackConfigError(f'--secrets {secrets_file}: needs a "sources" object, e.g. '
                                   '{"sources": {"typeform": {"signing_secret": "..."}}}')  # fmt: skip
    real_org = bool((given.get("salesforce") or {}).get("login_url"))
    value = _merge(defaults, given)
    if real_org:
        value["salesforce"] = given["salesforce"]
    return value, real_org


def local_mapping(mapping_file: Path | None) -> str:
    """The field mapping document for the local stack: the --mapping file, else the shipped default."""
    path = Path(mapping_file or DEFAULT_MAPPING)
    try:
        text = path.read_text()
        if not isinstance(json.loads(text), dict):
            raise ValueError("it must be a JSON object keyed by source")
    except (OSError, ValueError) as exc:
        raise StackConfigError(f"--mapping {path}: {exc}") from None
    return text


def _free(port: int) -> int:
    if port:
        return port
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class LocalStack:
    def __init__(self, options: StackOptions, template: Template | None = None):
        self.options = options
        self.template = template or Template()
        self.secret, self.real_org = local_secret(options.secrets_file)
        self.mapping = local_mapping(options.mapping_file)
        self.aws_port = _free(options.aws_port)
        self.aws_url = f"http://{HOST}:{self.aws_port}"
        self.pools: dict[str, WorkerPool] = {}
        self.pollers: list[Poller] = []
        self.timers: list[ScheduleTimer] = []
        self.names = Physical()
        self.restored = False  # --state-dir put back a previous run's data
        self.moto: Any = None
        self.standin: Any = None
        self.api: HttpApi | None = None
        self.api_port = _free(options.port)
        self._tmp = tempfile.TemporaryDirectory(prefix="npsloop-local-")

    # --- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._start_moto()
        if not self.real_org:
            from npsloop_local.standin import SalesforceStandin

            db = (self.options.state_dir or Path(self._tmp.name)) / "salesforce.sqlite3"
            db.parent.mkdir(parents=True, exist_ok=True)
            self.standin = SalesforceStandin(db_path=str(db))
            self.standin.start(HOST, _free(self.options.salesforce_port))
            self.secret["salesforce"].setdefault("login_url", self.standin.url)
        self.names = create_all(self.template, self.aws_url, self.secret, self.mapping)
        # the restored items are written again, so their tables' streams hold them anew: not changes to act on
        self.restored = bool(self.options.state_dir) and state.load(self.options.state_dir, self.names, self.aws_url)
        self._verify_sender()
        keys = ApiKeyStore(self.names.refs["ApiKeysTable"], aws_client("dynamodb", self.aws_url))
        for number, key in enumerate(self.options.api_keys, 1):
            keys.add(key, f"--api-key {number}")
        if not self.options.run_functions:
            return
        self._start_functions()
        routes = [(route, self.pools[fn.logical_id].invoke) for fn in self.template.functions() for route in fn.routes]
        scheduled = {fn.logical_id: (fn, self.pools[fn.logical_id].invoke) for fn in self.template.functions()
                     if fn.schedules}  # fmt: skip
        routes.append((ADMIN_ROUTE, admin_invoke(scheduled)))  # local only: fire a schedule as of any time
        self.api = HttpApi(routes, HOST, self.api_port)
        self.api.start()

    def stop(self) -> None:
        if self.api:
            self.api.stop()
        for poller in self.pollers:
            poller.stopping.set()
        for timer in self.timers:
            timer.stop()
        for poller in self.pollers:
            poller.stop()
        for pool in self.pools.values():
            pool.stop()
        if self.options.state_dir and self.moto:
            state.save(self.options.state_dir, self.template, self.names, self.aws_url)
        if self.standin:
            self.standin.stop()
        if self.moto:
            self.moto.stop()
        self._tmp.cleanup()

    # --- parts ----------------------------------------------------------------------------------------------
    def _verify_sender(self) -> None:
        """SES refuses mail from unverified identities (moto enforces it too): verify the configured sender."""
        sender = ((self.secret.get("notify") or {}).get("email") or {}).get("sender")
        if sender:
            address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
            aws_client("ses", self.aws_url).verify_email_identity(EmailAddress=address)

    def _start_moto(self) -> None:
        from npsloop_local.moto_server import MotoServer

        self.moto = MotoServer(HOST, self.aws_port, self.options.log)
        self.moto.start()

    def function_environment(self, fn: Any) -> dict[str, str]:
        """Exactly the template's environment, plus what the Lambda runtime itself provides (here: moto's)."""
        env = {k: str(self.names.resolve(v)) for k, v in fn.environment.items()}
        runtime = {
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing", "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_LAMBDA_FUNCTION_NAME": fn.logical_id, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout), "TZ": "UTC", "LANG": "C.UTF-8",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT / "shared")]),  # /var/task, /opt/python
        }  # fmt: skip
        if fn.logging.get("LogFormat") == "JSON":  # what Lambda sets for its advanced logging controls
            runtime["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            runtime["AWS_LAMBDA_LOG_LEVEL"] = str(self.names.resolve(fn.logging.get("ApplicationLogLevel", "INFO")))
        local = {"PUBLIC_API_URL": self.api_url} if "PUBLIC_API_URL" in env else {}
        if self.options.allow_loopback_targets:
            local["ALLOW_LOOPBACK_TARGETS"] = "true"  # only ever set here: a deployed stack never admits loopback
        return {**env, **runtime, **local}

    def _start_functions(self) -> None:
        functions = self.template.functions()
        for fn in functions:
            spec = WorkerSpec(fn.logical_id, fn.handler, fn.timeout, self.function_environment(fn), fn.memory)
            self.pools[fn.logical_id] = WorkerPool(
                spec, self.options.http_workers if fn.routes else 1, self.options.log
            )
        errors: list[BaseException] = []

        def start(pool: WorkerPool) -> None:
            try:
                pool.start()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(p,)) for p in self.pools.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        sqs, streams = aws_client("sqs", self.aws_url), aws_client("dynamodbstreams", self.aws_url)
        for fn in functions:
            invoke = self.pools[fn.logical_id].invoke
            for source in fn.queues:
                url, arn = self.names.refs[source.queue], self.names.arns[source.queue]
                self.pollers.append(QueuePoller(fn.logical_id, source, url, arn, sqs, invoke))
            for stream in fn.streams:
                arn = self.names.stream_arns[stream.table]
                if self.restored:  # the previous run worked through its stream; TRIM_HORIZON would replay it
                    stream = replace(stream, starting_position="LATEST")
                self.pollers.append(StreamPoller(fn.logical_id, stream, arn, streams, invoke))
            for schedule in fn.schedules:
                if schedule.seconds is None:
                    print(f"[{fn.logical_id}] {schedule.expression}: only rate() runs by itself locally; "
                          f"POST {ADMIN_ROUTE.path} fires it", file=self.options.log, flush=True)  # fmt: skip
                    continue
                self.timers.append(ScheduleTimer(fn, schedule.name, schedule.seconds, invoke))
        for poller in self.pollers:
            poller.start()
        for timer in self.timers:
            timer.start()

    # --- what it prints -------------------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.api.port if self.api else self.api_port}"

    def banner(self) -> str:
        from npsloop_local.signing import typeform_curl

        salesforce = self.standin.url + "  (stand-in)" if self.standin else self.secret["salesforce"]["login_url"]
        curl = typeform_curl(self.api_url, self.secret["sources"]["typeform"]["signing_secret"])
        return "\n".join([
            "npsloop local is ready",
            f"  HTTP API     {self.api_url}   (POST /webhooks/{{source}})",
            f"  Salesforce   {salesforce}",
            f"  AWS (moto)   {self.aws_url}   (AWS_ENDPOINT_URL={self.aws_url} AWS_ACCESS_KEY_ID=testing "
            f"AWS_SECRET_ACCESS_KEY=testing AWS_REGION={REGION})",
            "Send a signed Typeform response:",
            f"  {curl}",
            "Ctrl-C stops everything.",
        ])  # fmt: skip
