"""A local Salesforce stand-in: the REST API subset npsloop uses, served over HTTP for local runs and tests."""

from .server import SalesforceStandin

__all__ = ["SalesforceStandin"]
