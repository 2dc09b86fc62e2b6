// The compare page: one chat websocket per column (ws/chat/<conversation>/, the chat page's
// protocol), so each column streams on its own and a slow or failing one holds up nothing.
// Deltas are numbered per answer: one already seen is skipped, a gap reconnects for a fresh
// snapshot. When a column's answer ends, the server's version of the column (rendered
// markdown, time to first token, tokens/s, tokens) replaces it.
"use strict";

(function () {
  const root = document.getElementById("compare");
  if (!root) return;
  const connection = document.getElementById("compare-connection");

  function column(position) {
    return document.getElementById(`column-${position}`);
  }

  function say(text, alert) {
    connection.textContent = text;
    connection.setAttribute("role", alert ? "alert" : "status");
  }

  function watch(position) {
    const start = column(position);
    const messageId = Number(start.dataset.message);
    let seq = Number(start.dataset.seq || 0);
    let finished = start.dataset.status !== "streaming";
    let socket = null;
    let retryDelay = 500;
    if (finished || !messageId) return null;

    const body = () => document.getElementById(`column-${position}-body`);
    const status = () => document.getElementById(`column-${position}-status`);

    // The server's column replaces ours once the answer has ended (or, with
    // `onlyIfEnded`, only then: a reload mid-stream keeps the live text).
    async function refresh(onlyIfEnded) {
      const url = root.dataset.fragmentUrl.replace("/0/", `/${position}/`);
      const response = await fetch(url, { headers: { "X-Requested-With": "fetch" } });
      if (!response.ok) return;
      const template = document.createElement("template");
      template.innerHTML = (await response.text()).trim(); // our server's sanitised HTML
      const fresh = template.content.querySelector("section.compare-column");
      if (!fresh || (onlyIfEnded && fresh.dataset.status === "streaming")) return;
      finished = fresh.dataset.status !== "streaming";
      column(position).replaceWith(fresh);
      if (finished && socket) socket.close();
    }

    function handle(frame) {
      if (frame.type === "error") {
        say(`Column ${position}: ${frame.error}`, true);
        return;
      }
      if (frame.message !== messageId) return;
      switch (frame.type) {
        case "snapshot":
          body().textContent = frame.text;
          seq = frame.seq;
          break;
        case "delta":
          if (frame.seq <= seq) break; // already shown
          if (frame.seq !== seq + 1) { // a gap: start again from a snapshot
            if (socket) socket.close();
            break;
          }
          body().append(document.createTextNode(frame.text));
          seq = frame.seq;
          break;
        case "notice":
          status().textContent = frame.text;
          break;
        case "done":
          finished = true;
          refresh(false);
          break;
      }
    }

    function connect() {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      socket = new WebSocket(`${scheme}://${location.host}${start.dataset.socket}`);
      socket.addEventListener("open", () => {
        retryDelay = 500;
        // It may have ended between the page being made and the socket opening.
        refresh(true);
      });
      socket.addEventListener("message", (event) => handle(JSON.parse(event.data)));
      socket.addEventListener("close", () => {
        if (finished) return;
        status().textContent = "Connection lost; reconnecting…";
        setTimeout(connect, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 10000);
      });
    }

    connect();
    return { stop: () => socket && socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify({ type: "stop", message: messageId })) };
  }

  const watchers = new Map();
  for (const node of root.querySelectorAll("section.compare-column")) {
    const position = node.dataset.column;
    watchers.set(position, watch(position));
  }

  root.addEventListener("click", (event) => {
    const stop = event.target.closest("button.stop");
    if (!stop) return;
    const watcher = watchers.get(stop.closest("section.compare-column").dataset.column);
    if (watcher) watcher.stop();
  });
})();
