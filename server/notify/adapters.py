"""Delivery adapters: email over SMTP, a generic HTTP SMS gateway, and webhooks.

Each message carries the notification's id as its idempotency key (the email's Message-ID, the
`Idempotency-Key` header of HTTP posts): a worker that dies after the far end accepted but before
recording it retries with the same key, which lets the far end recognise the repeat.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from server.config import Config


class DeliveryError(Exception):
    """A failed attempt; `permanent` ones are not retried (the target refused the message)."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


def send_email(config: Config, to: str, subject: str, body: str, key: str) -> None:
    if not config.smtp_url:
        raise DeliveryError("no SMTP server configured (SMTP_URL)", permanent=True)
    url = urlsplit(config.smtp_url)
    if url.scheme not in ("smtp", "smtps"):
        raise DeliveryError(f"SMTP_URL scheme must be smtp or smtps, not {url.scheme}", True)
    message = EmailMessage()
    message["From"] = config.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{key}@rangersync>"
    message.set_content(body)
    timeout = config.notify_timeout_s
    smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    try:
        with smtp_class(url.hostname or "localhost", url.port or 0, timeout=timeout) as smtp:
            if parse_qs(url.query).get("starttls") == ["1"]:
                smtp.starttls(context=ssl.create_default_context())
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryError(f"recipient refused: {error.recipients}", permanent=True) from error
    except smtplib.SMTPResponseException as error:
        permanent = 500 <= error.smtp_code < 600
        raise DeliveryError(f"SMTP {error.smtp_code}: {error.smtp_error!r}", permanent) from error
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"SMTP: {error}") from error


def _post_json(url: str, payload: dict, key: str, timeout: float, token: str | None) -> None:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/json")
    request.add_header("Idempotency-Key", key)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as error:
        permanent = 400 <= error.code < 500 and error.code not in (408, 425, 429)
        raise DeliveryError(f"HTTP {error.code} from {url}", permanent) from error
    except (OSError, ValueError) as error:
        raise DeliveryError(f"{url}: {error}") from error


def send_sms(config: Config, to: str, text: str, key: str) -> None:
    """POST {"to", "text", "reference"} as JSON to the gateway; any 2xx means accepted."""
    if not config.sms_gateway_url:
        raise DeliveryError("no SMS gateway configured (SMS_GATEWAY_URL)", permanent=True)
    payload = {"to": to, "text": text, "reference": key}
    _post_json(
        config.sms_gateway_url, payload, key, config.notify_timeout_s, config.sms_gateway_token
    )


def send_webhook(config: Config, url: str, payload: dict, key: str) -> None:
    _post_json(url, payload, key, config.notify_timeout_s, None)
