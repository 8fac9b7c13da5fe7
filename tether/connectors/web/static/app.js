// Tether's page: no framework, no build step. Text is always set with
// textContent, never parsed as HTML: what the agent writes cannot run here.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  csrf: null, commands: [], chat: null, socket: null, retry: 0, entries: new Map(),
  // Approvals this page has announced: a reconnect's snapshot announces only the ones it missed.
  notified: new Set(),
};

function chatName() {
  let name = localStorage.getItem("tether.chat");
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name || "")) {
    name = "main";
    localStorage.setItem("tether.chat", name);
  }
  return name;
}

async function api(method, path, body) {
  const headers = { "content-type": "application/json" };
  if (state.csrf) headers["x-tether-csrf"] = state.csrf;
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = {};
  try { data = await response.json(); } catch (_) { /* an empty or non-JSON answer */ }
  return { status: response.status, data };
}

// -- login ---------------------------------------------------------------

async function login(token) {
  const { status, data } = await api("POST", "/api/login", { token });
  if (status === 200) {
    state.csrf = data.csrf;
    return true;
  }
  $("login-error").textContent = data.error || `Login failed (${status})`;
  return false;
}

async function boot() {
  applyTheme(localStorage.getItem("tether.theme"));
  state.chat = chatName();
  $("chat-name").textContent = `chat: ${state.chat}`;
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(() => {});
  }
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    // The token leaves the address bar (and the history) at once.
    history.replaceState(null, "", location.pathname);
    await login(decodeURIComponent(match[1]));
  }
  const { status, data } = await api("GET", "/api/state");
  if (status !== 200) {
    showLogin();
    return;
  }
  state.csrf = data.csrf;
  state.commands = data.commands || [];
  showApp();
}

function showLogin() {
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-token").focus();
}

function showApp() {
  $("login").hidden = true;
  $("app").hidden = false;
  connect();
  $("composer-input").focus();
}

// -- the event socket ------------------------------------------------------

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = `chat=${encodeURIComponent(state.chat)}&csrf=${encodeURIComponent(state.csrf)}`;
  const socket = new WebSocket(`${scheme}://${location.host}/api/events?${query}`);
  state.socket = socket;
  socket.onopen = () => { state.retry = 0; setStatus(""); };
  socket.onmessage = (message) => handle(JSON.parse(message.data));
  socket.onclose = () => {
    if (state.socket === socket) reconnect();
  };
}

// Tether restarting, a phone waking up: try again, less and less often (at most every 10 s).
async function reconnect() {
  setStatus("Reconnecting…");
  state.retry = Math.min(state.retry + 1, 20);
  await new Promise((resolve) => setTimeout(resolve, Math.min(300 * state.retry, 10000)));
  let status = 0;
  try { ({ status } = await api("GET", "/api/state")); } catch (_) { /* not reachable yet */ }
  if (status === 401) { showLogin(); return; }
  if (status === 200) connect(); else reconnect();
}

function handle(event) {
  switch (event.type) {
    case "snapshot":
      $("conversation").replaceChildren();
      $("approvals").replaceChildren();
      state.entries.clear();
      event.entries.forEach(addEntry);
      // A snapshot follows every (re)connect: an approval that came while the socket was down
      // (a phone asleep, a slow start) is announced now, once; the ones already seen are not.
      event.approvals.forEach((approval) => addApproval(approval, !state.notified.has(approval.approval_id)));
      updateBatch();
      setBusy(event.busy);
      break;
    case "entry": addEntry(event.entry); break;
    case "append": {
      const node = state.entries.get(event.id);
      if (node) { node.querySelector(".text").textContent += event.text; scrollDown(); }
      break;
    }
    case "update": updateEntry(event); break;
    case "remove": {
      const node = state.entries.get(event.id);
      if (node) { node.remove(); state.entries.delete(event.id); }
      break;
    }
    case "busy": setBusy(event.value); break;
    case "approval": addApproval(event.approval, true); break;
    case "settled": settle(event.approval_id, event.outcome); break;
    case "progress": {
      const card = cardOf(event.approval_id);
      if (card) card.querySelector(".outcome").textContent = event.text;
      break;
    }
    case "answered": {
      const card = cardOf(event.approval_id);
      const form = card?.querySelector(`.question[data-question="${event.question}"]`);
      if (form) markAnswered(form, event.text);
      if (card) card.querySelector(".outcome").textContent = event.text;
      break;
    }
    case "scopes": offerScopes(event.approval_id, event.scopes); break;
    case "learned": learned(event.approval_id, event.outcome); break;
  }
}

