// A circle's meeting, followed live: one websocket to /ws/meetings/{id} (protocol in API.md).
// The page works without this script, its forms posting as usual; here, they are sent on the
// socket instead (posted as usual while it is not open), and each event of the meeting loads
// the page's main section again (GET /meetings/{id}?part=main) and puts it in place, so a
// phone follows the rounds and the agenda without reloading. What someone is typing is kept
// across the swap. Reconnects with jittered backoff, resuming from its last seq.
"use strict";
(() => {
  const room = document.getElementById("meeting-room");
  const main = document.getElementById("meeting-main");
  if (!room || !main || !("WebSocket" in window)) return;
  const status = room.querySelector(".connection");
  const words = JSON.parse(document.getElementById("meeting-room-words").textContent);
  let seq = Number(room.dataset.seq);
  let tries = 0;
  let loading = null; // the section's load under way; one more follows if events came meanwhile
  let again = false;
  let socket = null;

  room.hidden = false;

  async function load() {
    if (loading) {
      again = true;
      return;
    }
    loading = fetch(`/meetings/${room.dataset.meeting}?part=main`, { credentials: "same-origin" });
    try {
      const response = await loading;
      if (response.ok) swap(await response.text());
    } finally {
      loading = null;
      if (again) {
        again = false;
        load();
      }
    }
  }

  // The new section in place of the old, with what was being typed, and the focus, kept.
  function swap(html) {
    const typed = new Map();
    main.querySelectorAll("textarea").forEach((field) => field.value && typed.set(field.id, field.value));
    const focused = document.activeElement && main.contains(document.activeElement) ? document.activeElement.id : null;
    main.innerHTML = html;
    for (const [id, value] of typed) {
      const field = document.getElementById(id);
      if (field) field.value = value;
    }
    if (focused) document.getElementById(focused)?.focus();
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
        if (event.seq > seq) load(); // something happened while it was away
        seq = Math.max(seq, event.seq);
      } else if (typeof event.seq === "number" && event.seq > seq) {
        seq = event.seq;
        load();
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
