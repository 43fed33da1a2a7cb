"""botocore's response parsers without a reference cycle each, so that every call's parser is freed at once.

botocore makes a new response parser for every response it reads (`ResponseParserFactory.create_parser`),
and a parser made without a `blob_parser` keeps its own bound method `_default_blob_parser` as one (and
hands it to its event-stream parser): parser → method → parser, a reference cycle. Reference counting
never frees a cycle; only the cyclic collector does, and the service runs its full collections rarely
(commands/collector.py). So every Connect call left three objects and their dicts behind until a
collection reached them: a full collection 150 s into a 300-conversation soak found 4,537 parsers, one
per call since the one made 90 s before (bench/README.md, "The soak's growth and its last-minute
stall"), and whatever collection finally came walked them with the GIL held.

The same decoding given as a plain function (`base64.b64decode`, what `_default_blob_parser` does)
makes no cycle: the parser goes with the response.
"""

from __future__ import annotations

import base64

import boto3


def without_parser_cycles(session: boto3.session.Session) -> boto3.session.Session:
    """Make the clients `session` creates from now on parse blobs without a cycle; returns `session`."""
    factory = session._session.get_component("response_parser_factory")
    factory.set_parser_defaults(blob_parser=base64.b64decode)
    return session
