"""SOQL subset of the stand-in: a parser checked against the known sObjects, and an evaluator over plain records."""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from .ids import to18
from .schema import KNOWN, SObjectType, lookup

Record = Mapping[str, Any]
Fetch = Callable[[str], tuple[str, Record] | None]  # id -> (sObject name, fields) of the record, if any

_KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "LIMIT",
    "TRUE",
    "FALSE",
    "NULL",
}
_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2})
    |(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),.])""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)


class SoqlError(Exception):
    """A query Salesforce would refuse with HTTP 400: error_code is MALFORMED_QUERY, INVALID_FIELD, ..."""

    def __init__(self, error_code: str, message: str):
        super().__init__(message)
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True)
class Field:
    """A bound field path: the lookups to follow, as (relationship name, lookup field), then the field."""

    steps: tuple[tuple[str, str], ...]
    name: str
    is_id: bool = False


@dataclass(frozen=True)
class Compare:
    field: Field
    op: str  # = != < > <= >= IN NOT IN LIKE
    value: Any  # a literal; a tuple of literals for IN / NOT IN; a compiled pattern for LIKE


@dataclass(frozen=True)
class Logical:
    op: str  # AND / OR
    parts: tuple["Condition", ...]


@dataclass(frozen=True)
class Negation:
    part: "Condition"


Condition = Compare | Logical | Negation


@dataclass(frozen=True)
class OrderBy:
    field: Field
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class Query:
    sobject: str
    fields: tuple[Field, ...]  # empty for SELECT COUNT()
    where: Condition | None
    order_by: tuple[OrderBy, ...]
    limit: int | None

    @property
    def is_count(self) -> bool:
        return not self.fields


@dataclass(frozen=True)
class _Token:
    kind: str  # name (keywords included), string, number, date, datetime, op, punct, eof
    text: str
    value: Any
    pos: int
    like: str = ""  # for strings: the regular expression the literal stands for after LIKE


def parse(soql: str) -> Query:
    """Parse a SOQL statement and check its sObject and fields; raises SoqlError like Salesforce would."""
    try:
        return _Parser(soql).query()
    except RecursionError:
        raise SoqlError(
            "QUERY_TOO_COMPLICATED",
            "Query is either selecting too many fields or the filter conditions are too complicated.",
        ) from None


def run(query: Query, records: Iterable[Record], fetch: Fetch) -> list[Record]:
    """The records that satisfy WHERE, in ORDER BY order, cut at LIMIT."""
    rows = [r for r in records if query.where is None or _holds(query.where, r, fetch)]
    for order in reversed(query.order_by):
        null_rank = 0 if order.nulls_first != order.descending else 2
        rows.sort(
            key=lambda r, o=order, n=null_rank: _sort_key(_resolve(o.field, r, fetch), n), reverse=order.descending
        )
    return rows if query.limit is None else rows[: query.limit]


def shape(query: Query, sobject: str, record: Record, fetch: Fetch, url: Callable[[str, str], str]) -> dict:
    """A query result record as Salesforce returns it: attributes, selected fields, parents nested by relationship."""
    out: dict[str, Any] = {"attributes": {"type": sobject, "url": url(sobject, record["Id"])}}
    for field in query.fields:
        target, current = out, record
        for rel, ref_field in field.steps:
            if rel in target and target[rel] is None:  # this parent is already known to be missing
                break
            parent = fetch(current[ref_field]) if current.get(ref_field) else None
            if parent is None:
                target[rel] = None
                break
            parent_type, current = parent
            attributes = {"type": parent_type, "url": url(parent_type, current["Id"])}
            target = target.setdefault(rel, {"attributes": attributes})
        else:
            target[field.name] = current.get(field.name)
    return out


def equals(stored: Any, literal: Any) -> bool:
    """SOQL equality: strings case-insensitive, numbers and booleans also matched against their text form."""
    if literal is None or stored is None:
        return literal is None and stored is None
    return _compare(stored, literal) == 0


