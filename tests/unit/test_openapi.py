"""openapi.json is generated from the code and checked in: it must equal what `make openapi` writes now, and list
exactly the template's routes (which the resolvers serve: tests/unit/test_template.py)."""

import json

from npsloop.sources import SOURCES
from npsloop_local.openapi import DOCUMENT, build, render
from npsloop_local.template import Template


def test_checked_in_document_matches_the_code():
    assert DOCUMENT.read_text() == render(build()), "openapi.json drifted from the code: run `make openapi`"


def test_document_lists_exactly_the_template_routes():
    routes = {f"{r.method} {r.path}" for fn in Template().functions() for r in fn.routes}
    document = json.loads(DOCUMENT.read_text())
    listed = {f"{method.upper()} {path}" for path, ops in document["paths"].items() for method in ops}
    assert listed == routes


def test_webhook_operation_names_every_source_and_every_answer():
    post = build()["paths"]["/webhooks/{source}"]["post"]
    assert post["parameters"][0]["schema"]["enum"] == list(SOURCES)
    assert set(post["responses"]) == {"200", "202", "400", "401", "404", "409", "413", "415", "422"}
    assert set(post["requestBody"]["content"]) == {
        "application/json", "application/x-www-form-urlencoded", "multipart/form-data"}  # fmt: skip
