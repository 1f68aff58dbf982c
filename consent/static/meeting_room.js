// A circle's meeting, followed live: one websocket to /ws/meetings/{id} (protocol in API.md).
// The page works without this script, its forms posting as usual; here, each event of the
// meeting loads the page's main section again (GET /meetings/{id}?part=main) and puts it in
// place, so a phone follows the rounds and the agenda without reloading. What someone is
// typing is kept across the swap. Reconnects with jittered backoff, resuming from its last seq.
"use strict";
(() => {
  const room = document.getElementById("meeting-room");
  const main = document.getElementById("main");
  if (!room || !main || !("WebSocket" in window)) return;
  const status = room.querySelector(".connection");
  const words = JSON.parse(document.getElementById("meeting-room-words").textContent);
  let seq = Number(room.dataset.seq);
  let tries = 0;
  let loading = null; // the section's load under way; one more follows if events came meanwhile
  let again = false;

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
    const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/meetings/${room.dataset.meeting}`);
    socket.onopen = () => socket.send(JSON.stringify({ type: "hello", since: seq }));
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "welcome") {
        tries = 0;
        status.textContent = words.connected;
        if (event.seq > seq) load(); // something happened while it was away
        seq = Math.max(seq, event.seq);
      } else if (typeof event.seq === "number" && event.seq > seq) {
        seq = event.seq;
        load();
      }
    };
    socket.onclose = (closed) => {
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

  open();
})();
