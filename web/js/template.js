// template.js: the body-template preview, a line-by-line mirror of
// src/delivery/template.c (reference/webhooks.md, "Custom request body"),
// so that what the editor shows is what the receiver will get.
//
// JSON is parsed here by hand, not with JSON.parse, because the server's
// jansson differs from it in ways a preview must show: object keys keep
// their order (JS objects move integer-like keys first), a duplicate key is
// an error (JSON_REJECT_DUPLICATES), integers are exact 64-bit (BigInt here)
// and reals are printed like jansson's "%.17g" with ".0" added. Objects are
// Maps, arrays Arrays, integers BigInts, reals Real, strings strings.

export const TEMPLATE_MAX_BYTES = 64 * 1024;
const TEMPLATE_RENDER_MAX_BYTES = 16 * 1024 * 1024;
const FIELD = 'body_template';

export class Real {
  constructor(v) {
    this.v = v;
  }
}

class ParseError extends Error {
  constructor(msg, line, column) {
    super(msg);
    this.line = line;
    this.column = column;
  }
}

// ---- parsing (jansson's rules, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES) ----

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

export function parse(text) {
  let i = 0;
  const fail = (msg) => {
    const before = text.slice(0, i);
    const line = before.split('\n').length;
    const column = i - (before.lastIndexOf('\n') + 1);
    throw new ParseError(msg, line, column);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const value = (depth) => {
    if (depth > 2048) fail('maximum parsing depth reached');
    ws();
    const c = text[i];
    if (c === '{') return object(depth);
    if (c === '[') return array(depth);
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    if (i >= text.length) fail("'[' or '{' expected near end of file");
    return fail('invalid token near \'' + text[i] + '\'');
  };
  const object = (depth) => {
    const m = new Map();
    i++;
    ws();
    if (text[i] === '}') {
      i++;
      return m;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') fail('string or \'}\' expected');
      const k = string();
      if (m.has(k)) fail('duplicate object key');
      ws();
      if (text[i] !== ':') fail('\':\' expected');
      i++;
      m.set(k, value(depth + 1));
      ws();
      if (text[i] === '}') {
        i++;
        return m;
      }
      if (text[i] !== ',') fail('\'}\' expected');
      i++;
    }
  };
  const array = (depth) => {
    const a = [];
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return a;
    }
    for (;;) {
      a.push(value(depth + 1));
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      if (text[i] !== ',') fail('\']\' expected');
      i++;
    }
  };
  const string = () => {
    let out = '';
    i++;
    for (;;) {
      if (i >= text.length) fail('premature end of input');
      const c = text[i];
      if (c === '"') {
        i++;
        return out;
      }
      if (c < ' ') fail('control character in string');
      if (c !== '\\') {
        out += c;
        i++;
        continue;
      }
      const e = text[i + 1];
      const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e in simple) {
        out += simple[e];
        i += 2;
      } else if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid escape');
        const code = parseInt(hex, 16);
        if (code === 0) fail('\\u0000 is not allowed without JSON_ALLOW_NUL');
        out += String.fromCharCode(code);
        i += 6;
      } else {
        fail('invalid escape');
      }
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (!m) fail('invalid token');
    const lit = m[0];
    i += lit.length;
    if (!m[2] && !m[3]) {
      const n = BigInt(lit);
      if (n > INT64_MAX) fail('too big integer');
      if (n < INT64_MIN) fail('too big negative integer');
      return n;
    }
    const v = Number(lit);
    if (!Number.isFinite(v)) fail('real number overflow');
    return new Real(v);
  };
  const v = value(0);
  ws();
  if (i < text.length) fail('end of file expected');
  return v;
}

// ---- dumping (jansson's JSON_COMPACT) ----

function dumpString(s) {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20) out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

// "%.17g", then jansson's touches: ".0" when neither '.' nor 'e', and the
// exponent without '+' or leading zeros.
function dumpReal(x) {
  let s;
  if (x === 0) {
    s = Object.is(x, -0) ? '-0' : '0';
  } else {
    const [mant, exp] = x.toExponential(16).split('e');
    const e = Number(exp);
    if (e < -4 || e >= 17) {
      const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
      s = m + 'e' + (e < 0 ? '-' : '+') + String(Math.abs(e)).padStart(2, '0');
    } else {
      s = x.toFixed(Math.max(0, 16 - e));
      if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
    }
  }
  if (!s.includes('.') && !s.includes('e')) s += '.0';
  return s.replace(/e\+?(-?)0*(\d)/, 'e$1$2');
}

export function dump(v) {
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Real) return dumpReal(v.v);
  if (typeof v === 'string') return dumpString(v);
  if (Array.isArray(v)) return '[' + v.map(dump).join(',') + ']';
  if (v instanceof Map) return '{' + [...v].map(([k, x]) => dumpString(k) + ':' + dump(x)).join(',') + '}';
  throw new Error('not a JSON value');
}

// Pretty form of the same value, for reading (key order kept).
export function pretty(v, indent = '') {
  const next = indent + '  ';
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return '[\n' + v.map((x) => next + pretty(x, next)).join(',\n') + '\n' + indent + ']';
  }
  if (v instanceof Map) {
    if (!v.size) return '{}';
    return '{\n' + [...v].map(([k, x]) => next + dumpString(k) + ': ' + pretty(x, next)).join(',\n') + '\n' + indent + '}';
  }
  return dump(v);
}

