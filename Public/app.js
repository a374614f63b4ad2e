// The gateway's status page: upstream state and queue counts, the workflows with a form generated
// from each one's inputs, a run followed live over its event stream, and the recent runs.
// Plain browser JavaScript against the gateway's own REST API; no build step, no dependencies.
"use strict";

const $ = (id) => document.getElementById(id);
const TERMINAL = new Set(["completed", "failed", "canceled"]);

// ---------------------------------------------------------------------------------------------
// API keys. A gateway with a keys file answers 401 without one: the page then asks for a key,
// keeps it in this tab's sessionStorage only (never localStorage, a URL or the console) and sends
// it as Authorization: Bearer on every API call. Without a keys file nothing is ever asked.

const KEY_ITEM = "invokeai-gateway.api-key";
let apiKey = sessionStorage.getItem(KEY_ITEM);
let signInShown = false;

function authHeaders(key = apiKey) {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

// ---------------------------------------------------------------------------------------------
// REST helper: every answer as {ok, status, body}; problem documents keep their fields. A 401
// for the key in use asks for a key; a 403 for a missing scope says what this key may not do.

async function api(path, options = {}, key = apiKey) {
  let response;
  try {
    response = await fetch(path, { cache: "no-store", ...options, headers: { ...options.headers, ...authHeaders(key) } });
  } catch (error) {
    return { ok: false, status: 0, body: { detail: `the gateway did not answer (${error.message})` } };
  }
  const type = response.headers.get("Content-Type") || "";
  let body = type.includes("json") ? await response.json().catch(() => ({})) : { detail: await response.text() };
  body = checkAccess(response.status, body, key, options.method || "GET", path);
  return { ok: response.ok, status: response.status, body };
}

// The body as shown: a scope refusal's detail says in words what the key may not do.
function checkAccess(status, body, key, method, path) {
  if (status === 401 && key === apiKey) keyNeeded(key ? `The gateway refused the key: ${problemText(body, status)}` : null);
  if (status !== 403 || !body?.missing_scope) return body;
  const action = refusedAction(method, path);
  keyLimits.set(action, body.missing_scope);
  showKeyLimits();
  return { ...body, detail: `this API key may not ${action} (it lacks the '${body.missing_scope}' scope)` };
}

function refusedAction(method, path) {
  const route = path.split("?")[0];
  if (route === "/v1/queue") return "see InvokeAI's queue";
  if (route === "/v1/boards") return "list InvokeAI's boards";
  if (method === "POST" && route.endsWith("/runs")) return "run workflows";
  if (method === "POST" && route === "/v1/images") return "upload images";
  if (method === "DELETE" && route.startsWith("/v1/runs/")) return "cancel runs";
  return `${method} ${route}`;
}

const keyLimits = new Map(); // what this key was refused → the scope it lacks
function showKeyLimits() {
  const refused = [...keyLimits].map(([action, scope]) => `${action} (needs ${scope})`);
  $("key-limits").textContent = `This API key may not ${refused.join("; ")}.`;
  $("key-limits").hidden = keyLimits.size === 0;
}

// The gateway refused to answer without a key, or refused this one: forget it, clear what it
// showed and ask for one (`detail` says why a key was refused).
function keyNeeded(detail) {
  if (apiKey) sessionStorage.removeItem(KEY_ITEM);
  apiKey = null;
  $("account").hidden = true;
  $("sign-in-error").textContent = detail || "";
  $("sign-in-error").hidden = !detail;
  if (signInShown) return;
  signInShown = true;
  clearPage();
  $("main").classList.add("locked");
  $("sign-in").hidden = false;
  $("api-key").focus();
}

// A key is tried before it is kept: a refused one is never stored. A key without `read` (403)
// is still a key in force.
async function signIn(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (!key) return;
  const { status, body } = await api("/v1/runs?limit=1", {}, key);
  if (status === 401) {
    $("sign-in-error").textContent = `The gateway refused the key: ${problemText(body, status)}`;
    $("sign-in-error").hidden = false;
    $("api-key").select();
    return;
  }
  apiKey = key;
  sessionStorage.setItem(KEY_ITEM, key);
  $("api-key").value = "";
  $("sign-in-error").hidden = true;
  $("sign-in").hidden = true;
  $("main").classList.remove("locked");
  signInShown = false;
  $("account").hidden = false;
  loadAll();
}

function signOut() {
  sessionStorage.removeItem(KEY_ITEM);
  apiKey = null;
  keyNeeded(null);
}

function problemText(body, status) {
  return body?.detail || body?.title || `HTTP ${status}`;
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "className") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

// ---------------------------------------------------------------------------------------------
// Header: InvokeAI's state, its event stream, and the queue counts.

function setState(id, text, state) {
  const node = $(id);
  node.textContent = text;
  node.className = state;
}

async function refreshHealth() {
  const { ok, status, body } = await api("/readyz");
  if (ok) setState("upstream", `${body.invokeai.version} ready`, "ready");
  else setState("upstream", `not ready: ${problemText(body, status)}`, "down");
  if (body?.events) showEventsState(body.events.connected, body.events.reconnects);
  else if (!ok) setState("events-state", "unknown", "unknown");
}

function showEventsState(connected, reconnects) {
  const suffix = reconnects ? ` (${reconnects} reconnect${reconnects === 1 ? "" : "s"})` : "";
  setState("events-state", (connected ? "connected" : "disconnected") + suffix, connected ? "ready" : "down");
}

let queueAllowed = true; // false once this key was refused the queue (it needs admin)
async function refreshQueue() {
  if (signInShown || !queueAllowed) return;
  const { ok, status, body } = await api("/v1/queue");
  if (status === 403) {
    queueAllowed = false;
    $("queue-counts").title = problemText(body, status);
  }
  const counts = ok ? body.queue?.queue ?? {} : {};
  for (const cell of document.querySelectorAll("#queue-counts [data-count]")) {
    const value = counts[cell.dataset.count];
    cell.textContent = value === undefined ? "–" : String(value);
  }
}

let queueRefreshPending = false;
function refreshQueueSoon() {
  if (queueRefreshPending) return;
  queueRefreshPending = true;
  setTimeout(() => { queueRefreshPending = false; refreshQueue(); }, 300);
}

// ---------------------------------------------------------------------------------------------
// Workflows list and the generated form.

let current = null; // the workflow shown: its description from GET /v1/workflows/{name}

async function loadWorkflows() {
  const { ok, status, body } = await api("/v1/workflows");
  const list = $("workflow-list");
  list.replaceChildren();
  if (!ok) {
    $("workflows-error").textContent = `Cannot list workflows: ${problemText(body, status)}`;
    $("workflows-error").hidden = false;
    return;
  }
  $("workflows-error").hidden = true;
  for (const workflow of body.workflows) {
    // Whether it can run on this InvokeAI: false (with why), null (unknown: InvokeAI unreachable).
    const mark = workflow.runnable === false ? " · cannot run here" : workflow.runnable === null ? " · runnable: unknown" : "";
    const button = element("button", { type: "button", "data-workflow": workflow.name, "data-runnable": String(workflow.runnable),
                                        title: (workflow.not_runnable_because || []).join("\n") },
      element("span", { text: workflow.title || workflow.name }),
      element("small", { text: `${workflow.name} · ${workflow.input_count} input${workflow.input_count === 1 ? "" : "s"}${mark}` }));
    button.addEventListener("click", () => selectWorkflow(workflow.name, true));
    list.append(element("li", {}, button));
  }
  const wanted = decodeURIComponent(location.hash.replace(/^#\/workflows\//, ""));
  if (wanted && body.workflows.some((w) => w.name === wanted)) selectWorkflow(wanted, false);
}

async function selectWorkflow(name, focus) {
  const { ok, status, body } = await api(`/v1/workflows/${encodeURIComponent(name)}`);
  for (const button of document.querySelectorAll("#workflow-list button")) {
    button.setAttribute("aria-current", String(button.dataset.workflow === name));
  }
  $("workflow").hidden = false;
  $("form-error").hidden = true;
  if (!ok) {
    $("workflow-title").textContent = name;
    $("fields").replaceChildren();
    showFormError(`Cannot load ${name}: ${problemText(body, status)}`);
    return;
  }
  current = { name, ...body };
  history.replaceState(null, "", `#/workflows/${encodeURIComponent(name)}`);
  $("workflow-title").textContent = body.title || name;
  $("workflow-description").textContent = body.description || "";
  $("workflow-warnings").replaceChildren(...body.warnings.map((w) => element("li", { text: w.message })));
  showRunnability(body);
  const fields = await Promise.all(body.inputs.map(renderField));
  $("fields").replaceChildren(...fields);
  if (body.inputs.length === 0) $("fields").append(element("p", { className: "muted", text: "This workflow has no inputs." }));
  if (focus) $("workflow-title").focus();
}

// A workflow that cannot run on this InvokeAI says why, and its Run button is off; one whose
// runnability is unknown (InvokeAI unreachable) says so and stays enabled (the gateway answers).
function showRunnability(body) {
  const blocked = body.runnable === false;
  const unknown = body.runnable === null || body.runnable === undefined;
  $("not-runnable").hidden = !blocked && !unknown;
  $("not-runnable-title").textContent = blocked ? "This workflow cannot run on this InvokeAI:"
    : unknown ? (body.runnable_reason || "Whether this workflow can run is unknown.") : "";
  $("not-runnable-reasons").replaceChildren(...(blocked ? body.issues : []).map((issue) => element("li", { text: issue.message })));
  $("submit").disabled = blocked;
}

// Each input becomes a labelled control; `read(control)` gives its value for the run request
// (undefined: leave the workflow's own value).
async function renderField(input) {
  const id = `input-${input.index}`;
  const schema = input.schema || {};
  const value = input.value ?? schema.default ?? null;
  const hintParts = [];
  let control;
  let read;

  // `kind` is the machine-readable kind (`type` is display text, e.g. "list of integer").
  switch (input.kind) {
    case "integer":
    case "float": {
      const integer = input.kind === "integer";
      control = element("input", { type: "number", id, inputmode: integer ? "numeric" : "decimal" });
      const minimum = schema.minimum ?? schema.exclusiveMinimum;
      const maximum = schema.maximum ?? schema.exclusiveMaximum;
      if (minimum !== undefined) control.min = String(minimum);
      if (maximum !== undefined) control.max = String(maximum);
      control.step = schema.multipleOf ? String(schema.multipleOf) : integer ? "1" : "any";
      if (value !== null) control.value = String(value);
      if (schema.minimum !== undefined) hintParts.push(`≥ ${schema.minimum}`);
      if (schema.exclusiveMinimum !== undefined) hintParts.push(`> ${schema.exclusiveMinimum}`);
      if (schema.maximum !== undefined) hintParts.push(`≤ ${schema.maximum}`);
      if (schema.exclusiveMaximum !== undefined) hintParts.push(`< ${schema.exclusiveMaximum}`);
      if (schema.multipleOf) hintParts.push(`multiple of ${schema.multipleOf}`);
      // A number input that cannot parse what was typed reports "": send it anyway as text,
      // so the gateway names the problem.
      read = (c) => (c.value === "" ? (c.validity.badInput ? "not a number" : undefined) : Number(c.value));
      break;
    }
    case "boolean":
      control = element("input", { type: "checkbox", id });
      control.checked = value === true;
      read = (c) => c.checked;
      break;
    case "enum":
      control = element("select", { id });
      for (const option of schema.enum || []) control.append(element("option", { value: option, text: option }));
      if (value !== null) control.value = value;
      read = (c) => c.value;
      break;
    case "string":
      control = schema["x-ui-component"] === "textarea" ? element("textarea", { id, rows: 3 }) : element("input", { type: "text", id });
      if (schema.maxLength !== undefined) hintParts.push(`at most ${schema.maxLength} characters`);
      if (value !== null) control.value = value;
      read = (c) => c.value;
      break;
    case "color": {
      control = element("input", { type: "color", id });
      const { hex, alpha } = colorParts(value);
      control.value = hex;
      read = (c) => c.value + alpha;
      break;
    }
    case "image":
      control = element("input", { type: "file", id, accept: "image/*" });
      hintParts.push(value?.image_name ? `now: ${value.image_name}` : "an image file, uploaded when you run");
      read = async (c) => (c.files.length ? { image_name: await uploadImage(c.files[0]) } : undefined);
      break;
    case "board": {
      control = element("select", { id });
      control.append(element("option", { value: "auto", text: "Auto (InvokeAI's default)" }), element("option", { value: "none", text: "None (uncategorized)" }));
      for (const board of await boards()) control.append(element("option", { value: board.board_id, text: board.board_name }));
      const chosen = typeof value === "string" ? value : value?.board_id;
      if (chosen) control.value = chosen;
      read = (c) => c.value;
      break;
    }
    case "model": {
      control = element("select", { id });
      const models = await modelsFor(schema);
      if (!models.length) control.append(element("option", { value: "", text: "no installed model fits" }));
      for (const model of models) control.append(element("option", { value: model.key, text: `${model.name} (${model.base})` }));
      if (value?.key && models.some((m) => m.key === value.key)) control.value = value.key;
      read = (c) => c.value || undefined;
      break;
    }
    default:
      if (input.kind === "list") {
        control = element("input", { type: "text", id });
        if (Array.isArray(value)) control.value = JSON.stringify(value);
        hintParts.push("a JSON list, e.g. [1, 2]");
        read = (c) => {
          if (c.value.trim() === "") return undefined;
          try { return JSON.parse(c.value); } catch { return c.value; }
        };
      } else {
        control = element("input", { type: "text", id, readonly: true, value: `(${input.type}: set by the workflow)` });
        read = () => undefined;
      }
  }

  if (input.required) control.setAttribute("aria-required", "true");
  const hintID = `${id}-hint`;
  const errorID = `${id}-error`;
  control.setAttribute("aria-describedby", `${hintID} ${errorID}`);
  const label = element("label", { for: id, text: input.label + (input.required ? " *" : "") });
  const hint = element("span", { className: "hint", id: hintID, text: [schema.description, hintParts.join(", ")].filter(Boolean).join(" — ") });
  const error = element("p", { className: "field-error", id: errorID, "aria-live": "polite" });
  const wrapper = element("div", { className: "field", "data-index": String(input.index), "data-system-name": input.system_name }, label, control, hint, error);
  wrapper.readValue = () => read(control);
  return wrapper;
}

function colorParts(value) {
  const hex2 = (n) => Math.max(0, Math.min(255, Math.round(n ?? 0))).toString(16).padStart(2, "0");
  if (typeof value === "string" && /^#[0-9a-f]{6}([0-9a-f]{2})?$/i.test(value)) {
    return { hex: value.slice(0, 7).toLowerCase(), alpha: value.slice(7) };
  }
  if (value && typeof value === "object") {
    return { hex: `#${hex2(value.r)}${hex2(value.g)}${hex2(value.b)}`, alpha: value.a === undefined ? "" : hex2(value.a) };
  }
  return { hex: "#000000", alpha: "" };
}

let boardsCache = null;
async function boards() {
  if (!boardsCache) {
    const { ok, body } = await api("/v1/boards");
    boardsCache = ok ? body.boards : [];
  }
  return boardsCache;
}

const modelsCache = new Map();
async function modelsFor(schema) {
  const query = new URLSearchParams();
  for (const base of schema["x-model-base"] || []) query.append("base", base);
  for (const type of schema["x-model-type"] || []) query.append("type", type);
  const key = query.toString();
  if (!modelsCache.has(key)) {
    const { ok, body } = await api(`/v1/models?${key}`);
    let models = ok ? body.models : [];
    // The read-through takes one base and type; filter here for lists.
    const bases = schema["x-model-base"], types = schema["x-model-type"];
    models = models.filter((m) => (!bases?.length || bases.includes(m.base)) && (!types?.length || types.includes(m.type)));
    modelsCache.set(key, models);
  }
  return modelsCache.get(key);
}

async function uploadImage(file) {
  const { ok, status, body } = await api("/v1/images", {
    method: "POST", headers: { "Content-Type": file.type || "application/octet-stream" }, body: file,
  });
  if (!ok) throw new Error(`uploading ${file.name} failed: ${problemText(body, status)}`);
  return body.name;
}

// ---------------------------------------------------------------------------------------------
// Submitting: values by index, errors shown at their fields.

function clearErrors() {
  $("form-error").hidden = true;
  for (const field of document.querySelectorAll("#fields .field")) {
    field.classList.remove("invalid");
    field.querySelector(".field-error").textContent = "";
    field.querySelector("input, select, textarea")?.removeAttribute("aria-invalid");
  }
}

function showFormError(text) {
  $("form-error").textContent = text;
  $("form-error").hidden = false;
}

function showFieldErrors(errors) {
  const unplaced = [];
  let first = null;
  for (const error of errors) {
    const field = document.querySelector(`#fields .field[data-index="${error.index}"]`);
    if (!field) { unplaced.push(error.message); continue; }
    field.classList.add("invalid");
    const message = field.querySelector(".field-error");
    message.textContent = message.textContent ? `${message.textContent} ${error.message}` : error.message;
    const control = field.querySelector("input, select, textarea");
    control?.setAttribute("aria-invalid", "true");
    first ??= control;
  }
  return { unplaced, first };
}

async function submitRun(event) {
  event.preventDefault();
  if (!current) return;
  clearErrors();
  const button = $("submit");
  button.disabled = true;
  try {
    const inputs = {};
    for (const field of document.querySelectorAll("#fields .field")) {
      const value = await field.readValue();
      if (value !== undefined) inputs[field.dataset.index] = value;
    }
    const { ok, status, body } = await api(`/v1/workflows/${encodeURIComponent(current.name)}/runs`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ inputs }),
    });
    if (ok) {
      followRun(body);
      return;
    }
    const { unplaced, first } = showFieldErrors(body.errors || []);
    showFormError(unplaced.length ? `${problemText(body, status)}: ${unplaced.join("; ")}` : problemText(body, status));
    first?.focus();
  } catch (error) {
    showFormError(error.message);
  } finally {
    button.disabled = current?.runnable === false;
  }
}

