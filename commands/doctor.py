"""`run.py doctor [WORKER]`: can each region of a worker be served? One line per check, in order, for
each region the worker uses (its primary region, then each failover region):

1. the secret resolves: the vault holds the cross-account role its `Secret` names;
2. the role can be assumed through STS (skipped where `serve`'s configuration gives the region
   `static_credentials`, a local Amazon Connect, as `serve` assumes none there);
3. the instance has the contact flow (DescribeContactFlow, with the clients `serve` would use);
4. the queue's figures can be read (GetCurrentMetricData), or a warning when the worker gives no
   `QueueId` there.

    $ python run.py doctor --config serve.json
    worker 3f0c2a9e-... ConnectOne
      ok    us-east-1 (primary): the secret srn:vault::acme:aws-cross-account-role:connect ($.Data.Secret) ...
      FAIL  us-east-1 (primary): the contact flow 8949fcc8-... was not found in instance 618c435d-... ...
            fix: correct $.Data.InstanceId or $.Data.ContactFlowId (python run.py worker update ...) ...

A check that fails is followed by a `fix:` line. The exit code is 0 when nothing failed (warnings
allowed), 1 when a check failed, 2 for bad usage (an unknown worker, a configuration that cannot be
read), named on stderr. Nothing printed holds a secret's value, a credential or the external id.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from actors.denials import denial_detail
from commands.database import add_db_argument, local_store_path, log_name, open_existing_log
from commands.vault_options import BadArgument, add_backend_arguments, vault_config
from connect_client import AccessDenied, ConnectError, CredentialsRefused, NotFound, RegionClients, RetryableError
from events.conversation_events import ConnectTarget
from events.worker_config import WorkerConfig
from roles import CredentialsUnavailable, RoleSessions, read_role, region_uses, role_session_name
from roles.policy import RegionUse
from service.serve_config import RegionOverride, ServeConfig
from service.serve_config import open_vault, region_clients, role_sessions
from store import StoreError
from store.workers import UnknownWorker, WorkerRegistry
from vault import Vault, VaultError

Status = Literal["ok", "warn", "skip", "FAIL"]

ROLE_FILE = '{"RoleArn": "arn:aws:iam::ACCOUNT:role/NAME", "ExternalId": "..."}'


@dataclass(frozen=True)
class Finding:
    """What one check found, in words, and for a failure or a warning how to fix it."""

    status: Status
    says: str
    fix: str | None = None


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "doctor",
        help="check that each region of a worker can be served: secret, role, contact flow, queue",
        description="For WORKER (default: every enabled worker), in each region it uses (primary, then failover "
        "regions): the secret resolves, the role can be assumed, the instance has the contact flow, the queue's "
        "figures can be read. One line per check, with how to fix what fails; exit code 1 if a check failed.",
    )
    parser.add_argument("worker", nargs="?", metavar="WORKER", help="a worker's ID (default: every enabled worker)")
    add_db_argument(parser)  # --config: also its vault and its regions' endpoints and credentials
    add_backend_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = _settings(args)
        store_path = local_store_path(args)
        with open_existing_log(args) as store:  # which must exist: doctor creates no store
            workers = _workers(WorkerRegistry(store), args.worker)
            vault = open_vault(config.vault, store_path)
            return _report(Doctor(config, vault), workers, log_name(args))
    except (BadArgument, FileNotFoundError, StoreError, VaultError) as error:
        print(f"doctor: {error}", file=sys.stderr)
        return 2


def _settings(args: argparse.Namespace) -> ServeConfig:
    """serve's configuration (`--config`), or real AWS with the store and the vault the options name."""
    vault = vault_config(args)  # with --config, also refuses the vault's options
    if args.config is None:
        return ServeConfig(data_dir=str(args.db.parent), vault=vault)
    return args.config.config


