"""The mail moto's SES holds (`GET /moto-api/data.json`), simple and raw alike, in one shape for assertions."""

import email
from email.policy import default as default_policy

import requests


def ses_mails(moto_url: str) -> list[dict]:
    """Each sent mail as {"to", "subject", "body" (text and HTML), "html", "headers"}, the simple ones first."""
    ses = requests.get(f"{moto_url}/moto-api/data.json", timeout=10).json()["ses"]
    out = [{"to": m["destinations"]["ToAddresses"], "subject": m["subject"], "body": m["body"], "html": m["body"],
            "headers": {}} for m in ses.get("Message", [])]  # fmt: skip
    for raw in ses.get("RawMessage", []):
        message = email.message_from_string(raw["raw_data"], policy=default_policy)
        text, html = (message.get_body((kind,)) for kind in ("plain", "html"))
        html_text = html.get_content() if html else ""
        out.append({"to": [a.strip() for a in str(message["To"]).split(",")], "subject": str(message["Subject"]),
                    "body": (text.get_content() if text else "") + html_text, "html": html_text,
                    "headers": {k: str(v) for k, v in message.items()}})  # fmt: skip
    return out
