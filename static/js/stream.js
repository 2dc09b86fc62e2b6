// The one client of the live answers of a conversation (ws/chat/<id>/ JSON frames), shared by
// the chat page and the compare page, which only say what each frame does to their own DOM.
// Deltas carry consecutive numbers (seq) per answer: one already applied is skipped, a gap
// closes the socket so that the reconnect brings a fresh snapshot; text is never doubled or
// lost. A lost socket reconnects with back-off until the page closes the stream.
"use strict";

window.PlaygroundStream = (function () {
  // Follows the conversation at `path`. `page` gives:
  //   on         handlers by frame type (started, snapshot, delta, render, notice, live, done,
  //              error); a delta reaches its handler only when it is next in turn, a render
  //              only while no later delta has been applied
  //   seq(id)    the seq the page was drawn with for an answer (its data-seq), before any frame
  //   only       (optional) an answer id: frames about other answers are ignored
  //   connected(), lost()   the socket opened, or closed (it reconnects unless closed for good)
  // Returns { send(frame): whether it went, close(): stop following }.
  function follow(path, page) {
    const applied = new Map(); // answer id -> last seq applied
    let socket = null;
    let retryDelay = 500;
    let closed = false;

    function handle(frame) {
      const id = frame.message;
      if (page.only !== undefined && "message" in frame && id !== page.only) return;
      if (frame.type === "delta") {
        const last = applied.has(id) ? applied.get(id) : page.seq(id);
        if (frame.seq <= last) return; // already shown
        if (frame.seq !== last + 1) { // a gap: start again from a snapshot
          reconnect();
          return;
        }
      }
      // The server's markdown of the text up to frame.seq is stale once more text arrived.
      if (frame.type === "render" && applied.get(id) !== frame.seq) return;
      if (Object.hasOwn(page.on, frame.type)) page.on[frame.type](frame);
      if (frame.type === "started") applied.set(id, 0);
      else if (frame.type === "snapshot" || frame.type === "delta") applied.set(id, frame.seq);
    }

    function connect() {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      socket = new WebSocket(`${scheme}://${location.host}${path}`);
      socket.addEventListener("open", () => {
        retryDelay = 500;
        if (page.connected) page.connected();
      });
      socket.addEventListener("message", (event) => handle(JSON.parse(event.data)));
      socket.addEventListener("close", () => {
        if (closed) return;
        if (page.lost) page.lost();
        setTimeout(connect, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 10000);
      });
    }

    function reconnect() {
      if (socket) socket.close(); // the close handler connects again and gets fresh snapshots
    }

    connect();
    return {
      send(frame) {
        if (!socket || socket.readyState !== WebSocket.OPEN) return false;
        socket.send(JSON.stringify(frame));
        return true;
      },
      close() {
        closed = true;
        if (socket) socket.close();
      },
    };
  }

  // The server's current rendering of one answer (or compare column), from a URL pattern with
  // /0/ in place of its id; null if it could not be had. The HTML is our server's own,
  // sanitised there, so model output in it is never markup.
  async function fragment(urlPattern, id) {
    const response = await fetch(urlPattern.replace("/0/", `/${id}/`), { headers: { "X-Requested-With": "fetch" } });
    if (!response.ok) return null;
    const template = document.createElement("template");
    template.innerHTML = (await response.text()).trim();
    return template.content.firstElementChild;
  }

  return { follow, fragment };
})();
