// The chat page's live part: a websocket to ws/chat/<id>/ carrying JSON frames.
// Deltas carry consecutive numbers (seq) per answer: a delta already seen is skipped, a gap
// reloads the answer from a snapshot, so text is never doubled or lost. Text is appended as
// plain text (textContent); the server's sanitised markdown replaces it when the answer ends.
"use strict";

(function () {
  const chat = document.getElementById("chat");
  if (!chat) return;
  const thread = document.getElementById("thread");
  const connection = document.getElementById("connection");
  const composer = document.getElementById("composer");
  const seen = new Map(); // message id -> last seq applied
  const questions = new Map(); // answer id -> id of the question shown by this script
  let socket = null;
  let retryDelay = 500;
  // A question sent but not yet taken by the server ("started"): if the server refuses it,
  // it goes back into the box, so nothing the person wrote is lost.
  let unsent = null;

  function bodyOf(id) {
    return document.getElementById(`message-${id}-body`);
  }

  // Stop is for whoever asked, and for admins and owners (the server checks it too).
  function mayStop(by) {
    return Boolean(composer) && (chat.dataset.stopAny === "true" || by === Number(chat.dataset.user));
  }

  function article(id, role, text, by) {
    const node = document.createElement("article");
    node.id = `message-${id}`;
    node.dataset.message = id;
    node.setAttribute("hx-disable", ""); // model and user text: never htmx markup
    node.className = `message message-${role}` + (role === "assistant" ? " status-streaming" : "");
    node.setAttribute("aria-label", role === "user" ? "User message" : "Assistant message");
    const head = document.createElement("header");
    head.className = "message-head";
    head.textContent = role === "user" ? "You" : "Assistant";
    const body = document.createElement("div");
    body.className = "message-body plain";
    body.id = `message-${id}-body`;
    body.textContent = text || "";
    node.append(head, body);
    if (role === "assistant") {
      const footer = document.createElement("footer");
      footer.className = "message-meta";
      const status = document.createElement("span");
      status.className = "status";
      status.id = `message-${id}-status`;
      status.textContent = "Streaming…";
      let stop;
      if (mayStop(by)) {
        stop = document.createElement("button");
        stop.type = "button";
        stop.className = "stop";
        stop.dataset.message = id;
        stop.textContent = "Stop";
      } else {
        stop = document.createElement("span");
        stop.className = "muted stop-rule";
        stop.textContent = chat.dataset.stopRule;
      }
      footer.append(status, stop);
      node.append(footer);
    }
    const empty = document.getElementById("empty-thread");
    if (empty) empty.remove();
    thread.append(node);
    return node;
  }

  async function replaceWithRendered(id) {
    const url = chat.dataset.fragmentUrl.replace("/0/", `/${id}/`);
    const response = await fetch(url, { headers: { "X-Requested-With": "fetch" } });
    if (!response.ok) return;
    const template = document.createElement("template");
    template.innerHTML = (await response.text()).trim(); // our server's sanitised HTML
    const old = document.getElementById(`message-${id}`);
    if (old && template.content.firstElementChild) old.replaceWith(template.content.firstElementChild);
  }

  function handle(frame) {
    switch (frame.type) {
      case "started":
        if (String(frame.by) === chat.dataset.user) unsent = null; // the server has the question now
        if (frame.question && !document.getElementById(`message-${frame.question.id}`)) {
          article(frame.question.id, "user", frame.question.text);
          questions.set(frame.message, frame.question.id);
        }
        if (!document.getElementById(`message-${frame.message}`)) article(frame.message, "assistant", "", frame.by);
        seen.set(frame.message, 0);
        break;
      case "snapshot": {
        const body = bodyOf(frame.message) || (article(frame.message, "assistant", ""), bodyOf(frame.message));
        body.textContent = frame.text;
        body.classList.replace("markdown", "plain");
        seen.set(frame.message, frame.seq);
        break;
      }
      case "delta": {
        const last = seen.has(frame.message) ? seen.get(frame.message) : Number(document.getElementById(`message-${frame.message}`)?.dataset.seq || 0);
        if (frame.seq <= last) break; // already shown
        if (frame.seq !== last + 1) { reconnect(); break; } // a gap: start again from a snapshot
        const body = bodyOf(frame.message) || (article(frame.message, "assistant", ""), bodyOf(frame.message));
        body.append(document.createTextNode(frame.text));
        seen.set(frame.message, frame.seq);
        break;
      }
      case "render": {
        // The server's sanitised markdown of the text up to frame.seq; later deltas append.
        const body = bodyOf(frame.message);
        if (body && seen.get(frame.message) === frame.seq) {
          body.innerHTML = frame.html;
          body.classList.replace("plain", "markdown");
        }
        break;
      }
      case "notice": {
        const status = document.getElementById(`message-${frame.message}-status`);
        if (status) status.textContent = frame.text;
        break;
      }
      case "live": {
        // After a (re)connect: an answer shown streaming that is no longer live ended while
        // the page was away; show its saved version (ended, complete, no Stop button).
        const live = new Set(frame.messages.map(String));
        for (const node of document.querySelectorAll("article.message-assistant.status-streaming")) {
          if (!live.has(node.dataset.message)) replaceWithRendered(node.dataset.message);
        }
        break;
      }
      case "done":
        if (frame.notice) { // not saved yet (the database is away): keep the text shown, say so
          const status = document.getElementById(`message-${frame.message}-status`);
          if (status) status.textContent = frame.notice;
          document.querySelector(`#message-${frame.message} button.stop`)?.remove();
          break;
        }
        replaceWithRendered(frame.message);
        // The question this page drew itself gets its server version too (with Edit & resend).
        if (questions.has(frame.message)) replaceWithRendered(questions.get(frame.message));
        questions.delete(frame.message);
        break;
      case "error":
        connection.textContent = frame.error;
        connection.setAttribute("role", "alert");
        restoreUnsent();
        break;
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${chat.dataset.socket}`);
    socket.addEventListener("open", () => {
      retryDelay = 500;
      connection.textContent = "Connected.";
      connection.setAttribute("role", "status");
    });
    socket.addEventListener("message", (event) => handle(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      connection.textContent = "Connection lost; reconnecting…";
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    });
  }

  function reconnect() {
    if (socket) socket.close(); // the close handler connects again and gets fresh snapshots
  }

  function restoreUnsent() {
    const box = document.getElementById("composer-text");
    if (unsent !== null && box && !box.value) box.value = unsent;
    unsent = null;
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
    else {
      connection.textContent = "Not connected yet; your message was not sent. Try again in a moment.";
      connection.setAttribute("role", "alert");
      return false;
    }
    return true;
  }

  if (composer) {
    const text = document.getElementById("composer-text");
    composer.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!text.value.trim()) return;
      const frame = { type: "send", text: text.value };
      if (composer.dataset.parent !== undefined) frame.parent = composer.dataset.parent ? Number(composer.dataset.parent) : 0;
      if (send(frame)) { // the text is kept when it could not be sent
        unsent = frame.text;
        text.value = "";
        delete composer.dataset.parent;
        if (frame.parent !== undefined) setTimeout(() => location.reload(), 300); // show the new branch
      }
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        composer.requestSubmit();
      }
    });
  }

  chat.addEventListener("click", (event) => {
    const stop = event.target.closest("button.stop");
    if (stop) send({ type: "stop", message: Number(stop.dataset.message) });
    const edit = event.target.closest("button.edit");
    if (edit && composer) {
      // Edit & resend: the question goes again, as a sibling of the original, which stays.
      const text = document.getElementById("composer-text");
      text.value = bodyOf(edit.dataset.message).innerText;
      composer.dataset.parent = edit.dataset.parent;
      text.focus();
    }
    const regenerate = event.target.closest("button.regenerate");
    if (regenerate) send({ type: "regenerate", message: Number(regenerate.dataset.message) });
    const copy = event.target.closest("button.copy-message, button.copy-code");
    if (copy) {
      const source = copy.dataset.copyTarget ? document.getElementById(copy.dataset.copyTarget) : copy.closest(".code-block")?.querySelector("pre");
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.innerText).then(() => {
          const label = copy.textContent;
          copy.textContent = "Copied";
          setTimeout(() => { copy.textContent = label; }, 1500);
        }, () => {
          connection.textContent = "Could not copy: the browser did not allow it.";
          connection.setAttribute("role", "alert");
        });
      }
    }
  });

  connect();
})();
