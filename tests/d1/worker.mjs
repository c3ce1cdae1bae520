// Cloudflare's D1 HTTP API (POST /client/v4/accounts/:account/d1/database/:db/query), served over a
// real D1 binding by miniflare, for AgentLog's tests. Same envelope, status codes and error codes as
// api.cloudflare.com: 401 {code 10000} for a bad token, 400 {code 7500} for a failing statement.
const envelope = (result, status = 200, errors = []) =>
  Response.json({ success: errors.length === 0, errors, messages: [], result }, { status });
const bound = (db, q) => (q.params && q.params.length ? db.prepare(q.sql).bind(...q.params) : db.prepare(q.sql));
const shape = (r) => ({ results: r.results ?? [], success: r.success, meta: r.meta });
const ROUTE = /^\/client\/v4\/accounts\/([^/]+)\/d1\/database\/([^/]+)\/query$/;

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (req.method !== "POST" || !ROUTE.test(url.pathname))
      return envelope(null, 404, [{ code: 7003, message: "No route for that URI" }]);
    if (req.headers.get("authorization") !== `Bearer ${env.TOKEN}`)
      return envelope(null, 401, [{ code: 10000, message: "Authentication error" }]);
    let body;
    try { body = await req.json(); } catch { return envelope(null, 400, [{ code: 7400, message: "bad JSON" }]); }
    try {
      if (Array.isArray(body.batch)) return envelope((await env.DB.batch(body.batch.map((q) => bound(env.DB, q)))).map(shape));
      return envelope([shape(await bound(env.DB, body).all())]);
    } catch (e) {
      return envelope(null, 400, [{ code: 7500, message: String((e && e.message) || e) }]);
    }
  },
};
