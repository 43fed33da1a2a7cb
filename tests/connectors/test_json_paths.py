"""Reading and writing the mappings' JSONPaths through jsonpath-ng."""

from __future__ import annotations

import pytest

from connectors.json_paths import BadJsonPath, CannotWrite, read, steps, write


def test_writing_an_indexed_path_creates_the_objects_and_the_list() -> None:
    request: dict = {}
    write("$.Destination.ToAddresses[0]", request, "maya@example.com")
    assert request == {"Destination": {"ToAddresses": ["maya@example.com"]}}


def test_writing_keeps_what_the_template_already_holds() -> None:
    request = {"Destination": {"CcAddresses": ["team@example.com"], "ToAddresses": ["old@example.com", "b@example.com"]}}
    write("$.Destination.ToAddresses[0]", request, "maya@example.com")
    assert request == {
        "Destination": {"CcAddresses": ["team@example.com"], "ToAddresses": ["maya@example.com", "b@example.com"]}
    }


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"Destination": "x"}, "$.Destination holds a string, not an object"),
        ({"Destination": {"ToAddresses": {}}}, "$.Destination.ToAddresses holds an object, not a list"),
        ({"Destination": {"ToAddresses": 7}}, "$.Destination.ToAddresses holds a number, not a list"),
    ],
)
def test_a_value_of_another_kind_on_the_way_is_named_and_left_alone(document: dict, problem: str) -> None:
    before = repr(document)
    with pytest.raises(CannotWrite) as caught:
        write("$.Destination.ToAddresses[0]", document, "maya@example.com")
    assert str(caught.value) == f"cannot write $.Destination.ToAddresses[0]: {problem}"
    assert repr(document) == before


@pytest.mark.parametrize("path", ["$", "$[0]", "$..Text", "$.To[*]", "$.To[-1]", "$.To[0,1]", "Text"])
def test_a_written_path_must_name_one_place(path: str) -> None:
    with pytest.raises(BadJsonPath):
        steps(path)


def test_a_written_path_gives_its_names_and_indexes() -> None:
    assert steps("$.Destination.ToAddresses[0]") == ("Destination", "ToAddresses", 0)
    assert steps("$['Odd key'].x") == ("Odd key", "x")


def test_reading_finds_none_one_or_several_values() -> None:
    document = {"email": "maya@example.com", "orders": [{"id": 1}, {"id": 2}]}
    assert read("$.phone", document) == []
    assert read("$.email", document) == ["maya@example.com"]
    assert read("$.orders[*].id", document) == [1, 2]