// ---------------------------------------------------------------------------------------------
// One run, followed over GET /v1/runs/{id}/events.

let followed = null; // {id, source: EventStream, nodes: Map}

// An event stream of the gateway with this page's key; a refusal is handled as api()'s are.
function openEvents(url) {
  const key = apiKey;
  return new EventStream(url, {
    headers: authHeaders(key),
    onRefused: (status, body) => checkAccess(status, body, key, "GET", url),
  });
}

function followRun(run) {
  followed?.source.close();
  const section = $("run");
  section.hidden = false;
  $("run-link").textContent = `Run ${run.id}`;
  $("run-link").href = `/v1/runs/${run.id}`;
  $("node-progress").replaceChildren();
  $("outputs").replaceChildren();
  $("run-error").hidden = true;
  $("run-message").textContent = "";
  $("preview-figure").hidden = true;
  $("cancel").hidden = false;
  $("cancel").disabled = false;
  showRunStatus(run.status);
  $("run-title").focus();
  upsertRecent(run);

  const source = openEvents(`/v1/runs/${encodeURIComponent(run.id)}/events?previews=1`);
  followed = { id: run.id, source, nodes: new Map() };
  const on = (type, handler) => source.addEventListener(type, (message) => {
    if (followed?.source !== source) return;
    handler(JSON.parse(message.data));
  });
  on("run.started", () => showRunStatus("running"));
  on("node.started", (data) => nodeBar(data).value = 0);
  on("node.progress", (data) => {
    const bar = nodeBar(data);
    if (typeof data.percentage === "number") bar.value = data.percentage;
    const steps = data.total ? ` (step ${data.step}/${data.total})` : "";
    $("run-message").textContent = `${nodeName(data)}: ${data.message || "working"}${steps}`;
    if (data.preview?.dataURL) {
      $("preview").src = data.preview.dataURL;
      $("preview-figure").hidden = false;
    }
  });
  on("node.completed", (data) => nodeBar(data).value = 1);
  for (const type of ["run.completed", "run.failed", "run.canceled"]) {
    on(type, () => { source.close(); finishRun(run.id); });
  }
  // The stream ends after the terminal event; if it was lost, read the run instead.
  source.addEventListener("error", async () => {
    if (followed?.source !== source) return;
    const { ok, body } = await api(`/v1/runs/${encodeURIComponent(run.id)}`);
    if (ok && TERMINAL.has(body.status)) { source.close(); showFinishedRun(body); }
  });
}

