"""``[core] hostname_callable`` for the Celery check: two workers on one machine record different names
in the metadata DB (``task_instance.hostname``), as two machines would."""

import os
import socket


def hostname() -> str:
    return os.environ.get("CHANNELHUB_WORKER_NAME") or socket.getfqdn()
