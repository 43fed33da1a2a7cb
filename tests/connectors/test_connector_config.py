"""The seed's connector file: what parses, and how a mistake is pointed out."""

from __future__ import annotations

import json

import pytest

from connectors.config import InvalidConnectorConfig, encode_connector_config, parse_connector_config
from tests.connectors.seeds import EMAIL_FILE, TRANSLATE_FILE, seed_email, seed_translate


def problems_of(document: dict | bytes) -> list[str]:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    with pytest.raises(InvalidConnectorConfig) as caught:
        parse_connector_config(raw)
    return caught.value.problems


def test_the_seed_translate_connector_parses_with_every_field_kept() -> None:
    config = parse_connector_config(TRANSLATE_FILE.read_bytes())
    assert (config.alias, config.type, config.endpoint, config.method) == (
        "IngressTranslateBaas", "aws-sdk", "Translate", "translateText"
    )
    assert config.credentials == "srn:vault::YOURORG:secretdoc:translatesecret"
    assert config.request_mapping["Text"].input_path == "$.Text"
    assert config.request_mapping["Text"].request_body_path == "$.Text"
    assert config.headers == {"content-type": "application/json"}
    assert (config.persona, config.organization, config.description) == (
        "/images/blueprints/amazon-comprehend.svg", "shane", "Translate Language"
    )
    assert (config.created, config.updated) == (1585215907115, None)


def test_the_seed_email_connector_parses_with_its_body_and_times() -> None:
    config = parse_connector_config(EMAIL_FILE.read_bytes())
    assert (config.alias, config.endpoint, config.method) == ("sendEmail", "SES", "sendEmail")
    assert config.request_mapping["Email"].request_body_path == "$.Destination.ToAddresses[0]"
    assert config.body["Source"] == "YOUR_SOURCE@EMAIL.HERE"
    assert config.body["Message"]["Subject"] == {"Data": "Subject here"}
    assert config.description == "!Ref:::Parameters.baasDescription"
    assert (config.created, config.updated) == (1585815972627, 1585818222020)


def test_the_seed_text_with_its_trailing_comma_is_refused_at_the_comma() -> None:
    with_comma = TRANSLATE_FILE.read_bytes().replace(b'"IngressTranslateBaas"\n', b'"IngressTranslateBaas",\n')
    assert problems_of(with_comma) == ["line 32, column 34: JSON syntax error: trailing comma in object"]


def test_a_file_cut_short_is_named_by_line_and_column() -> None:
    text = TRANSLATE_FILE.read_bytes()
    cut = text[: text.index(b'"Text": {')]
    assert problems_of(cut) == ["line 14, column 5: JSON syntax error: input data was truncated"]


def test_encoded_connector_parses_back_to_the_same_config() -> None:
    config = parse_connector_config(EMAIL_FILE.read_bytes())
    assert parse_connector_config(encode_connector_config(config)) == config


def test_only_aws_sdk_connectors_are_supported() -> None:
    document = seed_translate()
    document["Type"] = "rest-api"
    assert problems_of(document) == ["$.Type: expected aws-sdk (the only connector type supported), got 'rest-api'"]


def test_every_wrong_field_is_named_at_once_and_a_secret_is_never_repeated() -> None:
    document = seed_email()
    document["Credentials"] = "AKIAIOSFODNN7EXAMPLE"
    document["Alias"] = "send email"
    document["Endpont"] = document.pop("Endpoint")
    document["RequestMapping"]["Email"]["type"] = "header"
    problems = problems_of(document)
    assert problems == [
        "$: unknown field `Endpont` (did you mean `Endpoint`?)",
        "$.Alias: expected an alias of 1 to 128 characters without spaces, got 'send email'",
        "$: missing required field `Endpoint`",
        "$.Credentials: expected a vault reference srn:vault::ORG:TYPE:ALIAS, got something else",
        "$.RequestMapping['Email'].type: expected requestBody, got 'header'",
    ]
    assert not any("AKIA" in problem for problem in problems)


def test_an_unknown_service_is_named_with_a_guess() -> None:
    document = seed_translate()
    document["Endpoint"] = "Translat"
    assert problems_of(document) == ["$.Endpoint: 'Translat' is not an AWS service that boto3 knows (did you mean 'translate'?)"]


