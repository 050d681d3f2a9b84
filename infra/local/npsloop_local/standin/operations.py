"""Record writes the way Salesforce does them: field checks, lookups, validation rules, SaveResults, allOrNone."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import item_error
from .ids import to18
from .schema import NAME_PATTERN, SYSTEM_FIELDS, SObjectType, canonical_name, key_prefix, lookup, type_label
from .soql import equals
from .store import Store

ROLLED_BACK = item_error(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)


@dataclass(frozen=True)
class ValidationRule:
    """Rejects a written record whose `field` equals `equals`, like an org's validation rule would."""

    sobject: str
    field: str
    equals: Any
    error_code: str
    message: str


@dataclass(frozen=True)
class SaveResult:
    id: str | None = None
    errors: list[dict] = field(default_factory=list)
    created: bool = False
    upsert: bool = False  # upsert results carry "created"
    matches: tuple[str, ...] = ()  # an upsert whose external id matched several records

    @property
    def success(self) -> bool:
        return not self.errors

    def body(self) -> dict:
        out: dict[str, Any] = {"id": self.id} if self.id else {}
        out.update(success=self.success, errors=self.errors)
        if self.upsert and self.success:
            out["created"] = self.created
        return out

    def rolled_back(self) -> "SaveResult":
        """This valid result after allOrNone undid it: an updated record keeps its id, a new one has none."""
        return replace(self, id=None if self.created else self.id, errors=[ROLLED_BACK])


def _failed(status_code: str, message: str, fields: list[str] | None = None) -> SaveResult:
    return SaveResult(errors=[item_error(status_code, message, fields or [])])


