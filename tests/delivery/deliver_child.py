"""A delivering process to kill: `python -m tests.delivery.deliver_child STORE_PATH`.

Starts a WebhookDeliverer on the store and runs until killed.
"""

from __future__ import annotations

import sys
import threading

from delivery import WebhookDeliverer
from retry import Backoff
from store import EventStore

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SENDERS = 2


def main(path: str) -> None:
    with EventStore.open(path) as store:
        deliverer = WebhookDeliverer(
            store, signing_secret=lambda client_id: SECRET, backoff=Backoff(first=0.001, cap=0.01), senders=SENDERS,
        )
        deliverer.start()
        print("delivering", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1])
