// The sandbox page: shows the stand-in workspace and sends what you do to the bot, as Slack
// would. Plain JavaScript, no build step, no network beyond this server.
"use strict";

const EMOJI = {
  rotating_light: "🚨", warning: "⚠️", white_check_mark: "✅", large_blue_circle: "🔵",
  large_yellow_circle: "🟡", hourglass_flowing_sand: "⏳", raising_hand: "🙋",
  bust_in_silhouette: "👤", arrow_right: "➡️", arrow_forward: "▶️",
  leftwards_arrow_with_hook: "↩️", memo: "📝", speech_balloon: "💬", inbox_tray: "📥",
  stopwatch: "⏱️", zzz: "💤", tada: "🎉", x: "❌", card_index: "📇",
};

const view = { user: localStorage.getItem("casedesk.user") || "", channel: "", thread: null, home: false, jump: null, highlight: null };
let state = null;
let fetching = false;
let again = false;

const $ = (id) => document.getElementById(id);
const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => (
  { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const unentity = (text) => text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

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
  renderSidebar();
  renderMain();
  renderThread();
  renderModal();
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

function channelOf(id) { return state.channels.find((c) => c.id === id); }

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
    requests: "where people ask for help", dm: "" }[channel.kind] || "" : "";
  const messages = (state.messages[view.channel] || []).map((m) => ({ ...m, kind: "message" }));
  const ephemerals = state.ephemerals.filter((e) => e.channel === view.channel)
    .map((e) => ({ ...e, kind: "ephemeral" }));
  const all = [...messages, ...ephemerals].sort((a, b) => Number(a.ts) - Number(b.ts));
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  box.innerHTML = all.map((m) => messageHtml(m, { channel: view.channel })).join("")
    || `<p class="hint">No messages yet. Try <code>/case open Printer on fire</code>.</p>`;
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
  const marks = `${message.kind === "ephemeral" ? "ephemeral" : ""} ${message.ts === view.highlight ? "highlight" : ""}`;
  return `<div class="message ${marks}" data-ts="${esc(message.ts)}" data-testid="message">
    <div class="avatar ${message.bot_id || message.kind === "ephemeral" ? "bot" : ""}">${initial}</div>
    <div><div class="meta"><b>${esc(author || "Casedesk")}</b>${esc(when)}</div>${only}${content}${files}${replies}${startThread}</div>
  </div>`;
}

function blocksHtml(blocks, where) {
  return blocks.map((block) => blockHtml(block, where)).join("");
}

function blockHtml(block, where) {
  switch (block.type) {
    case "header": return `<div class="block block-header">${esc(block.text.text)}</div>`;
    case "divider": return `<hr class="block block-divider">`;
    case "context": return `<div class="block block-context">${block.elements.map(textHtml).join(" ")}</div>`;
    case "image": return `<div class="block block-image"><img alt="${esc(block.alt_text)}" src="${esc(block.image_url)}"></div>`;
    case "actions": return `<div class="block block-actions">${block.elements.map((e) => elementHtml(e, where)).join("")}</div>`;
    case "section": {
      const text = block.text ? `<div>${textHtml(block.text)}</div>` : "";
      const fields = block.fields ? `<div class="fields">${block.fields.map((f) => `<div>${textHtml(f)}</div>`).join("")}</div>` : "";
      const accessory = block.accessory ? elementHtml(block.accessory, where) : "";
      return accessory
        ? `<div class="block section-with-accessory"><div>${text}${fields}</div>${accessory}</div>`
        : `<div class="block">${text}${fields}</div>`;
    }
    default: return "";
  }
}

function textHtml(text) {
  return text.type === "plain_text" ? esc(text.text) : mrkdwn(text.text);
}

function elementHtml(element, where) {
  if (element.type !== "button") return "";
  const style = element.style ? ` ${element.style}` : "";
  if (element.url) {
    const inPage = pageLink(element.url);
    const opens = inPage ? `href="${esc(inPage)}" data-permalink="1"` : `href="${esc(element.url)}" target="_blank" rel="noopener"`;
    return `<a class="btn${style}" ${opens} data-testid="button-${esc(element.text.text)}">${esc(element.text.text)}</a>`;
  }
  return `<button class="btn${style}" data-action="${esc(element.action_id)}" data-value="${esc(element.value || "")}"
    data-channel="${esc(where.channel || "")}" data-ts="${esc(where.ts || "")}"
    data-ephemeral="${where.ephemeral ? "1" : ""}" data-home="${where.home ? "1" : ""}"
    data-testid="button-${esc(element.text.text)}">${esc(element.text.text)}</button>`;
}

