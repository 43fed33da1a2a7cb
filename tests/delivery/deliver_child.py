"""A delivering process to kill: `python -m tests.delivery.deliver_child STORE_PATH`.

Starts a WebhookDeliverer on the store and runs until killed.
"""

from __future__ import annotations

import sys
import threading

from delivery import Backoff, WebhookDeliverer
from store import EventStore

SECRET = b"webhook-secret"
SENDERS = 2


def main(path: str) -> None:
    with EventStore.open(path) as store:
        deliverer = WebhookDeliverer(store, secret=SECRET, backoff=Backoff(initial=0.001, cap=0.01), senders=SENDERS)
        deliverer.start()
        print("delivering", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1])
