"""Each destination kind, checked by what a real SMTP server and a real webhook receiver got."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time

import pytest

from channelhub.alerts.config import Destination
from channelhub.alerts.delivery import DeliveryFailed, Message, send
from tests.alerts.conftest import Mailbox, Receiver
from tests.pipeline import free_port

MESSAGE = Message("[channelhub] warning: 2 paid order(s) on shop_us not shipped within 2 days",
                  "- order #1001 (2026-10-01 08:00Z)\n- order #1002 (2026-10-02 09:00Z)\n\n**What to do:** ship them", "warning")
TOKEN = "tok-3f9a1c7e5b"  # the secret part of a webhook URL


def test_email_through_apprise_reaches_the_smtp_server(mailbox: tuple[Mailbox, int],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    box, port = mailbox
    monkeypatch.setenv("OPS_MAIL", f"mailto://127.0.0.1:{port}?from=hub@example.com&to=ops@example.com"
                                   "&mode=insecure")
    send(Destination(name="ops-mail", apprise_env="OPS_MAIL"), MESSAGE)
    [mail] = box.messages
    assert mail["Subject"] == MESSAGE.title and mail["To"] == "ops@example.com"
    assert "order #1001 (2026-10-01 08:00Z)" in mail.get_body(("plain",)).get_content()


def test_an_undeliverable_email_names_the_destination_not_its_address(monkeypatch: pytest.MonkeyPatch,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("OPS_MAIL", f"mailto://hub:{TOKEN}@127.0.0.1:{free_port()}?from=hub@example.com"
                                   "&to=ops@example.com&mode=insecure")
    with caplog.at_level(logging.DEBUG), pytest.raises(DeliveryFailed, match="^ops-mail: not delivered") as failed:
        send(Destination(name="ops-mail", apprise_env="OPS_MAIL"), MESSAGE)
    assert TOKEN not in str(failed.value)
    # Apprise logs a URL with its secrets' first and last letters ("t...b"): no such line reaches our logs
    assert not [r for r in caplog.records if "://" in r.getMessage() or f"{TOKEN[0]}...{TOKEN[-1]}" in r.getMessage()]


def _hmac_b64(key: str, message: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()).decode()


def test_dingtalk_gets_its_markdown_message_signed_as_its_docs_say(receiver: Receiver,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """钉钉自定义机器人 加签: timestamp (ms) and sign = Base64(HMAC-SHA256(secret, timestamp + "\\n" + secret))."""
    secret = "SEC0123456789abcdef"
    monkeypatch.setenv("DING_URL", f"{receiver.url}/robot/send?access_token={TOKEN}")
    monkeypatch.setenv("DING_SECRET", secret)
    send(Destination(name="warehouse-ding", webhook_env="DING_URL", format="dingtalk", secret_env="DING_SECRET"),
         MESSAGE)
    [post] = receiver.posts
    assert post.path == "/robot/send" and post.query["access_token"] == TOKEN
    assert abs(int(post.query["timestamp"]) - time.time() * 1000) < 60_000  # DingTalk refuses > 1 hour skew
    assert post.query["sign"] == _hmac_b64(secret, f"{post.query['timestamp']}\n{secret}")
    assert post.body["msgtype"] == "markdown" and post.body["markdown"]["title"] == MESSAGE.title
    assert "order #1002 (2026-10-02 09:00Z)" in post.body["markdown"]["text"]


def test_feishu_gets_a_text_message_with_its_signature_in_the_body(receiver: Receiver,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """飞书自定义机器人 签名校验: sign = Base64(HMAC-SHA256 keyed with timestamp + "\\n" + secret, over nothing)."""
    secret = "feishu-secret"
    receiver.reply = {"code": 0, "msg": "success", "data": {}}
    monkeypatch.setenv("FEISHU_URL", f"{receiver.url}/open-apis/bot/v2/hook/{TOKEN}")
    monkeypatch.setenv("FEISHU_SECRET", secret)
    send(Destination(name="ops-feishu", webhook_env="FEISHU_URL", format="feishu", secret_env="FEISHU_SECRET"),
         MESSAGE)
    [post] = receiver.posts
    timestamp = post.body["timestamp"]
    expected = base64.b64encode(hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()
    assert post.body["sign"] == expected and abs(int(timestamp) - time.time()) < 60
    assert post.body["msg_type"] == "text" and post.body["content"]["text"].startswith(MESSAGE.title)


@pytest.mark.parametrize(("kind", "read"), [
    ("wecom", lambda body: body["markdown"]["content"] if body["msgtype"] == "markdown" else None),
    ("slack", lambda body: body["text"]),
    ("json", lambda body: body["title"] + "\n" + body["body"]),
])
def test_wecom_slack_and_plain_json_get_their_formats(kind: str, read, receiver: Receiver,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK", f"{receiver.url}/hook?key={TOKEN}")
    send(Destination(name=kind, webhook_env="HOOK", format=kind), MESSAGE)
    [post] = receiver.posts
    text = read(post.body)
    assert MESSAGE.title in text and "order #1001 (2026-10-01 08:00Z)" in text


def test_a_refusal_inside_http_200_is_a_failure_with_the_platforms_code(receiver: Receiver,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    receiver.reply = {"errcode": 310000, "errmsg": "sign not match"}
    monkeypatch.setenv("DING_URL", f"{receiver.url}/robot/send?access_token={TOKEN}")
    with pytest.raises(DeliveryFailed, match="warehouse-ding: dingtalk refused the message: code 310000 sign not match"):
        send(Destination(name="warehouse-ding", webhook_env="DING_URL", format="dingtalk"), MESSAGE)


def test_an_unreachable_webhook_fails_at_once_without_revealing_its_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK", f"http://127.0.0.1:{free_port()}/hook?key={TOKEN}")
    started = time.monotonic()
    with pytest.raises(DeliveryFailed, match="^ops: webhook unreachable") as failed:
        send(Destination(name="ops", webhook_env="HOOK", format="wecom"), MESSAGE)
    assert TOKEN not in str(failed.value) and time.monotonic() - started < 5


def test_a_destination_must_have_one_address_and_only_chat_bots_sign() -> None:
    with pytest.raises(ValueError, match="'ops': set exactly one of apprise_env and webhook_env"):
        Destination(name="ops", apprise_env="A", webhook_env="B")
    with pytest.raises(ValueError, match="'ops': secret_env signs DingTalk and Feishu webhooks only"):
        Destination(name="ops", webhook_env="B", format="slack", secret_env="S")
