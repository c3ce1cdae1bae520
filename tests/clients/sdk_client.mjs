// The TypeScript MCP SDK's client against `agentlog mcp`, for tests/test_clients.py.
//
//   node sdk_client.mjs stdio CONFIG.json SERVER   start the server as the config's mcpServers.SERVER says,
//                                                  in the current directory, with this process's env
//   node sdk_client.mjs http URL                    connect to a running streamable HTTP server
//
// Lists tools, resources, resource templates and prompts, calls get_debug_context, reads
// agentlog://failures/latest and gets the debug_latest_failure prompt; prints one JSON object.
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [mode, target, name] = process.argv.slice(2);
let transport;
if (mode === "stdio") {
  const entry = JSON.parse(readFileSync(target, "utf8")).mcpServers[name];
  transport = new StdioClientTransport({
    command: entry.command, args: entry.args ?? [], env: { ...process.env, ...(entry.env ?? {}) },
    cwd: process.cwd(), stderr: "inherit",
  });
} else if (mode === "http") {
  transport = new StreamableHTTPClientTransport(new URL(target));
} else {
  console.error("usage: sdk_client.mjs stdio CONFIG SERVER | http URL");
  process.exit(2);
}

const client = new Client({ name: "agentlog-tests", version: "1.0.0" });
await client.connect(transport);
const text = (blocks) => blocks.map((block) => block.text ?? "").join("");
const tool = await client.callTool({ name: "get_debug_context", arguments: { max_tokens: 800 } });
const resource = await client.readResource({ uri: "agentlog://failures/latest" });
const prompt = await client.getPrompt({ name: "debug_latest_failure" });
const result = {
  server: client.getServerVersion(),
  instructions: client.getInstructions() ?? "",
  tools: (await client.listTools()).tools.map((t) => t.name),
  resources: (await client.listResources()).resources.map((r) => r.uri),
  templates: (await client.listResourceTemplates()).resourceTemplates.map((r) => r.uriTemplate),
  prompts: (await client.listPrompts()).prompts.map((p) => p.name),
  tool: { isError: Boolean(tool.isError), text: text(tool.content) },
  resource: text(resource.contents),
  prompt: prompt.messages.map((m) => m.content.text ?? "").join(""),
};
await client.close();
process.stdout.write(JSON.stringify(result) + "\n");
