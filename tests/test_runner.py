"""Secret masking in what a run writes to logs and the run log (channelhub/runner.py)."""

from __future__ import annotations

import pytest

from channelhub.runner import mask

LONG = "shpat_9f8e7d6c5b4a"


@pytest.mark.parametrize(("text", "masked"), [
    (f"401 for https://shop.example/admin?access_token={LONG}&x=1",
     "401 for https://shop.example/admin?access_token=***&x=1"),
    (f"token {LONG[:-1]} rejected; then {LONG}{LONG}", f"token {LONG[:-1]} rejected; then ******"),
])
def test_a_long_secret_is_masked_wherever_it_appears(text: str, masked: str) -> None:
    assert mask(text, LONG) == masked


@pytest.mark.parametrize(("secret", "text", "masked"), [
    ("a", "a TLS error: bad record mac at byte 4a", "a TLS error: bad record mac at byte 4a"),
    ("a", "HTTP 401 for /orders?key=a&page=2", "HTTP 401 for /orders?key=***&page=2"),
    ("a", "header Authorization: Bearer a refused", "header Authorization: Bearer *** refused"),
    ("1234", "order 12345 failed; password '1234' rejected", "order 12345 failed; password '***' rejected"),
    ("x1", "secret: x1", "secret: ***"),
])
def test_a_short_secret_is_masked_only_as_a_whole_value_and_never_mangles_the_message(
        secret: str, text: str, masked: str) -> None:
    assert mask(text, secret) == masked
