// Block Kit and mrkdwn as Slack shows them: blocks, their buttons and pickers, modal inputs,
// mentions, dates and links. Reads the workspace (`state`, app.js) for names and channels.
"use strict";

const EMOJI = {
  rotating_light: "🚨", warning: "⚠️", white_check_mark: "✅", large_blue_circle: "🔵",
  large_yellow_circle: "🟡", hourglass_flowing_sand: "⏳", raising_hand: "🙋",
  bust_in_silhouette: "👤", arrow_right: "➡️", arrow_forward: "▶️",
  leftwards_arrow_with_hook: "↩️", memo: "📝", speech_balloon: "💬", inbox_tray: "📥",
  stopwatch: "⏱️", zzz: "💤", tada: "🎉", x: "❌", card_index: "📇", ticket: "🎫",
  eyes: "👀", thumbsup: "👍", "+1": "👍", heart: "❤️", pray: "🙏", star: "⭐",
};

const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => (
  { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const unentity = (text) => text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
const emoji = (name) => EMOJI[String(name).split("::")[0]] || `:${name}:`;

function channelOf(id) { return state.channels.find((c) => c.id === id); }

function blocksHtml(blocks, where) {
  return blocks.map((block) => blockHtml(block, where)).join("");
}

function blockHtml(block, where) {
  const inBlock = { ...where, blockId: block.block_id || "" };
  switch (block.type) {
    case "header": return `<div class="block block-header">${esc(block.text.text)}</div>`;
    case "divider": return `<hr class="block block-divider">`;
    case "context": return `<div class="block block-context">${block.elements.map(textHtml).join(" ")}</div>`;
    case "image": return `<div class="block block-image"><img alt="${esc(block.alt_text)}" src="${esc(block.image_url)}"></div>`;
    case "actions": return `<div class="block block-actions">${block.elements.map((e) => elementHtml(e, inBlock)).join("")}</div>`;
    case "section": {
      const text = block.text ? `<div>${textHtml(block.text)}</div>` : "";
      const fields = block.fields ? `<div class="fields">${block.fields.map((f) => `<div>${textHtml(f)}</div>`).join("")}</div>` : "";
      const accessory = block.accessory ? elementHtml(block.accessory, inBlock) : "";
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

// Where an interactive element is (its message, or App Home), for the payload Slack sends.
function whereAttributes(where) {
  return `data-channel="${esc(where.channel || "")}" data-ts="${esc(where.ts || "")}"
    data-block="${esc(where.blockId || "")}" data-ephemeral="${where.ephemeral ? "1" : ""}"
    data-home="${where.home ? "1" : ""}"`;
}

function elementHtml(element, where) {
  if (element.type === "users_select") return usersSelectHtml(element, where);
  if (element.type !== "button") return "";
  const style = element.style ? ` ${element.style}` : "";
  if (element.url) {
    const inPage = pageLink(element.url);
    const opens = inPage ? `href="${esc(inPage)}" data-permalink="1"` : `href="${esc(element.url)}" target="_blank" rel="noopener"`;
    return `<a class="btn${style}" ${opens} data-testid="button-${esc(element.text.text)}">${esc(element.text.text)}</a>`;
  }
  return `<button class="btn${style}" data-action="${esc(element.action_id)}" data-value="${esc(element.value || "")}"
    ${whereAttributes(where)} data-testid="button-${esc(element.text.text)}">${esc(element.text.text)}</button>`;
}

// Slack's people picker: everyone one can act as; the pick is sent at once, as Slack does.
function usersSelectHtml(element, where) {
  const placeholder = element.placeholder ? element.placeholder.text : "Select a person";
  const chosen = element.initial_user || "";
  const people = state.people.map((p) => `<option value="${esc(p.id)}" ${p.id === chosen ? "selected" : ""}>${esc(p.name)}</option>`);
  return `<select class="btn picker" data-pick="${esc(element.action_id)}" ${whereAttributes(where)}
      aria-label="${esc(placeholder)}" data-testid="picker-${esc(placeholder)}">
    <option value="" disabled ${chosen ? "" : "selected"}>${esc(placeholder)}</option>${people.join("")}
  </select>`;
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

// A permalink (this page's, or a slack.com one the bot wrote itself) opens the message here.
function pageLink(url) {
  const match = /^(?:https?:\/\/([^/]+))?\/archives\/([A-Z0-9]+)\/p(\d{7,})(?:\?thread_ts=([\d.]+))?/.exec(unentity(url));
  if (!match) return null;
  const [, host, channel, digits, thread] = match;
  if (host && host !== location.host && !/(^|\.)slack\.com$/.test(host)) return null;
  return `/archives/${channel}/p${digits}${thread ? `?thread_ts=${thread}` : ""}`;
}

// A modal's input block, showing what the app filled in (initial_value, initial_option).
function inputHtml(block) {
  const element = block.element;
  const id = `input-${block.block_id}`;
  const optional = block.optional ? " (optional)" : "";
  const named = `id="${esc(id)}" name="${esc(block.block_id)}" data-testid="${esc(id)}"`;
  const hint = element.placeholder ? ` placeholder="${esc(element.placeholder.text)}"` : "";
  const limit = `maxlength="${element.max_length || 3000}"`;
  let control = "";
  if (element.type === "static_select") {
    const chosen = element.initial_option ? element.initial_option.value : "";
    control = `<select ${named}>
      ${block.optional || chosen ? "" : `<option value="">Choose…</option>`}
      ${element.options.map((o) => `<option value="${esc(o.value)}" ${o.value === chosen ? "selected" : ""}>${esc(o.text.text)}</option>`).join("")}
    </select>`;
  } else if (element.multiline) {
    control = `<textarea ${named} ${limit}${hint}>${esc(element.initial_value || "")}</textarea>`;
  } else {
    control = `<input ${named} ${limit}${hint} value="${esc(element.initial_value || "")}">`;
  }
  return `<div class="input"><label for="${esc(id)}">${esc(block.label.text)}${optional}</label>${control}
    <div class="error" data-error="${esc(block.block_id)}"></div></div>`;
}
