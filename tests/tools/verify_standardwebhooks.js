// verify_standardwebhooks.js: the receiving side of
// tests/e2e/test_signature_interop.py, written with the npm package
// `standardwebhooks` (the reference library of the Standard Webhooks spec).
//
// Usage: node verify_standardwebhooks.js <folder holding node_modules>
// Reads a JSON list of cases on standard input, each
//   {secret, id, timestamp, body, signature}
// and prints a JSON list of results, each
//   {verified: bool, error: string|null, library_signature: "v1,..."}
// where `verified` is Webhook.verify() on the headers tocsin would send and
// `library_signature` is what the library itself signs for the same input.
"use strict";
const path = require("path");
const { Webhook } = require(path.join(process.argv[2], "node_modules", "standardwebhooks"));

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((c) => {
    const wh = new Webhook(c.secret);
    const r = { verified: false, error: null, library_signature: null };
    r.library_signature = wh.sign(c.id, new Date(c.timestamp * 1000), c.body);
    try {
      wh.verify(c.body, {
        "webhook-id": c.id,
        "webhook-timestamp": String(c.timestamp),
        "webhook-signature": c.signature,
      });
      r.verified = true;
    } catch (e) {
      r.error = String(e && e.message ? e.message : e);
    }
    return r;
  });
  process.stdout.write(JSON.stringify(out));
});
