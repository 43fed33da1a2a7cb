"""Telling the bot what happens in its conversation: webhook delivery and the pull stream.

See delivery/README.md.
"""

from delivery.backoff import Backoff
from delivery.messages import NotForTheBot, bot_message, delivery_id, is_for_the_bot
from delivery.pull import delivery_routes
from delivery.signature import DELIVERY_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from delivery.webhook import DeliveryStats, WebhookDeliverer

__all__ = [
    "DELIVERY_ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Backoff",
    "DeliveryStats",
    "NotForTheBot",
    "WebhookDeliverer",
    "bot_message",
    "delivery_id",
    "delivery_routes",
    "is_for_the_bot",
    "verify",
]
