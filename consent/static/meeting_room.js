// A circle's meeting, followed live: one websocket to /ws/meetings/{id} (protocol in API.md).
// The page works without this script, its forms posting as usual; here, they are sent on the
// socket instead (posted as usual while it is not open). Each action's last event brings the
// part of the page that is the same for everyone, rendered by the server (`view`,
// rounds/meetings/views.py), put in place as it comes; the viewer's own forms are fetched again
// (GET /meetings/{id}?part=now) only when the view names the viewer in `now`. After a gap (a
// reconnect, an event without its view) the whole main section is loaded again (?part=main).
// What someone is typing is kept across a swap. Reconnects with jittered backoff, resuming from
// its last seq.
"use strict";
(() => {
  const room = document.getElementById("meeting-room");
  const main = document.getElementById("meeting-main");
  if (!room || !main || !("WebSocket" in window)) return;
  const status = room.querySelector(".connection");
  const words = JSON.parse(document.getElementById("meeting-room-words").textContent);
  const language = document.documentElement.lang;
  const viewer = room.dataset.viewer;
  let seq = Number(room.dataset.seq); // the last event seen
  let shown = seq; // the last event the page shows
  let tries = 0;
  let checking = null; // waiting, after an event without its view, for the one that brings it
  let socket = null;

  // One load of a part at a time, and one more after it if asked meanwhile: two in flight
  // could land in the wrong order.
  function oneAtATime(load) {
    let loading = false;
    let again = false;
    return async function run() {
      if (loading) {
        again = true;
        return;
      }
      loading = true;
      try {
        await load();
      } finally {
        loading = false;
        if (again) {
          again = false;
          run();
        }
      }
    };
  }

  const loadMain = oneAtATime(async () => {
    const upTo = seq;
    const response = await fetch(`/meetings/${room.dataset.meeting}?part=main`, { credentials: "same-origin" });
    if (!response.ok || response.redirected) return; // signed out: the sign-in page, not the part
    swap(main, await response.text());
    shown = Math.max(shown, upTo);
  });

  const loadNow = oneAtATime(async () => {
    const response = await fetch(`/meetings/${room.dataset.meeting}?part=now`, { credentials: "same-origin" });
    const now = document.getElementById("meeting-now");
    if (response.ok && !response.redirected && now) swap(now, await response.text());
  });

  // The new part in place of the old, with what was being typed, and the focus, kept.
  function swap(part, html) {
    const typed = new Map();
    part.querySelectorAll("textarea").forEach((field) => field.value && typed.set(field.id, field.value));
    const focused = document.activeElement && part.contains(document.activeElement) ? document.activeElement.id : null;
    part.innerHTML = html;
    for (const [id, value] of typed) {
      const field = document.getElementById(id);
      if (field) field.value = value;
    }
    if (focused) document.getElementById(focused)?.focus();
  }

  // An event: its view put in place if the page shows everything before it; the earlier events
  // of an action have none (its last brings it), nor do events read from the log after a
  // reconnect, after which the main section is loaded again.
  function follow(event) {
    seq = Math.max(seq, event.seq);
    if (event.seq <= shown) return; // a load showed it already
    const view = (event.views && event.views[language]) || event.view;
    const live = document.getElementById("meeting-live");
    if (view && view.from === shown + 1 && live) {
      live.innerHTML = view.live;
      shown = event.seq;
      if (view.now === null || view.now.includes(viewer)) loadNow();
      return;
    }
    if (view) {
      loadMain();
      return;
    }
    clearTimeout(checking);
    checking = setTimeout(() => shown < seq && loadMain(), 150);
  }

  function open() {
    status.textContent = tries ? words.reconnecting : words.connecting;
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/meetings/${room.dataset.meeting}`);
    ws.onopen = () => ws.send(JSON.stringify({ type: "hello", since: seq }));
    ws.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "error") {
        refused(event.error.message);
      } else if (event.type === "ack") {
        main.querySelectorAll("form[aria-busy]").forEach((form) => form.removeAttribute("aria-busy"));
      } else if (event.type === "welcome") {
        socket = ws;
        tries = 0;
        status.textContent = words.connected;
        seq = Math.max(seq, event.seq);
        if (seq > shown) loadMain(); // something happened while it was away
      } else if (typeof event.seq === "number" && event.seq > seq) {
        follow(event);
      }
    };
    ws.onclose = (closed) => {
      socket = null;
      if (closed.code === 4403) {
        status.textContent = words.refused;
        return;
      }
      tries += 1;
      const ceiling = Math.min(30000, 500 * 2 ** Math.min(tries, 6));
      setTimeout(open, ceiling / 2 + Math.random() * (ceiling / 2)); // phones do not all return at once
      status.textContent = words.lost;
    };
  }

  // What the rules refused: said where the page's flashes are, the form left as typed.
  function refused(message) {
    main.querySelectorAll("form[aria-busy]").forEach((form) => form.removeAttribute("aria-busy"));
    const said = document.createElement("p");
    said.className = "flash flash-error";
    said.setAttribute("role", "alert");
    said.textContent = message;
    main.querySelector(".flash-error")?.remove();
    main.prepend(said);
  }

  main.addEventListener("submit", (submitted) => {
    const form = submitted.target;
    if (!socket || !form.action.endsWith("/actions")) return; // posted as without the script
    submitted.preventDefault();
    const action = {};
    for (const [name, value] of new FormData(form)) if (!name.startsWith("_")) action[name] = value; // not the CSRF token
    form.setAttribute("aria-busy", "true");
    socket.send(JSON.stringify(action));
  });

  open();
})();
