// grimnir-sim dashboard: what a frontend would do, with the browser's own WebSocket.
// No build step, no dependencies. The token comes from the URL fragment
// (#token=…, as `grimnir-sim serve` prints it), from localStorage, or is pasted.
"use strict";

const EVENT_TYPES = [
  "now_playing", "live.handover", "live.released", "dj_connect", "dj_disconnect",
  "webstream.failover", "webstream.recovered", "priority.emergency", "priority.override",
  "priority.released", "health", "schedule_update",
];
const TIERS = ["0 emergency", "1 live override", "2 scheduled live", "3 automation", "4 fallback"];
const LOG_LIMIT = 300;

const app = {
  token: null,
  socket: null,
  retryDelay: 1000,          // the protocol page's backoff: 1 s, 2 s, 4 s … at most 30 s
  maxRetryDelay: 30000,
  state: null,               // the last GET /api/v1/sim/state
  stateFetchedAt: 0,
  nowPlaying: {},            // station_id -> last now_playing payload
  shown: new Set(EVENT_TYPES.filter((t) => t !== "health")),
  refreshTimer: null,
};

const $ = (selector, root = document) => root.querySelector(selector);

function readToken() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) {
    localStorage.setItem("grimnir-sim-token", fromHash);
    history.replaceState(null, "", location.pathname);  // keep the token out of the address bar
    return fromHash;
  }
  return localStorage.getItem("grimnir-sim-token");
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "Authorization": `Bearer ${app.token}`, "Content-Type": "application/json" },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.detail || body.error || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

// -- the event stream --------------------------------------------------------------------

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/api/v1/events?types=${EVENT_TYPES.join(",")}&snapshot=true&token=${encodeURIComponent(app.token)}`;
  const socket = new WebSocket(url);
  app.socket = socket;
  socket.onopen = () => {
    app.retryDelay = 1000;  // reset on a successful connection
    setStatus("connected", "connected");
    refreshSoon(0);
  };
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "ping") return;  // the heartbeat is not an event
    onEvent(data);
  };
  socket.onclose = () => {
    const delay = app.retryDelay;
    setStatus(`reconnecting in ${delay / 1000}s`, "waiting");
    setTimeout(connect, delay);
    app.retryDelay = Math.min(app.retryDelay * 2, app.maxRetryDelay);
  };
}

function onEvent(event) {
  if (event.type === "now_playing") {
    app.nowPlaying[event.payload.station_id] = event.payload;
    renderStations();
  }
  appendLog(event);
  refreshSoon(150);  // ladder, DJs and webstream health come from the state endpoint
}

function setStatus(text, kind) {
  const status = $("#connection");
  status.textContent = text;
  status.className = `status ${kind}`;
}

// -- state -------------------------------------------------------------------------------

function refreshSoon(delay) {
  clearTimeout(app.refreshTimer);
  app.refreshTimer = setTimeout(refresh, delay);
}

async function refresh() {
  try {
    app.state = await api("/api/v1/sim/state");
    app.stateFetchedAt = performance.now();
    for (const station of app.state.stations) {
      if (station.now_playing && !app.nowPlaying[station.id]) app.nowPlaying[station.id] = station.now_playing;
    }
    renderStations();
    renderWebstreams();
  } catch (error) {
    if (error.status === 401) showLogin("That token was refused (expired, or signed with another key).");
  }
}

// Both clocks run from the state's reading: the wire's time, and where the station is in its scenario.
function stationTimeMs(field = "station_time") {
  if (!app.state) return null;
  const base = Date.parse(field === "station_time" ? app.state.station_time : app.state.clock[field]);
  if (app.state.clock.manual) return base;
  return base + (performance.now() - app.stateFetchedAt) * app.state.clock.speed;
}

// -- rendering -------------------------------------------------------------------------------

function renderStations() {
  const main = $("#stations");
  if (!app.state) return;
  $("#scenario").textContent = app.state.stations.map((s) => s.name).join(", ");
  for (const station of app.state.stations) {
    let card = main.querySelector(`[data-station="${station.id}"]`);
    if (!card) {
      card = $("#station-template").content.firstElementChild.cloneNode(true);
      card.dataset.station = station.id;
      main.append(card);
      wireControls(card, station);
    }
    $(".name", card).textContent = station.name;
    const playing = app.nowPlaying[station.id] || station.now_playing;
    $(".title", card).textContent = playing ? (playing.title || playing.webstream_name || "—") : "—";
    $(".artist", card).textContent = playing ? (playing.artist || playing.url || playing.username || "") : "";
    const ladder = $(".ladder", card);
    ladder.replaceChildren(...TIERS.map((label, tier) => {
      const item = document.createElement("li");
      item.textContent = label;
      const sources = station.ladder.filter((s) => s.priority === tier && s.state !== "released");
      if (sources.length) item.classList.add("present");
      if (station.on_air && station.on_air.priority === tier) item.classList.add("active");
      item.title = sources.map((s) => s.username || s.name || s.kind).join(", ");
      return item;
    }));
    $(".djs ul", card).replaceChildren(...station.djs.map((dj) => {
      const item = document.createElement("li");
      item.textContent = `${dj.username} (priority ${dj.priority}${dj.on_air ? ", on air" : ""}) from ${dj.source_ip} `;
      const leave = document.createElement("button");
      leave.textContent = "Disconnect";
      leave.onclick = () => control(card, "/api/v1/sim/djs/disconnect", { dj: dj.key, station_id: station.id });
      item.append(leave);
      return item;
    }));
  }
  renderProgress();
}

function renderProgress() {
  const now = stationTimeMs();
  if (app.state && now !== null) {
    $("#clock").textContent = stamp(now);
    const onTheWall = app.state.clock.clock === "wall";
    $("#scenario-clock").hidden = !onTheWall;
    if (onTheWall) $("#scenario-clock").textContent = `scenario ${weekdayStamp(stationTimeMs("scenario_time"))}`;
  }
  for (const card of document.querySelectorAll(".station")) {
    const playing = app.nowPlaying[card.dataset.station];
    const bar = $(".progress .bar", card);
    if (!playing || !playing.duration || now === null) {
      bar.style.width = "0";
      $(".elapsed", card).textContent = "";
      $(".total", card).textContent = "";
      continue;
    }
    const elapsed = Math.max(0, Math.min(playing.duration, (now - Date.parse(playing.starts_at)) / 1000));
    bar.style.width = `${(100 * elapsed) / playing.duration}%`;
    $(".elapsed", card).textContent = clock(elapsed);
    $(".total", card).textContent = clock(playing.duration);
  }
}

function stamp(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function weekdayStamp(ms) {
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][new Date(ms).getUTCDay()];
  return `${day} ${stamp(ms)}`;
}

function clock(seconds) {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function renderWebstreams() {
  const list = $("#webstreams ul");
  const webstreams = app.state.webstreams;
  $("#webstreams").hidden = webstreams.length === 0;
  list.replaceChildren(...webstreams.map((w) => {
    const item = document.createElement("li");
    const urls = w.urls.map((u) => `${u.url} (${u.status})`).join(", ");
    item.innerHTML = `<strong></strong> <span class="health-${w.health_status}">${w.health_status}</span> — on <code></code><em></em><br><small></small>`;
    item.querySelector("strong").textContent = w.name;
    item.querySelector("code").textContent = w.active_url || "no URL";
    item.querySelector("em").textContent = w.manual_failover ? " (manual failover: held until reset)" : "";
    item.querySelector("small").textContent = urls;
    return item;
  }));
}

function appendLog(event) {
  const item = document.createElement("li");
  item.dataset.type = event.type;
  item.hidden = !app.shown.has(event.type);
  const now = stationTimeMs();
  const when = event.payload.starts_at || event.payload.timestamp || event.payload.handover_at
    || event.payload.released_at || event.payload.inserted_at || (now === null ? "" : stamp(now));
  const summary = event.payload.title || event.payload.username || event.payload.webstream_name
    || (event.payload.previous_priority !== undefined ? `${event.payload.previous_priority} → ${event.payload.new_priority}` : "")
    || event.payload.event || "";
  item.innerHTML = `<span class="time"></span><span class="type"></span><span class="summary"></span>`;
  item.querySelector(".time").textContent = when;
  item.querySelector(".type").textContent = event.type;
  item.querySelector(".summary").textContent = summary;
  item.title = JSON.stringify(event.payload);
  const log = $("#log");
  log.prepend(item);
  while (log.children.length > LOG_LIMIT) log.lastElementChild.remove();
}

function renderFilters() {
  $("#filters").replaceChildren(...EVENT_TYPES.map((type) => {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = app.shown.has(type);
    box.onchange = () => {
      if (box.checked) app.shown.add(type); else app.shown.delete(type);
      for (const item of document.querySelectorAll(`#log li[data-type="${type}"]`)) item.hidden = !box.checked;
    };
    label.append(box, ` ${type}`);
    return label;
  }));
}

