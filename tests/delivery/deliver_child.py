"""A delivering process to kill: `python -m tests.delivery.deliver_child STORE_PATH`.

Starts a WebhookDeliverer on the store and runs until killed.
"""

from __future__ import annotations

import sys
import threading

from delivery import WebhookDeliverer
from store import EventStore
from tests.delivery.deliverers import QUICK, SECRET

SENDERS = 2


def main(path: str) -> None:
    with EventStore.open(path) as store:
        deliverer = WebhookDeliverer(
            store, signing_secret=lambda client_id: SECRET, backoff=QUICK, senders=SENDERS,
        )
        deliverer.start()
        print("delivering", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1])
