"""Crash anywhere: the service as a child process (`run.py serve`) against a separate local Amazon
Connect (`run.py connect-local`) and a webhook receiver in this process, many conversations talking
both ways with auto-disconnect timers pending, and SIGKILL at random moments, each time restarted on
the same data folder. Then every conversation's views are checked (tests/crash/checks.py), and the
STS AssumeRole calls of the conversations whose worker's `Secret` is a role (tests/crash/role_checks.py).

The seed fixes the plan: which scenario each conversation plays and when it starts, what it says
and how fast, and the delay before each kill. Threads and the operating system decide the exact
interleaving, so a replay reproduces the plan and the pressure, not every instruction's timing.

`tests/crash/test_crash_anywhere.py` runs the short mode in CI; `bench/crash.py` the long one.
Scenarios are pluggable: see tests/crash/scenarios.py.
"""

from __future__ import annotations

import dataclasses
import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.crash import service_process
from tests.crash.activity import Activity
from tests.crash.bot import BotApi, BotRecord
from tests.crash.checks import Evidence, Figures, TimerTexts, check_conversation
from tests.crash.children import Child, Children, free_port, start_connect_local
from tests.crash.cluster import ClusterUnderTest, dummy_credentials, make_cluster, start_dynamodb
from tests.crash.connect_side import FLOWS, INSTANCE, ConnectSide, connect_config
from tests.crash.event_log import ConversationLog, read_log
from tests.crash.receiver import WebhookReceiver
from tests.crash.role_checks import RoleFigures, check_assumed_roles
from tests.crash.scenarios import DEFAULT_SCENARIOS, Conversation, Pace, Scenario, WorkerPlan
from tests.support.dynamodb import fresh_table

TEXTS = TimerTexts(
    warning_user="[crash] Are you still there?",
    disconnect_user="[crash] We closed the chat after your silence.",
    disconnect_agent="[crash] The user went silent; the chat is closed.",
)


@dataclass(frozen=True)
class Settings:
    seed: int
    kills: int
    conversations: int
    warning_seconds: int = 3
    disconnect_seconds: int = 5
    kill_delay: tuple[float, float] = (0.0, 1.5)  # seconds from the service being ready to the next kill
    targeted_share: float = 0.5  # kills aimed a few ms after a bot request or a webhook (see activity.py)
    targeted_delay: tuple[float, float] = (0.0, 0.02)
    pace: Pace = field(default_factory=Pace)
    start_spread: float | None = None  # conversations start over this many seconds; default: most of the kills
    finish_timeout: float = 90.0  # after the last kill, for every hand-back
    nodes: int = 1  # more: that many nodes on one DynamoDB log (tests/crash/cluster.py), a kill takes one
    lease_seconds: float = 10.0  # with several nodes: their leases' time (shorter ones moved under load)

    def spread(self) -> float:
        if self.start_spread is not None:
            return self.start_spread
        restart = 0.4  # seconds, roughly, for `run.py serve` to be listening again
        return 0.7 * self.kills * (sum(self.kill_delay) / 2 + restart)