// -- controls ------------------------------------------------------------------------------

function option(value, text) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = text;
  return element;
}

function wireControls(card, station) {
  const catalog = app.state.catalog;
  $(".dj-select", card).replaceChildren(...catalog.djs.map((dj) => option(dj.key, dj.username)));
  $(".media-select", card).replaceChildren(...catalog.emergency_media.map((m) => option(m.key, m.title)));
  $(".url-select", card).replaceChildren(...catalog.webstreams.flatMap((w) =>
    w.urls.map((url, index) => option(`${w.key}/${index}`, `${w.name}: ${url}`))));
  for (const group of card.querySelectorAll(".group")) group.hidden = !group.querySelector("option");
  $(".skip", card).onclick = () => control(card, "/api/v1/playout/skip", { station_id: station.id });
  $(".connect", card).onclick = () =>
    control(card, "/api/v1/sim/djs/connect", { dj: $(".dj-select", card).value, station_id: station.id });
  $(".emergency", card).onclick = () =>
    control(card, "/api/v1/priority/emergency", { station_id: station.id, media_id: $(".media-select", card).value });
  const url = (change) => {
    const [webstream, index] = $(".url-select", card).value.split("/");
    return control(card, `/api/v1/sim/webstreams/${webstream}/urls/${index}/${change}`, {});
  };
  $(".fail", card).onclick = () => url("down");
  $(".restore", card).onclick = () => url("up");
}

async function control(card, path, body) {
  const error = $(".control-error", card);
  error.textContent = "";
  try {
    await api(path, { method: "POST", body: JSON.stringify(body) });
  } catch (failure) {
    error.textContent = failure.status === 403 ? "This token may only watch (it needs the admin role)." : failure.message;
  }
  refreshSoon(0);
}

// -- start -----------------------------------------------------------------------------------

function showLogin(message) {
  $("#login").hidden = false;
  $("#login-error").textContent = message || "";
}

async function start(token) {
  app.token = token;
  try {
    await refresh();
    if (!app.state) return;
  } catch (error) {
    return showLogin(error.message);
  }
  $("#login").hidden = true;
  connect();
}

$("#token-form").onsubmit = (submitted) => {
  submitted.preventDefault();
  const token = $("#token-input").value.trim();
  localStorage.setItem("grimnir-sim-token", token);
  start(token);
};

renderFilters();
setInterval(renderProgress, 500);
const initial = readToken();
if (initial) start(initial); else showLogin();
