"""The operator page in a real headless Chromium, on the running service with the local Amazon Connect:
an operator pastes an admin client's token and follows a conversation from its transfer to its hand-back
(its timeline and state), with the regions in use and the workers; a bot's token shows nothing and is
not kept; a revoked token signs the page out. No token ever reaches the page's source.

Needs Debian's chromium and chromium-driver (tests/support/browser.py); without them these tests skip."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions

from events import REDACTED
from events.conversation_events import ChatStarted, ConnectionOpened
from service.demo_worker import DEMO_WORKER_NAME
from tests.service.conftest import Running
from tests.service.harness import events_of, of_type, wait_for
from tests.support.browser import headless_chromium
from tests.support.browser import wait_for as page_shows

TOKEN_KEY = "connect-worker-operator-token"


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with headless_chromium() as driver:
        yield driver


def sign_in(browser: WebDriver, running: Running, token: str) -> None:
    browser.get(running.api.url + "/operator")
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.ID, "use-token").click()


def signed_in_as(browser: WebDriver, name: str) -> None:
    page_shows(browser, expected_conditions.text_to_be_present_in_element((By.ID, "client-name"), name), name)
    page_shows(browser, expected_conditions.visibility_of_element_located((By.ID, "views")), "the views")


def kept_token(browser: WebDriver) -> Any:
    return browser.execute_script(f"return sessionStorage.getItem('{TOKEN_KEY}');")


def table(browser: WebDriver, table_id: str, key: str) -> dict[str, list[str]]:
    """Each row's cells by the row's `data-KEY`, read in one go so that a poll cannot tear the reading."""
    return browser.execute_script(
        f"return Object.fromEntries([...document.querySelectorAll('#{table_id} tbody tr')]"
        f".map(tr => [tr.dataset.{key}, [...tr.cells].map(td => td.textContent)]));"
    )


def state(browser: WebDriver) -> dict[str, str]:
    return browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#conversation-state dd')]"
        ".map(dd => [dd.dataset.field, dd.textContent]));"
    )


def timeline(browser: WebDriver) -> list[tuple[str, str]]:
    """(type, fields as shown) of each timeline entry."""
    rows = browser.execute_script(
        "return [...document.querySelectorAll('#timeline li')]"
        ".map(li => [li.dataset.type, li.querySelector('.fields').textContent]);"
    )
    return [tuple(row) for row in rows]


def shows_in_timeline(kind: str, words: str = "") -> Any:
    return lambda browser: any(shown == kind and words in fields for shown, fields in timeline(browser))


def shows_state(field: str, value: str) -> Any:
    return lambda browser: state(browser).get(field) == value


def credentials_in_the_log(running: Running, conversation_id: str) -> list[str]:
    events = events_of(running.store, conversation_id)
    started: list[ChatStarted] = of_type(events, "ChatStarted")
    opened: list[ConnectionOpened] = of_type(events, "ConnectionOpened")
    tokens = [event.participant_token for event in started] + [event.connection_token or "" for event in opened]
    assert started and opened and all(tokens)
    return tokens


def test_an_operator_follows_a_conversation_from_transfer_to_hand_back(running: Running, browser: WebDriver) -> None:
    admin = running.clients.create("ops", admin=True)
    assert running.api.transfer("op-1", running.worker_id)[0] == 201
    wait_for(lambda: of_type(events_of(running.store, "op-1"), "AgentJoined"), "Ana to join op-1")

    sign_in(browser, running, admin.token)
    signed_in_as(browser, "ops")

    page_shows(browser, lambda b: table(b, "regions", "region").get("us-east-1", [])[2:3] == ["1"], "us-east-1 with 1 live")
    workers = page_shows(browser, lambda b: table(b, "workers", "workerId"), "the workers")
    name, worker_id, enabled, active_region = workers[running.worker_id][:4]
    assert (name, worker_id, enabled, active_region) == (DEMO_WORKER_NAME, running.worker_id, "yes", "us-east-1 (primary)")

    entry = (By.CSS_SELECTOR, '#conversation-list li[data-conversation-id="op-1"] button')
    page_shows(browser, expected_conditions.element_to_be_clickable(entry), "op-1 among the live conversations").click()
    page_shows(browser, shows_in_timeline("AgentJoined", "Ana"), "Ana joining in the timeline")
    assert [kind for kind, _ in timeline(browser)][:2] == ["Transferred", "ChatStartRequested"]
    assert state(browser)["Last known agent"] == "Ana"

    assert running.api.say("op-1", "m-1", "Where is <b>my</b> order?")[0] == 202
    page_shows(browser, shows_in_timeline("AgentMessageReceived", "You said: Where is <b>my</b> order?"), "Ana's echo")
    [(_, chat_started)] = [row for row in timeline(browser) if row[0] == "ChatStarted"]
    assert f'"participant_token":"{REDACTED}"' in chat_started
    assert browser.find_elements(By.CSS_SELECTOR, "#timeline b") == [], "a customer's markup became markup"

    assert running.api.call("POST", "/v1/conversations/op-1/leave")[0] == 202
    page_shows(browser, shows_state("Phase", "returned"), "the hand-back")
    assert state(browser)["Session end reason"] == "UserLeft"
    page_shows(browser, expected_conditions.visibility_of_element_located((By.ID, "no-conversations")), "no live conversation")
    page_shows(browser, shows_in_timeline("ReturnedToBot"), "ReturnedToBot in the timeline")

    source = browser.page_source
    for secret in [admin.token, running.api.token, *credentials_in_the_log(running, "op-1")]:
        assert secret not in source
    assert kept_token(browser) == admin.token  # in this tab's sessionStorage only


def test_an_ended_conversation_is_opened_by_its_id(running: Running, browser: WebDriver) -> None:
    admin = running.clients.create("ops", admin=True)
    assert running.api.transfer("gone-1", running.worker_id)[0] == 201
    assert running.api.call("POST", "/v1/conversations/gone-1/leave")[0] == 202
    wait_for(lambda: of_type(events_of(running.store, "gone-1"), "ReturnedToBot"), "gone-1 handed back")

    sign_in(browser, running, admin.token)
    signed_in_as(browser, "ops")
    browser.find_element(By.ID, "open-id").send_keys("gone-1\n")

    page_shows(browser, shows_state("Phase", "returned"), "gone-1's state")
    assert browser.find_element(By.ID, "conversation-title").text == "Conversation gone-1"

    browser.find_element(By.ID, "open-id").clear()
    browser.find_element(By.ID, "open-id").send_keys("never-was\n")
    error = page_shows(browser, expected_conditions.visibility_of_element_located((By.ID, "error")), "an error")
    assert "No conversation never-was" in error.text
    assert not browser.find_element(By.ID, "conversation-panel").is_displayed()


def test_a_bots_token_shows_nothing_and_is_not_kept(running: Running, browser: WebDriver) -> None:
    assert running.api.transfer("bots-own", running.worker_id)[0] == 201

    sign_in(browser, running, running.api.token)

    error = page_shows(browser, expected_conditions.visibility_of_element_located((By.ID, "error")), "a refusal")
    assert '"test-bot"' in error.text and "admin client's token" in error.text and "--admin" in error.text
    assert not browser.find_element(By.ID, "views").is_displayed()
    assert kept_token(browser) is None
    assert browser.find_element(By.ID, "token").get_attribute("value") == ""
    assert "bots-own" not in browser.page_source
    assert running.api.token not in browser.page_source

    browser.find_element(By.ID, "token").send_keys("not-a-token")
    browser.find_element(By.ID, "use-token").click()
    page_shows(browser, expected_conditions.text_to_be_present_in_element((By.ID, "error"), "refused this token"), "401")
    assert kept_token(browser) is None


def test_the_token_lasts_the_tab_until_forgotten_or_revoked(running: Running, browser: WebDriver) -> None:
    admin = running.clients.create("ops", admin=True)
    sign_in(browser, running, admin.token)
    signed_in_as(browser, "ops")

    browser.refresh()
    signed_in_as(browser, "ops")
    browser.find_element(By.ID, "forget").click()
    assert kept_token(browser) is None
    assert not browser.find_element(By.ID, "views").is_displayed()
    assert browser.find_element(By.ID, "sign-in").is_displayed()

    browser.find_element(By.ID, "token").send_keys(admin.token)
    browser.find_element(By.ID, "use-token").click()
    signed_in_as(browser, "ops")
    running.clients.revoke(admin.client.id)

    page_shows(browser, expected_conditions.text_to_be_present_in_element((By.ID, "error"), "no longer takes"), "sign-out")
    assert not browser.find_element(By.ID, "views").is_displayed()
    assert kept_token(browser) is None
    assert admin.token not in browser.page_source
