"""`run.py worker init`: a new worker file in the seed's format, from the address of the contact flow's page.

The seed's Blueprint walk-through takes the instance id and the contact flow id "from the URL of the
contact flow page" (`…/instance/<id>/contact-flow/<id>`). The Amazon Connect admin website's flow page
(Routing, Flows, the flow) has them in its address, inside the flow's ARN, percent-encoded or not:
`https://ALIAS.my.connect.aws/contact-flows/edit?id=arn:aws:connect:REGION:ACCOUNT:instance/ID/contact-flow/ID`;
the ARN that "Show additional flow information" shows on that page does as well.

    >>> read_contact_flow_address("https://acme.my.connect.aws/contact-flows/edit?id=arn%3Aaws%3Aconnect%3A"
    ...     "us-east-1%3A123456789012%3Ainstance%2Fi-1%2Fcontact-flow%2Ff-1")
    ContactFlowAddress(instance_id='i-1', contact_flow_id='f-1', region='us-east-1')
"""

from __future__ import annotations

import argparse
import json
import re
import urllib.parse
from pathlib import Path
from typing import Any, NamedTuple

from commands.vault_options import BadArgument
from events.worker_config import (
    DEFAULT_INITIAL_CONNECTION_MESSAGE,
    WORKER_TYPE,
    InvalidWorkerConfig,
    parse_worker_config,
)

DEFAULT_NAME = "ConnectOne"  # the seed's example worker
DESCRIPTION = "Worker that routes to livechat agents"  # the seed's example worker's
URL_OPTION = "--contact-flow-url"

# An id runs up to the next separator of a path, a query or an ARN qualifier (`:$SAVED`), or the end.
_IDS = re.compile(r"instance/(?P<instance>[A-Za-z0-9-]+)/contact-flow/(?P<flow>[A-Za-z0-9-]+)(?=[/?#&:]|$)")
_ARN_REGION = re.compile(r"arn:aws[a-z-]*:connect:(?P<region>[a-z0-9-]+):\d{12}:$")
_HOW_TO_COPY = (
    "copy the address of the contact flow's page in the Amazon Connect admin website (Routing, Flows, the "
    "flow), or the flow's ARN from its 'Show additional flow information'"
)
# Which option gave each field the file checks, so that a problem names what to type differently.
_OPTIONS = {
    "$.Data.Region": "--region",
    "$.Data.Secret": "--secret",
    "$.Data.InstanceId": URL_OPTION,
    "$.Data.ContactFlowId": URL_OPTION,
    "$.Name": "--name",
}


class ContactFlowAddress(NamedTuple):
    instance_id: str
    contact_flow_id: str
    region: str | None  # the region the address's ARN names, if it has one


def read_contact_flow_address(url: str) -> ContactFlowAddress:
    """The instance and contact flow ids in a contact flow page's address (or the flow's ARN).

    Raises BadArgument, naming --contact-flow-url, for an address without `instance/ID/contact-flow/ID`."""
    text = _decoded(url.strip())
    match = _IDS.search(text)
    if match is None:
        raise BadArgument(
            f"{URL_OPTION}: {url!r} has no …/instance/<id>/contact-flow/<id> in it, so it names no contact flow: "
            f"{_HOW_TO_COPY}"
        )
    arn = _ARN_REGION.search(text[: match.start()])
    return ContactFlowAddress(match["instance"], match["flow"], arn["region"] if arn else None)


def worker_document(address: ContactFlowAddress, *, region: str, secret: str, name: str) -> dict[str, Any]:
    """The seed's worker JSON, keys in the seed's order, with only what a first chat needs."""
    if address.region is not None and address.region != region:
        raise BadArgument(
            f"--region {region} but the contact flow in {URL_OPTION} is in {address.region} (its ARN says so): "
            "a worker reaches its contact flow in the flow's own region"
        )
    return {
        "Data": {
            "ContactFlowId": address.contact_flow_id,
            "InitialConnectionMessage": DEFAULT_INITIAL_CONNECTION_MESSAGE,
            "InstanceId": address.instance_id,
            "Region": region,
            "Secret": secret,
        },
        "Description": DESCRIPTION,
        "Enabled": True,
        "Name": name,
        "Type": WORKER_TYPE,
    }


def add_init_verb(verbs: Any) -> argparse.ArgumentParser:
    init = verbs.add_parser(
        "init",
        help="write a new worker file from the address of its contact flow's page",
        description="Write a worker file in the seed's format, the instance id and contact flow id taken from the "
        "address of the contact flow's page (…/instance/<id>/contact-flow/<id>); it passes `worker validate`. "
        "Without --out it is printed.",
    )
    init.add_argument(URL_OPTION, required=True, metavar="URL", help=f"the contact flow's page: {_HOW_TO_COPY}")
    init.add_argument("--region", required=True, metavar="R", help="the AWS region of the Amazon Connect instance")
    init.add_argument(
        "--secret",
        required=True,
        metavar="REF",
        help="the vault reference of the cross-account role, srn:vault::ORG:aws-cross-account-role:ALIAS "
        "(its value is stored with `secret put`)",
    )
    init.add_argument("--name", default=DEFAULT_NAME, help=f"the worker's Name (default {DEFAULT_NAME})")
    init.add_argument("--out", type=Path, metavar="FILE", help="write the file here (never over an existing one)")
    return init


def run_init(args: argparse.Namespace) -> int:
    address = read_contact_flow_address(args.contact_flow_url)
    document = worker_document(address, region=args.region, secret=args.secret, name=args.name)
    text = json.dumps(document, indent=2) + "\n"
    try:
        config = parse_worker_config(text)
    except InvalidWorkerConfig as invalid:
        raise BadArgument("; ".join(_by_option(problem) for problem in invalid.problems)) from None
    if args.out is None:
        print(text, end="")
        return 0
    try:
        with args.out.open("x") as file:
            file.write(text)
    except FileExistsError:
        raise BadArgument(f"--out {args.out}: the file exists; choose another name or remove it first") from None
    print(
        f"wrote {args.out}: the worker {config.name!r}, contact flow {address.contact_flow_id} of instance "
        f"{address.instance_id} in {args.region}; store it with: python run.py worker create {args.out}"
    )
    return 0


def _decoded(text: str) -> str:
    """Percent-decoded until stable: a flow's ARN is encoded once in its page's address, twice if pasted
    from a link that quoted it again."""
    for _ in range(3):
        decoded = urllib.parse.unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


def _by_option(problem: str) -> str:
    path, _, words = problem.partition(": ")
    return f"{_OPTIONS[path]}: {words}" if path in _OPTIONS else problem
