// A headless MCP Apps host around helpdesk-mcp's approval card, built from the official host
// library: @modelcontextprotocol/ext-apps's AppBridge over a real MCP client (stdio), with the
// card's page running in a happy-dom window whose parent is this host. It plays Claude Desktop
// (MCP Apps, no elicitation) and a person who reads the card and presses Send.
//
// Usage: node approval_card_host.mjs <node_modules dir> <helpdesk-mcp command> <data dir>
// Prints one JSON object: what the card showed, what the model was told, what the ticket holds.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const [modules, command, dataDir] = process.argv.slice(2);
console.debug = () => {}; // the transport logs every message it passes
const require = createRequire(join(modules, "index.js"));
const load = (name) => import(pathToFileURL(require.resolve(name)).href);

const { Client } = await load("@modelcontextprotocol/client");
const { StdioClientTransport } = await load("@modelcontextprotocol/client/stdio");
const { AppBridge, PostMessageTransport } = await load("@modelcontextprotocol/ext-apps/app-bridge");
const { Window } = await load("happy-dom");

const APP_MIME = "text/html;profile=mcp-app";
const deadline = Date.now() + 30_000;

async function until(what, check) {
  while (Date.now() < deadline) {
    const value = check();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const client = new Client(
  { name: "apps-host", version: "1.0.0" },
  { capabilities: { extensions: { "io.modelcontextprotocol/ui": { mimeTypes: [APP_MIME] } } } },
);
await client.connect(
  new StdioClientTransport({
    command,
    args: [],
    env: {
      PATH: process.env.PATH,
      HOME: dataDir,
      HELPDESK_DB: join(dataDir, "helpdesk.db"),
      HELPDESK_LEDGER_DB: join(dataDir, "ledger.db"),
      HELPDESK_CONFIRM_REPLIES: "1",
    },
  }),
);

const tools = (await client.listTools()).tools;
const reply = tools.find((tool) => tool.name === "reply_ticket");
const answerTool = tools.find((tool) => tool.name === "answer_approval");
const created = await client.callTool({
  name: "create_ticket",
  arguments: { subject: "Refund", body: "Charged twice." },
});
const ref = created.structuredContent.ticket;
const draft = "Refund issued <b>today</b>.\nSorry & thanks!";
const toolInput = { ticket: ref, body: draft };
const held = await client.callTool({ name: "reply_ticket", arguments: toolInput });
const page = (await client.readResource({ uri: reply._meta.ui.resourceUri })).contents[0];

// The host page and the card's iframe: the card posts to its parent, which is this host.
const host = new EventTarget();
const view = new Window({
  url: "https://card.invalid/",
  settings: { enableJavaScriptEvaluation: true, suppressInsecureJavaScriptEnvironmentWarning: true },
});
host.postMessage = (data) => host.dispatchEvent(Object.assign(new Event("message"), { data, source: view }));
Object.defineProperty(view, "parent", { get: () => host });
const toView = {
  postMessage: (data) => view.dispatchEvent(new view.MessageEvent("message", { data, source: host })),
};
globalThis.window = host; // PostMessageTransport listens on the host's own window

const modelContext = [];
const bridge = new AppBridge(client, { name: "apps-host", version: "1.0.0" }, { serverTools: {} });
bridge.onupdatemodelcontext = async (params) => {
  modelContext.push(...(params.content ?? []).map((block) => block.text));
  return {};
};
let initialized = false;
bridge.oninitialized = () => {
  initialized = true;
};
await bridge.connect(new PostMessageTransport(toView, view));

view.document.write(page.text);
await until("the card's ui/initialize", () => initialized);
await bridge.sendToolInput({ arguments: toolInput });
await bridge.sendToolResult(held);

const send = await until("the Send button", () => view.document.querySelector("button[data-answer=send]"));
const shown = view.document.getElementById("card").textContent;
const markupInDraft = view.document.querySelector("#card pre *") !== null;
const buttons = [...view.document.querySelectorAll("button[data-answer]")].map((b) => b.textContent);
const before = (await client.callTool({ name: "get_ticket", arguments: { ticket: ref } })).structuredContent;
send.click();
await until("the card's word to the model", () => modelContext.length > 0);
const status = view.document.querySelector("[role=status]").textContent;
const after = (await client.callTool({ name: "get_ticket", arguments: { ticket: ref } })).structuredContent;
const again = await client.callTool({
  name: "answer_approval",
  arguments: { approval: held._meta["helpdesk-mcp/approval"].id, digest: "x", send: true },
});

const agentBodies = (ticket) => ticket.messages.filter((m) => m.kind === "agent").map((m) => m.body);
console.log(
  JSON.stringify({
    ref,
    draft,
    pageMime: page.mimeType,
    answerVisibility: answerTool._meta.ui.visibility,
    heldIsError: held.isError,
    heldText: held.content[0].text,
    shown,
    markupInDraft,
    buttons,
    status,
    modelContext,
    before: agentBodies(before),
    after: agentBodies(after),
    againIsError: again.isError,
  }),
);
await view.happyDOM.close();
await client.close();
process.exit(0);
