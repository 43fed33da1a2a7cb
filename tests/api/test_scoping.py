"""A bot sees and changes only the conversations it handed over; another bot's answers 404 exactly as one
that does not exist; an admin client sees them all."""

from __future__ import annotations

from tests.api.conftest import Served

CONVERSATION_ROUTES = [
    ("GET", "/v1/conversations/{id}", None),
    ("POST", "/v1/conversations/{id}/messages", {"MessageId": "m-1", "Text": "hi"}),
    ("POST", "/v1/conversations/{id}/typing", None),
    ("POST", "/v1/conversations/{id}/leave", None),
    ("PUT", "/v1/conversations/{id}/context", {"Context": {"plan": "gold"}}),
    ("GET", "/v1/conversations/{id}/events?after=0", None),
    ("GET", "/v1/conversations/{id}/timeline", None),
]


def test_another_bots_conversation_answers_exactly_as_an_unknown_one_on_every_route(served: Served) -> None:
    served.conversation_of(served.alice, "alices")
    bob = served.api(served.bob)

    for method, path, body in CONVERSATION_ROUTES:
        status, answer = bob.call(method, path.format(id="alices"), body)
        unknown_status, unknown = bob.call(method, path.format(id="nobodys"), body)
        assert (status, answer["Code"]) == (unknown_status, unknown["Code"]) == (404, "unknown_conversation"), path
        assert answer["Message"].replace("alices", "X") == unknown["Message"].replace("nobodys", "X"), path


def test_the_owner_and_an_admin_see_it(served: Served) -> None:
    served.conversation_of(served.alice, "alices")

    for who in (served.alice, served.admin):
        status, conversation = served.api(who).call("GET", "/v1/conversations/alices")
        assert (status, conversation["ConversationId"]) == (200, "alices")
        status, page = served.api(who).call("GET", "/v1/conversations/alices/events?after=0")
        assert (status, page["Ended"]) == (200, False)


def test_the_list_holds_the_callers_own_conversations_and_every_one_for_an_admin(served: Served) -> None:
    served.conversation_of(served.alice, "a-1")
    served.conversation_of(served.alice, "a-2")
    served.conversation_of(served.bob, "b-1")

    def listed(who: object) -> list[str]:
        status, answer = served.api(who).call("GET", "/v1/conversations")
        assert status == 200
        return sorted(answer["Conversations"])

    assert listed(served.alice) == ["a-1", "a-2"]
    assert listed(served.bob) == ["b-1"]
    assert listed(served.admin) == ["a-1", "a-2", "b-1"]


def test_a_conversation_from_before_clients_is_an_admins_only(served: Served) -> None:
    served.conversation_of(None, "old")

    assert served.api(served.alice).call("GET", "/v1/conversations/old")[0] == 404
    assert served.api(served.admin).call("GET", "/v1/conversations/old")[0] == 200


def test_transferring_another_bots_conversation_id_says_it_is_taken_and_nothing_more(served: Served) -> None:
    served.conversation_of(served.alice, "alices")
    body = {"ConversationId": "alices", "WorkerId": "w", "BotName": "B", "DeliverTo": None}

    status, answer = served.api(served.bob).call("POST", "/v1/conversations", body)

    assert (status, answer["Code"]) == (409, "conversation_id_taken")
    assert "alice" not in answer["Message"].replace("'alices'", "")
