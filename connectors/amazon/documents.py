"""What the Reports and Feeds APIs share: a job polled until Amazon is done with it, and documents
exchanged through pre-signed URLs.

A job (report, feed) is polled with tenacity, waits growing from ``poll_seconds`` to 5 minutes, for at
most ``poll_timeout_minutes``; its last state is the answer (``DONE``, ``CANCELLED``, ``FATAL``, or still
processing when the time ran out). A document travels to and from a pre-signed storage URL *without* the
access token (it is for Amazon's API, not for the storage host), gzip-compressed when the document's
``compressionAlgorithm`` says so.
"""

from __future__ import annotations

import gzip
from typing import Any

from tenacity import Retrying, retry_if_result, stop_after_delay, wait_exponential

from connectors.sdk import retrying_session

from .client import call, raise_refusal
from .settings import AmazonSettings

PROCESSING = frozenset({"IN_QUEUE", "IN_PROGRESS"})


def poll(client: dict[str, Any], settings: AmazonSettings, path: str) -> dict[str, Any]:
    """The job at ``path`` once it stopped processing, or as it was when the time ran out."""
    polling = Retrying(retry=retry_if_result(lambda job: job.get("processingStatus") in PROCESSING),
                       wait=wait_exponential(multiplier=settings.poll_seconds, max=300),
                       stop=stop_after_delay(settings.poll_timeout_minutes * 60),
                       retry_error_callback=lambda state: state.outcome.result())
    return polling(call, client, "GET", path)


def download(settings: AmazonSettings, document: dict[str, Any]) -> str:
    """The text of a document Amazon describes as ``{url, compressionAlgorithm}``."""
    response = retrying_session(settings.retry_policy()).get(document["url"])
    raise_refusal(response)
    content = response.content
    if document.get("compressionAlgorithm") == "GZIP":
        content = gzip.decompress(content)
    return content.decode(response.encoding or "utf-8")


def upload(settings: AmazonSettings, url: str, content: bytes, content_type: str) -> None:
    response = retrying_session(settings.retry_policy()).put(url, data=content, headers={"Content-Type": content_type})
    raise_refusal(response)
