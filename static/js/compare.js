// The compare page: each column follows its own conversation through stream.js (the chat
// page's client), so each column streams on its own and a slow or failing one holds up
// nothing. When a column's answer ends, the server's version of the column (rendered
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
    if (start.dataset.status !== "streaming" || !messageId) return null;
    let finished = false;

    const body = () => document.getElementById(`column-${position}-body`);
    const status = () => document.getElementById(`column-${position}-status`);

    // The server's column replaces ours once the answer has ended (or, with
    // `onlyIfEnded`, only then: a reload mid-stream keeps the live text).
    async function refresh(onlyIfEnded) {
      const fresh = await PlaygroundStream.fragment(root.dataset.fragmentUrl, position);
      if (!fresh || (onlyIfEnded && fresh.dataset.status === "streaming")) return;
      finished = fresh.dataset.status !== "streaming";
      column(position).replaceWith(fresh);
      if (finished) stream.close();
    }

    const stream = PlaygroundStream.follow(start.dataset.socket, {
      only: messageId,
      seq: () => Number(start.dataset.seq || 0),
      connected: () => refresh(true), // it may have ended between the page being made and the socket opening
      lost() {
        if (!finished) status().textContent = "Connection lost; reconnecting…";
      },
      on: {
        snapshot(frame) {
          body().textContent = frame.text;
        },
        delta(frame) {
          body().append(document.createTextNode(frame.text));
        },
        notice(frame) {
          status().textContent = frame.text;
        },
        done() {
          finished = true;
          refresh(false);
        },
        error(frame) {
          say(`Column ${position}: ${frame.error}`, true);
        },
      },
    });
    return { stop: () => stream.send({ type: "stop", message: messageId }) };
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