class Writer:
    def __init__(self, store: Store, rules: list[ValidationRule], default_owner: str):
        self.store = store
        self.rules = rules
        self.default_owner = default_owner

    # -- single records

    def create(self, sobject: str, values: dict[str, Any]) -> SaveResult:
        changes, errors = self._check(sobject, values, None)
        if errors:
            return SaveResult(errors=errors)
        return SaveResult(self.store.insert(canonical_name(sobject), changes), created=True)

    def update(self, sobject: str, record_id: Any, values: dict[str, Any]) -> SaveResult:
        normalised = to18(record_id) if isinstance(record_id, str) else None
        if normalised is None or not normalised.startswith(key_prefix(sobject)):
            return _failed("MALFORMED_ID", f"{type_label(sobject)}: id value of incorrect type: {record_id}", ["Id"])
        with self.store.lock:
            existing = self.store.get(normalised)
            if existing is None:
                return _failed("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            changes, errors = self._check(sobject, values, existing.fields)
            if errors:
                return SaveResult(errors=errors)
            self.store.update(normalised, changes)
        return SaveResult(normalised)

    def upsert(self, sobject: str, ext_field: str, ext_value: Any, values: dict[str, Any]) -> SaveResult:
        """Update the one record whose ext_field equals ext_value (case-insensitive), or create one."""
        with self.store.lock:
            matches = self.store.find(sobject, ext_field, ext_value)
            if len(matches) > 1:
                message = f"{ext_field}: more than one record found for external id field: [{', '.join(matches)}]"
                failure = _failed("DUPLICATE_EXTERNAL_ID", message, [ext_field])
                return replace(failure, upsert=True, matches=tuple(matches))
            if matches:
                result = self.update(sobject, matches[0], values)
            else:
                result = self.create(sobject, {**values, ext_field: ext_value})
        return replace(result, upsert=True)

    # -- sObject Collections items (each record carries attributes.type)

    def create_item(self, record: dict[str, Any]) -> SaveResult:
        sobject = _type_of(record)
        if sobject is None:
            return _failed("INVALID_TYPE", "Must specify the sObject type in attributes")
        if any(key.lower() == "id" for key in record):
            return _failed("INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ["Id"])
        return self.create(sobject, record)

    def update_item(self, record: dict[str, Any]) -> SaveResult:
        sobject = _type_of(record)
        if sobject is None:
            return _failed("INVALID_TYPE", "Must specify the sObject type in attributes")
        record_id = next((value for key, value in record.items() if key.lower() == "id"), None)
        if record_id is None:
            return _failed("MISSING_ARGUMENT", "Id not specified in an update call")
        return self.update(sobject, record_id, {k: v for k, v in record.items() if k.lower() != "id"})

    def upsert_item(self, sobject: str, ext_field: str, record: dict[str, Any]) -> SaveResult:
        ext_value = next((value for key, value in record.items() if key.lower() == ext_field.lower()), None)
        if ext_value in (None, ""):
            return replace(_failed("MISSING_ARGUMENT", f"{ext_field} not specified", [ext_field]), upsert=True)
        return self.upsert(sobject, ext_field, ext_value, record)

    def collection(
        self, records: list[dict[str, Any]], all_or_none: bool, save: Callable[[dict[str, Any]], SaveResult]
    ) -> list[dict]:
        """Save each record in order; with allOrNone, any failure undoes them all."""
        with self.store.transaction() as tx:
            results = [save(record) for record in records]
            if all_or_none and not all(result.success for result in results):
                tx.rollback()
                results = [result.rolled_back() if result.success else result for result in results]
        return [result.body() for result in results]

    # -- checks

    def ext_field(self, sobject: str, name: str) -> str | None:
        """The canonical external id field of an sObject, or None if it has no such field."""
        known = lookup(sobject)
        if known is not None:
            canonical = known.field(name)
            return canonical if canonical not in SYSTEM_FIELDS else None
        return name if NAME_PATTERN.fullmatch(name) else None

    def _check(
        self, sobject: str, values: dict[str, Any], existing: dict[str, Any] | None
    ) -> tuple[dict[str, Any], list[dict]]:
        """The changes to write, spelled canonically with normalised ids, or the errors that refuse them."""
        known = lookup(sobject)
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if key == "attributes":
                continue
            name = _field_name(known, key)
            if name is None:
                return {}, [item_error("INVALID_FIELD", f"No such column '{key}' on sobject of type {sobject}")]
            if name in SYSTEM_FIELDS:
                message = (
                    f"Unable to create/update fields: {name}. Please check the security settings of this field "
                    "and verify that it is read/write for your profile or permission set."
                )
                return {}, [item_error("INVALID_FIELD_FOR_INSERT_UPDATE", message, [name])]
            changes[name] = value
        if known is None:
            return changes, self._rule_errors(sobject, {**(existing or {}), **changes})
        if existing is None:  # Salesforce defaults on insert: the running user owns it, checkboxes are false
            if known.default_owner and changes.get("OwnerId") in (None, ""):
                changes["OwnerId"] = self.default_owner
            changes.update({name: False for name in known.booleans if changes.get(name) is None})
        merged = {**(existing or {}), **changes}
        missing = [name for name in known.required if merged.get(name) in (None, "")]
        if missing:
            message = f"Required fields are missing: [{', '.join(missing)}]"
            return {}, [item_error("REQUIRED_FIELD_MISSING", message, missing)]
        errors = self._reference_errors(known, changes)
        return changes, errors or self._rule_errors(sobject, merged)

    def _reference_errors(self, known: SObjectType, changes: dict[str, Any]) -> list[dict]:
        """Check the lookups being written (normalising them to 18-character ids in place)."""
        for name, reference in known.references.items():
            value = changes.get(name)
            if value in (None, ""):
                if name in changes:
                    changes[name] = None
                continue
            normalised = to18(value) if isinstance(value, str) else None
            prefixes = {key_prefix(target) for target in reference.targets}
            if normalised is None or (prefixes and normalised[:3] not in prefixes):
                return [item_error("MALFORMED_ID", f"{reference.label}: id value of incorrect type: {value}", [name])]
            if reference.must_exist and self.store.get(normalised) is None:
                return [item_error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")]
            changes[name] = normalised
        return []

    def _rule_errors(self, sobject: str, merged: dict[str, Any]) -> list[dict]:
        errors = []
        for rule in list(self.rules):
            if rule.sobject.lower() != sobject.lower():
                continue
            value = next((v for k, v in merged.items() if k.lower() == rule.field.lower()), None)
            if equals(value, rule.equals):
                errors.append(item_error(rule.error_code, rule.message, [rule.field]))
        return errors


def _type_of(record: dict[str, Any]) -> str | None:
    attributes = record.get("attributes")
    sobject = attributes.get("type") if isinstance(attributes, dict) else None
    return sobject if isinstance(sobject, str) and NAME_PATTERN.fullmatch(sobject) else None


def _field_name(known: SObjectType | None, key: str) -> str | None:
    if known is not None:
        return known.field(key)
    system = next((name for name in SYSTEM_FIELDS if name.lower() == key.lower()), None)
    return system or (key if NAME_PATTERN.fullmatch(key) else None)
