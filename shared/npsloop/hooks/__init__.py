"""REST hooks out of npsloop (Zapier's convention): subscriptions, safe targets, the flat payload, signed delivery."""

EVENTS = ("response.created", "response.promoter", "response.passive", "response.detractor")
