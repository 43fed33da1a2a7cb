"""The seed's worker file: what parses, and how a mistake is pointed out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from events.worker_config import (
    DEFAULT_INITIAL_CONNECTION_MESSAGE,
    InvalidWorkerConfig,
    active_failover_region,
    encode_worker_config,
    parse_worker_config,
)

SEED_EXAMPLE = Path(__file__).with_name("seed_example_worker.json").read_bytes()


def valid_worker() -> dict:
    return {
        "Data": {
            "ContactFlowId": "8949fcc8-9d49-4e97-8bb5-eba4a847f1a1",
            "InstanceId": "618c435d-1330-45a5-9834-285c5422de81",
            "Region": "us-east-1",
            "Secret": "srn:vault::acme:aws-cross-account-role:connect",
            "AutoDisconnectEvents": [
                {"SecondsAfterAgentMessage": 10, "Type": "WARNING", "UserMessage": "Still there?"},
                {"SecondsAfterAgentMessage": 20, "Type": "DISCONNECT", "UserMessage": "Bye"},
            ],
            "SlashCommands": {
                "/welcome": {"actions": [{"type": "content", "value": "welcomewithname"}], "description": "hi"}
            },
            "FailoverRegionConfig": {
                "ActiveFailoverRegion": "us-west-2-oregon",
                "FailoverRegions": [
                    {
                        "Secret": "srn:vault::acme:aws-cross-account-role:failover",
                        "Region": "us-west-2",
                        "InstanceId": "618c435d-1330-45a5-9834-285c5422de81",
                        "ContactFlowId": "8949fcc8-9d49-4e97-8bb5-eba4a847f1a1",
                        "Name": "us-west-2-oregon",
                    }
                ],
            },
        },
        "Description": "Worker that routes to livechat agents",
        "Enabled": True,
        "Name": "ConnectOne",
        "Type": "amazon-connect-worker",
    }


def problems_of(document: dict | bytes) -> list[str]:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    with pytest.raises(InvalidWorkerConfig) as caught:
        parse_worker_config(raw)
    return caught.value.problems


def test_seed_example_is_refused_at_its_comment_with_line_and_column() -> None:
    assert problems_of(SEED_EXAMPLE) == ["line 32, column 13: JSON syntax error: comments are not allowed in JSON; remove it"]


def test_seed_example_without_its_comment_is_refused_at_its_trailing_comma() -> None:
    without_comment = SEED_EXAMPLE.replace(b"//Another valid botnet action", b"")
    assert problems_of(without_comment) == ["line 53, column 6: JSON syntax error: trailing comma in object"]


def test_seed_example_in_strict_json_is_refused_at_the_empty_action() -> None:
    strict = SEED_EXAMPLE.replace(b"//Another valid botnet action", b"").replace(b"    ],\n  },", b"    ]\n  },")
    assert problems_of(strict) == [
        "$.Data.SlashCommands['/welcome'].actions[1]: missing required field `type`",
        "$.Data.SlashCommands['/welcome'].actions[1]: missing required field `value`",
    ]


def test_seed_example_without_its_empty_action_is_refused_at_the_trailing_comma() -> None:
    empty_action = b"""},
          {
            //Another valid botnet action
          }"""
    without_empty_action = SEED_EXAMPLE.replace(empty_action, b"}")
    assert problems_of(without_empty_action) == ["line 50, column 6: JSON syntax error: trailing comma in object"]


def test_valid_worker_parses_with_the_default_initial_connection_message() -> None:
    config = parse_worker_config(json.dumps(valid_worker()))
    assert config.name == "ConnectOne"
    assert config.data.initial_connection_message == DEFAULT_INITIAL_CONNECTION_MESSAGE
    assert config.data.auto_disconnect_events[1].type == "DISCONNECT"
    assert config.data.slash_commands["/welcome"].actions[0].value == "welcomewithname"


def test_encoded_worker_parses_back_to_the_same_config() -> None:
    config = parse_worker_config(json.dumps(valid_worker()))
    assert parse_worker_config(encode_worker_config(config)) == config


def test_wrong_auto_disconnect_type_names_its_path_and_the_allowed_values() -> None:
    document = valid_worker()
    document["Data"]["AutoDisconnectEvents"][1]["Type"] = "KICK"
    assert problems_of(document) == ["$.Data.AutoDisconnectEvents[1].Type: expected WARNING or DISCONNECT, got 'KICK'"]


def test_misspelt_field_is_named() -> None:
    document = valid_worker()
    document["Data"]["Regoin"] = document["Data"].pop("Region")
    assert problems_of(document) == [
        "$.Data: unknown field `Regoin` (did you mean `Region`?)",
        "$.Data: missing required field `Region`",
    ]


def test_region_must_look_like_an_aws_region() -> None:
    document = valid_worker()
    document["Data"]["Region"] = "Oregon"
    assert problems_of(document) == ["$.Data.Region: expected an AWS region such as us-east-1, got 'Oregon'"]


def test_secret_must_be_a_vault_srn() -> None:
    document = valid_worker()
    document["Data"]["Secret"] = "hunter2"
    [problem] = problems_of(document)
    assert problem == "$.Data.Secret: expected a vault reference srn:vault::ORG:TYPE:ALIAS, got something else"
    assert "hunter2" not in problem


def test_worker_type_must_be_amazon_connect_worker() -> None:
    document = valid_worker()
    document["Type"] = "flow-worker"
    assert problems_of(document) == ["$.Type: expected amazon-connect-worker, got 'flow-worker'"]


def test_warning_after_the_disconnect_is_refused() -> None:
    document = valid_worker()
    document["Data"]["AutoDisconnectEvents"][0]["SecondsAfterAgentMessage"] = 30
    assert problems_of(document) == [
        "$.Data.AutoDisconnectEvents[0].SecondsAfterAgentMessage: a WARNING at 30 s would never fire"
        " before the DISCONNECT at 20 s"
    ]


def test_warning_without_any_message_is_refused() -> None:
    document = valid_worker()
    del document["Data"]["AutoDisconnectEvents"][0]["UserMessage"]
    assert problems_of(document) == ["$.Data.AutoDisconnectEvents[0]: a WARNING needs a UserMessage, an AgentMessage or both"]


def test_slash_command_action_type_must_be_known() -> None:
    document = valid_worker()
    document["Data"]["SlashCommands"]["/welcome"]["actions"][0]["type"] = "dance"
    assert problems_of(document) == [
        "$.Data.SlashCommands['/welcome'].actions[0].type: expected content or executeApi, got 'dance'"
    ]


def test_initial_connection_message_must_be_a_subscribe_frame() -> None:
    document = valid_worker()
    document["Data"]["InitialConnectionMessage"] = '{"topic":"aws/heartbeat"}'
    [problem] = problems_of(document)
    assert problem.startswith("$.Data.InitialConnectionMessage: expected a subscribe frame")


def test_failover_names_must_be_unique() -> None:
    document = valid_worker()
    regions = document["Data"]["FailoverRegionConfig"]["FailoverRegions"]
    regions.append(dict(regions[0]))
    assert problems_of(document) == [
        "$.Data.FailoverRegionConfig.FailoverRegions[1].Name: 'us-west-2-oregon' is used twice"
    ]


def test_active_failover_region_is_the_one_named() -> None:
    config = parse_worker_config(json.dumps(valid_worker()))
    region = active_failover_region(config)
    assert region is not None and region.region == "us-west-2"


def test_active_failover_region_naming_nothing_leaves_the_primary() -> None:
    document = valid_worker()
    document["Data"]["FailoverRegionConfig"]["ActiveFailoverRegion"] = "mars-1"
    assert active_failover_region(parse_worker_config(json.dumps(document))) is None


def test_every_wrong_field_is_named_at_once_in_words() -> None:
    document = valid_worker()
    data = document["Data"]
    data["Region"] = "Oregon"
    data["InstanceId"] = ""
    data["EgressTranslationConfig"] = {"ConnectorAlias": "t", "SourceLanguageCode": "english", "TargetLanguageCode": "de"}
    data["AutoDisconnectEvents"][0]["SecondsAfterAgentMessage"] = 0
    data["AutoDisconnectEvents"][1]["Type"] = "KICK"
    data["FailoverRegionConfig"]["FailoverRegions"][0]["Secret"] = "hunter2"
    data["ShortLinkConfig"] = {"Type": "Squeeze", "Config": {"Api": "ftp://x", "ApiKey": "srn:vault::a:b:c"}}
    del document["Name"]
    document["Enabled"] = "yes"
    assert problems_of(document) == [
        "$.Data.InstanceId: expected a string of 1 to 100 characters, got ''",
        "$.Data.Region: expected an AWS region such as us-east-1, got 'Oregon'",
        "$.Data.ShortLinkConfig.Config.Api: expected an http:// or https:// URL, got 'ftp://x'",
        "$.Data.EgressTranslationConfig.SourceLanguageCode: expected a language code such as en or pt-BR, got 'english'",
        "$.Data.AutoDisconnectEvents[0].SecondsAfterAgentMessage: expected a whole number above 0, got 0",
        "$.Data.AutoDisconnectEvents[1].Type: expected WARNING or DISCONNECT, got 'KICK'",
        "$.Data.FailoverRegionConfig.FailoverRegions[0].Secret: expected a vault reference srn:vault::ORG:TYPE:ALIAS,"
        " got something else",
        "$: missing required field `Name`",
        "$.Enabled: expected true or false, got 'yes'",
    ]


def test_a_section_of_the_wrong_kind_is_named_once() -> None:
    document = valid_worker()
    document["Data"]["AutoDisconnectEvents"] = {"Type": "WARNING"}
    document["Data"]["SlashCommands"] = ["/welcome"]
    assert problems_of(document) == [
        "$.Data.SlashCommands: expected an object, got a list",
        "$.Data.AutoDisconnectEvents: expected a list, got an object",
    ]


def test_a_file_cut_short_is_named_at_its_end() -> None:
    assert problems_of(b'{\n  "Name": "x",\n  "Data": {') == [
        "line 3, column 12: JSON syntax error: input data was truncated"
    ]


def test_nesting_deeper_than_any_worker_is_named_where_it_passes_the_limit() -> None:
    deep = b'{"Data": {"SlashCommands": {"/a": {"description": "[[[ not nesting ]]]", "actions": ' + b"[" * 100_000
    [problem] = problems_of(deep)
    column = len(deep) - 100_000 + (32 - 4) + 1  # four objects are open before the first [
    assert problem == f"line 1, column {column}: JSON syntax error: nested deeper than 32 levels"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("Data", "Region"), "us-east-1\n"),
        (("Data", "Secret"), "srn:vault::acme:aws-cross-account-role:connect\n"),
        (("Data", "ShortLinkConfig"), {"Type": "Squeeze", "Config": {"Api": "https://sqz.example/s\n", "ApiKey": "srn:vault::a:secret:k"}}),
        (("Data", "IngressTranslationConfig"), {"ConnectorAlias": "T", "SourceLanguageCode": "es\n", "TargetLanguageCode": "en"}),
    ],
)
def test_a_value_with_a_trailing_newline_is_refused(path: tuple[str, str], value: object) -> None:
    """A pattern's `$` would let it through (Python's re matches `$` before a final newline)."""
    document = valid_worker()
    document[path[0]][path[1]] = value
    assert problems_of(document), f"{'.'.join(path)} = {value!r} was accepted"
