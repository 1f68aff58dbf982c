// The live meeting: one websocket to /ws/proposals/{id} (protocol in API.md). The page is
// server-rendered and works without this script; here, actions go over the socket instead of
// a form post, and each new event brings the changed parts of the page (data-live) without a
// reload. Reconnects with jittered backoff and resumes from the last seq it saw.
"use strict";
(() => {
  const meeting = document.getElementById("meeting");
  if (!meeting || !("WebSocket" in window)) return;
  const proposalId = meeting.dataset.proposal;
  const status = meeting.querySelector(".connection");
  const presence = document.getElementById("presence");
  const HEARTBEAT_MS = 20000;
  const SILENCE_MS = 45000; // nothing heard for this long: the connection is dead, start again
  let seq = Number(meeting.dataset.seq);
  let socket = null;
  let attempt = 0;
  let lastHeard = Date.now();
  let refreshing = null;
  let loading = false; // a page fetch is in flight
  let again = false; // events arrived during it: fetch once more after
  let stale = false; // a refresh was held back because someone is typing
  const pending = new Map(); // client_id -> {form, action}: sent again after a reconnect

  meeting.hidden = false;

  function setStatus(state, text) {
    meeting.dataset.state = state;
    status.textContent = text;
  }

  function newClientId() {
    const random = window.crypto && crypto.getRandomValues ? crypto.getRandomValues(new Uint32Array(4)) : [Math.random() * 2 ** 32];
    return "web-" + Array.from(random, (n) => Math.floor(n).toString(36)).join("");
  }

  function connect() {
    setStatus(attempt ? "reconnecting" : "connecting", attempt ? "Reconnecting…" : "Connecting…");
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + "/ws/proposals/" + proposalId);
    socket = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "hello", since: seq }));
    ws.onmessage = (message) => {
      lastHeard = Date.now();
      handle(JSON.parse(message.data));
    };
    ws.onclose = (closed) => {
      if (socket !== ws) return;
      socket = null;
      if (closed.code === 4403) {
        setStatus("refused", "You are not a member of this circle's meetings.");
        return;
      }
      retry();
    };
  }

  function retry() {
    attempt += 1;
    const ceiling = Math.min(30000, 500 * 2 ** Math.min(attempt, 6));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // jitter: phones do not all return at once
    setStatus("reconnecting", "Connection lost. Reconnecting in " + Math.ceil(delay / 1000) + " s…");
    setTimeout(connect, delay);
  }

  function handle(message) {
    switch (message.type) {
      case "welcome":
        attempt = 0;
        setStatus("connected", "Connected: you see what happens as it happens.");
        for (const [clientId, { action }] of pending) send({ ...action, client_id: clientId });
        if (message.seq !== seq) refresh();
        return;
      case "presence":
        presence.textContent = message.present.map((person) => person.name).join(", ") || "nobody yet";
        return;
      case "ack":
        settle(message.client_id, null);
        return;
      case "error":
        settle(message.client_id, message.error);
        return;
      case "pong":
        return;
      default:
        if (typeof message.seq === "number" && message.seq > seq) {
          seq = message.seq;
          refresh();
        }
    }
  }

  function send(action) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(action));
  }

  // What someone is typing survives a refresh: it moves to the same field of the same action in
  // the new part. If that action is gone, the part waits (stale) until they are done.
  function keyOf(field) {
    const form = field.form;
    const type = form ? form.querySelector("input[name=type]")?.value : "";
    const about = form ? form.querySelector("input[name=question_id], input[name=objection_id], input[name=on_behalf_of]")?.value : "";
    return [type, about || "", field.name].join("|");
  }

  function replacePart(part, replacement) {
    const typed = new Map();
    for (const field of part.querySelectorAll("textarea")) {
      if (field.value !== field.defaultValue) typed.set(keyOf(field), field.value);
    }
    const focused = part.contains(document.activeElement) && document.activeElement.matches("textarea, input, select") ? document.activeElement : null;
    const focusKey = focused ? keyOf(focused) : null;
    const keys = new Set(Array.from(replacement.querySelectorAll("textarea, input, select"), keyOf));
    if ([...typed.keys()].some((key) => !keys.has(key)) || (focusKey && !keys.has(focusKey))) return false;
    const caret = focused && focused.selectionStart;
    part.innerHTML = replacement.innerHTML;
    for (const field of part.querySelectorAll("textarea, input, select")) {
      const key = keyOf(field);
      if (typed.has(key)) field.value = typed.get(key);
      if (key === focusKey) {
        field.focus();
        if (caret !== null && field.setSelectionRange) field.setSelectionRange(caret, caret);
      }
    }
    return true;
  }

  function refresh() {
    clearTimeout(refreshing);
    refreshing = setTimeout(load, 80); // events of one action arrive together: one refresh for them all
  }

  // One page fetch at a time, and another after it if events came meanwhile: two fetches in
  // flight could answer out of order and leave the older page showing.
  async function load() {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      const response = await fetch(location.pathname, { credentials: "same-origin" });
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      stale = false;
      for (const part of document.querySelectorAll("[data-live]")) {
        const replacement = fresh.querySelector('[data-live="' + part.dataset.live + '"]');
        if (replacement && !replacePart(part, replacement)) stale = true;
      }
    } catch (error) {
      stale = true; // offline: the welcome after reconnecting refreshes again
    } finally {
      loading = false;
      if (again) {
        again = false;
        load();
      }
    }
  }

  function settle(clientId, error) {
    const entry = pending.get(clientId);
    if (!entry) return;
    pending.delete(clientId);
    const { form } = entry;
    form.removeAttribute("aria-busy");
    form.querySelectorAll("button").forEach((button) => (button.disabled = false));
    form.querySelector(".form-error")?.remove();
    if (error) {
      const alert = document.createElement("p");
      alert.className = "form-error";
      alert.setAttribute("role", "alert");
      alert.textContent = error.message;
      form.prepend(alert);
      return;
    }
    form.querySelectorAll("textarea").forEach((field) => (field.value = field.defaultValue = ""));
    if (stale) refresh();
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.classList.contains("action-form")) return;
    event.preventDefault();
    const action = {};
    for (const [name, value] of new FormData(form)) {
      if (name === "_csrf_token" || name === "client_id" || value === "") continue;
      // a datetime-local field has no seconds and no zone: the pages mean UTC, as the form post does
      action[name] = name === "closes_at" && /T\d\d:\d\d$/.test(value) ? value + ":00Z" : value;
    }
    // A list typed one item a line (an amendment's criteria): empty, it clears the list.
    form.querySelectorAll("textarea[data-lines]").forEach((field) => {
      action[field.name] = field.value.split("\n").map((line) => line.trim()).filter((line) => line);
    });
    const clientId = newClientId();
    pending.set(clientId, { form, action });
    form.setAttribute("aria-busy", "true");
    form.querySelectorAll("button").forEach((button) => (button.disabled = true));
    if (socket && socket.readyState === WebSocket.OPEN) send({ ...action, client_id: clientId });
    else setStatus("reconnecting", "Not connected: your response is sent as soon as the connection is back.");
  });

  document.addEventListener("focusout", () => {
    if (stale) setTimeout(() => stale && refresh(), 0);
  });

  setInterval(() => {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastHeard > SILENCE_MS) {
      const dead = socket;
      socket = null;
      dead.close();
      retry();
      return;
    }
    send({ type: "ping" });
  }, HEARTBEAT_MS);

  connect();
})();