def _resolve(field: Field, record: Record, fetch: Fetch) -> Any:
    current = record
    for _, ref_field in field.steps:
        parent_id = current.get(ref_field)
        parent = fetch(parent_id) if parent_id else None
        if parent is None:
            return None
        current = parent[1]
    return current.get(field.name)


def _holds(cond: Condition, record: Record, fetch: Fetch) -> bool:
    if isinstance(cond, Logical):
        check = all if cond.op == "AND" else any
        return check(_holds(part, record, fetch) for part in cond.parts)
    if isinstance(cond, Negation):
        return not _holds(cond.part, record, fetch)
    value = _resolve(cond.field, record, fetch)
    if cond.op == "=":
        return equals(value, cond.value)
    if cond.op == "!=":
        return not equals(value, cond.value)
    if cond.op == "IN":
        return any(equals(value, v) for v in cond.value)
    if cond.op == "NOT IN":
        return not any(equals(value, v) for v in cond.value)
    if cond.op == "LIKE":
        return value is not None and cond.value.fullmatch(_text(value)) is not None
    order = None if value is None or cond.value is None else _compare(value, cond.value)
    if order is None:
        return False
    return {"<": order < 0, ">": order > 0, "<=": order <= 0, ">=": order >= 0}[cond.op]


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _compare(stored: Any, literal: Any) -> int | None:
    """-1, 0 or 1 comparing a stored value with a literal of the literal's type; None when they don't compare."""
    a: Any
    b: Any = literal
    try:
        if isinstance(literal, bool):
            a = stored if isinstance(stored, bool) else {"true": True, "false": False}.get(str(stored).lower())
        elif isinstance(literal, int | float):
            a = None if isinstance(stored, bool) else float(stored)
        elif isinstance(literal, datetime):
            a = _as_datetime(stored)
        elif isinstance(literal, date):
            a = date.fromisoformat(str(stored)[:10])
        else:
            a, b = _text(stored).casefold(), str(literal).casefold()
    except (TypeError, ValueError):
        return None
    if a is None:
        return None
    return (a > b) - (a < b)


