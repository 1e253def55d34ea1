// Wild Rydes support tickets: a static page that talks to the workshop's API.
// config.js (generated at deploy time) sets window.WORKSHOP_CONFIG; see config.example.js.

const config = window.WORKSHOP_CONFIG || {};
const PAGE_SIZE = clamp(Number(config.pageSize) || 20, 1, 100);
const HEALTH_EVERY_S = Number(config.healthCheckSeconds ?? 30);
const TIMEOUT_MS = 10000;
// The API's rules (lambda_src/post_ticket.py), checked here first so mistakes show at once.
const MAX_LENGTH = { description: 1000, assigned: 100, createdBy: 100 };
const CHOICES = {
  priority: ["low", "medium", "high", "urgent"],
  status: ["open", "in-progress", "resolved", "closed"],
};

const $ = (id) => document.getElementById(id);
const apiBase = baseUrl(config.apiBaseUrl);
const apiCalled = apiBase && reachable(apiBase);
const state = { tickets: [], next: null, region: null, retry: null };

class ApiError extends Error {
  constructor(kind, message, status = 0, body = null) {
    super(message);
    Object.assign(this, { kind, status, body });
  }
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

function baseUrl(value) {
  try {
    const url = new URL(value);
    if (!url.pathname.endsWith("/")) url.pathname += "/";
    return ["http:", "https:"].includes(url.protocol) ? url : null;
  } catch {
    return null;
  }
}

// The workshop's sandbox serves each public name under .localhost as well, on its own port
// (helpers/sandbox/localhost_names.py): browsers resolve *.localhost to this machine by
// themselves, so a learner needs no proxy. A page opened that way calls its API the same way,
// http://<API name>.localhost:<this page's port>/, and the sandbox resolves the API's name
// (a failover record after module 3.3) for every request. On AWS nothing changes.
function reachable(url) {
  const underLocalhost = (host) => host.endsWith(".localhost");
  if (!underLocalhost(location.hostname) || url.hostname === "localhost" ||
      underLocalhost(url.hostname) || /^[\d.]+$|^\[/.test(url.hostname)) return url;
  const local = new URL(url);
  local.protocol = "http:";
  local.hostname = `${url.hostname}.localhost`;
  local.port = location.port;
  return local;
}

// ------------------------------------------------------------------ API calls

async function api(path, options = {}) {
  if (!apiBase) {
    throw new ApiError("config", "config.js is missing or has no valid apiBaseUrl.");
  }
  const url = new URL(path, apiCalled);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let response;
  try {
    response = await fetch(url, { ...options, cache: "no-store", signal: controller.signal });
  } catch (err) {
    if (err.name === "AbortError") {
      throw new ApiError("timeout", `No answer from ${url} within ${TIMEOUT_MS / 1000} s.`);
    }
    throw await diagnose(url);
  } finally {
    clearTimeout(timer);
  }
  noteRegion(response.headers.get("X-Workshop-Region"));
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = body?.message || `HTTP ${response.status} ${response.statusText}`.trim();
    const kind = response.status >= 500 ? "server" : "client";
    throw new ApiError(kind, message, response.status, body);
  }
  if (body === null) {
    throw new ApiError("unexpected", `${url} did not answer with JSON.`, response.status);
  }
  return body;
}

// fetch() does not say why a request failed. A "no-cors" request succeeds whenever the
// server answers at all, so if it works the browser must have blocked the real answer.
async function diagnose(url) {
  try {
    await fetch(url, { mode: "no-cors", cache: "no-store" });
    return new ApiError("cors", `${url.origin} answered, but not in a way this page may read.`);
  } catch {
    return new ApiError("network", `Could not connect to ${url.origin}.`);
  }
}

const ERROR_TEXT = {
  config: ["This page is not configured",
    "Deploy config.js next to index.html (see config.example.js)."],
  network: ["API unreachable",
    "The API may be down, its address wrong, or you are offline."],
  cors: ["The browser blocked the API's answer (CORS)",
    "The answer had no Access-Control-Allow-Origin header. Check the API's OPTIONS methods and " +
    "its gateway responses (API Gateway's own 4XX/5XX answers), then redeploy the stage."],
  timeout: ["The API is not answering",
    "It may be overloaded or failing over. Try again in a moment."],
  server: ["The API failed",
    "The function or its table reported an error; the function's logs say more."],
  client: ["The API refused the request", ""],
  unexpected: ["Unexpected answer from the API",
    "Is apiBaseUrl the API's stage URL (ending in /prod/) or its custom domain?"],
};

function describe(err) {
  if (!(err instanceof ApiError)) {
    return { title: "Something went wrong", detail: String(err), hint: "" };
  }
  const [title, hint] = ERROR_TEXT[err.kind];
  return { title: err.status ? `${title} (HTTP ${err.status})` : title, detail: err.message, hint };
}

// ------------------------------------------------------------------ region banner

function regionName(region) {
  return (config.regionLabels || {})[region] || "";
}

function noteRegion(region) {
  if (!region) return;
  if (state.region && state.region !== region) {
    $("region-change").textContent =
      `The API's region changed from ${state.region} to ${region} at ${timeNow()}.`;
    $("region-change").hidden = false;
  }
  state.region = region;
  $("served-region").textContent = region;
  $("served-region").classList.remove("is-placeholder");
  $("served-region-name").textContent = regionName(region);
}

function timeNow() {
  return new Date().toLocaleTimeString(undefined, { timeStyle: "medium" });
}

async function checkHealth() {
  const banner = $("region-banner");
  try {
    const body = await api("health");
    banner.dataset.state = "healthy";
    $("health-message").textContent = body.message || "Healthy";
  } catch (err) {
    banner.dataset.state = err.body?.region ? "unhealthy" : "error";
    $("health-message").textContent = err.body?.message || describe(err).title;
    if (!state.region) {
      $("served-region").textContent = "no answer";
      $("served-region").classList.add("is-placeholder");
    }
  }
  $("checked-at").textContent = timeNow();
}

// ------------------------------------------------------------------ ticket list

const DAY = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
const HOUR = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

function cell(label, ...children) {
  const td = document.createElement("td");
  td.dataset.label = label;
  td.append(...children);
  return td;
}

function badge(kind, value) {
  const span = document.createElement("span");
  span.className = `badge ${kind}-${value}`;
  const text = String(value || "—").replace("-", " ");
  span.textContent = text[0].toUpperCase() + text.slice(1);
  return span;
}

function created(ticket) {
  const time = document.createElement("time");
  const date = new Date(ticket.createdAt);
  if (isNaN(date)) {
    time.textContent = ticket.createdOn || "—"; // tickets written by older code
  } else {
    const hour = document.createElement("span");
    hour.className = "hour";
    hour.textContent = HOUR.format(date);
    time.append(DAY.format(date), hour);
    time.dateTime = ticket.createdAt;
  }
  if (ticket.createdOn) time.title = `${ticket.createdOn} UTC`;
  return time;
}

function ticketRow(ticket) {
  const row = document.createElement("tr");
  row.dataset.id = ticket.id;
  row.append(
    cell("Created", created(ticket)),
    cell("Description", ticket.description || ""),
    cell("Priority", badge("priority", ticket.priority)),
    cell("Status", badge("status", ticket.status)),
    cell("Assigned", ticket.assigned || "—"),
    cell("Created by", ticket.createdBy || "—"),
  );
  return row;
}

function renderTickets(highlightId) {
  const body = $("tickets-body");
  body.replaceChildren(...state.tickets.map(ticketRow));
  const fresh = highlightId && body.querySelector(`tr[data-id="${CSS.escape(highlightId)}"]`);
  if (fresh) fresh.classList.add("is-new");
  const count = state.tickets.length;
  $("tickets-empty").hidden = count > 0;
  const more = state.next ? "+" : "";
  $("ticket-count").textContent =
    count ? `${count}${more} ${count === 1 && !more ? "ticket" : "tickets"}, newest first` : "";
  $("load-more").hidden = !state.next;
}

function showListError(err, retry) {
  const { title, detail, hint } = describe(err);
  $("tickets-error-title").textContent = title;
  $("tickets-error-detail").textContent = detail;
  $("tickets-error-hint").textContent = hint;
  $("tickets-error").hidden = false;
  state.retry = retry;
}

async function loadTickets({ more = false } = {}) {
  const params = new URLSearchParams({ limit: PAGE_SIZE });
  if (more) params.set("next", state.next);
  setBusy(true, more);
  try {
    const page = await api(`ticket?${params}`);
    const seen = new Set(more ? state.tickets.map((t) => t.id) : []);
    const items = (page.Items || []).filter((t) => !seen.has(t.id));
    state.tickets = more ? state.tickets.concat(items) : items;
    state.next = page.next || null;
    $("tickets-error").hidden = true;
    renderTickets();
  } catch (err) {
    if (!more) {
      state.tickets = [];
      state.next = null;
      renderTickets();
      $("tickets-empty").hidden = true;
      $("ticket-count").textContent = "";
    }
    showListError(err, () => loadTickets({ more }));
  } finally {
    setBusy(false, more);
  }
}

function setBusy(busy, more) {
  $("tickets-table").setAttribute("aria-busy", String(busy));
  $("tickets-loading").hidden = !busy || more;
  $("load-more").disabled = busy;
  $("load-more").textContent = busy && more ? "Loading…" : "Load more";
  $("reload").disabled = busy;
  $("retry").disabled = busy;
}

// ------------------------------------------------------------------ new ticket form

function formTicket(form) {
  const data = Object.fromEntries(new FormData(form));
  for (const name of Object.keys(MAX_LENGTH)) data[name] = (data[name] || "").trim();
  return data;
}

function validate(ticket) {
  const errors = {};
  if (!ticket.description) {
    errors.description = "Please describe the problem: a description is required.";
  }
  for (const [name, max] of Object.entries(MAX_LENGTH)) {
    const length = [...ticket[name]].length; // code points, as the API counts them
    if (length > max) errors[name] = `At most ${max} characters, please (this is ${length}).`;
  }
  for (const [name, allowed] of Object.entries(CHOICES)) {
    if (!allowed.includes(ticket[name])) errors[name] = `Choose one of: ${allowed.join(", ")}.`;
  }
  return errors;
}

function showFieldErrors(errors) {
  for (const name of Object.keys(MAX_LENGTH)) {
    const message = $(`${name}-error`);
    message.textContent = errors[name] || "";
    message.hidden = !errors[name];
    $(name).setAttribute("aria-invalid", String(Boolean(errors[name])));
  }
  const first = Object.keys(errors)[0];
  if (first) $(first).focus();
}

function showFormMessage(id, text) {
  $("form-error").hidden = $("form-success").hidden = true;
  if (text) {
    $(id).textContent = text;
    $(id).hidden = false;
  }
}

async function submitTicket(event) {
  event.preventDefault();
  const form = event.target;
  const ticket = formTicket(form);
  const errors = validate(ticket);
  showFieldErrors(errors);
  showFormMessage();
  if (Object.keys(errors).length) return;

  $("submit").disabled = true;
  $("submit").textContent = "Creating…";
  try {
    const stored = await api("ticket", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(ticket),
    });
    state.tickets = [stored, ...state.tickets.filter((t) => t.id !== stored.id)];
    $("tickets-error").hidden = true;
    renderTickets(stored.id);
    localStorage.setItem("wildrydes.createdBy", ticket.createdBy);
    form.reset();
    form.elements.createdBy.value = ticket.createdBy;
    updateCounter();
    showFormMessage("form-success", `Ticket created in ${state.region || "the API's region"}.`);
  } catch (err) {
    const { title, detail } = describe(err);
    showFormMessage("form-error", err.kind === "client" ? detail : `${title}: ${detail}`);
  } finally {
    $("submit").disabled = false;
    $("submit").textContent = "Create ticket";
  }
}