def _workers(registry: WorkerRegistry, worker_id: str | None) -> dict[str, WorkerConfig]:
    if worker_id is None:
        return {worker: config for worker, config in registry.list().items() if config.enabled}
    try:
        return {worker_id: registry.get(worker_id)}
    except UnknownWorker as error:
        raise BadArgument(f"WORKER: {error} (python run.py worker list shows them)") from None


def _report(doctor: Doctor, workers: dict[str, WorkerConfig], log: str) -> int:
    if not workers:
        print(f"doctor: no enabled worker in {log}: nothing to check")
        return 0
    counts = dict.fromkeys(("ok", "warn", "skip", "FAIL"), 0)
    for worker_id, config in workers.items():
        print(f"worker {worker_id} {config.name}" + ("" if config.enabled else " (disabled)"))
        for use, where in _labelled(config):
            for finding in doctor.check(worker_id, use):
                counts[finding.status] += 1
                print(f"  {finding.status:<4}  {where}: {finding.says}")
                if finding.fix is not None:
                    print(f"        fix: {finding.fix}")
    others = f"{_count(counts['warn'], 'warning')}, {counts['skip']} skipped"
    if counts["FAIL"]:
        print(f"doctor: {_count(counts['FAIL'], 'check')} failed ({others}): fix and run doctor again")
        return 1
    print(f"doctor: every check passed ({others})")
    return 0


def _labelled(config: WorkerConfig) -> Iterator[tuple[RegionUse, str]]:
    """Each region the worker uses with the words that name it (`region_uses`' order: primary, then
    the failover regions in the file's order)."""
    failovers = config.data.failover_region_config.failover_regions if config.data.failover_region_config else []
    uses = region_uses(config)
    yield uses[0], f"{uses[0].region} (primary)"
    for use, failover in zip(uses[1:], failovers, strict=True):
        yield use, f"{use.region} (failover {failover.name})"


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


