"""What a conversation says when its calls lack a permission or a trust: the cross-account role its
worker's `Secret` names could not be assumed (`CredentialsRefused`), or Connect denied the role a
call (`AccessDenied`, AccessDeniedException).

    if is_denial(error):
        detail = denial_detail(error, worker_id="w-1", target=target)
        # connect:StartChatContact on contact flow f-1 of instance i-1 in eu-west-2 was denied to the
        # role srn:vault::acme:aws-cross-account-role:connect names: its permissions policy must allow
        # it (`python run.py worker policy w-1` prints the policies the role needs); Connect said: ...

The message is what the bot is told (the hand-back's `Error`, `MessageRefused`, `ContextUpdateRefused`)
and what the operator's log line says; it names the permission or the trust to add, and the command
that prints the policies the role needs. It holds STS's and Connect's own words, which name the
principal and the resource, never a credential.
"""

from __future__ import annotations

from connect_client import AccessDenied, ConnectError, CredentialsRefused
from events.conversation_events import ConnectTarget, ErrorDetail

# The IAM action each Connect call the conversation makes with the role needs, and what it acts on.
# Participant calls (SendMessage, ...) are authorised by the chat's tokens instead: their 403 says a
# token is over, not that a permission is missing.
_ACTIONS = {
    "StartChatContact": ("connect:StartChatContact", "contact flow {flow} of instance {instance}"),
    "UpdateContactAttributes": ("connect:UpdateContactAttributes", "the contacts of instance {instance}"),
}


def is_denial(error: ConnectError) -> bool:
    """A refusal for want of a permission or a trust: no credentials to sign with, or Connect's
    AccessDeniedException to a call the role's policy must allow."""
    return isinstance(error, CredentialsRefused) or (isinstance(error, AccessDenied) and error.operation in _ACTIONS)


def denial_detail(error: ConnectError, *, worker_id: str, target: ConnectTarget) -> ErrorDetail:
    """The `ErrorDetail` of a denial (`is_denial`), saying what to allow and where."""
    policy = f"`python run.py worker policy {worker_id}` prints the policies the role needs"
    if isinstance(error, CredentialsRefused):
        # The role's own words say what to fix; a refused trust also says where to find the policy.
        hint = f"; {policy}" if error.code == "AssumeRoleDenied" else ""
        return ErrorDetail(code=error.code, message=f"{error.detail}{hint}")
    action, what = _ACTIONS[error.operation]
    resource = what.format(flow=target.contact_flow_id, instance=target.instance_id)
    signer = f"the role {target.secret} names" if target.secret else "this service's own credentials"
    return ErrorDetail(
        code=error.code,
        message=(
            f"{action} on {resource} in {target.region} was denied to {signer}: its permissions policy must "
            f"allow it ({policy}); Connect said: {error.detail}"
        ),
    )