function addEntry(entry) {
  const node = document.createElement("li");
  node.className = `entry ${entry.kind}`;
  node.dataset.id = entry.id;
  const text = document.createElement("div");
  text.className = "text";
  text.textContent = entry.text || "";
  node.append(text);
  if (entry.kind === "reply") {
    const tools = document.createElement("ul");
    tools.className = "tools";
    node.append(tools);
  }
  state.entries.set(entry.id, node);
  $("conversation").append(node);
  updateEntry(entry);
}

function updateEntry(change) {
  const node = state.entries.get(change.id);
  if (!node) return;
  if (change.text !== undefined) node.querySelector(".text").textContent = change.text;
  if (change.tools !== undefined) {
    const list = node.querySelector(".tools");
    if (list) {
      list.replaceChildren(...change.tools.map((line) => {
        const item = document.createElement("li");
        item.textContent = line;
        return item;
      }));
    }
  }
  if (change.done !== undefined) node.classList.toggle("streaming", !change.done);
  scrollDown();
}

function scrollDown() {
  window.scrollTo(0, document.body.scrollHeight);
}

function setBusy(busy) {
  $("cancel").hidden = !busy;
  setStatus(busy ? "The agent is working…" : "");
}

function setStatus(text) { $("status").textContent = text; }

// -- approvals -------------------------------------------------------------

function addApproval(approval, fresh) {
  const existing = cardOf(approval.approval_id);
  if (existing) existing.remove();
  const card = $("approval-template").content.firstElementChild.cloneNode(true);
  card.dataset.id = approval.approval_id;
  card.dataset.kind = approval.kind || "approval";
  card.querySelector(".tool").textContent = approval.tool_name;
  card.querySelector(".chat").textContent = approval.chat;
  card.querySelector(".blocks").replaceChildren(...(approval.blocks || []).map(block));
  const answers = card.querySelector(".answer");
  if (approval.kind === "questions") answers.replaceChildren(...questionForms(card, approval));
  else if (approval.kind === "plan") answers.replaceChildren(...planForm(card, approval));
  else answers.replaceChildren(...approvalForm(card));
  $("approvals").append(card);
  if (approval.progress) card.querySelector(".outcome").textContent = approval.progress;
  if (approval.state === "settled") {
    settle(approval.approval_id, approval.outcome);
  } else if (fresh) {
    notify(approval);
    scrollDown();
  }
  if (approval.scopes) offerScopes(approval.approval_id, approval.scopes);
  if (approval.learned) learned(approval.approval_id, approval.learned);
  updateBatch();
}

// Several approvals at once (the agent's parallel calls): Approve all / Reject all above
// them, each answer still sent, and audited, on its own.
function updateBatch() {
  const open = [...document.querySelectorAll('.approval[data-kind="approval"]:not(.settled)')];
  const bar = $("batch");
  bar.hidden = open.length < 2;
  bar.querySelector(".count").textContent = `${open.length} requests wait for you`;
}

async function answerAll(choice) {
  const open = [...document.querySelectorAll('.approval[data-kind="approval"]:not(.settled)')];
  $("batch").hidden = true;
  for (const card of open) await answer(card, { choice });
}