@dataclass
class Report:
    settings: Settings
    figures: Figures
    kills: int
    seconds: float
    restart_seconds: list[float]
    folder: Path
    unsigned_webhooks: int
    unsigned_samples: list[str]
    roles: RoleFigures = field(default_factory=RoleFigures)
    killed_nodes: list[str] = field(default_factory=list)  # the three-node mode: the node of each kill
    takeover_seconds: list[float] = field(default_factory=list)  # and from each kill to its leases all taken

    def ok(self) -> bool:
        return self.figures.ok() and self.kills >= self.settings.kills

    def lines(self) -> list[str]:
        f = self.figures
        slowest = max(self.restart_seconds, default=0.0)
        seed = self.settings.seed
        return [
            f"seed {seed}  (replay: CRASH_SEED={seed}, or bench/crash.py --seed {seed})",
            f"kills {self.kills}  in {self.seconds:.1f} s  (restart to listening: mean "
            f"{sum(self.restart_seconds) / max(1, len(self.restart_seconds)):.2f} s, max {slowest:.2f} s)",
            *([f"nodes {self.settings.nodes}, kills by node: "
               f"{', '.join(f'{n} {self.killed_nodes.count(n)}' for n in sorted(set(self.killed_nodes)))}; "
               f"taken over by the others (leases of {self.settings.lease_seconds:g} s) in: mean "
               f"{sum(self.takeover_seconds) / max(1, len(self.takeover_seconds)):.1f} s, "
               f"max {max(self.takeover_seconds, default=0.0):.1f} s"]
              if self.settings.nodes > 1 else []),
            f"conversations {f.conversations}",
            f"bot -> Connect: {f.bot_messages} messages accepted ({f.bot_messages_maybe} unanswered then refused, "
            f"{f.bot_messages_refused} refused by Connect and told, "
            f"{f.bot_messages_unconfirmed} unconfirmed when the chat ended and told), "
            f"{f.bot_unanswered} sent again after no answer, {f.bot_refused_connections} attempts refused while down",
            f"Connect -> bot: {f.agent_messages} agent messages; {f.deliveries} webhook deliveries (distinct Ids)",
            f"repeats at the webhook with the same Id: {f.repeats_same_id}",
            f"slash commands: {f.agent_commands} typed by the agent; {f.content_items} content items told; "
            f"{f.emails} emails at SES; {f.calls_unknown} calls of unknown outcome after a restart, not made again "
            f"({f.calls_unknown_sent} of them had sent)",
            f"failover: {f.failover_switches} orders taken by conversations, {f.failover_moves} started chats moved "
            "to the other region",
            f"translated: {f.translated_bot} bot messages, {f.translated_agent} agent messages; "
            f"notices to the agent at Connect: {f.notices}",
            f"lost: {f.lost}  doubled at Connect: {f.doubled_at_connect}  doubled at the bot: {f.doubled_at_bot}  "
            f"doubled commands or emails: {f.doubled_effects}",
            f"timers fired: {f.timers_fired}  fired twice: {f.timers_fired_twice}",
            f"assumed roles: {self.roles.calls} AssumeRole calls; {self.roles.starts} service starts began "
            f"{self.roles.chats} chats signed with a role, each after its start's AssumeRole",
            f"unsigned webhook POSTs (answered 401): {self.unsigned_webhooks}",
            *(f"  {sample}" for sample in self.unsigned_samples),
            f"problems: {len(f.problems)}",
            *(f"  {p}" for p in f.problems[:50]),
            f"logs and data: {self.folder}",
        ]


