"""The service's log lines: one JSON object a line (or text at a terminal), naming the conversation
and worker they concern, never a token; and the progress of long operations.

    configure(level=logging.INFO, format="json")   # run.py does this for every command
    with Progress("recovering conversations", total=n, log=log) as progress:
        ...; progress.advance()
"""

from logs.progress import Progress
from logs.scrub import KNOWN_SECRETS, KnownSecrets, scrub_text
from logs.setup import FORMATS, configure, default_format

__all__ = ["FORMATS", "KNOWN_SECRETS", "KnownSecrets", "Progress", "configure", "default_format", "scrub_text"]