function cardOf(approvalId) {
  return document.querySelector(`.approval[data-id="${CSS.escape(approvalId)}"]`);
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label, className, onClick) {
  const node = element("button", className, label);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

// Approve, Always and Reject sit apart (Reject at the far end), as on Telegram.
function approvalForm(card) {
  const reason = element("input", "reason");
  reason.type = "text";
  reason.maxLength = 500;
  reason.placeholder = "Reason (optional, sent with a reject)";
  const buttons = element("div", "buttons");
  buttons.append(
    button("Approve", "approve", () => answer(card, { choice: "approve" })),
    button("Always…", "always", () => answer(card, { choice: "always" })),
    button("Reject", "reject danger", () => answer(card, { choice: "reject", reason: reason.value.trim() })),
  );
  return [reason, buttons];
}

// The plan in full, then: approve (default or edit mode), or keep planning with feedback.
function planForm(card, approval) {
  const plan = element("div", "block plan");
  plan.append(markdown(approval.plan || ""));
  const feedback = element("textarea", "reason feedback");
  feedback.rows = 2;
  feedback.maxLength = 500;
  feedback.placeholder = "What to change (sent with Keep planning)";
  const buttons = element("div", "buttons");
  buttons.append(
    button("Approve", "approve", () => answer(card, { choice: "approve" })),
    button("Approve, edit mode", "approve-edit", () => answer(card, { choice: "approve_edit" })),
    button("Keep planning", "keep-planning danger", () =>
      answer(card, { choice: "keep_planning", reason: feedback.value.trim() })),
  );
  return [plan, feedback, buttons];
}

// The plan's Markdown as elements (headings, lists, code, bold, inline code), built node by
// node with textContent: nothing in the plan is ever parsed as HTML.
function markdown(text) {
  const out = document.createDocumentFragment();
  let list = null;
  let fence = null;
  for (const line of text.split("\n")) {
    if (fence) {
      if (/^\s*```/.test(line)) { fence = null; } else { fence.textContent += `${line}\n`; }
      continue;
    }
    if (/^\s*```/.test(line)) {
      list = null;
      fence = element("pre", "code");
      out.append(fence);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const item = /^\s*(?:([-*+])|(\d+)[.)])\s+(.*)$/.exec(line);
    if (heading) {
      list = null;
      out.append(inline(element(`h${Math.min(heading[1].length + 3, 6)}`), heading[2]));
    } else if (item) {
      const tag = item[1] ? "ul" : "ol";
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = element(tag);
        out.append(list);
      }
      list.append(inline(element("li"), item[3]));
    } else if (line.trim()) {
      list = null;
      out.append(inline(element("p"), line));
    } else {
      list = null;
    }
  }
  return out;
}

function inline(node, text) {
  for (const part of text.split(/(\*\*[^*]+\*\*|`[^`]+`)/)) {
    if (/^\*\*[^*]+\*\*$/.test(part)) node.append(element("strong", "", part.slice(2, -2)));
    else if (/^`[^`]+`$/.test(part)) node.append(element("code", "", part.slice(1, -1)));
    else if (part) node.append(document.createTextNode(part));
  }
  return node;
}

// Each question: its options as buttons (several, then Done, when multi-select), or words.
function questionForms(card, approval) {
  return approval.questions.map((question, index) => {
    const form = element("fieldset", "question");
    form.dataset.question = String(index);
    const title = element("legend", "", question.header ? `${question.header}: ${question.question}` : question.question);
    form.append(title);
    const options = element("div", "options");
    question.options.forEach((option, number) => {
      const pick = button(option.label, "option", () =>
        answer(card, { choice: "option", question: index, option: number }, pick));
      if (option.description) pick.title = option.description;
      pick.dataset.option = String(number);
      options.append(pick);
      if (option.description) options.append(element("span", "desc", option.description));
    });
    form.append(options);
    if (question.multi_select) {
      form.append(button("Done", "done", () => answer(card, { choice: "done", question: index })));
    }
    const own = element("input", "own-answer");
    own.type = "text";
    own.maxLength = 1000;
    own.placeholder = "Or answer in your own words";
    form.append(own, button("Answer", "send-answer", () =>
      answer(card, { choice: "answer", question: index, text: own.value.trim() })));
    const done = (approval.answered || {})[String(index)];
    if (done !== undefined) markAnswered(form, done);
    return form;
  });
}

function markAnswered(form, text) {
  form.classList.add("answered");
  form.querySelectorAll("button, input").forEach((node) => { node.disabled = true; });
  const note = form.querySelector(".answered-note") || element("p", "answered-note");
  note.textContent = text;
  form.append(note);
}

// One block of the shared approval layout: title, code, diff, note, item, why.
function block(part) {
  let node;
  if (part.kind === "code" || part.kind === "diff") {
    node = document.createElement("pre");
    node.className = `block detail ${part.kind}`;
    for (const line of part.text.split("\n")) {
      const row = document.createElement("span");
      if (part.kind === "diff" && /^[+-]/.test(line) && !/^(\+\+\+|---)/.test(line)) {
        row.className = line[0] === "+" ? "add" : "del";
      }
      row.textContent = `${line}\n`;
      node.append(row);
    }
    return node;
  }
  node = document.createElement(part.kind === "title" ? "h3" : "p");
  node.className = `block ${part.kind}`;
  node.textContent = part.kind === "item" ? `• ${part.text}` : part.text;
  return node;
}

async function answer(card, body, picked) {
  const buttons = [...card.querySelectorAll(".answer button")];
  buttons.forEach((node) => { node.disabled = true; });
  const { status, data } = await api("POST", "/api/approval", { approval_id: card.dataset.id, ...body });
  const text = data.outcome || data.error || `Failed (${status})`;
  if (status === 200 || status === 409) {
    settle(card.dataset.id, text);
    return;
  }
  buttons.forEach((node) => { node.disabled = false; });
  card.querySelectorAll(".question.answered button, .question.answered input").forEach((node) => {
    node.disabled = true;
  });
  card.querySelector(".outcome").textContent = text;
  if (status === 202 && picked) picked.classList.toggle("picked");
}

// After "Always": what to allow from now on, narrowest first; for this chat or remembered.
function offerScopes(approvalId, labels) {
  const card = cardOf(approvalId);
  if (!card) return;
  const list = element("ol", "scopes");
  labels.forEach((label, index) => {
    const item = element("li", "", "");
    item.append(element("span", "scope-label", label));
    const buttons = element("div", "buttons");
    buttons.append(
      button("This chat", "scope-chat", () => learn(card, index + 1, false)),
      button("Remember", "scope-remember", () => learn(card, index + 1, true)),
    );
    item.append(buttons);
    list.append(item);
  });
  const box = element("div", "scope-offer");
  box.append(element("p", "scope-title", "Allow from now on:"), list,
    button("Nothing", "scope-none", () => learned(approvalId, "Nothing learned.")));
  card.querySelector(".scope-offer")?.remove();
  card.append(box);
}

async function learn(card, scope, remember) {
  card.querySelectorAll(".scope-offer button").forEach((node) => { node.disabled = true; });
  const { status, data } = await api("POST", "/api/approval",
    { approval_id: card.dataset.id, choice: "always", scope, remember });
  learned(card.dataset.id, data.outcome || data.error || `Failed (${status})`);
}

function learned(approvalId, outcome) {
  const card = cardOf(approvalId);
  if (!card) return;
  card.querySelector(".scope-offer")?.remove();
  const note = card.querySelector(".learned") || element("p", "learned");
  note.textContent = outcome;
  card.append(note);
}

function settle(approvalId, outcome) {
  const card = cardOf(approvalId);
  if (!card) return;
  card.classList.add("settled");
  updateBatch();
  card.querySelector(".outcome").textContent = outcome || "Settled";
}

function notify(approval) {
  state.notified.add(approval.approval_id);
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  // Only when the person is elsewhere: another tab, another window, the phone locked.
  if (document.visibilityState === "visible" && document.hasFocus()) return;
  const asks = { questions: "the agent asks", plan: "the agent's plan" }[approval.kind];
  const title = asks ? `Tether: ${asks}` : `Tether: approve ${approval.tool_name}?`;
  const options = { body: (approval.summary || "").slice(0, 180), tag: approval.approval_id };
  navigator.serviceWorker?.getRegistration().then((registration) => {
    if (registration) registration.showNotification(title, options);
    else new Notification(title, options);
  }).catch(() => {});
}

// -- sending -----------------------------------------------------------------

async function send(text) {
  try {
    const { status, data } = await api("POST", "/api/message", { chat: state.chat, text });
    if (status !== 202) setStatus(data.error || `Not sent (${status})`);
    if (status === 401) showLogin();
  } catch (_) {
    setStatus("Not sent: Tether cannot be reached.");
    $("composer-input").value = text;
  }
}

function menu(filter) {
  const list = $("command-menu");
  const shown = state.commands.filter((command) => `/${command.name}`.startsWith(filter));
  list.replaceChildren(...shown.map((command) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.command = command.name;
    button.textContent = `/${command.name}`;
    const desc = document.createElement("span");
    desc.className = "desc";
    desc.textContent = command.description;
    button.append(desc);
    button.addEventListener("click", () => {
      $("composer-input").value = `/${command.name} `;
      list.hidden = true;
      $("composer-input").focus();
    });
    item.append(button);
    return item;
  }));
  list.hidden = shown.length === 0;
}

// -- side panel ----------------------------------------------------------------

// This chat's sessions (the current one first), the exchanges of the one picked, a new
// conversation, and the other chats of this browser (each its own session) to switch to.
async function showSession(sessionId) {
  const query = `chat=${encodeURIComponent(state.chat)}` +
    (sessionId ? `&session=${encodeURIComponent(sessionId)}` : "");
  const { data } = await api("GET", `/api/session?${query}`);
  const body = element("div", "session-panel");
  body.append(chatSwitcher());
  const fresh = button("New conversation", "new-conversation", () => {
    $("panel").close();
    send("/clear");
  });
  body.append(fresh);
  const sessions = data.sessions || [];
  if (sessions.length) {
    const list = element("ol", "sessions");
    list.id = "sessions-table";
    sessions.forEach((row) => {
      const item = element("li", row.current ? "current" : "ended");
      const label = `${row.session_id.slice(0, 8)} · ${row.created_at} · ${row.messages} messages · ` +
        (row.current ? "current" : "ended");
      item.append(button(label, "session-row", () => showSession(row.session_id)));
      if (data.session && row.session_id === data.session.session_id) item.classList.add("shown");
      list.append(item);
    });
    body.append(list);
  }
  if (!data.session) {
    body.append(element("p", "", "No session yet: send a message to start one."));
  } else {
    const facts = document.createElement("dl");
    for (const [label, value] of Object.entries(data.session)) {
      facts.append(element("dt", "", label), element("dd", "", String(value)));
    }
    const exchanges = table(["prompt", "reply", "at"], data.history.map((r) => [r.prompt, r.reply, r.at]));
    exchanges.id = "exchanges";
    body.append(facts, exchanges);
  }
  openPanel("This chat's sessions", body);
}

function knownChats() {
  let chats = [];
  try { chats = JSON.parse(localStorage.getItem("tether.chats") || "[]"); } catch (_) { /* reset */ }
  chats = chats.filter((name) => /^[A-Za-z0-9_-]{1,32}$/.test(name));
  if (!chats.includes(state.chat)) chats.unshift(state.chat);
  return chats.slice(0, 20);
}

function switchChat(name) {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) {
    setStatus("A chat name is 1-32 letters, digits, '-' or '_'.");
    return;
  }
  const chats = [name, ...knownChats().filter((chat) => chat !== name)];
  localStorage.setItem("tether.chats", JSON.stringify(chats.slice(0, 20)));
  localStorage.setItem("tether.chat", name);
  state.chat = name;
  $("chat-name").textContent = `chat: ${name}`;
  const old = state.socket;
  connect();
  if (old) old.close();
  $("panel").close();
}