def _as_datetime(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _sort_key(value: Any, null_rank: int) -> tuple:
    if value is None:
        return (null_rank, 0)
    if isinstance(value, bool | int | float):
        return (1, 0, float(value))
    return (1, 1, _text(value).casefold())


class _Parser:
    def __init__(self, soql: str):
        self.soql = soql
        self.tokens = self._tokenize()
        self.index = 0
        self.sobject: SObjectType | None = None

    # -- errors and tokens

    def error(self, code: str, message: str, pos: int) -> SoqlError:
        row = self.soql.count("\n", 0, pos) + 1
        line_start = self.soql.rfind("\n", 0, pos) + 1
        line_end = self.soql.find("\n", pos)
        line = self.soql[line_start : None if line_end < 0 else line_end]
        col = pos - line_start + 1
        return SoqlError(code, f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{message}")

    def unexpected(self, token: _Token) -> SoqlError:
        shown = "<EOF>" if token.kind == "eof" else f"'{token.text}'"
        return self.error("MALFORMED_QUERY", f"unexpected token: {shown}", token.pos)

    def _tokenize(self) -> list[_Token]:
        tokens, pos, text = [], 0, self.soql
        while pos < len(text):
            if text[pos] == "'":
                token = self._string(pos)
            else:
                match = _TOKEN.match(text, pos)
                if not match:
                    raise self.error("MALFORMED_QUERY", f"unexpected token: '{text[pos]}'", pos)
                kind, raw = match.lastgroup or "", match.group()
                if kind == "space":
                    pos = match.end()
                    continue
                try:
                    token = _Token(kind, raw, self._value(kind, raw), pos)
                except ValueError:  # a date or datetime that does not exist, such as 2026-02-30
                    raise self.error("MALFORMED_QUERY", f"unexpected token: '{raw}'", pos) from None
            tokens.append(token)
            pos = token.pos + len(token.text)
        tokens.append(_Token("eof", "", None, len(text)))
        return tokens

    def _value(self, kind: str, raw: str) -> Any:
        if kind == "datetime":
            return _as_datetime(raw)
        if kind == "date":
            return date.fromisoformat(raw)
        if kind == "number":
            return float(raw) if "." in raw else int(raw)
        return raw

    def _string(self, start: int) -> _Token:
        """A quoted literal with SOQL backslash escapes; \\% and \\_ stay literal after LIKE."""
        value, like, pos, text = [], [], start + 1, self.soql
        while pos < len(text) and text[pos] != "'":
            char = text[pos]
            if char == "\\":
                escape = text[pos + 1 : pos + 2]
                if escape in ("%", "_"):
                    value.append(escape)
                    like.append(re.escape(escape))
                elif escape == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", text[pos + 2 : pos + 6]):
                    value.append(chr(int(text[pos + 2 : pos + 6], 16)))
                    like.append(re.escape(value[-1]))
                    pos += 4
                elif escape in _ESCAPES:
                    value.append(_ESCAPES[escape])
                    like.append(re.escape(value[-1]))
                else:
                    message = f"Invalid string literal. Illegal character sequence '\\{escape}' in string literal."
                    raise self.error("MALFORMED_QUERY", message, pos)
                pos += 2
                continue
            value.append(char)
            like.append({"%": ".*", "_": "."}.get(char, re.escape(char)))
            pos += 1
        if pos >= len(text):
            raise self.error("MALFORMED_QUERY", "mismatched character '<EOF>' expecting '''", pos)
        return _Token("string", text[start : pos + 1], "".join(value), start, "".join(like))

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.token
        self.index += 1
        return token

    def at(self, *words: str) -> bool:
        """Is the current token one of these keywords (or punctuation/operators)?"""
        token = self.token
        return (token.kind == "name" and token.text.upper() in words) or (
            token.kind in ("op", "punct") and token.text in words
        )

    def accept(self, *words: str) -> str | None:
        if self.at(*words):
            return self.advance().text.upper()
        return None

    def expect(self, *words: str) -> str:
        if not self.at(*words):
            raise self.unexpected(self.token)
        return self.advance().text.upper()

    def name(self) -> _Token:
        if self.token.kind != "name" or self.token.text.upper() in _KEYWORDS:
            raise self.unexpected(self.token)
        return self.advance()

    # -- grammar

    def query(self) -> Query:
        self.expect("SELECT")
        paths = self.select_list()
        self.expect("FROM")
        object_token = self.name()
        self.sobject = lookup(object_token.text)
        if self.sobject is None:
            message = (
                f"sObject type '{object_token.text}' is not supported. If you are attempting to use a custom object, "
                "be sure to append the '__c' after the entity name. "
                "Please reference your WSDL or the describe call for the appropriate names."
            )
            raise self.error("INVALID_TYPE", message, object_token.pos)
        fields = self.bind_select(paths)
        where = self.condition() if self.accept("WHERE") else None
        order_by: list[OrderBy] = []
        if self.accept("ORDER"):
            self.expect("BY")
            order_by.append(self.order_item())
            while self.accept(","):
                order_by.append(self.order_item())
        limit = None
        if self.accept("LIMIT"):
            token = self.advance()
            if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
                raise self.unexpected(token)
            limit = token.value
        if self.token.kind != "eof":
            raise self.unexpected(self.token)
        return Query(self.sobject.name, fields, where, tuple(order_by), limit)

    def select_list(self) -> list[tuple[list[str], int]] | None:
        """The selected field paths with their positions; None for COUNT()."""
        if self.at("COUNT") and self.tokens[self.index + 1].text == "(":
            self.index += 1
            self.expect("(")
            self.expect(")")
            return None
        paths = [self.path()]
        while self.accept(","):
            paths.append(self.path())
        return paths

    def path(self) -> tuple[list[str], int]:
        first = self.name()
        parts = [first.text]
        while self.accept("."):
            parts.append(self.name().text)
        return parts, first.pos

    def bind_select(self, paths: list[tuple[list[str], int]] | None) -> tuple[Field, ...]:
        if paths is None:
            return ()
        fields: list[Field] = []
        for parts, pos in paths:
            field = self.bind(parts, pos)
            if field in fields:
                dotted = ".".join([*(rel for rel, _ in field.steps), field.name])
                raise self.error("MALFORMED_QUERY", f"duplicate field selected: {dotted}", pos)
            fields.append(field)
        return tuple(fields)

    def bind(self, parts: list[str], pos: int) -> Field:
        """Check a field path against the schema and spell it the canonical way."""
        assert self.sobject is not None
        candidates: list[SObjectType] = [self.sobject]
        steps: list[tuple[str, str]] = []
        for rel in parts[:-1]:
            found = candidates[0].relationship(rel) if len(candidates) == 1 else None
            if found is None:
                message = (
                    f"Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom "
                    "relationship, be sure to append the '__r' after the custom relationship name. "
                    "Please reference your WSDL or the describe call for the appropriate names."
                )
                raise self.error("INVALID_FIELD", message, pos)
            rel_name, ref_field, reference = found
            steps.append((rel_name, ref_field))
            targets = [lookup(t) for t in reference.targets] if reference.targets else list(KNOWN.values())
            candidates = [t for t in targets if t is not None]
        name = next((c.field(parts[-1]) for c in candidates if c.field(parts[-1])), None)
        if name is None:
            entity = candidates[0].name if len(candidates) == 1 else "Name"
            message = f"No such column '{parts[-1]}' on entity '{entity}'. {_FIELD_HINT}"
            raise self.error("INVALID_FIELD", message, pos)
        is_id = name == "Id" or any(name in c.references for c in candidates)
        return Field(tuple(steps), name, is_id)

    def order_item(self) -> OrderBy:
        field = self.bind(*self.path())
        descending = self.accept("ASC", "DESC") == "DESC"
        nulls_first = not descending
        if self.accept("NULLS"):
            nulls_first = self.expect("FIRST", "LAST") == "FIRST"
        return OrderBy(field, descending, nulls_first)

    def condition(self) -> Condition:
        """[NOT] unit, then units joined by one kind of operator: SOQL needs parentheses to mix AND and OR."""
        parts = [Negation(self.unit()) if self.accept("NOT") else self.unit()]
        op = None
        while self.at("AND", "OR"):
            if op is not None and not self.at(op):
                raise self.unexpected(self.token)
            op = self.advance().text.upper()
            parts.append(self.unit())
        return parts[0] if op is None else Logical(op, tuple(parts))

    def unit(self) -> Condition:
        if self.accept("("):
            cond = self.condition()
            self.expect(")")
            return cond
        field = self.bind(*self.path())
        if self.token.kind == "op":
            op = self.advance().text.replace("<>", "!=")
            return Compare(field, op, self.literal(field))
        if self.accept("LIKE"):
            token = self.advance()
            if token.kind != "string":
                raise self.unexpected(token)
            return Compare(field, "LIKE", re.compile(token.like, re.IGNORECASE | re.DOTALL))
        op = "NOT IN" if self.accept("NOT") else "IN"
        self.expect("IN")
        self.expect("(")
        values = [self.literal(field)]
        while self.accept(","):
            values.append(self.literal(field))
        self.expect(")")
        return Compare(field, op, tuple(values))

    def literal(self, field: Field) -> Any:
        token = self.advance()
        if token.kind == "name" and token.text.upper() in ("TRUE", "FALSE", "NULL"):
            return {"TRUE": True, "FALSE": False, "NULL": None}[token.text.upper()]
        if token.kind not in ("string", "number", "date", "datetime"):
            raise self.unexpected(token)
        if field.is_id and token.kind == "string":
            normalised = to18(token.value)
            if normalised is None:
                raise self.error("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {token.value}", token.pos)
            return normalised
        return token.value
