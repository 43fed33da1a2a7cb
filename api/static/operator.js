"use strict";
// The operator page. It holds no data of its own: it polls the service's API with the admin client's
// token the operator pastes, kept in this tab's sessionStorage and sent only as a Bearer header to this
// origin. A token that is not an admin client's is refused before anything is shown. Everything from
// the API is set as textContent, never parsed as HTML: a bot's context or a customer's words stay text.

const TOKEN_KEY = "connect-worker-operator-token";
const POLL_MS = 2000;
const ADMIN_HINT = "python run.py client create NAME --admin makes one";

const page = {
  token: null,
  generation: 0, // a new sign-in or a sign-out ends the polls of the one before
  openId: null,
  shownSeq: 0,
};

const byId = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call(path, token = page.token) {
  let response;
  try {
    response = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
  } catch {
    throw new ApiError(0, "unreachable", "The service is not answering.");
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiError(response.status, answer.Code, answer.Message || `GET ${path} answered ${response.status}`);
  }
  return answer;
}

function showError(message) {
  const error = byId("error");
  error.textContent = message;
  error.hidden = !message;
}

function text(value) {
  return value === null || value === undefined ? "-" : String(value);
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "-";
}

function cell(row, value, className) {
  const td = document.createElement("td");
  td.textContent = text(value);
  if (className) td.className = className;
  row.append(td);
}

function conversationPath(id, rest = "") {
  return `/v1/conversations/${encodeURIComponent(id)}${rest}`;
}

// -- signing in and out ------------------------------------------------------

async function signIn(token) {
  let client;
  try {
    client = await call("/v1/client", token);
  } catch (error) {
    if (error.status === 401) throw new Error(`The service refused this token: ${error.message}`);
    throw error;
  }
  if (!client.Admin) {
    throw new Error(
      `This is the token of the bot client "${client.Name}", not an admin client's: the operator page needs ` +
        `an admin client's token (${ADMIN_HINT}).`,
    );
  }
  page.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  byId("client-name").textContent = client.Name;
  byId("sign-in").hidden = true;
  byId("signed-in").hidden = false;
  byId("views").hidden = false;
  showError("");
  const generation = ++page.generation;
  poll(generation);
}

function signOut(reason) {
  page.generation += 1;
  page.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  closeConversation();
  byId("views").hidden = true;
  byId("signed-in").hidden = true;
  byId("sign-in").hidden = false;
  showError(reason);
}

// -- regions and workers -----------------------------------------------------

function renderRegions({ Regions }) {
  byId("no-regions").hidden = Regions.length > 0;
  byId("regions").hidden = Regions.length === 0;
  const rows = Regions.map((region) => {
    const row = document.createElement("tr");
    row.dataset.region = region.Region;
    row.dataset.failing = String(region.FailingSince !== null);
    cell(row, region.Region);
    cell(row, region.Secret ?? "the service's own credentials", "id");
    cell(row, region.LiveConversations);
    cell(row, region.Calls);
    cell(row, region.Errors);
    cell(row, region.Throttles);
    cell(row, `${(region.ErrorRate * 100).toFixed(1)} %`);
    cell(row, `${text(region.LatencyP50Ms)} / ${text(region.LatencyP99Ms)}`);
    cell(row, region.ConsecutiveFailures);
    cell(row, when(region.LastSuccessAt));
    cell(row, when(region.FailingSince));
    return row;
  });
  byId("regions").tBodies[0].replaceChildren(...rows);
}

function describeOrder(order) {
  if (!order) return "none";
  return `#${order.Order} ${order.Mode}, ${order.CarriedOut ? "carried out" : "being carried out"}`;
}

function renderWorkers({ Workers }) {
  byId("no-workers").hidden = Workers.length > 0;
  byId("workers").hidden = Workers.length === 0;
  const rows = Workers.map((worker) => {
    const row = document.createElement("tr");
    const active = worker.ActiveRegion;
    row.dataset.workerId = worker.WorkerId;
    row.dataset.enabled = String(worker.Enabled);
    cell(row, worker.Name);
    cell(row, worker.WorkerId, "id");
    cell(row, worker.Enabled ? "yes" : "no");
    cell(row, `${active.Region} (${active.Name ?? "primary"})`);
    cell(row, active.InstanceId, "id");
    cell(row, active.ContactFlowId, "id");
    cell(row, active.QueueId, "id");
    cell(row, worker.FailoverRegions.join(", ") || "none");
    cell(row, describeOrder(worker.FailoverOrder));
    return row;
  });
  byId("workers").tBodies[0].replaceChildren(...rows);
}

// -- conversations -----------------------------------------------------------

function conversationEntry(id) {
  const entry = document.createElement("li");
  entry.dataset.conversationId = id;
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = id;
  button.setAttribute("aria-label", `Open conversation ${id}`);
  entry.append(button);
  return entry;
}

function markOpen() {
  for (const entry of byId("conversation-list").children) {
    if (entry.dataset.conversationId === page.openId) entry.setAttribute("aria-current", "true");
    else entry.removeAttribute("aria-current");
  }
}

/** Updates the list in place, so that a button being clicked or focused survives a poll. */
function renderConversationList({ Conversations }) {
  const ids = [...Conversations].sort();
  byId("live-count").textContent = `(${ids.length})`;
  byId("no-conversations").hidden = ids.length > 0;
  const list = byId("conversation-list");
  const entries = new Map([...list.children].map((entry) => [entry.dataset.conversationId, entry]));
  ids.forEach((id, index) => {
    const entry = entries.get(id) ?? conversationEntry(id);
    entries.delete(id);
    if (list.children[index] !== entry) list.insertBefore(entry, list.children[index] ?? null);
  });
  entries.forEach((entry) => entry.remove());
  markOpen();
}

