"""Cross-account roles: the roles vault references name, assumed through STS with their external id and
renewed by botocore before they expire; connectors' credentials through the same vault; the IAM
policies a worker's roles need. See roles/README.md."""

from roles.assume import SESSION_SECONDS, RoleAssumer, role_session_name
from roles.connector_credentials import VaultCredentials, access_keys
from roles.errors import CredentialsUnavailable
from roles.lookup import read_role
from roles.policy import check_principal, principal_of, region_uses, worker_policy, worker_secrets
from roles.sessions import RoleSessions, refreshable_session

__all__ = [
    "SESSION_SECONDS",
    "CredentialsUnavailable",
    "RoleAssumer",
    "RoleSessions",
    "VaultCredentials",
    "access_keys",
    "check_principal",
    "principal_of",
    "read_role",
    "refreshable_session",
    "region_uses",
    "role_session_name",
    "worker_policy",
    "worker_secrets",
]
