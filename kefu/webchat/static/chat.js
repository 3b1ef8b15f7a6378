/* 小客 客服 — the customer web chat over Rasa's socket.io channel.
 *
 * The session id lives in localStorage. On every (re)connect the page joins its
 * session's room (session_request) and re-reads the transcript from its own server
 * (/api/history, which holds the Rasa token), so a reload shows the conversation and
 * nothing sent while the page was closed or offline is lost. Every text goes into
 * the page as text (textContent), never as HTML.
 *
 * The header tells the truth about a hand-off: waiting (with the queue position when the
 * server gives it: view.handoff, kefu.handoff.escalations.customer_status), served by a
 * named agent, or a callback booked; a line in the chat marks when an agent takes over.
 */
(function () {
  "use strict";

  var cfg = window.KEFU_CONFIG || {};
  var MAX_CHARS = cfg.maxLength || 1000;
  var SESSION_KEY = "kefu.webchat.session";
  var SESSION_ID = /^[0-9a-f]{32}$/;
  var REPLY_TIMEOUT_MS = 20000;  // the bot stays silent while a person has the conversation
  var STATE_CHECK_MS = 1500;     // after the bot's last message: is a person taking over?
  var WAITING_CHECK_MS = 20000;  // while waiting for a person: the queue position again
  var TYPING_EVERY_MS = 2000;
  var WELCOME = "您好，我是小客。遇到什么问题都可以跟我说，我会认真听，帮您处理。";

  function byId(id) { return document.getElementById(id); }
  var ui = {
    messages: byId("messages"), typing: byId("typing"), status: byId("status"),
    notice: byId("notice"), form: byId("composer"), input: byId("input"),
    send: byId("send"), counter: byId("counter")
  };
  var state = { sessionId: readSession(), paused: false, loading: false, queued: [],
                typingTimer: 0, checkTimer: 0, agent: null, handoff: null, typingSent: 0 };

  // --- session id --------------------------------------------------------------------------

  function readSession() {
    try {
      var id = localStorage.getItem(SESSION_KEY);
      return id && SESSION_ID.test(id) ? id : null;
    } catch (e) { return null; }  // storage blocked: a new conversation per page load
  }

  function saveSession(id) {
    try { localStorage.setItem(SESSION_KEY, id); } catch (e) { /* see readSession */ }
  }

  // --- drawing -----------------------------------------------------------------------------

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function scrollDown() { ui.messages.scrollTop = ui.messages.scrollHeight; }

  /* line: {role: customer|bot|agent, text, agent?, buttons?: [{title, payload}]} */
  function addLine(line) {
    if (line.role === "agent") agentJoined(line.agent);
    var row = element("div", "line " + line.role);
    var bubble = element("div", "bubble");
    if (line.role === "agent") bubble.appendChild(agentHeader(line.agent));
    bubble.appendChild(document.createTextNode(line.text));
    row.appendChild(bubble);
    ui.messages.appendChild(row);
    if (line.buttons && line.buttons.length) showQuickReplies(line.buttons);
    scrollDown();
  }

  function agentHeader(name) {
    var header = element("div", "who");
    header.appendChild(element("span", "name", name ? "客服 " + name : "客服"));
    header.appendChild(element("span", "badge", "人工客服"));
    return header;
  }

  function showQuickReplies(buttons) {
    removeQuickReplies();
    var box = element("div", "quick-replies");
    var rating = buttons.length === 5 && buttons.every(isRating);
    if (rating) box.classList.add("rating");
    buttons.forEach(function (button) {
      var node = rating ? ratingButton(button.title) : element("button", "", button.title);
      node.type = "button";
      node.addEventListener("click", function () { send(button.payload, button.title); });
      box.appendChild(node);
    });
    ui.messages.appendChild(box);
  }

  /* "1分 很不满意" → the score large, its words small beneath: five fit a phone's width. */
  function ratingButton(title) {
    var node = element("button");
    var space = title.search(/\s/);
    node.appendChild(element("span", "score", space < 0 ? title : title.slice(0, space)));
    if (space > 0) node.appendChild(element("small", "", title.slice(space + 1).trim()));
    return node;
  }

  function isRating(button) { return /^\/rate\b/.test(button.payload); }

  function removeQuickReplies() {
    var boxes = ui.messages.querySelectorAll(".quick-replies");
    for (var i = 0; i < boxes.length; i++) boxes[i].remove();
  }

  /* A person has the conversation: a marker line when it is someone new, and the header. */
  function agentJoined(name) {
    name = name || "";
    if (state.agent === name) return;
    state.agent = name;
    // a person answering is news the last view (perhaps "waiting") cannot have had yet
    state.handoff = { state: "served", agent: name };
    ui.messages.appendChild(element("div", "line system joined", "客服" + (name ? " " + name + " " : "") + "已接入，为您服务"));
    setStatus();
  }

  function renderHistory(lines) {
    ui.messages.textContent = "";
    state.agent = null;
    addLine({ role: "bot", text: WELCOME });  // the page's own greeting, not in the transcript
    lines.forEach(function (line, index) {
      // Buttons are answered already, except on the very last message.
      addLine(index === lines.length - 1 ? line : { role: line.role, text: line.text, agent: line.agent });
    });
  }

  function setStatus() {
    ui.status.textContent = statusText();
  }

  function statusText() {
    if (!socket.connected) return "连接中断，正在重连…";
    if (!state.paused) return "在线";
    var handoff = state.handoff || {};
    if (handoff.state === "served" || (!handoff.state && state.agent !== null)) {
      var name = handoff.agent || state.agent;
      return "人工客服" + (name ? " " + name + " " : "") + "为您服务中";
    }
    if (handoff.state === "callback") return "已为您登记专人回电" + (handoff.ticket_id ? "（工单 " + handoff.ticket_id + "）" : "");
    if (handoff.state === "waiting") {
      return handoff.ahead ? "正在转接人工客服，前面还有 " + handoff.ahead + " 位" : "正在转接人工客服，您是下一位";
    }
    return "正在为您转接人工客服，请稍候";
  }

  function showNotice(text) { ui.notice.textContent = text; ui.notice.hidden = false; }
  function hideNotice() { ui.notice.hidden = true; }

  function startTyping() {
    ui.typing.hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(function () { stopTyping(); checkStateSoon(); }, REPLY_TIMEOUT_MS);
  }

  function stopTyping() {
    clearTimeout(state.typingTimer);
    ui.typing.hidden = true;
  }

  // --- the server's transcript -------------------------------------------------------------

  function fetchView() {
    return fetch("/api/history?session=" + encodeURIComponent(state.sessionId), { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("history " + response.status);
        return response.json();
      });
  }

  function loadHistory() {
    state.loading = true;
    return fetchView()
      .then(function (view) { renderHistory(view.messages); setView(view); })
      .catch(function () { showNotice("历史消息暂时没能加载，新消息照常收发。"); })
      .then(function () { state.loading = false; flushQueued(); });
  }

  /* Messages that arrived while the transcript loaded: add those it did not have yet. */
  function flushQueued() {
    var shown = Array.prototype.slice.call(ui.messages.querySelectorAll(".line")).slice(-10)
      .map(function (row) { return row.textContent; });
    state.queued.splice(0).forEach(function (line) {
      var text = (line.role === "agent" ? agentHeader(line.agent).textContent : "") + line.text;
      if (shown.indexOf(text) < 0) addLine(line);
    });
  }

  function setView(view) {
    state.paused = !!view.paused;
    state.handoff = view.handoff || null;
    if (!state.paused) state.agent = null;  // the bot is back: a later hand-off starts afresh
    setStatus();
    var waiting = state.paused && state.handoff && state.handoff.state === "waiting";
    if (waiting) checkStateSoon(WAITING_CHECK_MS);
  }

  function checkStateSoon(delay) {
    clearTimeout(state.checkTimer);
    state.checkTimer = setTimeout(function () {
      fetchView().then(setView).catch(function () {});
    }, delay || STATE_CHECK_MS);
  }

  /* While a person has the conversation, tell the desk the customer is typing (when this
     page's server offers it: KEFU_CONFIG.typingPath). */
  function tellTyping() {
    if (!cfg.typingPath || !state.paused || !state.sessionId) return;
    var now = Date.now();
    if (now - state.typingSent < TYPING_EVERY_MS) return;
    state.typingSent = now;
    fetch(cfg.typingPath + "?session=" + encodeURIComponent(state.sessionId), { method: "POST" })
      .catch(function () {});
  }

  // --- Rasa's socket.io channel ------------------------------------------------------------

  function rasaUrl() {
    return cfg.rasaUrl || location.protocol + "//" + location.hostname + ":" + (cfg.rasaPort || 5005);
  }

  // WebSocket only: no long-polling requests, so no CORS set-up on Rasa's side.
  var socket = io(rasaUrl(), { path: cfg.socketPath || "/socket.io", transports: ["websocket"] });

  socket.on("connect", function () {
    socket.emit("session_request", { session_id: state.sessionId });
  });

  socket.on("session_confirm", function (id) {
    if (id !== state.sessionId) { state.sessionId = id; saveSession(id); }
    hideNotice();
    setStatus();
    updateComposer();
    loadHistory();
  });

  socket.on("bot_uttered", function (message) {
    var line = lineFromSocket(message || {});
    if (!line) return;
    if (state.loading) { state.queued.push(line); return; }
    stopTyping();
    addLine(line);
    checkStateSoon();
  });

  socket.on("disconnect", function () { stopTyping(); setStatus(); updateComposer(); });
  socket.on("connect_error", function () { setStatus(); updateComposer(); });

  function lineFromSocket(message) {
    var metadata = message.metadata || {};
    var buttons = (message.quick_replies || message.buttons || []).map(function (button) {
      return { title: String(button.title), payload: String(button.payload) };
    });
    if (!message.text && !buttons.length) return null;  // images etc.: not used by kefu
    return { role: metadata.kefu_from === "agent" ? "agent" : "bot", text: message.text || "",
             agent: metadata.agent, buttons: buttons };
  }

  // --- sending -----------------------------------------------------------------------------

  /* message goes to Rasa; shown is what the customer sees (a button's title). */
  function send(message, shown) {
    if (!socket.connected || !state.sessionId) {
      showNotice("网络连接中断，消息还没发出，恢复连接后请再发送。");
      return false;
    }
    hideNotice();
    removeQuickReplies();
    addLine({ role: "customer", text: shown || message });
    socket.emit("user_uttered", { message: message, session_id: state.sessionId });
    if (!state.paused) startTyping();
    return true;
  }

  function charCount(text) { return Array.from(text).length; }  // an emoji is one character

  function updateComposer() {
    var count = charCount(ui.input.value);
    var over = count > MAX_CHARS;
    ui.counter.textContent = count + "/" + MAX_CHARS;
    ui.counter.classList.toggle("over", over);
    ui.send.disabled = over || !ui.input.value.trim() || !socket.connected;
    if (over) showNotice("一次最多" + MAX_CHARS + "字，请分几次发送，内容不会丢。");
    else if (ui.notice.textContent.indexOf("一次最多") === 0) hideNotice();
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 120) + "px";
  }

  function submitInput() {
    var text = ui.input.value.trim();
    if (!text || charCount(text) > MAX_CHARS) return;
    if (send(text)) { ui.input.value = ""; updateComposer(); }
  }

  ui.form.addEventListener("submit", function (event) { event.preventDefault(); submitInput(); });
  ui.input.addEventListener("input", function () { updateComposer(); tellTyping(); });
  ui.input.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter breaks the line; Enter that confirms a pinyin choice does neither.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submitInput();
    }
  });
  updateComposer();
})();