class Doctor:
    """The checks of one region a worker uses, against the store's vault and with the clients `serve`
    would build from `config` (one pair per region and secret, shared by the workers naming it)."""

    def __init__(self, config: ServeConfig, vault: Vault, *, roles: RoleSessions | None = None) -> None:
        self._config = config
        self._vault = vault
        self._roles = roles or role_sessions(config, vault)
        self._create = region_clients(config, vault, roles=self._roles)
        self._clients: dict[tuple[str, str], RegionClients] = {}

    def check(self, worker_id: str, use: RegionUse) -> Iterator[Finding]:
        static = self._static(use)
        resolved = self._secret(worker_id, use, static=static)
        yield resolved
        if static:
            yield Finding(
                "skip",
                f"the role is not assumed: serve's configuration gives {use.region} static_credentials "
                "(a local Amazon Connect), so serve assumes none there",
            )
        elif resolved.status == "FAIL":
            for what in ("the role", "the contact flow", "the queue"):
                yield Finding("skip", f"{what} is not checked: the secret does not resolve")
            return
        else:
            assumed = self._assume(worker_id, use)
            yield assumed
            if assumed.status == "FAIL":
                for what in ("the contact flow", "the queue"):
                    yield Finding("skip", f"{what} is not checked: there are no credentials to call Connect with")
                return
        clients = self._clients_for(use)
        yield self._contact_flow(worker_id, use, clients)
        yield self._queue(worker_id, use, clients)

    def _secret(self, worker_id: str, use: RegionUse, *, static: bool) -> Finding:
        try:
            role = read_role(self._vault, use.secret, where=use.secret_field)
        except CredentialsUnavailable as failure:
            if failure.code == "SecretNotFound":  # its message says how to put it, which the fix line says
                says = f"the secret {use.secret} ({use.secret_field}) does not resolve: the vault holds no such secret"
            else:
                says = f"the secret {use.secret} ({use.secret_field}) does not resolve: {failure}"
            if static:
                # serve never reads it there, so nothing fails today; it will once the region signs with the role.
                return Finding(
                    "warn",
                    f"{says}; serve does not read it while {use.region} has static_credentials",
                    _secret_fix(failure.code, worker_id, use),
                )
            return Finding("FAIL", says, _secret_fix(failure.code, worker_id, use))
        return Finding("ok", f"the secret {use.secret} ({use.secret_field}) resolves to the role {role.role_arn}")

    def _assume(self, worker_id: str, use: RegionUse) -> Finding:
        try:
            self._roles.assumer(use.secret, use.region, where=use.secret_field)()
        except CredentialsUnavailable as failure:
            refused = CredentialsRefused("AssumeRole", failure.code, failure.message)
            detail = denial_detail(refused, worker_id=worker_id, target=_target(use))
            says = f"the role {use.secret} names cannot be assumed: {detail.code}: {detail.message}"
            return Finding("FAIL", says, _role_fix(failure.code, worker_id, use))
        session = role_session_name(use.secret)
        return Finding("ok", f"the role can be assumed through STS in {use.region} (session {session})")

    def _contact_flow(self, worker_id: str, use: RegionUse, clients: RegionClients) -> Finding:
        fields = _fields(use)
        flow_id, instance_id = use.contact_flow_id, use.instance_id
        try:
            flow = clients.contacts.describe_contact_flow(instance_id, flow_id)
        except NotFound as error:
            if error.code == "ContactFlowNotPublishedException":
                return Finding(
                    "FAIL",
                    f"the contact flow {flow_id} of instance {instance_id} is saved but not published: {error.detail}",
                    "publish the flow in the Amazon Connect console: chats start only in published flows",
                )
            return Finding(
                "FAIL",
                f"the contact flow {flow_id} was not found in instance {instance_id} in {use.region}: "
                f"Connect said: {error.detail}",
                f"correct {fields}InstanceId or {fields}ContactFlowId "
                f"(python run.py worker update {worker_id} FILE.json): both must be ids in {use.region}'s Amazon Connect",
            )
        except ConnectError as error:
            return _connect_failure(
                error, worker_id, use, f"the contact flow {flow_id} of instance {instance_id}", self._signer(use)
            )
        if flow.state != "ACTIVE":
            return Finding(
                "FAIL",
                f"the contact flow {flow_id} ({flow.name}) of instance {instance_id} is {flow.state}",
                f"restore it in the Amazon Connect console, or set {fields}ContactFlowId to an active flow",
            )
        return Finding("ok", f"instance {instance_id} has the contact flow {flow_id} ({flow.name})")

    def _queue(self, worker_id: str, use: RegionUse, clients: RegionClients) -> Finding:
        fields = _fields(use)
        if use.queue_id is None:
            return Finding("warn", f"no QueueId: set {fields}QueueId to let bots see the queue")
        try:
            metrics = clients.contacts.queue_metrics(use.instance_id, use.queue_id)
        except NotFound as error:
            return Finding(
                "FAIL",
                f"the queue {use.queue_id} was not found in instance {use.instance_id} in {use.region}: "
                f"Connect said: {error.detail}",
                f"correct {fields}QueueId (python run.py worker update {worker_id} FILE.json)",
            )
        except ConnectError as error:
            return _connect_failure(
                error, worker_id, use, f"the queue {use.queue_id} of instance {use.instance_id}", self._signer(use)
            )
        return Finding(
            "ok",
            f"the figures of queue {use.queue_id} can be read: {_count(metrics.agents_online, 'agent')} online, "
            f"{metrics.agents_available} available, {_count(metrics.contacts_in_queue, 'chat')} waiting",
        )

    def _static(self, use: RegionUse) -> bool:
        return self._config.regions.get(use.region, RegionOverride()).static_credentials

    def _signer(self, use: RegionUse) -> str:
        return "serve's static credentials" if self._static(use) else f"the role {use.secret} names"

    def _clients_for(self, use: RegionUse) -> RegionClients:
        key = (use.region, use.secret)
        if key not in self._clients:
            self._clients[key] = self._create(use.region, use.secret)
        return self._clients[key]


