"""Translation under kills: the user writes Spanish, the agent English, each read in its own language."""

from __future__ import annotations

import random

from connect_local.translate import translate
from tests.connectors.seeds import seed_translate
from tests.crash.checks import Evidence
from tests.crash.scenarios.conversation import Conversation, WorkerPlan
from tests.crash.scenarios.talking import HumanAgent

USER, AGENT = "es", "en"
BOT_PHRASES = ("hola", "gracias", "adiós", "sí", "no")  # what the local Translate knows; the rest: "[en] ..."
AGENT_PHRASES = ("hello", "thank you", "goodbye", "yes")
UNTRANSLATED_USER = "could not be translated"  # the notice of a user message that goes as written
UNTRANSLATED_AGENT = "reached the user untranslated"


TRANSLATOR = seed_translate()  # the languages are the worker's, so one connector serves both ways


def _rule(source: str, target: str) -> dict[str, str]:
    return {"ConnectorAlias": TRANSLATOR["Alias"], "SourceLanguageCode": source, "TargetLanguageCode": target}


class Translation(HumanAgent):
    """As HumanAgent, with the worker's translations both ways through the seed's translate connector
    (the local Amazon Connect's Translate): the bot writes Spanish, some of it the phrases the local
    Translate knows (each at most once, so a conversation's texts stay apart), the rest becoming
    "[en] ..."; the agent writes English phrases and other lines. The common checks find each bot
    message at Connect once, in order, as the bot was told it was translated, and each agent message
    at the bot once with OriginalText what the agent wrote; this checks the translations themselves,
    and that a message that went as written came with a notice to the agent."""

    name = "translate"
    worker = WorkerPlan(
        data={"IngressTranslationConfig": _rule(USER, AGENT), "EgressTranslationConfig": _rule(AGENT, USER)},
        connectors=(TRANSLATOR,),
    )

    def bot_lines(self, conversation: Conversation, count: int) -> list[str]:
        phrases = list(BOT_PHRASES)
        conversation.rng.shuffle(phrases)
        return [phrases.pop() if phrases and conversation.rng.random() < 0.5 else f"{conversation.id} dice #{n} "
                f"({conversation.rng.randrange(10**6)})" for n in range(count)]

    def agent_lines(self, conversation: Conversation, count: int, rng: random.Random) -> list[str]:
        return [rng.choice(AGENT_PHRASES) if rng.random() < 0.5 else line
                for line in super().agent_lines(conversation, count, rng)]

    def check(self, evidence: Evidence) -> list[str]:
        cid = evidence.conversation_id
        problems = super().check(evidence)
        told = list({m.id: m for m in evidence.arrivals}.values())
        notices = [n.text for n in evidence.notices or []]
        for m in (m for m in told if m.type == "MessageTranslated"):
            if m.text != translate(m.original_text or "", USER, AGENT)[0]:
                problems.append(f"{cid}: {m.message_id} {m.original_text!r} translated as {m.text!r}")
        translated = {m.message_id for m in told if m.type == "MessageTranslated"}
        at_connect = {i["Content"] for record in evidence.contacts for i in record["Items"] if i["Type"] == "MESSAGE"}
        as_written = [s.text for s in evidence.bot.sent if s.message_id not in translated and s.text in at_connect]
        if len(as_written) > sum(UNTRANSLATED_USER in n for n in notices):
            problems.append(f"{cid}: bot messages at Connect as written, with fewer notices to the agent: {as_written}")
        agent_untranslated = []
        for m in (m for m in told if m.type == "AgentMessage" and m.role == "AGENT"):
            written = m.original_text if m.original_text is not None else m.text or ""
            if m.text == translate(written, AGENT, USER)[0]:
                continue
            if m.original_text is not None:
                problems.append(f"{cid}: the agent's {written!r} ({m.connect_message_id}) translated as {m.text!r}")
            else:
                agent_untranslated.append(written)
        if len(agent_untranslated) > sum(UNTRANSLATED_AGENT in n for n in notices):
            problems.append(f"{cid}: agent messages told untranslated, with fewer notices to the agent: "
                            f"{agent_untranslated}")
        return problems
