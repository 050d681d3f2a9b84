"""template.yaml read as the local stack's only wiring: resources, functions, routes, queue and stream event sources,
and schedules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"
ACCOUNT = "123456789012"
REGION = "eu-central-1"
STACK = "npsloop-local"


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    path: str  # "/webhooks/{source}"

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters when this route serves the request, else None (greedy `{name+}` included)."""
        if self.method not in ("ANY", method.upper()):
            return None
        pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class QueueSource:
    queue: str  # logical id of the queue
    batch_size: int
    window_seconds: int
    report_failures: bool


STREAM_PROPERTIES = {"Stream", "StartingPosition", "BatchSize", "MaximumBatchingWindowInSeconds", "Enabled",
                     "FunctionResponseTypes", "MaximumRetryAttempts", "BisectBatchOnFunctionError",
                     "ParallelizationFactor", "MaximumRecordAgeInSeconds"}  # fmt: skip
DEFAULTS_ONLY = {"ParallelizationFactor": 1, "MaximumRecordAgeInSeconds": -1}  # emulated at these values only


@dataclass(frozen=True)
class StreamSource:
    """A `Type: DynamoDB` event: the table whose stream triggers the function, and how Lambda reads it."""

    table: str  # logical id of the table (from `Stream: !GetAtt Table.StreamArn`)
    starting_position: str  # TRIM_HORIZON or LATEST
    batch_size: int
    window_seconds: int
    report_failures: bool
    max_retries: int  # -1: until the records expire (here: forever)
    bisect: bool


