// The sandbox page: shows the stand-in workspace and sends what you do to the bot, as Slack
// would. Plain JavaScript, no build step, no network beyond this server.
"use strict";

const view = {
  user: localStorage.getItem("casedesk.user") || "", channel: "", thread: null, home: false,
  jump: null, highlight: null,
  menu: null,  // the message whose ⋯ menu is open: "<panel>:<channel>:<ts>"
  held: false,  // a render waits while a picker is open (it would close it)
};
// The reactions offered on every message (Slack's "frequently used").
const QUICK_REACTIONS = ["ticket", "eyes", "white_check_mark", "thumbsup"];
let state = null;
let fetching = false;
let again = false;

const $ = (id) => document.getElementById(id);

async function post(action, body) {
  const response = await fetch(`/ui/${action}`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: view.user, ...body }),
  });
  const answer = await response.json().catch(() => ({ ok: false, error: "no answer" }));
  if (!answer.ok && answer.error) toast(answer.error);
  return answer;
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 3500);
}

// ---- loading

async function refresh() {
  if (fetching) { again = true; return; }
  fetching = true;
  try {
    const response = await fetch(`/ui/state?user=${encodeURIComponent(view.user)}`);
    if (response.status === 503) { setTimeout(() => location.reload(), 2000); return; }
    state = await response.json();
    if (!view.user && state.people.length) view.user = state.people[0].id;
    if (!view.channel && state.channels.length) view.channel = state.channels[0].id;
    render();
    if (view.jump) jumpTo(view.jump);
  } finally {
    fetching = false;
    if (again) { again = false; refresh(); }
  }
}

function listen() {
  const events = new EventSource("/ui/events");
  events.onmessage = () => refresh();
  events.onerror = () => { events.close(); setTimeout(listen, 1000); };
}

// ---- rendering

function render() {
  if (picking()) { view.held = true; return; }
  view.held = false;
  renderSidebar();
  renderMain();
  renderThread();
  renderModal();
}

// A people picker is open: re-rendering now would close it under the person choosing.
function picking() {
  const focused = document.activeElement;
  return Boolean(focused && focused.matches("select[data-pick]"));
}

function renderSidebar() {
  const persona = $("persona");
  if (persona.options.length !== state.people.length) {
    persona.innerHTML = state.people.map((p) => `<option value="${esc(p.id)}">${esc(p.name)}</option>`).join("");
  }
  persona.value = view.user;
  const link = (c) => `<li><a href="#" data-channel="${esc(c.id)}" data-testid="channel-${esc(c.name)}"
      class="${!view.home && c.id === view.channel ? "active" : ""}"># ${esc(c.name)}</a></li>`;
  $("channels").innerHTML = state.channels.filter((c) => c.kind !== "dm").map(link).join("");
  $("dms").innerHTML = state.channels.filter((c) => c.kind === "dm").map((c) =>
    `<li><a href="#" data-channel="${esc(c.id)}" data-testid="dm"
       class="${!view.home && c.id === view.channel ? "active" : ""}">${esc(c.name)}</a></li>`).join("")
    || `<li class="hint">none yet</li>`;
  $("home-link").classList.toggle("active", view.home);
  showClock(state.now);
}

