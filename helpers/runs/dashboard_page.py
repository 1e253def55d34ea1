"""The instructor's dashboard page: the room's table, redrawn from the server's event stream.

One static page. Its script opens ``/events`` (server-sent events; the browser
reconnects by itself) and redraws the table from each snapshot
(:meth:`helpers.runs.room_board.Board.snapshot`), so it never reloads; "last seen"
ticks every second. Everything a learner sent is put in with ``textContent``, never
parsed as HTML.
"""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Workshop room</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #212121; }
  h1 { font-size: 1.3em; margin: 0 0 0.2em; }
  #state { color: #616161; margin-bottom: 1em; }
  #state.offline { color: #c62828; font-weight: bold; }
  #shared-note { color: #c62828; }
  table { border-collapse: collapse; }
  th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #e0e0e0; text-align: left;
           vertical-align: top; }
  th.module, td.mark { text-align: center; min-width: 2.4em; }
  td.mark[data-mark="done"] { color: #2e7d32; }
  td.mark[data-mark="in progress"] { color: #ef6c00; }
  td.mark[data-mark="failed"] { color: #c62828; font-weight: bold; }
  td.mark[data-mark="not started"] { color: #9e9e9e; }
  td.stuck { max-width: 38em; }
  td.seen, td.source { color: #616161; white-space: nowrap; }
  #legend { color: #616161; margin-top: 1em; }
</style>
</head>
<body>
<h1>Workshop room</h1>
<div id="state">connecting…</div>
<div id="shared-note"></div>
<table>
  <thead><tr id="head"><th>participant</th></tr></thead>
  <tbody id="rows"></tbody>
</table>
<p id="empty">No participant yet: rows appear as learners' kits report
  and as the shared account is read.</p>
<div id="legend">✓ done, ◐ in progress, ✗ failed (gone on without it), · not started</div>
<script>
"use strict";
const SYMBOL = {"done": "✓", "in progress": "◐", "failed": "✗", "not started": "·"};
let offset = 0;  // browser clock minus server clock, seconds

function cell(tag, text, attributes) {
  const element = document.createElement(tag);
  element.textContent = text;
  for (const [name, value] of Object.entries(attributes || {})) {
    element.setAttribute(name, value);
  }
  return element;
}

function ago(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return seconds + " s ago";
  if (seconds < 3600) return Math.floor(seconds / 60) + " min ago";
  return Math.floor(seconds / 3600) + " h ago";
}

function tick() {
  const now = Date.now() / 1000 - offset;
  for (const td of document.querySelectorAll("td.seen")) {
    td.textContent = ago(now - Number(td.dataset.at));
  }
}

function draw(room) {
  offset = Date.now() / 1000 - room.now;
  const head = document.getElementById("head");
  head.replaceChildren(cell("th", "participant"));
  for (const module of room.modules) {
    head.append(cell("th", module.id, {"class": "module", "title": module.title}));
  }
  for (const name of ["stuck on", "next", "last seen", "source"]) head.append(cell("th", name));
  const body = document.getElementById("rows");
  body.replaceChildren();
  for (const row of room.rows) {
    const tr = cell("tr", "", {"data-participant": row.participant});
    tr.append(cell("td", row.participant, {"class": "participant"}));
    for (const module of room.modules) {
      const mark = row.modules[module.id] || "not started";
      tr.append(cell("td", SYMBOL[mark] || "?", {"class": "mark", "data-module": module.id,
        "data-mark": mark, "title": "Module " + module.id + " · " + module.title + ": " + mark}));
    }
    tr.append(cell("td", row.stuck || "", {"class": "stuck"}));
    tr.append(cell("td", row.next || "complete", {"class": "next"}));
    tr.append(cell("td", "", {"class": "seen", "data-at": String(row.last_seen)}));
    tr.append(cell("td", row.source, {"class": "source"}));
    body.append(tr);
  }
  document.getElementById("empty").hidden = room.rows.length > 0;
  document.getElementById("shared-note").textContent = room.shared_note || "";
  tick();
}

function connect() {
  const state = document.getElementById("state");
  const events = new EventSource("events");
  events.addEventListener("room", (event) => {
    const room = JSON.parse(event.data);
    draw(room);
    state.className = "";
    state.textContent = "live · " + room.rows.length + " participant(s) · updated " +
      new Date().toLocaleTimeString();
  });
  events.onerror = () => {
    state.className = "offline";
    state.textContent = "the dashboard is not answering: reconnecting…";
  };
}

setInterval(tick, 1000);
connect();
</script>
</body>
</html>
"""
