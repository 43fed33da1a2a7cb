"""Short links under kills: the agent's links, and those of a content item, reach the user shortened by
the local Amazon Connect's short-link API (connect_local/shortener.py), each message once."""

from __future__ import annotations

import random
import re
from typing import Any

from connect_local.shortener import short_code
from events.links import find_links, with_short_links
from tests.crash.checks import Evidence
from tests.crash.scenarios.conversation import Conversation, WorkerPlan
from tests.crash.scenarios.talking import HumanAgent

KEY_REF = "srn:vault::crash:secret:squeeze"
TRACK = "Track order {{order}} at https://shop.example/track/{{order}}"
_SHORT = re.compile(r"(https?://[^/\s]+)/s/")


def _order(cid: str) -> str:
    return f"o-{cid}"


class ShortLinks(HumanAgent):
    """As HumanAgent, the worker shortening links (`ShortLinkConfig`, its key in the vault): half of what
    the agent writes after its greeting holds a link or two, now and then `/track` (a content item with
    a link built from the context). The common checks find each agent message at the bot once, with
    OriginalText what the agent wrote; this checks each shortened text against what the API gives, that
    the content item came filled and shortened, and that links were shortened at all (a link may go as
    written when the API does not answer it within its 2 s, not every link of a conversation)."""

    name = "short"
    worker = WorkerPlan(
        data={
            "ShortLinkConfig": {"Type": "Squeeze", "Config": {"Api": "{connect}/squeeze/standard", "ApiKey": KEY_REF}},
            "SlashCommands": {"/track": {"actions": [{"type": "content", "value": "track"}], "description": "tracking"}},
        },
        content={"track": TRACK},
        secrets={KEY_REF: "crash-squeeze-key"},
    )

    def context(self, conversation: Conversation) -> dict[str, Any]:
        return {"order": _order(conversation.id)}

    def agent_lines(self, conversation: Conversation, count: int, rng: random.Random) -> list[str]:
        def line(plain: str, n: int) -> str:
            draw = rng.random()
            if draw < 0.25:
                return "/track"
            if draw < 0.6:
                return f"{plain}: see https://shop.example/{conversation.id}/{n} (and https://help.example/{n})."
            return plain

        return [line(plain, n) for n, plain in enumerate(super().agent_lines(conversation, count, rng))]

    def check(self, evidence: Evidence) -> list[str]:
        cid = evidence.conversation_id
        problems = super().check(evidence)
        linked, shortened = 0, 0
        for told in {m.id: m for m in evidence.arrivals}.values():
            if told.type != "AgentMessage" or told.role != "AGENT":
                continue
            text = told.text or ""
            written = told.original_text if told.original_text is not None else text
            if told.slash_command == "/track":
                written = TRACK.replace("{{order}}", _order(cid))
                if told.original_text not in (None, written):
                    problems.append(f"{cid}: /track told with OriginalText {told.original_text!r}, not {written!r}")
            links = find_links(written)
            if not links:
                continue
            linked += 1
            # Each link is asked for on its own: one the API did not answer within 2 s goes as written.
            base = _SHORT.search(text)
            forms = {} if base is None else {link: f"{base[1]}/s/{short_code(link)}" for link in links}
            short = {link: form for link, form in forms.items() if form in text}
            if text != with_short_links(written, short) or (short and told.original_text != written):
                problems.append(f"{cid}: {written!r} told as {text!r} (OriginalText {told.original_text!r})")
            shortened += bool(short)
        if linked >= 2 and shortened == 0:
            problems.append(f"{cid}: none of its {linked} messages with links had them shortened")
        return problems