function nodeName(data) {
  const input = current?.inputs?.find((i) => i.node.id === data.node);
  return input?.node.label || data.node_type || data.node;
}

function nodeBar(data) {
  const nodes = followed.nodes;
  if (!nodes.has(data.node)) {
    const id = `node-${nodes.size}`;
    const bar = element("progress", { id, max: "1", value: "0" });
    const row = element("div", { className: "node" },
      element("label", { for: id }, element("span", { text: nodeName(data) }), element("span", { className: "muted", text: data.node_type || "" })),
      bar);
    $("node-progress").append(row);
    nodes.set(data.node, bar);
  }
  return nodes.get(data.node);
}

function showRunStatus(status) {
  const badge = $("run-status");
  badge.textContent = status;
  badge.className = `badge ${status}`;
}

async function finishRun(id) {
  const { ok, body } = await api(`/v1/runs/${encodeURIComponent(id)}`);
  if (ok) showFinishedRun(body);
}

function showFinishedRun(run) {
  if (followed?.id !== run.id) return;
  showRunStatus(run.status);
  $("cancel").hidden = true;
  $("preview-figure").hidden = true;
  if (run.status === "completed") {
    for (const bar of followed.nodes.values()) bar.value = 1;
    $("run-message").textContent = `Finished in ${duration(run) ?? "?"}.`;
  } else {
    $("run-message").textContent = "";
  }
  if (run.error) {
    $("run-error").textContent = `${run.error.type}: ${run.error.message}${run.error.node ? ` (node ${run.error.node})` : ""}`;
    $("run-error").hidden = false;
  }
  const figures = [];
  for (const output of run.outputs || []) {
    output.images.forEach((image, n) => {
      const alt = `Output ${n + 1} of ${output.label || output.node}` + (image.width ? `, ${image.width}×${image.height}` : "");
      figures.push(element("figure", {},
        element("a", { href: image.url, target: "_blank", rel: "noopener" }, showImage(element("img", { alt }), image.thumbnail_url || image.url)),
        element("figcaption", { text: image.name })));
    });
  }
  $("outputs").replaceChildren(...figures);
  upsertRecent(run);
}