// Slack mrkdwn: <tokens> for mentions, links and dates; *bold*, _italic_, `code`, > quotes.
function mrkdwn(source) {
  const parts = String(source).split(/<([^<>]+)>/);
  let html = parts.map((part, index) => (index % 2 ? tokenHtml(part) : esc(unentity(part)))).join("");
  html = html.replace(/```([\s\S]+?)```/g, "<pre><code>$1</code></pre>")
    .replace(/`([^`\n]+)`/g, "<code>$1</code>")
    .replace(/(^|[\s(])\*([^*\n]+)\*/g, "$1<b>$2</b>")
    .replace(/(^|[\s(])_([^_\n]+)_/g, "$1<i>$2</i>")
    .replace(/(^|[\s(])~([^~\n]+)~/g, "$1<s>$2</s>")
    .replace(/:([a-z0-9_+-]+):/g, (all, name) => EMOJI[name] || all);
  return html.split("\n").map((line) => (line.startsWith("&gt; ")
    ? `<blockquote>${line.slice(5)}</blockquote>` : line)).join("<br>");
}

function tokenHtml(token) {
  const [target, label] = token.split("|", 2);
  if (target.startsWith("@")) return `<span class="mention">@${esc(state.names[target.slice(1)] || target.slice(1))}</span>`;
  if (target.startsWith("#")) {
    const channel = channelOf(target.slice(1));
    return `<span class="mention">#${esc(channel ? channel.name : target.slice(1))}</span>`;
  }
  if (target.startsWith("!subteam^")) return `<span class="mention">@${esc(label || "group")}</span>`;
  if (target.startsWith("!date^")) {
    const stamp = Number(target.split("^")[1]);
    return esc(new Date(stamp * 1000).toLocaleString([], {
      weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }));
  }
  if (target.startsWith("!")) return `<span class="mention">@${esc(target.slice(1))}</span>`;
  const inPage = pageLink(target);
  if (inPage) return `<a href="${esc(inPage)}" data-permalink="1">${esc(unentity(label || target))}</a>`;
  if (/^https?:\/\//.test(target)) return `<a href="${esc(target)}" target="_blank" rel="noopener">${esc(unentity(label || target))}</a>`;
  return esc(`<${token}>`);
}

// ---- links to messages: a permalink (this page's, or a slack.com one the bot wrote itself)
// opens the message here, in its channel, with its thread.

function pageLink(url) {
  const match = /^(?:https?:\/\/([^/]+))?\/archives\/([A-Z0-9]+)\/p(\d{7,})(?:\?thread_ts=([\d.]+))?/.exec(unentity(url));
  if (!match) return null;
  const [, host, channel, digits, thread] = match;
  if (host && host !== location.host && !/(^|\.)slack\.com$/.test(host)) return null;
  return `/archives/${channel}/p${digits}${thread ? `?thread_ts=${thread}` : ""}`;
}

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

function inputHtml(block) {
  const element = block.element;
  const id = `input-${block.block_id}`;
  const optional = block.optional ? " (optional)" : "";
  let control = "";
  if (element.type === "static_select") {
    const chosen = element.initial_option ? element.initial_option.value : "";
    control = `<select id="${esc(id)}" name="${esc(block.block_id)}" data-testid="${esc(id)}">
      ${block.optional || chosen ? "" : `<option value="">Choose…</option>`}
      ${element.options.map((o) => `<option value="${esc(o.value)}" ${o.value === chosen ? "selected" : ""}>${esc(o.text.text)}</option>`).join("")}
    </select>`;
  } else if (element.multiline) {
    control = `<textarea id="${esc(id)}" name="${esc(block.block_id)}" maxlength="${element.max_length || 3000}" data-testid="${esc(id)}"></textarea>`;
  } else {
    control = `<input id="${esc(id)}" name="${esc(block.block_id)}" maxlength="${element.max_length || 3000}" data-testid="${esc(id)}">`;
  }
  return `<div class="input"><label for="${esc(id)}">${esc(block.label.text)}${optional}</label>${control}
    <div class="error" data-error="${esc(block.block_id)}"></div></div>`;
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
