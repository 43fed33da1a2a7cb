"""Assumed-role credentials under kills: the worker's `Secret` is a cross-account role in the vault, its
region is signed with the role's credentials, assumed through the local Connect's STS by every service
start (tests/crash/role_checks.py checks the AssumeRole calls; the common checks, the conversations)."""

from __future__ import annotations

from tests.crash.connect_side import ROLE_REGION
from tests.crash.scenarios.conversation import WorkerPlan
from tests.crash.scenarios.talking import AnaAnswers

ROLE_REFERENCE = "srn:vault::crash:aws-cross-account-role:assumed"
ROLE = {"RoleArn": "arn:aws:iam::210987654321:role/crash-connect-worker", "ExternalId": "crash-external-id-7f3a"}


class AssumedRole(AnaAnswers):
    """As AnaAnswers, in ROLE_REGION, where the service signs with the role its worker's Secret names."""

    name = "role"
    worker = WorkerPlan(data={"Region": ROLE_REGION, "Secret": ROLE_REFERENCE}, roles={ROLE_REFERENCE: ROLE})