// An <img> cannot send a key: with one, the image is fetched with it and shown from a blob: URL.
function showImage(img, url) {
  if (!apiKey) {
    img.src = url;
    return img;
  }
  fetch(url, { headers: authHeaders() }).then((response) => (response.ok ? response.blob() : null)).then((blob) => {
    if (!blob) return;
    img.addEventListener("load", () => URL.revokeObjectURL(img.src), { once: true });
    img.src = URL.createObjectURL(blob);
  }).catch(() => {});
  return img;
}

// Nor can a link: with a key, a click on a link to an API answer (a run, an image) fetches it
// with the key and opens it from a blob: URL in the new tab, which is opened at once (a tab
// opened later, when the answer is in, would be taken for a pop-up).
async function openWithKey(event) {
  const link = event.target.closest?.('a[href^="/v1/"], a[href="/metrics"]');
  if (!link || !apiKey || event.button !== 0) return;
  event.preventDefault();
  const tab = window.open("", "_blank");
  if (!tab) return;
  tab.opener = null;
  const response = await fetch(link.getAttribute("href"), { headers: authHeaders(), cache: "no-store" }).catch(() => null);
  if (!response) return tab.close();
  const url = URL.createObjectURL(await response.blob());
  tab.location.href = url;
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

async function cancelRun() {
  if (!followed) return;
  $("cancel").disabled = true;
  const { ok, status, body } = await api(`/v1/runs/${encodeURIComponent(followed.id)}`, { method: "DELETE" });
  if (!ok) {
    $("run-error").textContent = `Cancel failed: ${problemText(body, status)}`;
    $("run-error").hidden = false;
    $("cancel").disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Recent runs, kept live from /v1/events.

function duration(run) {
  const start = run.started_at || run.created_at;
  if (!start) return null;
  const end = run.completed_at ? Date.parse(run.completed_at) : TERMINAL.has(run.status) ? null : Date.now();
  if (end === null) return null;
  const seconds = Math.max(0, (end - Date.parse(start)) / 1000);
  return seconds < 60 ? `${seconds.toFixed(1)} s` : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

const recentRows = new Map();

function upsertRecent(run) {
  const body = document.querySelector("#recent-runs tbody");
  let row = recentRows.get(run.id);
  if (!row) {
    row = element("tr", { "data-run": run.id });
    recentRows.set(run.id, row);
    body.prepend(row);
    while (body.rows.length > 50) recentRows.delete(body.lastElementChild.dataset.run), body.lastElementChild.remove();
  }
  row.dataset.status = run.status;
  row.dataset.createdAt = run.created_at || "";
  row.run = run;
  const link = element("a", { href: `/v1/runs/${run.id}`, text: run.id.slice(0, 8), title: run.id });
  row.replaceChildren(
    element("td", { className: "run-id" }, link),
    element("td", { text: run.workflow }),
    element("td", {}, element("span", { className: `badge ${run.status}`, text: run.status })),
    element("td", { text: duration(run) ?? "–" }),
    element("td", { text: run.created_at ? new Date(run.created_at).toLocaleTimeString() : "–" }));
  $("recent-empty").hidden = recentRows.size > 0;
}

async function loadRecent() {
  const { ok, body } = await api("/v1/runs?limit=20");
  if (!ok) return;
  for (const run of [...body.runs].reverse()) upsertRecent(run);
}

let everything = null; // the EventStream of /v1/events

function followEverything() {
  everything?.close();
  const types = ["run.queued", "run.started", "run.completed", "run.failed", "run.canceled", "upstream.connected", "upstream.disconnected"];
  const source = openEvents(`/v1/events?type=${types.join(",")}`);
  everything = source;
  for (const type of types.slice(0, 5)) {
    source.addEventListener(type, async (message) => {
      const data = JSON.parse(message.data);
      refreshQueueSoon();
      const { ok, body } = await api(`/v1/runs/${encodeURIComponent(data.run)}`);
      upsertRecent(ok ? body : { id: data.run, workflow: data.workflow, status: data.status });
    });
  }
  source.addEventListener("upstream.connected", (m) => showEventsState(true, JSON.parse(m.data).reconnects));
  source.addEventListener("upstream.disconnected", (m) => showEventsState(false, JSON.parse(m.data).reconnects));
}

// Running rows show a growing duration.
function tickDurations() {
  for (const row of recentRows.values()) {
    if (row.run && !TERMINAL.has(row.run.status)) row.cells[3].textContent = duration(row.run) ?? "–";
  }
}

// ---------------------------------------------------------------------------------------------

// Everything the API shows, (re)loaded with the key in use.
function loadAll() {
  keyLimits.clear();
  showKeyLimits();
  queueAllowed = true;
  $("queue-counts").removeAttribute("title");
  boardsCache = null;
  modelsCache.clear();
  refreshQueue();
  loadWorkflows();
  loadRecent();
  followEverything();
}

// What a key showed goes when it does.
function clearPage() {
  everything?.close();
  everything = null;
  followed?.source.close();
  followed = null;
  current = null;
  $("workflow-list").replaceChildren();
  $("workflow").hidden = true;
  $("run").hidden = true;
  recentRows.clear();
  document.querySelector("#recent-runs tbody").replaceChildren();
  $("recent-empty").hidden = false;
  for (const cell of document.querySelectorAll("#queue-counts [data-count]")) cell.textContent = "–";
}

document.addEventListener("DOMContentLoaded", () => {
  $("run-form").addEventListener("submit", submitRun);
  $("cancel").addEventListener("click", cancelRun);
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  document.addEventListener("click", openWithKey);
  $("account").hidden = !apiKey;
  refreshHealth();
  loadAll();
  setInterval(refreshHealth, 5000);
  setInterval(refreshQueue, 5000);
  setInterval(tickDurations, 1000);
});
