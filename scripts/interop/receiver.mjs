// receiver.mjs is a webhook receiver that checks wirewatch's signatures with
// the reference Standard Webhooks library (npm "standardwebhooks"), so the
// Go side's signing is checked against someone else's reading of the spec,
// not only against its own Verify.
//
// Usage: INTEROP_SECRETS='{"desk":["whsec_…"],"rotated":["whsec_a","whsec_b"]}' \
//          node receiver.mjs [port]
//
// It listens on 127.0.0.1 (port 0, the default, picks a free one) and prints
// "interop receiver listening on http://127.0.0.1:PORT" once it is ready.
//
//   POST /hooks/NAME  verifies the request once per secret configured for
//                     NAME, each secret on its own: a sender in a rotation
//                     window signs with every secret, so every one of them
//                     has to verify. 204 when all do, 401 otherwise.
//   GET /results      what was seen: counts, every delivery with each
//                     secret's result, and every failure with its reason.
//
// Secrets come from the environment, not argv, so they stay out of process
// listings. The receiver exits when its standard input closes, so it never
// outlives the test that started it (give it a pipe).

import http from "node:http";
import { Webhook } from "standardwebhooks";

const maxBody = 1 << 20;

function loadSecrets() {
  const raw = process.env.INTEROP_SECRETS;
  if (!raw) {
    throw new Error("INTEROP_SECRETS is not set (a JSON object: hook name -> list of whsec_ secrets)");
  }
  const parsed = JSON.parse(raw);
  const hooks = new Map();
  for (const [name, secrets] of Object.entries(parsed)) {
    if (!Array.isArray(secrets) || secrets.length === 0) {
      throw new Error(`INTEROP_SECRETS: hook ${JSON.stringify(name)} needs a non-empty list of secrets`);
    }
    // new Webhook throws on a malformed secret: better now than per request.
    hooks.set(name, secrets.map((s) => new Webhook(s)));
  }
  return hooks;
}

const hooks = loadSecrets();
const results = { requests: 0, verified: 0, deliveries: [], failures: [] };

function record(hook, headers, checks, extra) {
  const id = headers["webhook-id"] ?? "";
  const ok = checks.length > 0 && checks.every((c) => c.ok);
  results.requests++;
  if (ok) {
    results.verified++;
  }
  results.deliveries.push({ hook, id, ok, checks, ...extra });
  for (const c of checks) {
    if (!c.ok) {
      results.failures.push({ hook, id, secret: c.secret, reason: c.reason });
    }
  }
  return ok;
}

function handleHook(req, res, name, body) {
  const verifiers = hooks.get(name);
  if (!verifiers) {
    record(name, req.headers, [{ secret: -1, ok: false, reason: "no secrets configured for this hook" }], {});
    res.writeHead(404).end();
    return;
  }
  const checks = [];
  let payload;
  verifiers.forEach((wh, i) => {
    try {
      // The raw body, as received: verify signs exactly these bytes.
      payload = wh.verify(body, req.headers);
      checks.push({ secret: i, ok: true });
    } catch (err) {
      checks.push({ secret: i, ok: false, reason: `${err.name}: ${err.message}` });
    }
  });
  const extra = {};
  if (payload && typeof payload === "object") {
    extra.type = payload.type;
    extra.itemId = payload.item?.id;
  }
  const ok = record(name, req.headers, checks, extra);
  res.writeHead(ok ? 204 : 401).end();
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://receiver.invalid");
  if (req.method === "GET" && url.pathname === "/results") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(results));
    return;
  }
  const m = /^\/hooks\/([A-Za-z0-9_.-]+)$/.exec(url.pathname);
  if (req.method !== "POST" || !m) {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  let size = 0;
  req.on("data", (c) => {
    size += c.length;
    if (size > maxBody) {
      res.writeHead(413).end();
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on("end", () => {
    if (size <= maxBody) {
      handleHook(req, res, m[1], Buffer.concat(chunks));
    }
  });
});

server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  const { port } = server.address();
  console.log(`interop receiver listening on http://127.0.0.1:${port}`);
});

// Tie the receiver's life to its parent's: a closed stdin means it is gone.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