function chatSwitcher() {
  const box = element("div", "chats");
  box.append(element("p", "scope-title", "Chats in this browser:"));
  const list = element("div", "buttons");
  knownChats().forEach((name) => {
    const pick = button(name, name === state.chat ? "chat-pick current" : "chat-pick", () => switchChat(name));
    pick.disabled = name === state.chat;
    list.append(pick);
  });
  const field = element("input", "new-chat");
  field.type = "text";
  field.maxLength = 32;
  field.placeholder = "Another chat's name";
  box.append(list, field, button("Open chat", "open-chat", () => switchChat(field.value.trim())));
  return box;
}

async function showAudit() {
  const { data } = await api("GET", "/api/audit?limit=50");
  const rows = (data.entries || []).map((e) => {
    let verdict = e.outcome || "";
    if (e.allowed === true || e.approved === true) verdict = verdict || "allowed";
    if (e.allowed === false || e.approved === false) verdict = verdict || "denied";
    return [e.timestamp || "", e.event_type, `${e.tool_name || ""} ${e.subject || ""}`.trim(), verdict, e.reason || ""];
  });
  openPanel("Recent decisions", table(["when", "what", "call", "decision", "reason"], rows));
}

function table(headings, rows) {
  const node = document.createElement("table");
  const head = node.createTHead().insertRow();
  headings.forEach((heading) => {
    const cell = document.createElement("th");
    cell.textContent = heading;
    head.append(cell);
  });
  const body = node.createTBody();
  rows.forEach((row) => {
    const line = body.insertRow();
    row.forEach((value) => {
      const cell = line.insertCell();
      cell.textContent = value === null || value === undefined ? "" : String(value);
      if (value === "denied" || value === "rejected") cell.className = "denied";
      if (value === "allowed" || value === "approved") cell.className = "allowed";
    });
  });
  return node;
}

