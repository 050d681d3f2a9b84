"""Email through SES (v2 API): a small mailer, and the email alert channel built on it."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from npsloop.aws import client, error_code
from npsloop.notify.channels import Alert, ChannelError

RETRYABLE = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException",
                       "ServiceUnavailable", "InternalFailure", "SendingPausedException"})  # fmt: skip


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str
    headers: tuple[tuple[str, str], ...] = ()  # extra headers (List-Unsubscribe ...): the mail then goes out raw


def mime(mail: Mail, sender: str, reply_to: str | None = None) -> bytes:
    """The mail as a MIME message (text and HTML alternatives, UTF-8), for SES's raw content."""
    from email.message import EmailMessage
    from email.policy import SMTP

    message = EmailMessage(policy=SMTP.clone(max_line_length=998))  # a long link header stays one plain line
    message["From"], message["To"], message["Subject"] = sender, ", ".join(mail.to), mail.subject
    if reply_to:
        message["Reply-To"] = reply_to
    for name, value in mail.headers:
        message[name] = value
    message.set_content(mail.text, cte="quoted-printable")
    message.add_alternative(mail.html, subtype="html", cte="quoted-printable")
    return message.as_bytes()


class Mailer:
    def __init__(self, sender: str, *, reply_to: str | None = None, configuration_set: str | None = None,
                 ses: Any | None = None):  # fmt: skip
        self.sender, self.reply_to, self.configuration_set, self._ses = sender, reply_to, configuration_set, ses

    @property
    def ses(self) -> Any:
        return self._ses or client("sesv2")

    def send(self, mail: Mail) -> str:
        """The SES message id; ChannelError (retryable for throttling and outages) when SES refuses."""
        request: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": list(mail.to)},
            "Content": {"Simple": {
                "Subject": {"Data": mail.subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": mail.text, "Charset": "UTF-8"},
                         "Html": {"Data": mail.html, "Charset": "UTF-8"}},
            }},
        }  # fmt: skip
        if mail.headers:  # headers of our own need the raw form
            request["Content"] = {"Raw": {"Data": mime(mail, self.sender, self.reply_to)}}
        elif self.reply_to:
            request["ReplyToAddresses"] = [self.reply_to]
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        try:
            return str(self.ses.send_email(**request).get("MessageId", ""))
        except Exception as exc:
            code = error_code(exc)
            if code is None and not hasattr(exc, "response"):
                raise ChannelError(f"SES unreachable: {type(exc).__name__}", retryable=True) from None
            raise ChannelError(f"SES refused the email: {code}", retryable=code in RETRYABLE) from None


def alert_mail(alert: Alert) -> Mail:
    r = alert.event.response
    facts = [("Score", f"{r.score} ({alert.event.category.value})"), ("Source", r.source),
             ("Touchpoint", r.touchpoint), ("Contact", alert.contact), ("Account", r.account_id),
             ("Salesforce", alert.record_url), ("Response", r.response_id)]  # fmt: skip
    shown = [(k, str(v)) for k, v in facts if v]
    comment = r.comment or "(no comment)"
    text = "\n".join([alert.title, "", *(f"{k}: {v}" for k, v in shown), "", "Comment:", comment])
    rows = "".join(f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in shown)
    body = (f"<h2>{html.escape(alert.title)}</h2><table>{rows}</table>"
            f"<blockquote>{html.escape(comment)}</blockquote>")  # fmt: skip
    return Mail(alert.recipients, f"NPS {alert.title}", text, body)


class EmailChannel:
    name = "email"

    def __init__(self, mailer: Mailer):
        self.mailer = mailer

    def send(self, alert: Alert) -> None:
        if alert.recipients:
            self.mailer.send(alert_mail(alert))
