"""The AWS operations a connector may call, looked up in botocore's own service models.

A connector names its service as `Endpoint` (`Translate`, `SES`: boto3's service name, in any case)
and its operation as `Method`, in the seed's camelCase (`translateText`, `sendEmail`, as the AWS SDK
for JavaScript spells them). `find_operation` checks both against the models botocore ships and
gives the operation with boto3's snake_case method name; `parameter_problem` walks the operation's
input shape along a request path, so a misspelt parameter is named before anything is called.

    >>> operation = find_operation("SES", "sendEmail")
    >>> operation.service, operation.name, operation.python_method
    ('ses', 'SendEmail', 'send_email')
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import botocore.session
from botocore import xform_name
from botocore.model import OperationModel, ServiceModel, Shape

from connectors.json_paths import steps_text


@dataclass(frozen=True)
class AwsOperation:
    """One operation of one AWS service, as botocore's model describes it."""

    service: str
    model: OperationModel

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def python_method(self) -> str:
        """boto3's name of the operation's method on a client: `send_email`."""
        return xform_name(self.model.name)

    @property
    def idempotency_member(self) -> str | None:
        """The request parameter the model marks as an idempotency token (`ClientToken`), if any."""
        members = self.model.idempotent_members
        return members[0] if members else None


class UnknownOperation(LookupError):
    """The `Endpoint` or `Method` names nothing in botocore's models; `field` says which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def find_operation(endpoint: str, method: str) -> AwsOperation:
    """The operation `method` of service `endpoint`, or `UnknownOperation` naming the wrong field."""
    services = _services()
    service = services.get(endpoint.lower())
    if service is None:
        raise UnknownOperation(
            "Endpoint", f"{endpoint!r} is not an AWS service that boto3 knows{_guess(endpoint.lower(), services)}"
        )
    model = _service_model(service)
    camel_names = {_camel(name): name for name in model.operation_names}
    operation = camel_names.get(method) or (method if method in model.operation_names else None)
    if operation is None:
        raise UnknownOperation(
            "Method", f"{model.service_id} has no operation {method!r}{_guess(method, camel_names)}"
        )
    return AwsOperation(service=service, model=model.operation_model(operation))


def parameter_problem(operation: AwsOperation, steps: Sequence[str | int]) -> str | None:
    """What is wrong with writing the request parameter at `steps` (names and list indexes), or None.

    Only names are checked against the model (a structure's members, a list's items, a map's
    values); the types of the values are botocore's to check when the call is made.
    """
    shape: Shape | None = operation.model.input_shape
    for depth, step in enumerate(steps):
        if shape is None or shape.type_name not in ("structure", "list", "map"):
            return f"{steps_text(steps[:depth]).lstrip('.')} is a single value in {operation.name}'s request, not an object or a list"
        if shape.type_name == "list":
            if not isinstance(step, int):
                return f"{steps_text(steps[:depth]).lstrip('.')} is a list in {operation.name}'s request: expected an index such as [0]"
            shape = shape.member
        elif isinstance(step, int):
            return f"{steps_text(steps[:depth]).lstrip('.')} is not a list in {operation.name}'s request"
        elif shape.type_name == "map":
            shape = shape.value
        elif step in shape.members:
            shape = shape.members[step]
        else:
            return f"{operation.name} takes no parameter {steps_text(steps[: depth + 1]).lstrip('.')}{_guess(step, shape.members)}"
    return None


@cache
def _services() -> dict[str, str]:
    """boto3's service names by their lowercase form."""
    return {name.lower(): name for name in _botocore().get_available_services()}


@cache
def _service_model(service: str) -> ServiceModel:
    return _botocore().get_service_model(service)


@cache
def _botocore() -> botocore.session.Session:
    return botocore.session.get_session()


def _camel(operation: str) -> str:
    return operation[:1].lower() + operation[1:]


def _guess(word: str, choices: Iterable[str]) -> str:
    found = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {found[0]!r}?)" if found else ""