function openPanel(title, body) {
  $("panel-title").textContent = title;
  $("panel-body").replaceChildren(body);
  $("panel").showModal();
}

// -- theme -----------------------------------------------------------------------

function applyTheme(theme) {
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function toggleTheme() {
  const dark = document.documentElement.dataset.theme === "dark" ||
    (!document.documentElement.dataset.theme && matchMedia("(prefers-color-scheme: dark)").matches);
  const next = dark ? "light" : "dark";
  localStorage.setItem("tether.theme", next);
  applyTheme(next);
}

// -- wiring ----------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await login($("login-token").value.trim())) {
      $("login-token").value = "";
      const { data } = await api("GET", "/api/state");
      state.commands = data.commands || [];
      showApp();
    }
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    $("command-menu").hidden = true;
    send(text);
  });
  $("composer-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
    if (event.key === "Escape") $("command-menu").hidden = true;
  });
  $("composer-input").addEventListener("input", (event) => {
    const value = event.target.value;
    if (value.startsWith("/") && !value.includes(" ")) menu(value);
    else $("command-menu").hidden = true;
  });
  $("commands-button").addEventListener("click", () => {
    const list = $("command-menu");
    if (list.hidden) menu("/"); else list.hidden = true;
  });
  $("approve-all").addEventListener("click", () => answerAll("approve"));
  $("reject-all").addEventListener("click", () => answerAll("reject"));
  $("cancel").addEventListener("click", () => api("POST", "/api/cancel", { chat: state.chat }));
  $("sessions-button").addEventListener("click", () => showSession());
  $("audit-button").addEventListener("click", showAudit);
  $("panel-close").addEventListener("click", () => $("panel").close());
  $("theme-button").addEventListener("click", toggleTheme);
  $("notify-button").addEventListener("click", () => {
    if ("Notification" in window) Notification.requestPermission();
  });
  boot();
});