// The bot's clock (not the time of the last message): the page is told whenever it moves.
function showClock(now) {
  $("now").textContent = new Date(now).toLocaleString([], {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

function renderMain() {
  $("home").hidden = !view.home;
  $("messages").hidden = view.home;
  $("composer").hidden = view.home;
  if (view.home) {
    $("channel-title").textContent = "Casedesk · App Home";
    $("channel-note").textContent = "";
    $("home").innerHTML = state.home ? blocksHtml(state.home.blocks, { home: true })
      : `<p class="hint">Opening App Home…</p>`;
    return;
  }
  const channel = channelOf(view.channel);
  $("channel-title").textContent = channel ? (channel.kind === "dm" ? channel.name : `# ${channel.name}`) : "";
  $("channel-note").textContent = channel ? { team: "case cards", alerts: "SLA alerts",
    requests: "where people ask for help", dm: "",
    general: "anyone's talk: 🎫 or ⋯ › Open a case makes a message a case" }[channel.kind] || "" : "";
  const messages = (state.messages[view.channel] || []).map((m) => ({ ...m, kind: "message" }));
  const ephemerals = state.ephemerals.filter((e) => e.channel === view.channel)
    .map((e) => ({ ...e, kind: "ephemeral" }));
  const all = [...messages, ...ephemerals].sort((a, b) => Number(a.ts) - Number(b.ts));
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  box.innerHTML = all.map((m) => messageHtml(m, { channel: view.channel })).join("")
    || `<p class="hint">No messages yet. Write something, or try <code>/case open Printer on fire</code>.</p>`;
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function renderThread() {
  const panel = $("thread");
  if (!view.thread || view.home) { panel.hidden = true; return; }
  const { channel, ts } = view.thread;
  const root = (state.messages[channel] || []).find((m) => m.ts === ts);
  const replies = (state.replies[channel] || {})[ts] || [];
  panel.hidden = false;
  $("thread-messages").innerHTML = [root, ...replies].filter(Boolean)
    .map((m) => messageHtml({ ...m, kind: "message" }, { channel, inThread: true })).join("");
}

function messageHtml(message, where) {
  const author = message.bot_id ? "Casedesk" : (state.names[message.user] || message.user || "");
  const initial = esc(author.slice(0, 1).toUpperCase());
  const when = new Date(Number(message.ts) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const content = message.blocks && message.blocks.length
    ? blocksHtml(message.blocks, { channel: where.channel, ts: message.ts, ephemeral: message.kind === "ephemeral" })
    : `<div class="block">${mrkdwn(message.text || "")}</div>`;
  const files = (message.files || []).map((f) =>
    `<div class="file"><img alt="${esc(f.title)}" src="/files/${esc(f.id)}" data-testid="file"></div>`).join("");
  const replies = !where.inThread && message.reply_count
    ? `<button class="replies-link" data-thread="${esc(message.ts)}" data-channel="${esc(where.channel)}"
         data-testid="replies">${message.reply_count} ${message.reply_count === 1 ? "reply" : "replies"}</button>` : "";
  const startThread = !where.inThread && !message.reply_count && message.kind === "message" && message.bot_id
    ? `<button class="replies-link" data-thread="${esc(message.ts)}" data-channel="${esc(where.channel)}">reply in thread</button>` : "";
  const only = message.kind === "ephemeral" ? `<div class="only-you">Only visible to you</div>` : "";
  const menuKey = `${where.inThread ? "thread" : "main"}:${where.channel}:${message.ts}`;
  const marks = [message.kind === "ephemeral" ? "ephemeral" : "", message.ts === view.highlight ? "highlight" : "",
    view.menu === menuKey ? "menu-open" : ""].join(" ");
  const tools = message.kind === "message" ? toolsHtml(message, where, view.menu === menuKey) : "";
  return `<div class="message ${marks}" data-ts="${esc(message.ts)}" data-in="${esc(where.channel)}"
      data-menu-key="${esc(menuKey)}" data-testid="message">
    <div class="avatar ${message.bot_id || message.kind === "ephemeral" ? "bot" : ""}">${initial}</div>
    <div><div class="meta"><b>${esc(author || "Casedesk")}</b>${esc(when)}</div>${only}${content}${files}
      ${reactionsHtml(message)}${replies}${startThread}</div>${tools}
  </div>`;
}

// What hovering a message offers, as in Slack: quick reactions, a reply in its thread, and
// the ⋯ menu with the app's message shortcuts.
function toolsHtml(message, where, menuOpen) {
  const quick = QUICK_REACTIONS.map((name) => `<button class="tool" data-react="${esc(name)}"
      title="React with :${esc(name)}:" data-testid="react-${esc(name)}">${emoji(name)}</button>`).join("");
  const thread = where.inThread ? "" : `<button class="tool" data-thread="${esc(message.ts)}"
      data-channel="${esc(where.channel)}" title="Reply in thread" data-testid="reply-in-thread">💬</button>`;
  const menu = menuOpen ? `<div class="menu" role="menu">${state.shortcuts.map((shortcut) =>
    `<button role="menuitem" data-shortcut="${esc(shortcut.callback_id)}"
       data-testid="shortcut-${esc(shortcut.name)}">${esc(shortcut.name)}</button>`).join("")}</div>` : "";
  return `<div class="message-tools">${quick}${thread}
    <button class="tool" data-menu="1" title="More actions" aria-haspopup="menu" data-testid="message-menu">⋯</button>${menu}
  </div>`;
}

// Reactions under a message; one's own are marked, and clicking one adds or takes back one's own.
function reactionsHtml(message) {
  if (!message.reactions || !message.reactions.length) return "";
  return `<div class="reactions">${message.reactions.map((reaction) => {
    const who = reaction.users.map((u) => (u === "UBOT" ? "Casedesk" : state.names[u] || u)).join(", ");
    const mine = reaction.users.includes(view.user) ? "mine" : "";
    return `<button class="reaction ${mine}" data-reaction="${esc(reaction.name)}" title="${esc(who)}"
      data-testid="reaction-${esc(reaction.name)}">${emoji(reaction.name)} <span>${reaction.count}</span></button>`;
  }).join("")}</div>`;
}

function findMessage(channel, ts) {
  const top = (state.messages[channel] || []).find((m) => m.ts === ts);
  if (top) return top;
  return Object.values(state.replies[channel] || {}).flat().find((m) => m.ts === ts);
}

// A click on a message's tools or reactions.
async function onMessageTool(tool) {
  const shown = tool.closest("[data-testid=message]");
  const where = { channel: shown.dataset.in, ts: shown.dataset.ts };
  if (tool.dataset.menu) {
    view.menu = view.menu === shown.dataset.menuKey ? null : shown.dataset.menuKey;
    render();
    return;
  }
  view.menu = null;
  if (tool.dataset.shortcut) {
    render();
    await post("shortcut", { ...where, callback_id: tool.dataset.shortcut });
    return;
  }
  const name = tool.dataset.react || tool.dataset.reaction;
  const message = findMessage(where.channel, where.ts);
  const mine = message && (message.reactions || []).some((r) => r.name === name && r.users.includes(view.user));
  await post(mine ? "unreact" : "react", { ...where, name });
}

// ---- links to messages: a permalink (this page's, or a slack.com one the bot wrote itself)
// opens the message here, in its channel, with its thread.

function permalinkTarget(path) {
  const match = /^\/archives\/([A-Z0-9]+)\/p(\d{7,})(?:\?thread_ts=([\d.]+))?/.exec(path);
  if (!match) return null;
  const [, channel, digits, thread] = match;
  return { channel, ts: `${digits.slice(0, -6)}.${digits.slice(-6)}`, thread };
}

function jumpTo(target) {
  view.jump = null;
  if (!channelOf(target.channel)) { toast("That message is in a channel this page does not show."); return; }
  view.channel = target.channel;
  view.home = false;
  const root = (state.messages[target.channel] || []).find((m) => m.ts === target.ts);
  const threadTs = target.thread || (root && root.reply_count ? root.ts : null);
  view.thread = threadTs ? { channel: target.channel, ts: threadTs } : null;
  view.highlight = target.ts;
  render();
  const shown = document.querySelector(`#messages [data-ts="${CSS.escape(target.ts)}"]`)
    || document.querySelector(`#thread-messages [data-ts="${CSS.escape(target.ts)}"]`);
  if (shown) shown.scrollIntoView({ block: "center" });
}

// ---- modals

function renderModal() {
  const modal = state.modal;
  const backdrop = $("modal-backdrop");
  if (!modal) { backdrop.hidden = true; backdrop.dataset.view = ""; return; }
  if (backdrop.dataset.view === modal.id) return;  // keep what is being typed
  backdrop.dataset.view = modal.id;
  $("modal-title").textContent = modal.title.text;
  $("modal-submit").textContent = modal.submit ? modal.submit.text : "Submit";
  $("modal-body").innerHTML = modal.blocks.map((block) => (block.type === "input"
    ? inputHtml(block) : blockHtml(block, {}))).join("");
  backdrop.hidden = false;
  const first = $("modal-body").querySelector("input, textarea, select");
  if (first) first.focus();
}

async function submitModal(event) {
  event.preventDefault();
  const viewId = $("modal-backdrop").dataset.view;
  const values = {};
  $("modal-body").querySelectorAll("[name]").forEach((field) => { values[field.name] = field.value; });
  const answer = await post("submit", { view_id: viewId, values });
  $("modal-body").querySelectorAll("[data-error]").forEach((box) => { box.textContent = ""; });
  if (answer.errors) {
    Object.entries(answer.errors).forEach(([blockId, message]) => {
      const box = $("modal-body").querySelector(`[data-error="${CSS.escape(blockId)}"]`);
      if (box) box.textContent = message;
    });
  }
}

// ---- wiring

document.addEventListener("click", async (event) => {
  if (event.target.closest("select, input, textarea")) return;
  const tool = event.target.closest("[data-react], [data-reaction], [data-menu], [data-shortcut]");
  if (tool) { await onMessageTool(tool); return; }
  if (view.menu) { view.menu = null; render(); }
  const link = event.target.closest("a[data-permalink]");
  if (link) {
    event.preventDefault();
    jumpTo(permalinkTarget(link.getAttribute("href")));
    return;
  }
  const target = event.target.closest("[data-channel], [data-action], [data-thread], #home-link");
  if (!target) return;
  if (target.id === "home-link") {
    event.preventDefault();
    view.home = true;
    view.thread = null;
    render();
    await post("home", {});
    return;
  }
  if (target.dataset.action) {
    await post("click", {
      action_id: target.dataset.action, value: target.dataset.value, channel: target.dataset.channel,
      message_ts: target.dataset.ts, ephemeral: Boolean(target.dataset.ephemeral), home: Boolean(target.dataset.home),
    });
    return;
  }
  if (target.dataset.thread) {
    view.thread = { channel: target.dataset.channel, ts: target.dataset.thread };
    renderThread();
    return;
  }
  event.preventDefault();
  view.channel = target.dataset.channel;
  view.home = false;
  view.thread = null;
  view.highlight = null;
  render();
});

// A pick in a people picker ("Assign to…") is sent at once, as Slack does.
document.addEventListener("change", async (event) => {
  const picker = event.target.closest("select[data-pick]");
  if (!picker || !picker.value) return;
  const picked = picker.value;
  picker.blur();
  await post("pick", {
    action_id: picker.dataset.pick, block_id: picker.dataset.block, selected_user: picked,
    channel: picker.dataset.channel, message_ts: picker.dataset.ts,
    ephemeral: Boolean(picker.dataset.ephemeral), home: Boolean(picker.dataset.home),
  });
  if (view.held) render();
});
document.addEventListener("focusout", (event) => {
  if (event.target.matches && event.target.matches("select[data-pick]") && view.held) setTimeout(render, 0);
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && view.menu) { view.menu = null; render(); }
});

$("persona").addEventListener("change", (event) => {
  view.user = event.target.value;
  localStorage.setItem("casedesk.user", view.user);
  if (view.home) post("home", {});
  refresh();
});

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("composer-text");
  const text = input.value;
  input.value = "";
  await post("type", { channel: view.channel, text });
});

$("thread-composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("thread-text");
  const text = input.value;
  input.value = "";
  await post("type", { channel: view.thread.channel, thread_ts: view.thread.ts, text });
});

$("close-thread").addEventListener("click", () => { view.thread = null; renderThread(); });
$("modal").addEventListener("submit", submitModal);
$("modal-cancel").addEventListener("click", () => post("close", { view_id: $("modal-backdrop").dataset.view }));
document.querySelectorAll("#clock button").forEach((button) => {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const answer = await post("advance", { minutes: Number(button.dataset.minutes) });
      if (answer.now) { state.now = answer.now; showClock(answer.now); }
    } finally { button.disabled = false; }
  });
});

// Opened at a permalink (/archives/…): show that message once the workspace is loaded.
view.jump = permalinkTarget(location.pathname + location.search);
if (view.jump) history.replaceState(null, "", "/");
refresh();
listen();
