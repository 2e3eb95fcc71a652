// openapikit.mjs: checking live answers against the OpenAPI document, shared
// by openapi.test.mjs (every endpoint) and the tests of single endpoints
// (outcomes.test.mjs): the document as JSON Schema (ajv; 3.0's nullable and
// exclusive bounds converted), undocumented fields, and a checker that
// records every mismatch instead of stopping at the first.
import assert from 'node:assert/strict';

import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Resolve a local "#/a/b" reference in doc. */
export function deref(doc, obj) {
  let o = obj;
  for (let i = 0; i < 20 && o && typeof o === 'object' && typeof o.$ref === 'string'; i++) {
    assert.ok(o.$ref.startsWith('#/'), `non-local $ref ${o.$ref}`);
    o = o.$ref
      .slice(2)
      .split('/')
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((acc, k) => (acc === undefined ? undefined : acc[k]), doc);
    assert.ok(o !== undefined, `unresolvable $ref ${obj.$ref}`);
  }
  return o;
}

/**
 * An OpenAPI 3.0 schema as JSON Schema: "nullable: true" becomes
 * anyOf [schema, null]; local refs point into the document registered as
 * "openapi.json". (3.1 schemas are JSON Schema already: refs only.)
 */
export function toJsonSchema(s, v30) {
  if (Array.isArray(s)) return s.map((x) => toJsonSchema(x, v30));
  if (!s || typeof s !== 'object') return s;
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/')) out.$ref = `openapi.json${v}`;
    else if (k === 'example' || k === 'examples' || k === 'xml' || k === 'externalDocs') continue;
    else if (k === 'properties' || k === 'patternProperties' || k === '$defs' || k === 'definitions') {
      out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, toJsonSchema(pv, v30)]));
    } else out[k] = toJsonSchema(v, v30);
  }
  if (v30) {
    // 3.0 (like draft 4) spells exclusive bounds as booleans beside minimum/maximum.
    for (const [ex, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']]) {
      if (out[ex] === true) {
        out[ex] = out[bound];
        delete out[bound];
      } else if (out[ex] === false) delete out[ex];
    }
  }
  if (v30 && out.nullable === true) {
    delete out.nullable;
    return { anyOf: [out, { type: 'null' }] };
  }
  delete out.nullable;
  return out;
}

export function makeValidator(doc) {
  const v30 = /^3\.0\./.test(doc.openapi);
  const ajv = v30 ? new Ajv({ strict: false, allErrors: true }) : new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ components: toJsonSchema(doc.components || {}, v30) }, 'openapi.json');
  const cache = new Map();
  return (schema, value) => {
    const key = JSON.stringify(schema);
    let fn = cache.get(key);
    if (!fn) {
      fn = ajv.compile(toJsonSchema(schema, v30));
      cache.set(key, fn);
    }
    return fn(value) ? null : ajv.errorsText(fn.errors, { separator: '\n  ' });
  };
}

/** Keys of value that no (resolved) schema along the way documents. */
export function undocumented(doc, schema, value, where = '$', out = []) {
  const s = deref(doc, schema);
  if (!s || typeof s !== 'object' || value === null || typeof value !== 'object') return out;
  const parts = [s, ...['allOf', 'anyOf', 'oneOf'].flatMap((k) => (s[k] || []).map((x) => deref(doc, x)))];
  if (Array.isArray(value)) {
    const items = parts.map((p) => p.items).find(Boolean);
    if (items) value.forEach((v, i) => undocumented(doc, items, v, `${where}[${i}]`, out));
    return out;
  }
  const props = {};
  let open = !parts.some((p) => p.properties);
  for (const p of parts) {
    Object.assign(props, p.properties || {});
    if (p.additionalProperties !== undefined && p.additionalProperties !== false) open = true;
  }
  for (const [k, v] of Object.entries(value)) {
    if (props[k]) undocumented(doc, props[k], v, `${where}.${k}`, out);
    else if (!open) out.push(`${where}.${k}`);
  }
  return out;
}

/** GET /api/openapi.json from a running server, checked to be JSON. */
export async function fetchDoc(srv) {
  const r = await srv.get('/api/openapi.json');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.ok(r.body && typeof r.body === 'object', 'the document is not JSON');
  return r.body;
}

/**
 * A checker of live answers against doc (as the test above checks them):
 * check(label, template, res, expectStatus?) records a failure for an
 * undocumented status, a body off its schema or an undocumented field;
 * event(label, schemaName, data) checks an event stream's data.
 */
export function liveChecker(doc) {
  const validate = makeValidator(doc);
  const failures = [];
  let checked = 0;
  const against = (label, schema, value) => {
    const err = validate(schema, value);
    if (err) failures.push(`${label}: body does not match the schema:\n  ${err}\n  body: ${JSON.stringify(value).slice(0, 400)}`);
    const extra = undocumented(doc, schema, value);
    if (extra.length) failures.push(`${label}: undocumented fields ${extra.slice(0, 10).join(', ')}`);
  };
  return {
    failures,
    get checked() {
      return checked;
    },
    check(label, p, res, expectStatus) {
      checked++;
      if (expectStatus !== undefined && res.status !== expectStatus) {
        failures.push(`${label}: expected ${expectStatus}, got ${res.status} ${res.text.slice(0, 300)}`);
      }
      const method = Object.keys(doc.paths?.[p] || {}).find((k) => METHODS.includes(k)) || 'get';
      const op = doc.paths?.[p]?.[method];
      if (!op) return failures.push(`${label}: ${method} ${p} not documented`);
      const resp0 = op.responses?.[String(res.status)] ?? op.responses?.default;
      if (!resp0) return failures.push(`${label}: status ${res.status} not documented for ${method.toUpperCase()} ${p}`);
      const resp = deref(doc, resp0);
      const ct = (res.headers.get('content-type') || '').split(';')[0].trim();
      const media = resp.content?.[ct];
      if (!media?.schema) return failures.push(`${label}: content type ${ct} not documented for ${res.status}`);
      against(`${label} (${res.status})`, media.schema, res.body);
      return undefined;
    },
    event(label, schemaName, data) {
      checked++;
      const schema = doc.components?.schemas?.[schemaName];
      if (!schema) return failures.push(`${label}: no schema ${schemaName}`);
      against(label, { $ref: `#/components/schemas/${schemaName}` }, data);
      return undefined;
    },
  };
}