const STATE_FIELDS = [
  ["Phase", (c) => c.Phase],
  ["Version", (c) => c.Version],
  ["Worker", (c) => c.WorkerId],
  ["Bot", (c) => c.BotName],
  ["Customer's name", (c) => c.DisplayName],
  ["Contact", (c) => c.ContactId],
  ["Participant", (c) => c.ParticipantId],
  ["Last known agent", (c) => c.LastKnownAgent?.AgentName],
  ["Session end reason", (c) => c.SessionEndReason],
  ["Error", (c) => (c.Error ? `${c.Error.Code}: ${c.Error.Message}` : null)],
  ["Delivers to", (c) => c.DeliverTo ?? "the pull stream only"],
  ["Context", (c) => JSON.stringify(c.Context, null, 1)],
];

function renderState(conversation) {
  const items = STATE_FIELDS.flatMap(([label, value]) => {
    const term = document.createElement("dt");
    term.textContent = label;
    const detail = document.createElement("dd");
    detail.dataset.field = label;
    detail.textContent = text(value(conversation));
    return [term, detail];
  });
  byId("conversation-state").replaceChildren(...items);
}

function renderList(listId, emptyId, entries) {
  byId(emptyId).hidden = entries.length > 0;
  byId(listId).replaceChildren(
    ...entries.map((words) => {
      const entry = document.createElement("li");
      entry.textContent = words;
      return entry;
    }),
  );
}

function timelineEntry(step) {
  const entry = document.createElement("li");
  entry.dataset.seq = step.Seq;
  entry.dataset.type = step.Type;
  const seq = document.createElement("span");
  seq.className = "seq";
  seq.textContent = `#${step.Seq}`;
  const time = document.createElement("time");
  time.dateTime = step.RecordedAt;
  time.textContent = new Date(step.RecordedAt).toLocaleTimeString();
  const type = document.createElement("span");
  type.className = "type";
  type.textContent = step.Type;
  const phase = document.createElement("span");
  phase.className = "phase";
  phase.textContent = `→ ${step.Phase}`;
  const fields = document.createElement("code");
  fields.className = "fields";
  fields.textContent = JSON.stringify(step.Event);
  entry.append(seq, time, type, phase, fields);
  return entry;
}

function renderTimeline(timeline) {
  const { Conversation: conversation, Events: events } = timeline;
  byId("conversation-title").textContent = `Conversation ${conversation.ConversationId}`;
  renderState(conversation);
  renderList("pending", "no-pending", timeline.Pending.map((p) => `${p.Type} (#${p.Seq})`));
  renderList("timers", "no-timers", timeline.ArmedTimers.map((t) => `${t.Kind} at ${when(t.DueAt)}`));
  // A stream only grows: add what is new, so that the operator's scrolling and selection stay put.
  const added = events.filter((step) => step.Seq > page.shownSeq);
  if (added.length === 0) return;
  const list = byId("timeline");
  list.append(...added.map(timelineEntry));
  page.shownSeq = added[added.length - 1].Seq;
}

function closeConversation() {
  page.openId = null;
  page.shownSeq = 0;
  byId("timeline").replaceChildren();
  byId("conversation-panel").hidden = true;
  markOpen();
}

async function refreshConversation() {
  const id = page.openId;
  if (id === null) return;
  const timeline = await call(conversationPath(id, "/timeline"));
  if (id !== page.openId) return;
  byId("conversation-panel").hidden = false;
  renderTimeline(timeline);
}

async function openConversation(id) {
  if (id !== page.openId) {
    closeConversation();
    page.openId = id;
  }
  markOpen();
  try {
    await refreshConversation();
  } catch (error) {
    if (error.status === 404) {
      closeConversation();
      throw new Error(`No conversation ${id}: ${error.message}`);
    }
    throw error;
  }
}

// -- polling -----------------------------------------------------------------

async function refreshAll() {
  const [regions, workers, conversations] = await Promise.all([
    call("/v1/regions"),
    call("/v1/workers"),
    call("/v1/conversations?live=true"),
  ]);
  renderRegions(regions);
  renderWorkers(workers);
  renderConversationList(conversations);
  await refreshConversation();
}

async function poll(generation) {
  if (generation !== page.generation) return;
  try {
    await refreshAll();
    if (generation === page.generation) showError("");
  } catch (error) {
    if (generation !== page.generation) return;
    if (error.status === 401 || error.status === 403) {
      signOut(`The service no longer takes this token (${error.message}). Paste an admin client's token.`);
      return;
    }
    showError(error.message);
  }
  setTimeout(() => poll(generation), POLL_MS);
}

// -- wiring ------------------------------------------------------------------

function start() {
  byId("sign-in").addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = byId("token");
    const token = field.value.trim();
    field.value = "";
    if (!token) {
      showError(`Paste an admin client's token (${ADMIN_HINT}).`);
      field.focus();
      return;
    }
    try {
      await signIn(token);
    } catch (error) {
      showError(error.message);
      field.focus();
    }
  });
  byId("forget").addEventListener("click", () => signOut(""));
  byId("conversation-list").addEventListener("click", (event) => {
    const entry = event.target.closest("li[data-conversation-id]");
    if (entry) openConversation(entry.dataset.conversationId).then(() => showError(""), (e) => showError(e.message));
  });
  byId("open-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = byId("open-id").value.trim();
    if (id) openConversation(id).then(() => showError(""), (e) => showError(e.message));
  });
  const kept = sessionStorage.getItem(TOKEN_KEY);
  if (kept) signIn(kept).catch((error) => signOut(error.message));
}

start();
