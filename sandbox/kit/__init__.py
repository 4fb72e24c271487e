"""The sandbox kit: what every platform emulator is built from (a bucket, the fault switchboard, the
HTTP base with keep-alive), so a platform's sandbox holds only what is specific to it."""

from .bucket import Bucket
from .server import Faults, HttpSandbox, Stats, json_response

__all__ = ["Bucket", "Faults", "HttpSandbox", "Stats", "json_response"]