def worker_file(flow: str, texts: TimerTexts, settings: Settings, name: str | None = None,
                data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A worker in the seed's format, with a WARNING and a DISCONNECT rule of a few seconds, and `data`'s
    further fields. The WARNING has only a UserMessage: an AgentMessage would reach Connect as a
    customer message, Ana would answer it, and her answer would arm the timers again, for ever."""
    return {
        "Data": {
            "ContactFlowId": FLOWS[flow],
            "InstanceId": INSTANCE,
            "Region": "us-east-1",
            "Secret": "srn:vault::crash:aws-cross-account-role:local",
            "AutoDisconnectEvents": [
                {"Description": "warn", "SecondsAfterAgentMessage": settings.warning_seconds, "Type": "WARNING",
                 "UserMessage": texts.warning_user},
                {"Description": "close", "SecondsAfterAgentMessage": settings.disconnect_seconds, "Type": "DISCONNECT",
                 "UserMessage": texts.disconnect_user, "AgentMessage": texts.disconnect_agent},
            ],
            **(data or {}),
        },
        "Description": "tests/crash",
        "Enabled": True,
        "Name": f"crash-{name or flow}",
        "Type": "amazon-connect-worker",
    }


class ServiceUnderTest:
    """The service child at a fixed API port, killed and restarted on the same data folder."""

    def __init__(self, folder: Path, data: Path, connect: dict[str, Any], children: Children) -> None:
        self._folder = folder
        self._data = data
        self._config = service_process.write_serve_config(folder, data, connect, free_port())
        self._children = children
        self.child: Child | None = None
        self.ready: dict[str, Any] = {}
        self.start_seconds: list[float] = []  # how long each start took to listen
        self.start_times: list[float] = []  # wall clock when each start began, to line up with Connect's times
        self.kill_times: list[float] = []  # wall clock, to line up with the log's and Connect's times

    def start(self) -> None:
        self.start_times.append(time.time())
        began = time.monotonic()
        self.child, self.ready = service_process.start_service(
            self._config, self._folder / f"serve.ready.{len(self.start_seconds)}.json", self._folder / "service.log")
        self._children.start(self.child)
        self.start_seconds.append(time.monotonic() - began)

    def kill(self) -> None:
        assert self.child is not None
        self.kill_times.append(time.time())
        self.child.kill()

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()

    @property
    def api_urls(self) -> list[str]:
        return [self.ready["api_url"]]

    def read_log(self, scratch: Path) -> dict[str, ConversationLog]:
        """Every conversation's log, from the data folder's SQLite file (`scratch` is not needed)."""
        return read_log(self._data / "events.db")


@dataclass
class Stage:
    """Everything a run needs, started: the local Connect and its side, the workers (by flow), the
    service, the webhook receiver and the bots' API client, with the activity signals for aimed kills."""

    folder: Path
    data: Path
    connect: ConnectSide
    workers: dict[str, str]  # by flow
    scenario_workers: dict[str, str]  # by the name of a scenario with a WorkerPlan
    service: ServiceUnderTest | ClusterUnderTest
    receiver: WebhookReceiver
    bots: list[BotApi]  # one per node, each at its node's API first, the others' when it is down (one node: one)
    bot_activity: Activity
    webhook_activity: Activity

    @property
    def bot(self) -> BotApi:
        return self.bots[0]

    def conversation(self, conversation_id: str, flow: str, rng: random.Random, pace: Pace,
                     worker_id: str | None = None, node: int = 0) -> Conversation:
        """A conversation whose bot calls node `node`'s API (the first node by default)."""
        return Conversation(conversation_id, rng, pace, self.bots[node], BotRecord(conversation_id),
                            worker_id or self.workers[flow], self.receiver.url, self.connect, self.data,
                            handed_back=lambda: self.receiver.returned(conversation_id))

    def worker_of(self, scenario: Scenario) -> str:
        return self.scenario_workers.get(scenario.name) or self.workers[scenario.flow]


@contextmanager
def staged(settings: Settings, folder: Path, rng: random.Random,
           scenarios: Sequence[Scenario] = ()) -> Iterator[Stage]:
    """Start everything, with the workers `scenarios` plan; on the way out (returning or raising) end
    every process and the receiver. With `settings.nodes` above 1, the nodes share an event log in a
    DynamoDB table of moto's server, a child process too, and the operator's commands name it by
    `--config`."""
    folder.mkdir(parents=True, exist_ok=True)
    bot_activity, webhook_activity = Activity(), Activity()
    receiver = WebhookReceiver(webhook_activity).start()
    try:
        with ExitStack() as stack:
            children = stack.enter_context(Children())
            connect_child, connect = start_connect_local(folder, connect_config(settings.conversations))
            children.start(connect_child)
            service: ServiceUnderTest | ClusterUnderTest
            if settings.nodes == 1:
                data, config = folder / "data", None
                service = ServiceUnderTest(folder, data, connect, children)
            else:
                endpoint_url = start_dynamodb(folder, children)
                stack.enter_context(dummy_credentials())
                cluster = make_cluster(folder, connect, fresh_table(endpoint_url), endpoint_url, children,
                                       settings.nodes, settings.lease_seconds)
                data, config = cluster.nodes[0].data, cluster.operator_config
                service = ClusterUnderTest(cluster, random.Random(rng.random()))
            workers, scenario_workers, credentials = _set_up(scenarios, settings, folder, data, ConnectSide(connect),
                                                             config)
            receiver.secret = credentials.signing_secret
            service.start()
            urls = service.api_urls
            bots = [BotApi(url, credentials.token, random.Random(rng.random()), bot_activity,
                           others=tuple(urls[n + 1:] + urls[:n])) for n, url in enumerate(urls)]
            try:
                yield Stage(folder, data, ConnectSide(connect), workers, scenario_workers, service, receiver, bots,
                            bot_activity, webhook_activity)
            finally:
                for bot in bots:
                    bot.close()
    finally:
        receiver.stop()


def _set_up(scenarios: Sequence[Scenario], settings: Settings, folder: Path, data: Path, connect: ConnectSide,
            config: Path | None) -> tuple[dict[str, str], dict[str, str], service_process.BotCredentials]:
    """What an operator makes with `run.py` before the service starts: a worker per flow, each planned
    scenario's worker with its roles (in the vault; their external ids also told to the local STS),
    connectors (once per Alias) and content items, and the bot's API client; with `config` (serve's
    configuration, the three-node mode), in the log it names."""
    workers = {flow: service_process.create_worker(worker_file(flow, TEXTS, settings), folder, data, config)
               for flow in FLOWS}
    plans = {s.name: (s.flow, s.worker) for s in scenarios if s.worker is not None}
    connectors: dict[str, Mapping[str, Any]] = {}
    for _, plan in plans.values():
        for connector in plan.connectors:
            connectors.setdefault(connector["Alias"], connector)
    for connector in connectors.values():
        service_process.create_connector(connector, folder, data, config)
    for reference, role in _roles(scenarios).items():
        service_process.put_secret(reference, json.dumps(role), data)
        connect.require_external_id(role["RoleArn"], role["ExternalId"])
    for _, plan in plans.values():
        for reference, value in plan.secrets.items():
            service_process.put_secret(reference, value, data, config)
    scenario_workers = {}
    for name, (flow, plan) in plans.items():
        plan_data = json.loads(json.dumps(plan.data).replace("{connect}", connect.ready["endpoint_url"]))
        worker_id = service_process.create_worker(worker_file(flow, TEXTS, settings, name, plan_data), folder, data,
                                                  config)
        for key, text in plan.content.items():
            service_process.put_content(worker_id, key, text, data, config)
        scenario_workers[name] = worker_id
    return workers, scenario_workers, service_process.client_credentials(data, config=config)


def run_crash(settings: Settings, folder: Path, *, scenarios: Sequence[Scenario] = DEFAULT_SCENARIOS,
              say: Callable[[str], None] = print) -> Report:
    """The whole run: start everything, play and kill, settle, check. Every process it started is
    ended before it returns or raises."""
    say(f"crash harness: seed {settings.seed}, {settings.kills} kills, {settings.conversations} conversations")
    began = time.monotonic()
    plan = random.Random(settings.seed)
    with staged(settings, folder, plan, scenarios) as stage:
        service, receiver = stage.service, stage.receiver
        conversations = _plan(settings, plan, scenarios, stage)
        moments = [_KillMoment.draw(plan, settings) for _ in range(settings.kills)]
        errors: list[str] = []
        threads = _start_playing(conversations, errors)
        for moment in moments:
            moment.wait({"bot": stage.bot_activity, "webhook": stage.webhook_activity})
            service.kill()
            service.start()
        _settle(threads, conversations, receiver, settings.finish_timeout, errors)
        service.stop()  # cleanly, so the log is read whole; nothing is owed any more
        figures = _check_all(conversations, receiver, stage.connect, service.read_log(folder / "log-read.db"),
                             folder / "evidence")
        (folder / "kills.txt").write_text("".join(f"{at:.3f}\n" for at in service.kill_times))
        roles = _check_roles(conversations, scenarios, stage.connect, service.start_times)
        figures.problems.extend(errors + roles.problems)
        return Report(settings, figures, len(service.kill_times), time.monotonic() - began,
                      service.start_seconds[-len(service.kill_times):] if service.kill_times else [], folder,
                      receiver.unsigned, receiver.unsigned_samples, roles, *_killed_nodes(service))


def _killed_nodes(service: ServiceUnderTest | ClusterUnderTest) -> tuple[list[str], list[float]]:
    """The node of each kill and the seconds until the others had taken it over (one node: none)."""
    if isinstance(service, ClusterUnderTest):
        return service.killed, service.takeover_seconds
    return [], []


@dataclass(frozen=True)
class _KillMoment:
    """When to kill, drawn from the seed: `delay` seconds after the service listens again, or, if
    `after` names an activity (`bot`, `webhook`), `delay` after its next event (waiting at most
    `patience` seconds for one)."""

    delay: float
    after: str | None = None
    patience: float = 0.0

    @staticmethod
    def draw(plan: random.Random, settings: Settings) -> _KillMoment:
        if plan.random() < settings.targeted_share:
            return _KillMoment(plan.uniform(*settings.targeted_delay), plan.choice(["bot", "webhook"]),
                               plan.uniform(*settings.kill_delay))
        return _KillMoment(plan.uniform(*settings.kill_delay))

    def wait(self, activities: dict[str, Activity]) -> None:
        if self.after is not None:
            activities[self.after].wait_next(self.patience)
        time.sleep(self.delay)  # the random moment of the crash (drawn from the seed), not a synchronisation


@dataclass
class _Planned:
    scenario: Scenario
    conversation: Conversation
    start_at: float


def _plan(settings: Settings, plan: random.Random, scenarios: Sequence[Scenario], stage: Stage) -> list[_Planned]:
    planned = []
    for n in range(settings.conversations):
        scenario = scenarios[n % len(scenarios)]
        conversation = stage.conversation(f"{scenario.name}-{n:03d}", scenario.flow,
                                          random.Random(plan.getrandbits(64)), settings.pace, stage.worker_of(scenario),
                                          node=n % len(stage.bots))
        planned.append(_Planned(scenario, conversation, plan.uniform(0, settings.spread())))
    return planned


def _start_playing(planned: list[_Planned], errors: list[str]) -> list[threading.Thread]:
    began = time.monotonic()

    def play(item: _Planned) -> None:
        time.sleep(max(0.0, began + item.start_at - time.monotonic()))  # the planned start, from the seed
        try:
            item.scenario.play(item.conversation)
        except Exception as error:  # noqa: BLE001 - reported with the conversation, the run goes on
            errors.append(f"{item.conversation.id}: the scenario failed: {error!r}")

    threads = [threading.Thread(target=play, args=(item,), name=item.conversation.id, daemon=True) for item in planned]
    for thread in threads:
        thread.start()
    return threads


def _settle(threads: list[threading.Thread], planned: list[_Planned], receiver: WebhookReceiver, timeout: float,
            errors: list[str]) -> None:
    """Wait (with a deadline) for every script to end and every conversation to be handed back."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    ids = [item.conversation.id for item in planned if item.conversation.record.transferred]
    if not receiver.wait_for(lambda r: all(r.returned(c) for c in ids), max(0.0, deadline - time.monotonic())):
        missing = [c for c in ids if not receiver.returned(c)]
        errors.append(f"no hand-back within {timeout} s after the last kill for {len(missing)}: {missing[:20]}")
    for thread in threads:
        if thread.is_alive():
            errors.append(f"{thread.name}: the scenario was still running after {timeout} s")


def _check_all(planned: list[_Planned], receiver: WebhookReceiver, connect: ConnectSide,
               logs: dict[str, ConversationLog], evidence_folder: Path) -> Figures:
    """Every conversation checked; the evidence of each one with a problem written to
    `evidence_folder/<conversation>.json` (the bot's record, the webhook's arrivals, Connect's items and
    emails, the log's timers, notices and slash commands), to read beside `run.py replay <conversation>
    --db DATA/events.db`."""
    records: dict[str, list[dict[str, Any]]] = {}
    for chat in reversed(connect.chats()):  # oldest first: a conversation a failover moved has several
        records.setdefault(chat["CustomerName"], []).append(connect.record(chat["ContactId"]))
    emails: dict[str, list[dict[str, Any]]] = {}
    for email in connect.emails():
        for address in set(email["ToAddresses"]):
            emails.setdefault(address.partition("@")[0], []).append(email)
    total = Figures()
    for item in planned:
        cid = item.conversation.id
        log = logs.get(cid, ConversationLog())
        evidence = Evidence(cid, item.conversation.record, receiver.arrivals(cid), records.get(cid, []), log.timers,
                            item.scenario.expected_end(log.timers), commands=_has_commands(item.scenario.worker),
                            notices=log.notices, slash=log.slash, emails=emails.get(cid, []), moves=log.moves, switches=log.switches)
        figures = check_conversation(evidence, TEXTS)
        figures.problems.extend(item.scenario.check(evidence))
        if not figures.ok():
            _write_evidence(evidence_folder / f"{cid}.json", evidence, figures)
        total = total + figures
    return total


def _roles(scenarios: Sequence[Scenario]) -> dict[str, Mapping[str, str]]:
    return {reference: role for s in scenarios if s.worker is not None for reference, role in s.worker.roles.items()}


def _check_roles(planned: list[_Planned], scenarios: Sequence[Scenario], connect: ConnectSide,
                 starts: list[float]) -> RoleFigures:
    """The AssumeRole calls against the chats of the conversations whose worker has a role."""
    with_role = {item.conversation.id for item in planned if item.scenario.worker and item.scenario.worker.roles}
    contacts: dict[str, list[dict[str, Any]]] = {}
    for chat in connect.chats():
        if chat["CustomerName"] in with_role:
            contacts.setdefault(chat["CustomerName"], []).append(connect.record(chat["ContactId"]))
    return check_assumed_roles(_roles(scenarios), contacts, connect.assume_role_calls(), starts)


def _has_commands(plan: WorkerPlan | None) -> bool:
    return plan is not None and bool(plan.data.get("SlashCommands"))


def _write_evidence(path: Path, evidence: Evidence, figures: Figures) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    timers = evidence.timers
    path.write_text(json.dumps({
        "problems": figures.problems,
        "bot": dataclasses.asdict(evidence.bot),
        "webhook": [dataclasses.asdict(m) for m in evidence.arrivals],
        "connect": evidence.contacts,
        "timers": {"armed": sorted(timers.armed), "fired": dict(timers.fired), "cancelled": sorted(timers.cancelled),
                   "disconnect_messages": timers.disconnect_messages,
                   "disconnect_messages_sent": timers.disconnect_messages_sent},
        "notices": [dataclasses.asdict(n) for n in evidence.notices or []],
        "slash": dataclasses.asdict(evidence.slash),
        "emails": evidence.emails,
    }, indent=1, default=str))
