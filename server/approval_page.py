"""The approval card's page: an MCP App (`text/html;profile=mcp-app`) the host shows with the result
of reply_ticket and attach_file.

The page holds no data of its own. It speaks the MCP Apps protocol to its host over `postMessage`
(`ui/initialize`, then the tool result in `ui/notifications/tool-result`) and shows what the server
rendered and escaped for that result: the card of a message held for approval, or what the call did.
Send and Cancel call the app-only tool answer_approval through the host, then tell the model what
the user decided (`ui/update-model-context`). No script or style comes from anywhere else.
"""

from __future__ import annotations

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Approve a message to a customer</title>
<style>
:root { color-scheme: light dark; }
body {
  margin: 0; padding: 12px 14px;
  font: 14px/1.45 var(--font-sans, system-ui, sans-serif);
  color: var(--color-text-primary, CanvasText); background: var(--color-background-primary, Canvas);
}
h1 { font-size: 15px; margin: 0 0 8px; }
h2 { font-size: 13px; margin: 12px 0 4px; color: var(--color-text-secondary, GrayText); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
dt { color: var(--color-text-secondary, GrayText); }
dd { margin: 0; }
pre {
  white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; padding: 8px;
  font: 13px/1.45 var(--font-mono, ui-monospace, monospace);
  border: 1px solid var(--color-border-primary, GrayText); border-radius: var(--border-radius-md, 6px);
}
ul { margin: 0; padding-left: 18px; }
code { font-family: var(--font-mono, ui-monospace, monospace); }
.warning { color: var(--color-text-danger, #b00020); font-weight: 600; }
.meta { color: var(--color-text-secondary, GrayText); font-size: 12px; margin-top: 10px; }
.actions { display: flex; gap: 8px; margin-top: 12px; }
button { font: inherit; padding: 6px 16px; border-radius: var(--border-radius-md, 6px); cursor: pointer; }
button[data-answer="send"] { font-weight: 600; }
[role="status"]:empty { display: none; }
[role="status"] { margin-top: 10px; }
</style>
</head>
<body>
<main id="card"><p>Waiting for the tool's result...</p></main>
<script>
"use strict";
const KEY = "helpdesk-mcp/approval";
const pending = new Map();
let nextId = 1;

function request(method, params) {
  const id = nextId++;
  window.parent.postMessage({ jsonrpc: "2.0", id, method, params }, "*");
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

function notify(method, params) {
  window.parent.postMessage({ jsonrpc: "2.0", method, params }, "*");
}

function textOf(result) {
  const texts = (result.content || []).filter((block) => block.type === "text");
  return texts.map((block) => block.text).join("\\n");
}

function say(text) {
  const status = document.querySelector("[role=status]");
  if (status) {
    status.textContent = text;
  } else {
    const root = document.getElementById("card");
    root.replaceChildren(Object.assign(document.createElement("p"), { textContent: text }));
  }
}

function describe(result) {
  const posted = result.structuredContent;
  if (result.isError || !posted || !posted.ticket) return textOf(result);
  const again = posted.replayed ? " (sent earlier; not sent twice)" : "";
  const done = posted.kind === "internal_note" ? "Added as an internal note to" : "Sent to";
  return `${done} ${posted.ticket} as message ${posted.message_id}${again}.`;
}

async function answer(held, send) {
  for (const button of document.querySelectorAll("button[data-answer]")) button.disabled = true;
  say(send ? "Sending..." : "Cancelling...");
  let told;
  try {
    const result = await request("tools/call", {
      name: "answer_approval",
      arguments: { approval: held.id, digest: held.digest, send },
    });
    told = describe(result);
  } catch (error) {
    told = `The host did not pass the answer on (${error.message}); nothing was sent from this card.`;
  }
  say(told);
  request("ui/update-model-context", {
    content: [{ type: "text", text: `Approval card for ${held.what}: ${told}` }],
  }).catch(() => {});
}

function show(result) {
  const held = result && result._meta && result._meta[KEY];
  if (!held) {
    say(describe(result || {}));
    return;
  }
  // Rendered by this page's own server, every value in it escaped there.
  document.getElementById("card").innerHTML = held.html;
  for (const button of document.querySelectorAll("button[data-answer]")) {
    button.addEventListener("click", () => answer(held, button.dataset.answer === "send"));
  }
}

window.addEventListener("message", (event) => {
  if (event.source !== window.parent) return;
  const message = event.data;
  if (!message || message.jsonrpc !== "2.0") return;
  if (message.method === undefined && pending.has(message.id)) {
    const waiting = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiting.reject(new Error(message.error.message));
    else waiting.resolve(message.result);
  } else if (message.method === "ui/notifications/tool-result") {
    show(message.params);
  } else if (message.method === "ui/resource-teardown" && message.id !== undefined) {
    window.parent.postMessage({ jsonrpc: "2.0", id: message.id, result: {} }, "*");
  }
});

new ResizeObserver(() => {
  const box = document.documentElement.getBoundingClientRect();
  notify("ui/notifications/size-changed", { width: Math.ceil(box.width), height: Math.ceil(box.height) });
}).observe(document.documentElement);

request("ui/initialize", {
  appInfo: { name: "helpdesk-mcp approval card", version: "1" },
  appCapabilities: {},
  protocolVersion: "2026-01-26",
}).then(() => notify("ui/notifications/initialized", {}));
</script>
</body>
</html>
"""
