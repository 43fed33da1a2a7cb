"""The agent page in a real headless Chromium: a person accepts a waiting
chat, reads the customer, answers, types and leaves, and the customer sees it
all on the participant WebSocket.

Needs Debian's chromium and chromium-driver (tests/support/browser.py); without
them these tests skip."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions

from connect_local import Config, LocalConnect
from tests.connect_local.clients import Clients, is_event, is_message
from tests.connect_local.configs import config_with
from tests.support.browser import headless_chromium, wait_for

TranscriptRow = tuple[str, str, str]


@pytest.fixture
def humans(start_server: Callable[[Config], LocalConnect]) -> Iterator[Clients]:
    """A server whose queue has no simulated agent: every chat waits for the page."""
    with Clients(start_server(config_with(agents=[]))) as clients:
        yield clients


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with headless_chromium() as driver:
        yield driver


def chat_entry(contact_id: str, state: str) -> tuple[str, str]:
    return By.CSS_SELECTOR, f'#chat-list li[data-contact-id="{contact_id}"][data-state="{state}"]'


def transcript_rows(browser: WebDriver) -> list[TranscriptRow]:
    """(role, type, text) of each transcript line, read in one go so that a
    poll re-rendering the transcript cannot tear the reading."""
    rows = browser.execute_script(
        "return [...document.querySelectorAll('#transcript li')]"
        ".map(li => [li.dataset.role, li.dataset.type, li.querySelector('.content').textContent]);"
    )
    return [tuple(row) for row in rows]


def transcript_ids(browser: WebDriver) -> list[str]:
    return browser.execute_script("return [...document.querySelectorAll('#transcript li')].map(li => li.dataset.itemId);")


def shows_row(row: TranscriptRow) -> Callable[[WebDriver], bool]:
    return lambda browser: row in transcript_rows(browser)


def open_page(browser: WebDriver, humans: Clients) -> None:
    browser.get(humans.server.ready_info()["agent_page_url"])


def accept_button(entry: WebElement) -> WebElement:
    return entry.find_element(By.CSS_SELECTOR, "[data-action=accept]")


def test_a_person_accepts_a_waiting_chat_answers_and_leaves(humans: Clients, browser: WebDriver) -> None:
    open_page(browser, humans)
    chat = humans.start_chat("Bob", InitialMessage={"ContentType": "text/plain", "Content": "Where is my parcel?"})
    socket = chat.connect()

    waiting = wait_for(browser, expected_conditions.visibility_of_element_located(chat_entry(chat.contact_id, "WAITING")), "Bob waiting")
    assert "Bob" in waiting.text
    assert "Where is my parcel?" in waiting.text
    browser.find_element(By.ID, "agent-name").send_keys("Maria")
    accept_button(waiting).click()

    assert socket.wait_item(is_event("participant.joined", "AGENT"))["DisplayName"] == "Maria"
    wait_for(browser, expected_conditions.text_to_be_present_in_element((By.ID, "chat-state"), "CONNECTED"), "the chat connected")
    assert browser.find_element(By.ID, "chat-title").text == "Chat with Bob"

    # Markup from a customer is shown as the text it is.
    chat.send("<b>It</b> is late")
    wait_for(browser, shows_row(("CUSTOMER", "MESSAGE", "<b>It</b> is late")), "the customer's message")

    browser.find_element(By.ID, "message").send_keys("Sorry about that, let me look.")
    socket.wait_item(is_event("typing", "AGENT"))
    browser.find_element(By.ID, "send").click()
    reply = socket.wait_item(is_message("Sorry about that, let me look.", "AGENT"))
    assert reply["DisplayName"] == "Maria"
    wait_for(browser, shows_row(("AGENT", "MESSAGE", "Sorry about that, let me look.")), "the agent's message")
    assert browser.find_element(By.ID, "message").get_attribute("value") == ""

    browser.find_element(By.ID, "leave").click()
    left = socket.wait_item(is_event("participant.left", "AGENT"))
    ended = socket.wait_item(is_event("chat.ended"))
    assert socket.items.index(left) < socket.items.index(ended)
    wait_for(browser, shows_row(("SYSTEM", "EVENT", "The chat ended")), "the chat's end")
    assert transcript_rows(browser) == [
        ("CUSTOMER", "EVENT", "Bob joined the chat"),
        ("CUSTOMER", "MESSAGE", "Where is my parcel?"),
        ("AGENT", "EVENT", "Maria joined the chat"),
        ("CUSTOMER", "MESSAGE", "<b>It</b> is late"),
        ("AGENT", "MESSAGE", "Sorry about that, let me look."),
        ("AGENT", "EVENT", "Maria left the chat"),
        ("SYSTEM", "EVENT", "The chat ended"),
    ]
    record = humans.http("GET", f"/agent/api/chats/{chat.contact_id}/transcript")[1]["Items"]
    assert transcript_ids(browser) == [item["Id"] for item in record]

    wait_for(browser, expected_conditions.visibility_of_element_located(chat_entry(chat.contact_id, "ENDED")), "the chat ended in the list")
    assert not browser.find_element(By.ID, "send").is_enabled()
    assert not browser.find_element(By.ID, "leave").is_enabled()
    assert chat.participant_token not in browser.page_source
    assert chat.connection_token not in browser.page_source


def test_the_page_shows_why_an_accept_failed(humans: Clients, browser: WebDriver) -> None:
    open_page(browser, humans)
    chat = humans.start_chat("Ann")
    waiting = wait_for(browser, expected_conditions.visibility_of_element_located(chat_entry(chat.contact_id, "WAITING")), "Ann waiting")

    accept_button(waiting).click()
    error = wait_for(browser, expected_conditions.visibility_of_element_located((By.ID, "error")), "an error")
    assert "agent name" in error.text
    assert browser.switch_to.active_element == browser.find_element(By.ID, "agent-name")

    accept = f"/agent/api/chats/{chat.contact_id}/accept"
    assert humans.http("POST", accept, {"AgentName": "Other"})[0] == 200
    status, refusal = humans.http("POST", accept, {"AgentName": "Maria"})
    assert status == 409
    browser.find_element(By.ID, "agent-name").send_keys("Maria")
    # Another agent took the chat: the person clicks Accept on a list that has
    # not refreshed yet (a script click reaches the button even after a poll hid it).
    browser.execute_script("arguments[0].click();", accept_button(waiting))
    wait_for(browser, expected_conditions.text_to_be_present_in_element((By.ID, "error"), refusal["message"]), "the API's refusal")

    wait_for(browser, expected_conditions.visibility_of_element_located(chat_entry(chat.contact_id, "CONNECTED")), "Ann with Other")
    assert "with Other" in waiting.text
    assert not accept_button(waiting).is_displayed()
    waiting.find_element(By.CSS_SELECTOR, "[data-action=open]").click()
    wait_for(browser, expected_conditions.invisibility_of_element_located((By.ID, "error")), "the error cleared by a successful action")
    wait_for(browser, shows_row(("AGENT", "EVENT", "Other joined the chat")), "the other agent's join")
