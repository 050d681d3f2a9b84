"""The SFDX metadata in infra/salesforce matches the design's Salesforce shape and would deploy."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

SFDX_ROOT = Path(__file__).resolve().parents[2] / "infra" / "salesforce"
DEFAULT = SFDX_ROOT / "force-app" / "main" / "default"
OBJECTS = DEFAULT / "objects"
PERMSET = DEFAULT / "permissionsets" / "NPSloop_Integration.permissionset-meta.xml"
MD = "http://soap.sforce.com/2006/04/metadata"
NS = {"m": MD}
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
NPS_CATEGORIES = ["Promoter", "Passive", "Detractor"]

# Every field of the design's "Salesforce shape": (object, field) -> type and its size attributes.
EXPECTED_FIELDS = {
    ("NPS_Response__c", "Response_Id__c"): {"type": "Text", "length": "255"},
    ("NPS_Response__c", "Score__c"): {"type": "Number", "precision": "2", "scale": "0"},
    ("NPS_Response__c", "Category__c"): {"type": "Picklist"},
    ("NPS_Response__c", "Comment__c"): {"type": "LongTextArea", "length": "32768", "visibleLines": "5"},
    ("NPS_Response__c", "Source__c"): {"type": "Text", "length": "255"},
    ("NPS_Response__c", "Touchpoint__c"): {"type": "Text", "length": "255"},
    ("NPS_Response__c", "Campaign__c"): {"type": "Text", "length": "255"},
    ("NPS_Response__c", "Responded_At__c"): {"type": "DateTime"},
    ("NPS_Response__c", "Email__c"): {"type": "Email"},
    ("NPS_Response__c", "Contact__c"): {"type": "Lookup", "referenceTo": "Contact"},
    ("NPS_Response__c", "Account__c"): {"type": "Lookup", "referenceTo": "Account"},
    ("NPS_Response__c", "Themes__c"): {"type": "Text", "length": "255"},
    ("NPS_Response__c", "Sentiment__c"): {"type": "Text", "length": "40"},
    ("Contact", "NPS_Last_Score__c"): {"type": "Number", "precision": "2", "scale": "0"},
    ("Contact", "NPS_Last_Category__c"): {"type": "Picklist"},
    ("Contact", "NPS_Last_Responded_At__c"): {"type": "DateTime"},
    ("Account", "NPS_12M__c"): {"type": "Number", "precision": "5", "scale": "1"},
    ("Account", "NPS_Responses_12M__c"): {"type": "Number", "precision": "9", "scale": "0"},
    ("Account", "NPS_Updated_At__c"): {"type": "DateTime"},
}

ALL_XML = sorted(SFDX_ROOT.rglob("*.xml"))
FIELD_FILES = sorted(OBJECTS.glob("*/fields/*.field-meta.xml"))


def _root(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def _text(element: ET.Element, tag: str) -> str | None:
    return element.findtext(f"m:{tag}", namespaces=NS)


def _field(obj: str, name: str) -> ET.Element:
    return _root(OBJECTS / obj / "fields" / f"{name}.field-meta.xml")


def _picklist_values(field: ET.Element) -> list[str]:
    return [v.text for v in field.findall("m:valueSet/m:valueSetDefinition/m:value/m:fullName", NS)]


def _permset_fields() -> dict[str, ET.Element]:
    return {_text(fp, "field"): fp for fp in _root(PERMSET).findall("m:fieldPermissions", NS)}


def _permset_objects() -> dict[str, ET.Element]:
    return {_text(op, "object"): op for op in _root(PERMSET).findall("m:objectPermissions", NS)}


def test_the_metadata_is_there():
    assert len(FIELD_FILES) == len(EXPECTED_FIELDS)
    assert PERMSET.is_file()
    assert (OBJECTS / "NPS_Response__c" / "NPS_Response__c.object-meta.xml").is_file()


@pytest.mark.parametrize("path", ALL_XML, ids=lambda p: str(p.relative_to(SFDX_ROOT)))
def test_every_xml_file_parses_in_the_metadata_namespace(path):
    # Given a metadata file, When it is parsed, Then it is UTF-8 with the declaration and namespace
    assert path.read_text(encoding="utf-8").startswith(XML_DECLARATION)
    root = _root(path)
    assert root.tag.startswith(f"{{{MD}}}")


def test_sfdx_project_points_at_force_app():
    project = json.loads((SFDX_ROOT / "sfdx-project.json").read_text())
    assert project["name"] == "npsloop"
    assert project["sourceApiVersion"] == "62.0"
    assert project["packageDirectories"] == [{"path": "force-app", "default": True}]


def test_nps_response_object():
    obj = _root(OBJECTS / "NPS_Response__c" / "NPS_Response__c.object-meta.xml")
    assert obj.tag == f"{{{MD}}}CustomObject"
    assert _text(obj, "label") == "NPS Response"
    assert _text(obj, "pluralLabel") == "NPS Responses"
    assert _text(obj, "deploymentStatus") == "Deployed"
    assert _text(obj, "sharingModel") == "ReadWrite"
    assert _text(obj, "enableReports") == "true"
    assert _text(obj, "description")
    name_field = obj.find("m:nameField", NS)
    assert _text(name_field, "type") == "AutoNumber"
    assert _text(name_field, "displayFormat") == "NPS-{000000}"
    # Salesforce wants the three "enterprise application" switches on or off together.
    assert {_text(obj, t) for t in ("enableBulkApi", "enableSharing", "enableStreamingApi")} == {"true"}


@pytest.mark.parametrize("path", FIELD_FILES, ids=lambda p: f"{p.parent.parent.name}.{p.name}")
def test_field_file_name_matches_full_name(path):
    field = _root(path)
    assert field.tag == f"{{{MD}}}CustomField"
    assert path.name == f"{_text(field, 'fullName')}.field-meta.xml"


def test_no_field_beyond_the_design():
    found = {(p.parent.parent.name, p.name.removesuffix(".field-meta.xml")) for p in FIELD_FILES}
    assert found == set(EXPECTED_FIELDS)


@pytest.mark.parametrize(("key", "expected"), EXPECTED_FIELDS.items(), ids=lambda k: str(k))
def test_design_field_exists_with_its_type(key, expected):
    # Given a field the design names, When its metadata is read, Then type and size are as designed
    field = _field(*key)
    assert {attr: _text(field, attr) for attr in expected} == expected
    assert _text(field, "label")
    assert _text(field, "description")
    # Salesforce's limits on API name, label, description and help text
    assert len(key[1]) <= 40
    assert len(_text(field, "label")) <= 40
    assert len(_text(field, "description")) <= 1000
    assert len(_text(field, "inlineHelpText") or "") <= 510


def test_response_id_is_the_unique_external_id():
    field = _field("NPS_Response__c", "Response_Id__c")
    assert _text(field, "externalId") == "true"
    assert _text(field, "unique") == "true"
    assert _text(field, "caseSensitive") == "false"
    assert _text(field, "required") == "true"


def test_only_response_id_is_required():
    required = {
        (p.parent.parent.name, p.name.removesuffix(".field-meta.xml"))
        for p in FIELD_FILES
        if _text(_root(p), "required") == "true"
    }
    assert required == {("NPS_Response__c", "Response_Id__c")}


@pytest.mark.parametrize("key", [("NPS_Response__c", "Category__c"), ("Contact", "NPS_Last_Category__c")])
def test_category_picklists_are_exactly_the_nps_categories(key):
    field = _field(*key)
    assert _picklist_values(field) == NPS_CATEGORIES
    labels = [v.text for v in field.findall("m:valueSet/m:valueSetDefinition/m:value/m:label", NS)]
    assert labels == NPS_CATEGORIES
    assert field.findtext("m:valueSet/m:restricted", namespaces=NS) == "true"


@pytest.mark.parametrize("name", ["Contact__c", "Account__c"])
def test_lookups_clear_on_parent_delete_and_show_as_nps_responses(name):
    field = _field("NPS_Response__c", name)
    assert _text(field, "deleteConstraint") == "SetNull"
    assert _text(field, "relationshipName") == "NPS_Responses"
    assert _text(field, "relationshipLabel") == "NPS Responses"
    assert _text(field, "required") != "true"


def test_permission_set_grants_edit_on_every_non_required_custom_field():
    # Given every custom field of the three objects, When the permission set is read,
    # Then each optional field is readable and editable and no required field is listed
    granted = _permset_fields()
    for path in FIELD_FILES:
        field = _root(path)
        qualified = f"{path.parent.parent.name}.{_text(field, 'fullName')}"
        if _text(field, "required") == "true":
            assert qualified not in granted, f"{qualified} is required: Salesforce rejects its FLS"
        else:
            assert qualified in granted, f"{qualified} missing from the permission set"
            assert _text(granted[qualified], "readable") == "true"
            assert _text(granted[qualified], "editable") == "true"
    assert "NPS_Response__c.Response_Id__c" not in granted


def test_permission_set_lists_no_unknown_field():
    known = {f"{obj}.{name}" for obj, name in EXPECTED_FIELDS}
    assert set(_permset_fields()) <= known


def test_permission_set_object_and_user_permissions():
    permset = _root(PERMSET)
    assert permset.tag == f"{{{MD}}}PermissionSet"
    assert _text(permset, "label") == "npsloop integration"
    assert _text(permset, "description")

    objects = _permset_objects()
    response = objects["NPS_Response__c"]
    for flag in ("allowCreate", "allowRead", "allowEdit", "allowDelete", "viewAllRecords"):
        assert _text(response, flag) == "true", flag
    for obj in ("Contact", "Account"):
        assert _text(objects[obj], "allowRead") == "true"
        assert _text(objects[obj], "allowEdit") == "true"
    assert _text(objects["Lead"], "allowCreate") == "true"
    assert _text(objects["Lead"], "allowRead") == "true"
    # Task access is the "Edit Tasks" user permission; Task is not allowed in objectPermissions.
    assert "Task" not in objects

    enabled = {_text(up, "name") for up in permset.findall("m:userPermissions", NS) if _text(up, "enabled") == "true"}
    assert {"ApiEnabled", "EditTask"} <= enabled
