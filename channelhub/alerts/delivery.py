"""Sending an alert: by Apprise (e-mail over SMTP, Slack, Teams, Telegram... any Apprise URL) or to a
chat bot's webhook in its own message format (DingTalk 钉钉, WeCom 企业微信, Feishu/Lark 飞书, Slack,
plain JSON), which is where Chinese teams work.

The chat formats are posted here rather than through Apprise's plugins because a bot is configured by
the webhook URL its settings page shows, and Apprise rebuilds that URL from a token on a fixed public
host: Lark's international host, a private WeCom deployment or a company proxy would be unreachable.
Each platform answers HTTP 200 with its own error code in the body; that code is checked here.
Addresses and signing secrets are read from the environment and never written to a log or an error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import time
import urllib.parse
from dataclasses import dataclass

import requests

from channelhub.alerts.config import Destination
from connectors.sdk import ConfigError

TIMEOUT = 10  # seconds: a reminder must not hold a pipeline; an undelivered one is retried next time


@dataclass(frozen=True)
class Message:
    title: str
    body: str  # Markdown: the records, what to do, since when
    severity: str
    resolved: bool = False


class DeliveryFailed(Exception):
    """One destination did not take a message; the text names the destination, never its address."""


def _env(destination: Destination, variable: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise ConfigError(f"alert destination {destination.name!r}: environment variable {variable} is not set")
    return value


def send(destination: Destination, message: Message) -> None:
    if destination.apprise_env:
        _send_apprise(destination, _env(destination, destination.apprise_env), message)
    else:
        _send_webhook(destination, _env(destination, destination.webhook_env or ""), message)


def _send_apprise(destination: Destination, url: str, message: Message) -> None:
    import apprise  # ~0.2 s with its plugins: only when an alert is sent

    notifier = apprise.Apprise()
    kind = (apprise.NotifyType.SUCCESS if message.resolved else
            apprise.NotifyType.FAILURE if message.severity == "critical" else apprise.NotifyType.WARNING)
    # Apprise logs URLs with their secrets' first and last letters: its records stay out of our logs, and
    # only the reason, without the URL, reaches the error
    apprise_log = logging.getLogger("apprise")
    propagate, apprise_log.propagate = apprise_log.propagate, False
    try:
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
            known = notifier.add(url)
            ok = known and notifier.notify(title=message.title, body=message.body, notify_type=kind,
                                           body_format=apprise.NotifyFormat.MARKDOWN)
            why = [line for line in captured.getvalue().splitlines() if "://" not in line]
    finally:
        apprise_log.propagate = propagate
    if not known:
        raise DeliveryFailed(f"{destination.name}: its URL is not one Apprise knows (check {destination.apprise_env})")
    if not ok:
        raise DeliveryFailed(f"{destination.name}: not delivered ({why[-1] if why else 'no reason given'})")


def _payload(destination: Destination, message: Message) -> dict[str, object]:
    text = f"## {message.title}\n\n{message.body}"
    if destination.format == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": message.title, "text": text}}
    if destination.format == "wecom":  # markdown content is capped at 4096 bytes
        return {"msgtype": "markdown", "markdown": {"content": text.encode()[:4096].decode(errors="ignore")}}
    if destination.format == "feishu":
        return {"msg_type": "text", "content": {"text": f"{message.title}\n\n{message.body}"}}
    if destination.format == "slack":
        return {"text": f"*{message.title}*\n{message.body}"}
    return {"title": message.title, "body": message.body, "severity": message.severity,
            "resolved": message.resolved}


def dingtalk_signed(url: str, secret: str, now_ms: int) -> str:
    """DingTalk 加签: ``timestamp`` (ms) and ``sign`` = Base64(HMAC-SHA256(secret, "timestamp\\nsecret"))."""
    digest = hmac.new(secret.encode(), f"{now_ms}\n{secret}".encode(), hashlib.sha256).digest()
    query = urllib.parse.urlencode({"timestamp": now_ms, "sign": base64.b64encode(digest).decode()})
    return f"{url}{'&' if '?' in url else '?'}{query}"


def feishu_sign(secret: str, now_s: int) -> str:
    """Feishu 签名校验: Base64(HMAC-SHA256 keyed with "timestamp\\nsecret" over an empty message)."""
    return base64.b64encode(hmac.new(f"{now_s}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()


def _send_webhook(destination: Destination, url: str, message: Message) -> None:
    payload = _payload(destination, message)
    if destination.secret_env:
        secret = _env(destination, destination.secret_env)
        if destination.format == "dingtalk":
            url = dingtalk_signed(url, secret, int(time.time() * 1000))
        else:
            now = int(time.time())
            payload = {"timestamp": str(now), "sign": feishu_sign(secret, now), **payload}
    try:
        response = requests.post(url, json=payload, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise DeliveryFailed(f"{destination.name}: webhook unreachable ({type(exc).__name__})") from None
    if response.status_code >= 300:
        raise DeliveryFailed(f"{destination.name}: webhook answered HTTP {response.status_code}")
    code, why = _platform_code(response)
    if code not in (None, 0, "0"):
        raise DeliveryFailed(f"{destination.name}: {destination.format} refused the message: code {code} {why}")


def _platform_code(response: requests.Response) -> tuple[object, str]:
    """DingTalk and WeCom answer ``errcode``/``errmsg``; Feishu ``code``/``msg`` (older bots
    ``StatusCode``); Slack a plain ``ok``."""
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    for code, why in (("errcode", "errmsg"), ("code", "msg"), ("StatusCode", "StatusMessage")):
        if code in body:
            return body[code], str(body.get(why, ""))
    return None, ""
