"use strict";
// The agent page of the local Amazon Connect. It polls the agent API for the
// chats and the open chat's transcript, and acts as a human agent through it.
// Everything it shows comes from that API, which never returns tokens; text
// from customers is only ever set as textContent, never parsed as HTML.

const CHATS = "/agent/api/chats";
const POLL_MS = 1000;
// Chat widgets throttle typing events; one every few seconds keeps the
// customer's indicator lit without an event per keystroke.
const TYPING_EVERY_MS = 3000;
const EVENT_PREFIX = "application/vnd.amazonaws.connect.event.";
const EVENT_TEXT = {
  "participant.joined": (name) => `${name} joined the chat`,
  "participant.left": (name) => `${name} left the chat`,
  "chat.ended": () => "The chat ended",
};
const NAME_KEY = "connect-local-agent-name";

const page = {
  chats: [],
  openId: null,
  shownItemIds: "",
  lastTypingAt: 0,
  sending: false,
  pollFailed: false,
  chatsRequest: 0,
  transcriptRequest: 0,
};

const byId = (id) => document.getElementById(id);

async function call(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new Error("The local Amazon Connect is not answering.");
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(answer.message || `${method} ${path} failed with status ${response.status}`);
  }
  return answer;
}

function chatPath(contactId, action) {
  return `${CHATS}/${encodeURIComponent(contactId)}/${action}`;
}

function showError(message) {
  const error = byId("error");
  error.textContent = message;
  error.hidden = !message;
}

/** Runs a person's action; its failure is shown, its success clears the last error. */
async function act(action) {
  try {
    await action();
    showError("");
  } catch (error) {
    showError(error.message);
  }
}

function openChat() {
  return page.chats.find((chat) => chat.ContactId === page.openId);
}

// -- the chat list -----------------------------------------------------------

function describeState(chat) {
  if (chat.State === "WAITING") return "waiting";
  if (chat.State === "CONNECTED") return `with ${chat.AgentName}`;
  return "ended";
}

function newEntry(chat) {
  const entry = document.createElement("li");
  entry.dataset.contactId = chat.ContactId;
  const customer = document.createElement("strong");
  customer.className = "chat-customer";
  const stateLabel = document.createElement("span");
  stateLabel.className = "chat-state";
  const last = document.createElement("p");
  last.className = "chat-last";
  const accept = document.createElement("button");
  accept.type = "button";
  accept.dataset.action = "accept";
  accept.textContent = "Accept";
  const open = document.createElement("button");
  open.type = "button";
  open.dataset.action = "open";
  open.textContent = "Open";
  entry.append(customer, " ", stateLabel, last, accept, " ", open);
  return entry;
}

function updateEntry(entry, chat) {
  entry.dataset.state = chat.State;
  entry.querySelector(".chat-customer").textContent = chat.CustomerName;
  entry.querySelector(".chat-state").textContent = describeState(chat);
  entry.querySelector(".chat-last").textContent = chat.LastMessage ?? "";
  const accept = entry.querySelector("[data-action=accept]");
  accept.hidden = chat.State !== "WAITING";
  accept.setAttribute("aria-label", `Accept chat with ${chat.CustomerName}`);
  entry.querySelector("[data-action=open]").setAttribute("aria-label", `Open chat with ${chat.CustomerName}`);
  if (chat.ContactId === page.openId) entry.setAttribute("aria-current", "true");
  else entry.removeAttribute("aria-current");
}

/** Updates the list in place, so that a focused button keeps its focus across polls. */
function renderChats() {
  const list = byId("chat-list");
  const entries = new Map([...list.children].map((entry) => [entry.dataset.contactId, entry]));
  page.chats.forEach((chat, index) => {
    const entry = entries.get(chat.ContactId) ?? newEntry(chat);
    entries.delete(chat.ContactId);
    updateEntry(entry, chat);
    if (list.children[index] !== entry) list.insertBefore(entry, list.children[index] ?? null);
  });
  entries.forEach((entry) => entry.remove());
  byId("no-chats").hidden = page.chats.length > 0;
}

async function refreshChats() {
  const request = ++page.chatsRequest;
  const { chats } = await call("GET", CHATS);
  if (request !== page.chatsRequest) return;
  page.chats = chats;
  renderChats();
  renderPanel();
}

// -- the open chat -----------------------------------------------------------

