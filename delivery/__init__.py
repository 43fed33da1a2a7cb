"""Telling the bot what happens in its conversation: webhook delivery and the pull stream.

See delivery/README.md.
"""

from delivery.messages import NotForTheBot, bot_message, delivery_id, is_for_the_bot
from delivery.pull import delivery_routes
from delivery.signature import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from delivery.webhook import DeliveryStats, WebhookDeliverer

__all__ = [
    "ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "DeliveryStats",
    "NotForTheBot",
    "WebhookDeliverer",
    "bot_message",
    "delivery_id",
    "delivery_routes",
    "is_for_the_bot",
]