def test_an_operation_the_service_lacks_is_named_with_a_guess() -> None:
    document = seed_email()
    document["Method"] = "sendMail"
    assert problems_of(document) == ["$.Method: SES has no operation 'sendMail' (did you mean 'sendEmail'?)"]


def test_the_service_and_the_operation_are_read_in_the_cases_people_write() -> None:
    document = seed_email()
    document["Endpoint"] = "ses"
    document["Method"] = "SendEmail"
    config = parse_connector_config(json.dumps(document))
    assert (config.endpoint, config.method) == ("ses", "SendEmail")


def test_body_names_the_operation_does_not_take_are_named_by_path() -> None:
    document = seed_email()
    document["Body"]["Sourse"] = document["Body"].pop("Source")
    document["Body"]["Message"]["Subjct"] = document["Body"]["Message"].pop("Subject")
    assert problems_of(document) == [
        "$.Body.Message.Subjct: SendEmail takes no parameter Message.Subjct (did you mean 'Subject'?)",
        "$.Body.Sourse: SendEmail takes no parameter Sourse (did you mean 'Source'?)",
    ]


def test_a_request_body_path_the_operation_does_not_take_is_named() -> None:
    document = seed_email()
    document["RequestMapping"]["Email"]["requestBodyPath"] = "$.Destination.ToAdresses[0]"
    assert problems_of(document) == [
        "$.RequestMapping['Email'].requestBodyPath: SendEmail takes no parameter Destination.ToAdresses"
        " (did you mean 'ToAddresses'?)"
    ]


def test_a_request_body_path_must_index_a_list_where_the_model_has_one() -> None:
    document = seed_email()
    document["RequestMapping"]["Email"]["requestBodyPath"] = "$.Destination.ToAddresses.First"
    assert problems_of(document) == [
        "$.RequestMapping['Email'].requestBodyPath: Destination.ToAddresses is a list in SendEmail's request:"
        " expected an index such as [0]"
    ]


def test_a_body_that_does_not_fit_a_request_body_path_is_named() -> None:
    document = seed_email()
    document["Body"]["Destination"] = {"ToAddresses": "maya@example.com"}
    assert problems_of(document) == [
        "$.RequestMapping['Email'].requestBodyPath: the Body does not fit:"
        " cannot write $.Destination.ToAddresses[0]: $.Destination.ToAddresses holds a string, not a list"
    ]


def test_paths_that_do_not_parse_or_name_more_than_one_place_are_named() -> None:
    document = seed_translate()
    document["RequestMapping"]["Text"]["inputPath"] = "$.Text Body"
    document["RequestMapping"]["Text"]["requestBodyPath"] = "$..Text"
    document["RequestMapping"]["SourceLanguageCode"]["inputPath"] = "Source"
    assert problems_of(document) == [
        "$.RequestMapping['SourceLanguageCode'].inputPath: expected a JSONPath starting with $, such as $.Text, got 'Source'",
    ]
    del document["RequestMapping"]["SourceLanguageCode"]
    assert problems_of(document) == [
        "$.RequestMapping['Text'].inputPath: not a JSONPath (Parse error at 1:7 near token Body (ID))",
        "$.RequestMapping['Text'].requestBodyPath: expected a path of names and indexes from $,"
        " such as $.Destination.ToAddresses[0], got '$..Text'",
    ]


def test_a_response_mapping_reads_the_response_into_the_output() -> None:
    document = seed_translate()
    document["ResponseMapping"] = {
        "Translation": {"type": "responseBody", "responseBodyPath": "$.TranslatedText", "outputPath": "$.Text"}
    }
    entry = parse_connector_config(json.dumps(document)).response_mapping["Translation"]
    assert (entry.response_body_path, entry.output_path) == ("$.TranslatedText", "$.Text")
    document["ResponseMapping"]["Translation"]["outputPath"] = "$.texts[*]"
    assert problems_of(document) == [
        "$.ResponseMapping['Translation'].outputPath: expected a path of names and indexes from $,"
        " such as $.Destination.ToAddresses[0], got '$.texts[*]'"
    ]
