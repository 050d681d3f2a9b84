"""Shared test helpers: fixture files, and no test ever talks to real AWS."""

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"

# Keep real AWS out, whatever the developer's machine has configured (reference/moto-and-sam.md).
for name in ("AWS_PROFILE", "AWS_CA_BUNDLE", "AWS_SESSION_TOKEN"):
    os.environ.pop(name, None)
os.environ.update(
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="eu-central-1",
    AWS_REGION="eu-central-1",
)


@pytest.fixture
def fixture_bytes():
    return lambda relative: (FIXTURES / relative).read_bytes()
