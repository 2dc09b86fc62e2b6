// The chat page's live part: questions and answers of this conversation as stream.js delivers
// them. Text is appended as plain text (textContent); the server's sanitised markdown replaces
// it when the answer ends. What arrives live is a clone of the page's <template>s, which the
// server draws with chat/_message.html, so its markup is the server's.
"use strict";

(function () {
  const chat = document.getElementById("chat");
  if (!chat) return;
  const thread = document.getElementById("thread");
  const connection = document.getElementById("connection");
  const composer = document.getElementById("composer");
  const questions = new Map(); // answer id -> id of the question shown by this script
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
    const node = document.getElementById(`${role}-message-template`).content.firstElementChild.cloneNode(true);
    node.id = `message-${id}`;
    node.dataset.message = id;
    const body = node.querySelector(".message-body");
    body.id = `message-${id}-body`;
    body.textContent = text || "";
    if (role === "assistant") {
      node.querySelector(".status").id = `message-${id}-status`;
      node.querySelector("button.stop").dataset.message = id;
      node.querySelector("button.copy-message").dataset.copyTarget = body.id;
      node.querySelector(mayStop(by) ? ".stop-rule" : "button.stop").remove(); // one or the other
    }
    document.getElementById("empty-thread")?.remove();
    thread.append(node);
    return node;
  }

  // Where an answer's next deltas go: its body, or after a render that ended mid-block, the
  // innermost last block of that render (so streamed text does not jump to a new line).
  const sinks = new Map();
  const BLOCKS = new Set(["P", "LI", "OL", "UL", "BLOCKQUOTE", "PRE", "CODE", "DIV"]);

  function lastBlock(body) {
    for (let node = body; ;) {
      let last = node.lastChild;
      while (last?.nodeType === Node.TEXT_NODE && !last.textContent.trim()) last = last.previousSibling;
      // Text after the last element (as after inline `code` in a paragraph) ends the descent.
      if (last?.nodeType !== Node.ELEMENT_NODE || !BLOCKS.has(last.tagName)) return node;
      if (last.tagName === "CODE" && node.tagName !== "PRE") return node;
      node = last;
    }
  }

  function answerBody(id) {
    const sink = sinks.get(id);
    if (sink?.isConnected) return sink;
    return bodyOf(id) || article(id, "assistant", "").querySelector(".message-body");
  }

  function dropAfter(id) {
    const question = document.getElementById(`message-${id}`);
    while (question?.nextElementSibling?.matches("article.message")) question.nextElementSibling.remove();
  }

  async function replaceWithRendered(id) {
    const fresh = await PlaygroundStream.fragment(chat.dataset.fragmentUrl, id);
    const old = document.getElementById(`message-${id}`);
    if (old && fresh) old.replaceWith(fresh);
  }

  const stream = PlaygroundStream.follow(chat.dataset.socket, {
    seq: (id) => Number(document.getElementById(`message-${id}`)?.dataset.seq || 0),
    connected() {
      connection.textContent = "Connected.";
      connection.setAttribute("role", "status");
    },
    lost() {
      connection.textContent = "Connection lost; reconnecting…";
    },
    on: {
      started(frame) {
        if (String(frame.by) === chat.dataset.user) unsent = null; // the server has the question now
        if (frame.question && !document.getElementById(`message-${frame.question.id}`)) {
          // The question follows its parent: an edited one replaces the branch after it.
          if (frame.question.parent) dropAfter(frame.question.parent);
          else thread.querySelectorAll("article.message").forEach((node) => node.remove());
          article(frame.question.id, "user", frame.question.text);
          questions.set(frame.message, frame.question.id);
        }
        // Regenerate: the new version replaces the branch after its question, as a reload would show.
        if (!frame.question && frame.parent) dropAfter(frame.parent);
        if (!document.getElementById(`message-${frame.message}`)) article(frame.message, "assistant", "", frame.by);
      },
      snapshot(frame) {
        sinks.delete(frame.message);
        const body = answerBody(frame.message);
        body.textContent = frame.text;
        body.classList.replace("markdown", "plain");
      },
      delta(frame) {
        answerBody(frame.message).append(document.createTextNode(frame.text));
      },
      render(frame) {
        // The server's sanitised markdown of the text so far; later deltas append to it.
        const body = bodyOf(frame.message);
        if (!body) return;
        body.innerHTML = frame.html;
        body.classList.replace("plain", "markdown");
        const sink = frame.inline ? lastBlock(body) : body;
        sinks.set(frame.message, sink);
        if (frame.tail) sink.append(document.createTextNode(frame.tail));
      },
      notice(frame) {
        const status = document.getElementById(`message-${frame.message}-status`);
        if (status) status.textContent = frame.text;
      },
      live(frame) {
        // After a (re)connect: an answer shown streaming that is no longer live ended while
        // the page was away; show its saved version (ended, complete, no Stop button).
        const live = new Set(frame.messages.map(String));
        for (const node of document.querySelectorAll("article.message-assistant.status-streaming")) {
          if (!live.has(node.dataset.message)) replaceWithRendered(node.dataset.message);
        }
      },
      done(frame) {
        sinks.delete(frame.message);
        if (frame.notice) { // not saved yet (the database is away): keep the text shown, say so
          const status = document.getElementById(`message-${frame.message}-status`);
          if (status) status.textContent = frame.notice;
          document.querySelector(`#message-${frame.message} button.stop`)?.remove();
          return;
        }
        replaceWithRendered(frame.message);
        // The question this page drew itself gets its server version too (with Edit & resend).
        if (questions.has(frame.message)) replaceWithRendered(questions.get(frame.message));
        questions.delete(frame.message);
      },
      error(frame) {
        connection.textContent = frame.error;
        connection.setAttribute("role", "alert");
        restoreUnsent();
      },
    },
  });

  function restoreUnsent() {
    const box = document.getElementById("composer-text");
    if (unsent !== null && box && !box.value) box.value = unsent;
    unsent = null;
  }

  function send(frame) {
    if (stream.send(frame)) return true;
    connection.textContent = "Not connected yet; your message was not sent. Try again in a moment.";
    connection.setAttribute("role", "alert");
    return false;
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
        stopEditing();
      }
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        composer.requestSubmit();
      } else if (event.key === "ArrowUp" && !text.value) {
        const mine = thread.querySelectorAll("article.message-user button.edit");
        if (mine.length) {
          event.preventDefault();
          mine[mine.length - 1].click();
        }
      }
    });
    document.getElementById("composer-cancel-edit").addEventListener("click", () => {
      text.value = "";
      stopEditing();
      text.focus();
    });
  }

  function stopEditing() {
    delete composer.dataset.parent;
    document.getElementById("composer-editing").hidden = true;
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || document.getElementById("shortcuts")?.open) return;
    if (event.key === "Escape") {
      if (composer?.dataset.parent !== undefined) {
        document.getElementById("composer-cancel-edit").click();
        return;
      }
      const stop = [...thread.querySelectorAll("button.stop")].pop();
      if (stop) stop.click();
    } else if (event.key === "?" && !typing(event.target)) {
      event.preventDefault();
      document.getElementById("shortcuts")?.showModal();
    }
  });

  // "View code" shows the request of the message being written, when there is one.
  document.getElementById("view-code")?.addEventListener("click", (event) => {
    const text = document.getElementById("composer-text")?.value.trim();
    if (text) event.currentTarget.search = new URLSearchParams({ text }).toString();
  });

  chat.addEventListener("click", (event) => {
    const stop = event.target.closest("button.stop");
    if (stop) send({ type: "stop", message: Number(stop.dataset.message) });
    const edit = event.target.closest("button.edit");
    if (edit && composer) {
      // Edit & resend: the question goes again, as a sibling of the original, which stays.
      const text = document.getElementById("composer-text");
      text.value = bodyOf(edit.dataset.message).innerText;
      composer.dataset.parent = edit.dataset.parent;
      document.getElementById("composer-editing").hidden = false;
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
})();
