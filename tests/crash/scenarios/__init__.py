"""Scenarios: what a conversation does while the service is being killed, and what to check of it
beyond the common checks (tests/crash/checks.py).

Adding one (a later feature's own): write a class with

- `name`: a short word; it prefixes the conversation ids (`<name>-007`);
- `flow`: `"simulated"` (Ana joins at once, greets, answers every customer message) or `"human"`
  (nobody joins: `play` accepts the chat through `conversation.connect` and speaks as the agent);
  a new kind of Connect behaviour goes into `connect_side.connect_config` as a new flow;
- `worker`: None for the flow's plain worker (the auto-disconnect rules only), or a `WorkerPlan`: the
  worker's further `Data` (slash commands, translations, a `Region` and `Secret`), the connectors it
  names, its content items and the cross-account roles its `Secret` names; the harness makes them with `run.py` before the service starts, and gives the scenario's
  conversations that worker. Emails its connectors send must go to `<conversation id>@...`: the
  checks get those (`Evidence.emails`) from the local SES;
- `expected_end(timers)`: the hand-back's `SessionEndReason`, given the timers the log says fired;
- `play(conversation)`: runs on a thread of its own; drive the bot with `conversation.transfer()`
  and `conversation.say(n)` (these retry through the kills), the agent with `conversation.connect`;
  draw every random choice from `conversation.rng`, so the seed replays the plan. It must leave the
  conversation on its way to a hand-back (here: silence, so the DISCONNECT timer ends it);
- `check(evidence) -> list[str]`: problems found, each naming what is wrong;

and pass it in `scenarios=` to `tests.crash.harness.run_crash` (or add it to `DEFAULT_SCENARIOS`).
A `HumanAgent` subclass need only say what differs: the transfer's `context`, the `agent_lines` and
`bot_lines` (tests/crash/scenarios/slash.py and translation.py do), who answers (`agent_for`) and what
happens when the bot has said half its lines (`halfway`: tests/crash/scenarios/failover.py).
"""

from tests.crash.scenarios.assumed_role import AssumedRole
from tests.crash.scenarios.conversation import Conversation, Pace, Scenario, WorkerPlan
from tests.crash.scenarios.failover import Failover
from tests.crash.scenarios.short_links import ShortLinks
from tests.crash.scenarios.slash import SlashCommands
from tests.crash.scenarios.talking import HUMAN_AGENT, AnaAnswers, HumanAgent, HumanAgentLeaves
from tests.crash.scenarios.translation import Translation

DEFAULT_SCENARIOS: tuple[Scenario, ...] = (AnaAnswers(), HumanAgent(), HumanAgentLeaves(), SlashCommands(),
                                           Translation(), ShortLinks(), AssumedRole(), Failover())
# What runs on several nodes (`--nodes`): not the role scenario, whose checks line AssumeRole calls up
# with one service's starts, nor failover, whose orders the harness gives one node's SQLite file.
ONE_NODE_ONLY = frozenset({"role", "failover"})

__all__ = ["DEFAULT_SCENARIOS", "HUMAN_AGENT", "ONE_NODE_ONLY", "AnaAnswers", "AssumedRole", "Conversation", "Failover", "HumanAgent",
           "HumanAgentLeaves", "Pace", "Scenario", "ShortLinks", "SlashCommands", "Translation", "WorkerPlan"]