@dataclass(frozen=True)
class Schedule:
    name: str  # the event's name in the template, e.g. "Hourly"
    expression: str  # "rate(1 hour)" or "cron(...)"

    @property
    def seconds(self) -> int | None:
        """The period of a rate() expression; None for cron(), which the local stack only fires on request."""
        found = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", self.expression.strip())
        if not found:
            return None
        return int(found.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[found.group(2).rstrip("s")]


@dataclass
class Function:
    logical_id: str
    handler: str
    timeout: int
    memory: int
    environment: dict[str, Any]
    routes: list[Route] = field(default_factory=list)
    queues: list[QueueSource] = field(default_factory=list)
    streams: list[StreamSource] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    logging: dict[str, Any] = field(default_factory=dict)  # LoggingConfig (LogFormat, ApplicationLogLevel, ...)

    @property
    def platform_logs(self) -> bool:
        """Whether Lambda writes its START, END and REPORT lines (system logs at INFO, the default)."""
        return self.logging.get("SystemLogLevel", "INFO") in ("DEBUG", "INFO")


class Template:
    """The parsed template with CloudFormation's Globals applied; intrinsics resolved by `resolve`."""

    def __init__(self, path: Path = TEMPLATE):
        self.path = path
        self.doc = yaml_parse(path.read_text())
        self.resources: dict[str, dict[str, Any]] = self.doc["Resources"]
        self.parameters = {name: spec.get("Default") for name, spec in self.doc.get("Parameters", {}).items()}

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        """The resources of a type that exist with the parameters' defaults (their Condition holds)."""
        return {name: r.get("Properties", {}) for name, r in self.resources.items()
                if r["Type"] == kind and self.condition(r.get("Condition"))}  # fmt: skip

    def condition(self, name: str | None) -> bool:
        """A template condition evaluated with the parameters' defaults (Fn::Equals/Not/And/Or, Ref, Condition)."""
        return True if name is None else bool(self._evaluate(self.doc.get("Conditions", {})[name]))

    def _evaluate(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((fn, arg),) = node.items()
            if fn == "Ref":
                return self.parameters.get(arg)
            if fn == "Condition":
                return self.condition(arg)
            if fn == "Fn::Equals":
                return str(self._evaluate(arg[0])) == str(self._evaluate(arg[1]))
            if fn == "Fn::Not":
                return not self._evaluate(arg[0])
            if fn == "Fn::And":
                return all(self._evaluate(a) for a in arg)
            if fn == "Fn::Or":
                return any(self._evaluate(a) for a in arg)
        return node

    def functions(self) -> list[Function]:
        defaults = self.doc.get("Globals", {}).get("Function", {})
        out = []
        for name, props in self.of_type("AWS::Serverless::Function").items():
            env = {**defaults.get("Environment", {}).get("Variables", {}),
                   **props.get("Environment", {}).get("Variables", {})}  # fmt: skip
            fn = Function(name, props["Handler"], int(props.get("Timeout", defaults.get("Timeout", 3))),
                          int(props.get("MemorySize", defaults.get("MemorySize", 128))), env,
                          logging={**defaults.get("LoggingConfig", {}), **props.get("LoggingConfig", {})})  # fmt: skip
            for event_name, event in props.get("Events", {}).items():
                p = event.get("Properties", {})
                if event["Type"] == "HttpApi":
                    fn.routes.append(Route(p["Method"].upper(), p["Path"]))
                elif event["Type"] == "SQS":
                    fn.queues.append(QueueSource(
                        p["Queue"]["Fn::GetAtt"][0], int(p.get("BatchSize", 10)),
                        int(p.get("MaximumBatchingWindowInSeconds", 0)),
                        "ReportBatchItemFailures" in p.get("FunctionResponseTypes", []),
                    ))  # fmt: skip
                elif event["Type"] == "DynamoDB" and self._evaluate(p.get("Enabled", True)) not in (False, "false"):
                    fn.streams.append(self._stream_source(p))
                elif event["Type"] in ("Schedule", "ScheduleV2"):
                    fn.schedules.append(Schedule(event_name, p.get("Schedule") or p["ScheduleExpression"]))
            out.append(fn)
        return out

    def _stream_source(self, p: dict[str, Any]) -> StreamSource:
        """A DynamoDB event's properties with Lambda's defaults (BatchSize 100, retries until the records expire).

        What the local stack does not emulate is refused rather than ignored: a filter, an on-failure destination
        or a record age limit left out would change which records the function sees.
        """
        unsupported = set(p) - STREAM_PROPERTIES
        unsupported |= {k for k, v in DEFAULTS_ONLY.items() if k in p and int(self._evaluate(p[k])) != v}
        if unsupported:
            raise ValueError(f"DynamoDB event {sorted(unsupported)}: not emulated by the local stack")
        stream = p["Stream"].get("Fn::GetAtt") if isinstance(p["Stream"], dict) else None
        table, attr = (stream if isinstance(stream, list) else str(stream).split(".", 1)) if stream else (None, None)
        if attr != "StreamArn":
            raise ValueError(f"DynamoDB event Stream {p['Stream']!r}: the local stack needs !GetAtt <Table>.StreamArn")
        position = self._evaluate(p.get("StartingPosition"))
        if position not in ("TRIM_HORIZON", "LATEST"):
            raise ValueError(f"DynamoDB event StartingPosition {position!r}: TRIM_HORIZON or LATEST")

        def number(name: str, default: int) -> int:
            return int(self._evaluate(p.get(name, default)))

        return StreamSource(
            table, position, number("BatchSize", 100), number("MaximumBatchingWindowInSeconds", 0),
            "ReportBatchItemFailures" in p.get("FunctionResponseTypes", []), number("MaximumRetryAttempts", -1),
            str(self._evaluate(p.get("BisectBatchOnFunctionError", False))).lower() == "true",
        )  # fmt: skip


@dataclass
class Physical:
    """What each logical resource is called in the local stack (filled in as resources are created)."""

    refs: dict[str, str] = field(default_factory=dict)  # what !Ref gives
    arns: dict[str, str] = field(default_factory=dict)  # what !GetAtt X.Arn gives
    stream_arns: dict[str, str] = field(default_factory=dict)  # what !GetAtt Table.StreamArn gives
    parameters: dict[str, Any] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        """Resolve Ref, Fn::GetAtt (Arn) and Fn::Sub against the local resources and parameters."""
        if isinstance(value, dict) and len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref":
                return self._ref(arg)
            if fn == "Fn::GetAtt":
                name, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._attr(name, attr)
            if fn == "Fn::Sub":
                return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._sub(m.group(1))), arg)
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def _ref(self, name: str) -> Any:
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackName": STACK,
                  "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}  # fmt: skip
        for table in (pseudo, self.parameters, self.refs):
            if name in table:
                return table[name]
        raise KeyError(f"!Ref {name}: not a parameter or a resource the local stack creates")

    def _attr(self, name: str, attr: str) -> str:
        if attr == "Arn" and name in self.arns:
            return self.arns[name]
        if attr == "StreamArn" and name in self.stream_arns:
            return self.stream_arns[name]
        raise KeyError(f"!GetAtt {name}.{attr}: not available locally")

    def _sub(self, expr: str) -> Any:
        return self._attr(*expr.split(".", 1)) if "." in expr else self._ref(expr)