function updateCounter() {
  const length = [...$("description").value].length;
  $("description-count").textContent = `${length} / ${MAX_LENGTH.description}`;
}

// ------------------------------------------------------------------ start

function start() {
  if (config.title) {
    document.title = config.title;
    $("app-title").textContent = config.title;
  }
  $("api-url").textContent = apiBase ? apiBase.href : "not configured";
  if (apiBase && apiCalled.href !== apiBase.href) {
    $("api-url").title = `Called as ${apiCalled.href}`;
    $("api-url").dataset.calledAs = apiCalled.href;
  }
  $("page-region").textContent = config.region
    ? `${config.region} ${regionName(config.region)}`.trim() : "—";
  $("createdBy").value = localStorage.getItem("wildrydes.createdBy") || "";

  $("ticket-form").addEventListener("submit", submitTicket);
  $("description").addEventListener("input", updateCounter);
  $("retry").addEventListener("click", () => state.retry?.());
  $("reload").addEventListener("click", () => loadTickets());
  $("load-more").addEventListener("click", () => loadTickets({ more: true }));
  $("health-refresh").addEventListener("click", checkHealth);

  checkHealth();
  loadTickets();
  if (HEALTH_EVERY_S > 0) {
    setInterval(() => document.hidden || checkHealth(), HEALTH_EVERY_S * 1000);
  }
}

start();