def _target(use: RegionUse) -> ConnectTarget:
    return ConnectTarget(
        region=use.region, instance_id=use.instance_id, contact_flow_id=use.contact_flow_id, secret=use.secret
    )


def _fields(use: RegionUse) -> str:
    """The JSON path the region's fields share: `$.Data.` or `$.Data.FailoverRegionConfig.FailoverRegions[0].`."""
    return use.secret_field.removesuffix("Secret")


def _policy(worker_id: str) -> str:
    return f"python run.py worker policy {worker_id}"


def _secret_fix(code: str, worker_id: str, use: RegionUse) -> str:
    if code == "SecretNotFound":
        return f"put the role in the vault: python run.py secret put {use.secret} --file FILE, FILE holding {ROLE_FILE}"
    if code == "InvalidSecretReference":
        return (
            f"set {use.secret_field} to a role's reference, srn:vault::ORG:aws-cross-account-role:ALIAS "
            f"(python run.py worker update {worker_id} FILE.json)"
        )
    if code == "InvalidSecretValue":
        return f"put the role again as {ROLE_FILE}: python run.py secret put {use.secret} --file FILE"
    return (
        "make the vault readable: the local vault needs its key file vault-secret.key beside the store, "
        "Secrets Manager needs secretsmanager:GetSecretValue on connect-worker/* for this service"
    )


def _role_fix(code: str, worker_id: str, use: RegionUse) -> str:
    if code == "AssumeRoleDenied":
        return (
            f"give the role the TrustPolicy `{_policy(worker_id)}` prints (this service's principal, with the "
            "role's external id), and the principal the PrincipalPolicy it prints (sts:AssumeRole on the role)"
        )
    if code in ("NoServiceCredentials", "ServiceCredentialsRefused"):
        return (
            "give this service AWS credentials of its own that STS accepts (environment, profile, instance or "
            "task role): it assumes every role with them"
        )
    if code == "StsRegionDisabled":
        return f"activate {use.region} for STS in the IAM account settings of this service's account"
    if code == "StsUnavailable":
        return f"run doctor again later: STS in {use.region} was throttling, failing or out of reach"
    if code == "AssumeRoleFailed":
        return f"see STS's words above; `{_policy(worker_id)}` prints what the role needs"
    return _secret_fix(code, worker_id, use)


def _connect_failure(error: ConnectError, worker_id: str, use: RegionUse, what: str, signer: str) -> Finding:
    """A refused or failed Connect call: a denial says which permission the role lacks, as the hand-back
    does; anything else gives Connect's words."""
    if isinstance(error, CredentialsRefused):
        detail = denial_detail(error, worker_id=worker_id, target=_target(use))
        return Finding("FAIL", f"{detail.code}: {detail.message}", _role_fix(error.code, worker_id, use))
    if isinstance(error, AccessDenied):
        action = f"connect:{error.operation}"
        return Finding(
            "FAIL",
            f"{action} on {what} in {use.region} was denied to {signer}: its permissions "
            f"policy must allow it; Connect said: {error.detail}",
            f"give the role the PermissionsPolicy `{_policy(worker_id)}` prints (it allows {action})",
        )
    if isinstance(error, RetryableError):
        return Finding(
            "FAIL",
            f"{error.operation} on {what} in {use.region} did not get an answer: {error.code}: {error.detail}",
            f"run doctor again later; if it persists, check that Amazon Connect in {use.region} can be reached "
            "(serve's regions.endpoint_url, the network)",
        )
    return Finding(
        "FAIL",
        f"{error.operation} on {what} in {use.region} was refused: {error.code}: {error.detail}",
        f"correct the worker's {_fields(use)}InstanceId, ContactFlowId and QueueId (python run.py worker update "
        f"{worker_id} FILE.json) as Connect's words say",
    )
