// The live meeting: one websocket to /ws/proposals/{id} (protocol in API.md). The page is
// server-rendered and works without this script; here, actions go over the socket instead of
// a form post, and the page follows the meeting from the events themselves: each batch's last
// event carries `view`, what it changed on the page, rendered once by the server for everyone
// (rounds/page_updates.py). Only "what you can do now" is this viewer's own: fetched alone, and
// only when the view names this viewer. A page that missed something (a reconnect, a gap) loads
// its parts again. Reconnects with jittered backoff and resumes from the last seq it saw.
"use strict";
(() => {
  const meeting = document.getElementById("meeting");
  if (!meeting || !("WebSocket" in window)) return;
  const proposalId = meeting.dataset.proposal;
  const status = meeting.querySelector(".connection");
  const presence = document.getElementById("presence");
  const presenceList = document.getElementById("presence-list");
  const viewer = meeting.dataset.viewer;
  // What the script says, in the page's language: the page writes it (templates/rounds/proposal.html).
  const words = JSON.parse(document.getElementById("meeting-words").textContent);
  const say = (key, values = {}) => words[key].replace(/\{(\w+)\}/g, (_, name) => values[name]);
  const language = document.documentElement.lang;
  const HEARTBEAT_MS = 20000;
  const SILENCE_MS = 45000; // nothing heard for this long: the connection is dead, start again
  let seq = Number(meeting.dataset.seq); // the last event the socket brought
  let shown = seq; // the last event the page shows
  let checking = null;
  let connected = say("connected");
  let socket = null;
  let attempt = 0;
  let lastHeard = Date.now();
  let refreshing = null;
  let stale = false; // "what you can do now" was held back because someone is typing in it
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
    setStatus(attempt ? "reconnecting" : "connecting", attempt ? say("reconnecting") : say("connecting"));
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
        setStatus("refused", say("refused"));
        return;
      }
      retry();
    };
  }

  function retry() {
    attempt += 1;
    const ceiling = Math.min(30000, 500 * 2 ** Math.min(attempt, 6));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // jitter: phones do not all return at once
    setStatus("reconnecting", say("lost", { seconds: Math.ceil(delay / 1000) }));
    setTimeout(connect, delay);
  }

  function handle(message) {
    switch (message.type) {
      case "welcome":
        attempt = 0;
        setStatus("connected", connected);
        for (const [clientId, { action }] of pending) send({ ...action, client_id: clientId });
        return;
      case "presence":
        // who has the page open, which is not who takes part: that is the list of those present
        presence.textContent = message.present.map((person) => person.name).join(", ") || say("nobody");
        presenceList.hidden = false;
        connected = say("open", { count: message.present.length.toLocaleString(language) });
        if (meeting.dataset.state === "connected") setStatus("connected", connected);
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
          follow(message);
        }
    }
  }

  // An event: apply its view if the page shows everything before it; the earlier events of a
  // batch have none (its last brings it), nor do events read from the log after a reconnect,
  // after which the page loads its parts again.
  function follow(event) {
    if (event.seq <= shown) return; // a fresh load showed it already
    // the view in the page's language: the server renders one for each (rounds/page_updates.py)
    if (event.views && event.views[language]) event = { ...event, view: event.views[language] };
    if (event.view && event.view.from === shown + 1 && apply(event.view.ops)) {
      shown = event.seq;
      document.querySelectorAll("main > .flash").forEach((flash) => flash.remove()); // it was about a moment now past
      if (event.view.now === null || event.view.now.includes(viewer)) loadNow();
      return;
    }
    if (event.view) {
      refresh();
      return;
    }
    clearTimeout(checking);
    checking = setTimeout(() => shown < seq && refresh(), 150);
  }

  function fragment(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  // The view's operations, in order; false if a part is missing (the page then loads again).
  function apply(ops) {
    for (const [action, target, html, container] of ops) {
      const element = document.getElementById(target);
      if (action === "remove") {
        element?.remove();
      } else if (action === "update") {
        if (!element) return false;
        element.innerHTML = html;
      } else if (action === "upsert") {
        const into = document.getElementById(container);
        if (element) element.replaceWith(fragment(html));
        else if (into) into.append(fragment(html));
        else return false;
      } else if (action === "append" || action === "prepend") {
        if (!element) return false;
        const part = fragment(html);
        const id = part.firstElementChild && part.firstElementChild.id;
        if (!id || !document.getElementById(id)) element[action](part); // once, whatever arrives twice
      }
    }
    markYours();
    return true;
  }

  // The shared parts name whose turn it is; to this viewer, it is "your" turn.
  function markYours() {
    for (const mine of document.querySelectorAll('#live-turn [data-member="' + viewer + '"]')) mine.textContent = mine.dataset.you;
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

  // One fetch at a time, and one more after it if asked meanwhile: two fetches in flight could
  // answer out of order and leave the older one showing. Offline, the part is left as it is
  // and marked stale: the next action or the end of typing loads it again.
  function oneAtATime(fetchAndShow) {
    let running = false;
    let again = false;
    const run = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        await fetchAndShow();
      } catch (error) {
        stale = true;
      } finally {
        running = false;
        if (again) {
          again = false;
          run();
        }
      }
    };
    return run;
  }

  // This viewer's own part alone.
  const loadNow = oneAtATime(async () => {
    const response = await fetch(location.pathname + "/now", { credentials: "same-origin" });
    if (!response.ok || response.redirected) return; // signed out: the sign-in page, not the part
    const replacement = document.createElement("div");
    replacement.append(fragment(await response.text()));
    if (!replacePart(document.getElementById("now"), replacement)) stale = true;
  });

  // The whole page again, for its parts: after a reconnect or a gap, rarely.
  const load = oneAtATime(async () => {
    const response = await fetch(location.pathname, { credentials: "same-origin" });
    if (!response.ok || response.redirected) return; // signed out: the sign-in page, not the part
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    stale = false;
    for (const part of document.querySelectorAll('#now, [id^="live-"]')) {
      const replacement = fresh.getElementById(part.id);
      if (replacement && !replacePart(part, replacement)) stale = true;
    }
    const freshMeeting = fresh.getElementById("meeting");
    if (freshMeeting) shown = Math.max(shown, Number(freshMeeting.dataset.seq));
    markYours();
  });

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
    for (const field of form.querySelectorAll("textarea")) {
      // the words were sent: gone from the form, also where a newer part took them over meanwhile
      if (!form.isConnected) {
        for (const moved of document.querySelectorAll("#now textarea")) {
          if (keyOf(moved) === keyOf(field) && moved.value === field.value) moved.value = "";
        }
      }
      field.value = field.defaultValue = "";
    }
    if (stale) loadNow();
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.classList.contains("action-form")) return;
    // A deadline is typed in the viewer's time zone: the form's own post reads it there, and
    // refuses a time the clocks skip (docs/time_zones.md).
    if (form.elements.closes_at?.value) return;
    event.preventDefault();
    const action = {};
    for (const [name, value] of new FormData(form)) {
      if (name === "_csrf_token" || name === "client_id" || value === "") continue;
      if (form.elements[name]?.type === "checkbox") {
        action[name] = true; // a ticked box (an unticked one is not in the form's data)
        continue;
      }
      action[name] = value;
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
    else setStatus("reconnecting", say("offline"));
  });

  document.addEventListener("focusout", () => {
    if (stale) setTimeout(() => stale && loadNow(), 0);
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