// ---- scanning variables (template.c scan_next) ----

const isSpace = (c) => c === ' ' || c === '\t';
const segmentCharOk = (c) => !'.{} \t\n\r'.includes(c);

function pathOk(p) {
  if (!p.length) return false;
  let seg = 0;
  for (const c of p) {
    if (c === '.') {
      if (seg === 0) return false;
      seg = 0;
    } else if (!segmentCharOk(c)) {
      return false;
    } else {
      seg++;
    }
  }
  return seg > 0;
}

// {kind: 'none'|'var'|'unclosed'|'bad', start, end, path}
function scanNext(s, from) {
  const open = s.indexOf('{{', from);
  if (open < 0) return { kind: 'none' };
  const close = s.indexOf('}}', open + 2);
  if (close < 0) return { kind: 'unclosed', start: open };
  let p = open + 2;
  let e = close;
  while (p < e && isSpace(s[p])) p++;
  while (e > p && isSpace(s[e - 1])) e--;
  const path = s.slice(p, e);
  return { kind: pathOk(path) ? 'var' : 'bad', start: open, end: close + 2, path };
}

// ---- resolving paths ----

function parseIndex(s) {
  if (!s.length || s.length > 9 || (s.length > 1 && s[0] === '0')) return -1;
  return /^[0-9]+$/.test(s) ? Number(s) : -1;
}

function resolve(root, path) {
  let cur = root;
  for (const seg of path.split('.')) {
    if (cur instanceof Map) cur = cur.has(seg) ? cur.get(seg) : undefined;
    else if (Array.isArray(cur) && parseIndex(seg) >= 0) cur = cur[parseIndex(seg)];
    else cur = undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

// ---- rendering ----

function valueText(v) {
  return typeof v === 'string' ? v : dump(v);
}

function renderString(s, body) {
  let v = scanNext(s, 0);
  if (v.kind === 'none') return s;
  if (v.kind === 'var' && v.start === 0 && v.end === s.length) {
    const val = resolve(body, v.path);
    return val === undefined ? s : val;
  }
  let out = '';
  let pos = 0;
  while (v.kind !== 'none' && v.kind !== 'unclosed') {
    if (v.kind === 'var') {
      const val = resolve(body, v.path);
      out += s.slice(pos, v.start) + (val === undefined ? s.slice(v.start, v.end) : valueText(val));
      pos = v.end;
      v = scanNext(s, pos);
    } else {
      v = scanNext(s, v.start + 1);
    }
  }
  return out + s.slice(pos);
}

function renderValue(t, body) {
  if (t instanceof Map) {
    const out = new Map();
    for (const [k, x] of t) {
      const rk = renderString(k, body);
      out.set(typeof rk === 'string' ? rk : dump(rk), renderValue(x, body));
    }
    return out;
  }
  if (Array.isArray(t)) return t.map((x) => renderValue(x, body));
  if (typeof t === 'string') return renderString(t, body);
  return t;
}

// ---- checking (template.c check_string) ----

const cut = (s) => s.slice(0, 80);

function checkString(s) {
  let pos = 0;
  for (;;) {
    const v = scanNext(s, pos);
    if (v.kind === 'none') return;
    if (v.kind === 'unclosed')
      throw new Error(FIELD + ' has a "{{" without a closing "}}" in "' + cut(s) + '"');
    if (v.kind === 'bad') {
      const text = cut(s.slice(v.start, v.end));
      if (!v.path.length) throw new Error(FIELD + ' has an empty variable "' + text + '"');
      throw new Error(FIELD + ' has a malformed variable "' + text + '": a path is names or list ' +
                      'indexes separated by ".", like {{incident.title}}');
    }
    pos = v.end;
  }
}

function checkValue(t) {
  if (t instanceof Map) {
    for (const [k, x] of t) {
      checkString(k);
      checkValue(x);
    }
  } else if (Array.isArray(t)) {
    t.forEach(checkValue);
  } else if (typeof t === 'string') {
    checkString(t);
  }
}

function parseTemplate(tmpl) {
  const bytes = new TextEncoder().encode(tmpl).length;
  if (bytes > TEMPLATE_MAX_BYTES)
    throw new Error(FIELD + ' must be at most ' + TEMPLATE_MAX_BYTES + ' bytes, got ' + bytes);
  try {
    return parse(tmpl);
  } catch (e) {
    if (e instanceof ParseError)
      throw new Error(FIELD + ' is not valid JSON: ' + e.message + ' (line ' + e.line + ', column ' + e.column + ')');
    throw e;
  }
}

// Renders tmpl against the default body (JSON text). Returns
// {ok: true, text (compact, as sent), pretty} or {ok: false, error}.
export function render(tmpl, defaultBodyText) {
  try {
    const t = parseTemplate(tmpl);
    checkValue(t);
    const out = renderValue(t, parse(defaultBodyText));
    const text = dump(out);
    if (new TextEncoder().encode(text).length > TEMPLATE_RENDER_MAX_BYTES)
      throw new Error(FIELD + ' renders to more than ' + TEMPLATE_RENDER_MAX_BYTES + ' bytes');
    return { ok: true, text, pretty: pretty(out) };
  } catch (e) {
    return { ok: false, error: e.message };
  }
}