function renderPanel() {
  const chat = openChat();
  byId("chat-panel").hidden = !chat;
  if (!chat) return;
  byId("chat-title").textContent = `Chat with ${chat.CustomerName}`;
  byId("chat-state").textContent = chat.State;
  const live = chat.State === "CONNECTED";
  byId("message").disabled = !live;
  byId("send").disabled = !live || page.sending;
  byId("leave").disabled = !live;
}

function itemText(item) {
  if (item.Type === "MESSAGE") return item.Content ?? "";
  const name = item.ContentType.startsWith(EVENT_PREFIX) ? item.ContentType.slice(EVENT_PREFIX.length) : item.ContentType;
  const describe = EVENT_TEXT[name];
  return describe ? describe(item.DisplayName) : `${item.DisplayName}: ${name}`;
}

function transcriptEntry(item) {
  const entry = document.createElement("li");
  entry.dataset.itemId = item.Id;
  entry.dataset.type = item.Type;
  entry.dataset.role = item.ParticipantRole;
  if (item.Type === "MESSAGE") {
    const sender = document.createElement("span");
    sender.className = "sender";
    sender.textContent = item.ParticipantRole === "SYSTEM" ? "System" : item.DisplayName;
    entry.append(sender);
  } else {
    entry.dataset.event = item.ContentType.replace(EVENT_PREFIX, "");
  }
  const content = document.createElement("span");
  content.className = "content";
  content.textContent = itemText(item);
  const time = document.createElement("time");
  time.dateTime = item.AbsoluteTime;
  time.textContent = new Date(item.AbsoluteTime).toLocaleTimeString();
  entry.append(content, time);
  return entry;
}

async function refreshTranscript() {
  const contactId = page.openId;
  if (!contactId) return;
  const request = ++page.transcriptRequest;
  const { Items } = await call("GET", chatPath(contactId, "transcript"));
  if (request !== page.transcriptRequest || contactId !== page.openId) return;
  const ids = Items.map((item) => item.Id).join(" ");
  if (ids === page.shownItemIds) return;
  page.shownItemIds = ids;
  const transcript = byId("transcript");
  transcript.replaceChildren(...Items.map(transcriptEntry));
  transcript.scrollTop = transcript.scrollHeight;
}

async function open(contactId) {
  if (contactId !== page.openId) {
    page.openId = contactId;
    page.shownItemIds = "";
    page.lastTypingAt = 0;
    byId("transcript").replaceChildren();
  }
  renderChats();
  renderPanel();
  await refreshTranscript();
}

// -- actions -----------------------------------------------------------------

async function accept(contactId) {
  const nameField = byId("agent-name");
  const name = nameField.value.trim();
  if (!name) {
    nameField.focus();
    throw new Error("Enter your agent name before accepting a chat.");
  }
  localStorage.setItem(NAME_KEY, name);
  await call("POST", chatPath(contactId, "accept"), { AgentName: name });
  await refreshChats();
  await open(contactId);
  byId("message").focus();
}

async function send() {
  const box = byId("message");
  const content = box.value;
  if (!content.trim() || page.sending) return;
  page.sending = true;
  renderPanel();
  try {
    await call("POST", chatPath(page.openId, "messages"), { Content: content, ContentType: "text/plain" });
    box.value = "";
  } finally {
    page.sending = false;
    renderPanel();
  }
  await refreshTranscript();
}

async function typing() {
  const now = Date.now();
  if (!byId("message").value || now - page.lastTypingAt < TYPING_EVERY_MS) return;
  page.lastTypingAt = now;
  await call("POST", chatPath(page.openId, "typing"));
}

async function leave() {
  await call("POST", chatPath(page.openId, "leave"));
  await refreshChats();
  await refreshTranscript();
}

// -- wiring ------------------------------------------------------------------

async function poll() {
  try {
    await refreshChats();
    await refreshTranscript();
    if (page.pollFailed) showError("");
    page.pollFailed = false;
  } catch (error) {
    page.pollFailed = true;
    showError(error.message);
  }
  setTimeout(poll, POLL_MS);
}

function start() {
  byId("agent-name").value = localStorage.getItem(NAME_KEY) ?? "";
  byId("chat-list").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const contactId = button.closest("li").dataset.contactId;
    act(() => (button.dataset.action === "accept" ? accept(contactId) : open(contactId)));
  });
  byId("compose").addEventListener("submit", (event) => {
    event.preventDefault();
    act(send);
  });
  byId("message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      byId("compose").requestSubmit();
    }
  });
  // Typing is incidental: its failure is shown, its success clears nothing.
  byId("message").addEventListener("input", () => typing().catch((error) => showError(error.message)));
  byId("leave").addEventListener("click", () => act(leave));
  poll();
}

start();
