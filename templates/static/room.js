// The live room: one WebSocket, a position (epoch, seq) per room, resume after any drop.
// Messages are shown in sequence order per room; an unacknowledged message is resent with
// the same client_id after a reconnect, and the server stores it once.
(function () {
  "use strict";
  var root = document.getElementById("room");
  if (!root) { return; }
  var T = root.dataset;
  var sessionId = T.session, me = Number(T.me), isMediator = T.mediator === "true";
  var positions = {};      // room -> {epoch, seq}
  var unacked = {};        // client_id -> frame, resent after reconnect
  var shown = {};          // room -> {seq: true}
  var current = T.startRoom || "joint";   // a back-to-back session opens a party on their caucus
  var socket = null, backoff = 500, closedForGood = false, retry = null, lastHeard = 0, everLive = false;
  var offers = {};         // "room:seq" -> the terms of an offer or counter-offer, to restate them
  var list = document.getElementById("messages");
  var conn = document.getElementById("conn");
  var presence = {};
  // A party's own caucus (the mediator's private line to them), and what is unread per room:
  // a mediator who writes there while the party looks at the joint room must not go unseen,
  // or the party answers where the other side reads it. What was read is kept per device.
  var myCaucus = !isMediator && T.side ? "caucus:" + T.side : null;
  var unread = {};         // room -> number of others' messages not yet seen
  var readKey = "room-read:" + sessionId;
  var readUpTo = {};       // room -> {epoch, seq} seen on this device
  try { readUpTo = JSON.parse(window.localStorage.getItem(readKey) || "{}") || {}; } catch (e) { readUpTo = {}; }
  var baseTitle = document.title;

  function uid() {
    var a = new Uint8Array(12); (window.crypto || window.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function setConn(state, text) { conn.className = "conn " + state; conn.textContent = text; }
  function el(tag, cls, text) {
    var e = document.createElement(tag); if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; } return e;
  }
  // Every time a person reads is Beijing time, whatever zone the phone is set to.
  var lang = document.documentElement.lang || "zh-CN";
  function beijing(iso, withDate) {
    var options = {hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "Asia/Shanghai"};
    if (withDate) { options.year = "numeric"; options.month = "2-digit"; options.day = "2-digit"; }
    try { return new Date(iso).toLocaleString(lang, options); } catch (e) { return iso; }
  }
  function time(iso) { return beijing(iso, false); }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, key) { return values[key] === undefined ? all : values[key]; });
  }
  // "3200.00" -> "RMB 3,200.00 yuan" / "人民币3,200.00元": an amount a party can read aloud.
  function yuan(amount) {
    var parts = String(amount).split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return fill(T.textYuan, {amount: parts.join(".")});
  }
  // An offer's or counter-offer's terms, kept to restate them when answered.
  function terms(m) {
    var box = el("div", "terms");
    if (m.body.text) { box.appendChild(el("p", "conditions", fill(T.textConditions, {text: m.body.text}))); }
    if (m.body.answer_by) { box.appendChild(el("p", "answer-by", fill(T.textAnswerBy, {time: beijing(m.body.answer_by, true)}))); }
    offers[m.room + ":" + m.seq] = {who: m.sender.name || T.textPlatform, amount: m.body.amount, text: m.body.text || "",
                                    answerBy: m.body.answer_by || ""};
    return box;
  }
  function showAccepted(m) {
    var offer = offers[m.room + ":" + m.body.offer_seq], box = document.getElementById("accepted-offer");
    if (!offer || !box) { return; }
    box.textContent = "";
    box.appendChild(el("p", "", fill(T.textAcceptedOffer, {who: offer.who, amount: yuan(offer.amount), by: m.sender.name || T.textPlatform})));
    if (offer.text) { box.appendChild(el("p", "conditions", fill(T.textConditions, {text: offer.text}))); }
    box.hidden = false;
  }

  function render(m) {
    shown[m.room] = shown[m.room] || {};
    if (shown[m.room][m.seq]) { return; }            // never twice
    shown[m.room][m.seq] = true;
    var li = el("li", "msg kind-" + m.kind + (m.sender.id === me ? " mine" : ""));
    li.dataset.room = m.room; li.dataset.seq = m.seq;
    li.hidden = m.room !== current;
    var head = el("div", "msg-head");
    head.appendChild(el("span", "who", m.sender.name || T.textPlatform));
    var at = el("time", "at", time(m.at)); at.dateTime = m.at; at.title = beijing(m.at, true) + " " + T.textBeijing;
    head.appendChild(at);
    if (m.concession) { head.appendChild(el("span", "tag other", T.textConcession)); }
    li.appendChild(head);
    var body = el("div", "msg-body");
    if (m.kind === "offer") {
      body.appendChild(el("strong", "amount", T.textOffer + " " + yuan(m.body.amount)));
      body.appendChild(terms(m));
      if (m.sender.id !== me) { body.appendChild(offerButtons(m)); }
    } else if (m.kind === "offer_response") {
      var word = {accept: T.textAccepted, reject: T.textRejected, counter: T.textCountered}[m.body.response];
      body.appendChild(el("strong", m.body.amount ? "amount" : "", "#" + m.body.offer_seq + " " + word + (m.body.amount ? " " + yuan(m.body.amount) : "")));
      // "#3" alone means nothing to a party: name the offer that was answered.
      var answered = list.querySelector('li[data-room="' + m.room + '"][data-seq="' + m.body.offer_seq + '"] .amount');
      if (answered) { body.appendChild(el("span", "answered", answered.textContent)); }
      if (m.body.response === "counter") {
        body.appendChild(terms(m));
        if (m.sender.id !== me) { body.appendChild(offerButtons(m)); }
      } else if (m.body.text) { body.appendChild(el("p", "", m.body.text)); }
      if (m.body.response === "accept") { showAccepted(m); }
    } else if (m.kind === "evidence") {
      body.appendChild(el("span", "", T.textEvidence + ": " + m.body.filename));
      body.appendChild(el("code", "hash", "SHA-256 " + m.body.sha256));
    } else if (m.kind === "agreement") {
      body.appendChild(el("strong", "", T.textAgreement + " · " + agreementVersion(m.body.version) + " · " + agreementStatus(m.body.status)));
      var open = el("a", "button", T.textAgreementOpen); open.href = m.body.url; open.target = "_blank"; open.rel = "noopener";
      body.appendChild(open);
      showAgreement(m.body);
    } else if (m.kind === "control") {
      body.appendChild(el("em", "", controlText[m.body.action] || m.body.action));
      applyControl(m);
    } else {
      if (m.kind === "note") { body.appendChild(el("em", "", T.textNote + ": ")); }
      body.appendChild(document.createTextNode(m.body.text));
    }
    li.appendChild(body);
    // Keep each room in sequence order even if frames were held during a replay.
    var after = null;
    Array.prototype.forEach.call(list.children, function (c) {
      if (c.dataset.room === m.room && Number(c.dataset.seq) > m.seq && !after) { after = c; }
    });
    list.insertBefore(li, after);
    noteUnread(m);
    // Scroll the list only: scrollIntoView would also scroll the page, pulling a phone's
    // half-typed message or offer off the screen whenever someone else says something.
    if (!li.hidden) {
      var below = li.getBoundingClientRect().bottom - list.getBoundingClientRect().bottom;
      if (below > 0) { list.scrollTop += below; }
    }
  }

  // --- unread messages: a badge on each tab, and a banner for a party's caucus ---------------

  function readSeq(room) {
    var r = readUpTo[room], p = positions[room];
    return r && p && r.epoch === p.epoch ? r.seq : 0;
  }
  function noteUnread(m) {
    if (m.room === current && !document.hidden) { markSeen(m.room, m.seq); return; }
    if (m.kind === "control" || m.sender.id === me) { return; }
    if (m.seq > readSeq(m.room)) { unread[m.room] = (unread[m.room] || 0) + 1; showUnread(); }
  }
  var saveTimer = null;
  function markSeen(room, seq) {
    var p = positions[room];
    if (!p || seq <= readSeq(room)) { return; }
    readUpTo[room] = {epoch: p.epoch, seq: seq};
    clearTimeout(saveTimer);  // once after a replay, not once per message
    saveTimer = setTimeout(function () {
      try { window.localStorage.setItem(readKey, JSON.stringify(readUpTo)); } catch (e) { /* private mode */ }
    }, 200);
  }
  function markRead(room) {
    var seq = 0;
    Array.prototype.forEach.call(list.children, function (c) {
      if (c.dataset.room === room && Number(c.dataset.seq) > seq) { seq = Number(c.dataset.seq); }
    });
    markSeen(room, seq);
    if (unread[room]) { unread[room] = 0; showUnread(); }
  }
  function caucusUnread() { return myCaucus && current !== myCaucus ? unread[myCaucus] || 0 : 0; }
  function showUnread() {
    Array.prototype.forEach.call(document.querySelectorAll(".tab"), function (t) {
      var n = t.dataset.room === current ? 0 : unread[t.dataset.room] || 0;
      var badge = t.querySelector(".badge"), said = document.getElementById(t.getAttribute("aria-describedby"));
      badge.textContent = n ? String(n) : ""; badge.hidden = !n;
      if (said) { said.textContent = n ? T.textUnread.replace("{n}", String(n)) : ""; }
      t.classList.toggle("has-unread", n > 0);
    });
    var n = caucusUnread(), alertBox = document.getElementById("caucus-alert");
    if (!alertBox) { return; }
    if (!n) { alertBox.textContent = ""; document.title = baseTitle; return; }
    document.title = "(" + n + ") " + baseTitle;
    var text = T.textCaucusAlert.replace("{n}", String(n)), shownText = alertBox.querySelector("p");
    if (shownText && shownText.textContent === text) { return; }  // unchanged: not announced again
    alertBox.textContent = "";
    alertBox.appendChild(el("p", "", text));
    var go = el("button", "button primary", T.textCaucusOpen);
    go.type = "button"; go.id = "caucus-alert-open";
    go.addEventListener("click", openCaucus);
    alertBox.appendChild(go);
  }
  // To read, not to type: focus goes to the caucus tab (the banner's button is gone), not the
  // text box, whose keyboard would cover the messages on a phone.
  function openCaucus() {
    switchRoom(myCaucus);
    var tab = document.querySelector('.tab[data-room="' + myCaucus + '"]'); if (tab) { tab.focus(); }
  }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { markRead(current); } });

  // Something a party is about to post in the joint room while the mediator's private messages
  // to them are unread: ask first, in the page. "Read the private messages first" keeps the
  // draft and opens the caucus, where sending it reaches the mediator only.
  var warning = document.getElementById("joint-warning"), pendingPost = null;
  function post(frame, done) {
    if (!warning || frame.room !== "joint" || !caucusUnread()) { send(frame); done(); return; }
    pendingPost = function () { send(frame); done(); };
    if (typeof warning.showModal === "function") { warning.showModal(); } else { warning.setAttribute("open", ""); }
  }
  if (warning) {
    var closeWarning = function () {
      if (typeof warning.close === "function") { warning.close(); } else { warning.removeAttribute("open"); }
    };
    warning.addEventListener("close", function () { pendingPost = null; });
    document.getElementById("joint-warning-send").addEventListener("click", function () {
      var go = pendingPost; pendingPost = null; closeWarning(); if (go) { go(); }
    });
    document.getElementById("joint-warning-private").addEventListener("click", function () {
      pendingPost = null; closeWarning(); openCaucus();
    });
  }

  function offerButtons(m) {
    var box = el("div", "offer-actions");
    [["accept", T.textAccept], ["reject", T.textReject], ["counter", T.textCounter]].forEach(function (pair) {
      var b = el("button", "button", pair[1]); b.type = "button";
      b.addEventListener("click", function () {
        if (pair[0] === "counter") { openCounter(m, box); return; }
        post({type: "offer_response", room: m.room, client_id: uid(), offer_seq: m.seq, response: pair[0]},
             function () {});
      });
      box.appendChild(b);
    });
    return box;
  }

  // A counter-offer is a full offer (amount, conditions, time to answer), in a form under the
  // offer it answers, never a browser prompt.
  var counterForm = document.getElementById("counter-form"), countering = null;
  function answerBy(input) { return input.value ? input.value + ":00+08:00" : ""; }
  function openCounter(m, box) {
    countering = m;
    box.parentNode.insertBefore(counterForm, box.nextSibling);
    counterForm.hidden = false;
    document.getElementById("counter-amount").focus();
  }
  function closeCounter() {
    countering = null; counterForm.hidden = true; counterForm.reset();
    root.appendChild(counterForm);
  }
  counterForm.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!countering) { return; }
    var amount = document.getElementById("counter-amount").value.trim(); if (!amount) { return; }
    post({type: "offer_response", room: countering.room, client_id: uid(), offer_seq: countering.seq, response: "counter",
          amount: amount, text: document.getElementById("counter-text").value,
          answer_by: answerBy(document.getElementById("counter-answer-by"))},
         closeCounter);
  });
  document.getElementById("counter-cancel").addEventListener("click", closeCounter);

  // The agreement card above the tabs shows the newest version announced (the platform posts
  // one message per saved, frozen or effective version in the joint room).
  function agreementVersion(n) { return T.textAgreementVersion.replace("{n}", String(n)); }
  function agreementStatus(status) {
    return T["textAgreement" + status.charAt(0).toUpperCase() + status.slice(1)] || status;
  }
  function showAgreement(b) {
    var card = document.getElementById("agreement-card");
    if (!card || Number(b.version) < Number(card.dataset.version || 0)) { return; }
    card.dataset.version = b.version; card.hidden = false;
    document.getElementById("agreement-version").textContent = agreementVersion(b.version);
    var status = document.getElementById("agreement-status");
    status.textContent = agreementStatus(b.status); status.className = "status agreement-status-" + b.status;
    var link = document.getElementById("agreement-link");
    link.href = b.url;
    link.textContent = b.status === "signing" && !isMediator ? T.textAgreementSign : T.textAgreementOpen;
    link.classList.toggle("primary", b.status === "signing");
  }

  var controlText = {open_caucus: T.textOpenCaucus, close_caucus: T.textCloseCaucus, mute: T.textMute,
                     unmute: T.textUnmute, remove: T.textRemove, end: T.textEnded};

  // The room is over for this page: say so, and take away what can no longer be sent.
  function closeRoom(text) {
    closedForGood = true; setConn("ended", text);
    Array.prototype.forEach.call(root.querySelectorAll("form textarea, form input, form select, form button, .offer-actions button, [data-control]"),
      function (c) { c.disabled = true; });
  }

  function applyControl(m) {
    var a = m.body.action;
    if ((a === "open_caucus" || a === "close_caucus") && !isMediator && m.body.side === T.side) {
      switchRoom(a === "open_caucus" ? "caucus:" + T.side : "joint");
    }
    if (a === "mute" && m.body.user_id === me) { setConn("muted", T.textMuted); }
    if (a === "unmute" && m.body.user_id === me) { setConn("live", T.textConnected); }
    if (a === "end") { closeRoom(T.textEnded); }
    if (a === "remove" && m.body.user_id === me) { closeRoom(T.textRemoved); }
  }

  function switchRoom(room) {
    current = room;
    Array.prototype.forEach.call(document.querySelectorAll(".tab"), function (t) {
      var on = t.dataset.room === room; t.classList.toggle("active", on); t.setAttribute("aria-selected", on);
    });
    Array.prototype.forEach.call(list.children, function (c) { c.hidden = c.dataset.room !== room; });
    list.scrollTop = list.scrollHeight;
    markRead(room);
    showUnread();
  }

  // The connection's state in words: connecting, connected, lost and reconnecting, no network.
  function connectingText() {
    if (navigator.onLine === false) { return T.textOffline; }
    return everLive ? T.textReconnecting : T.textConnecting;
  }
  function reconnectSoon() {
    setConn("connecting", connectingText());
    clearTimeout(retry); retry = setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 10000);
  }

  // A phone that loses its network keeps the socket "open" (nothing arrives, nothing says so):
  // give up on it at once when the browser knows it is offline, or after 45 s without even
  // the server's heartbeat (every 20 s when idle), and resume on a new socket.
  function drop() {
    if (!socket || closedForGood) { return; }
    var old = socket; socket = null;
    old.onopen = old.onmessage = old.onclose = null;
    try { old.close(); } catch (e) { /* already closing */ }
    reconnectSoon();
  }

  function send(frame) {
    if (frame.client_id && frame.type !== "typing") { unacked[frame.client_id] = frame; }
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(frame)); }
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(proto + location.host + "/ws/sessions/" + sessionId);
    setConn("connecting", connectingText());
    socket.onopen = function () {
      backoff = 500; lastHeard = Date.now();
      socket.send(JSON.stringify({type: "resume", rooms: positions}));
    };
    socket.onmessage = function (event) {
      lastHeard = Date.now();
      var f = JSON.parse(event.data);
      if (f.type === "welcome") {
        f.rooms.forEach(function (r) {
          if (!positions[r.room]) { positions[r.room] = {epoch: r.epoch, seq: 0}; }
        });
        everLive = true;
        setConn(f.muted ? "muted" : "live", f.muted ? T.textMuted : T.textConnected);
      } else if (f.type === "message") {
        render(f);
        var p = positions[f.room]; if (p && f.seq > p.seq) { p.seq = f.seq; }
        if (f.sender.id === me) { delete unacked[f.client_id]; }
      } else if (f.type === "replayed") {
        // Replay done for this room: resend what was never acknowledged.
        Object.keys(unacked).forEach(function (id) {
          if (unacked[id].room === f.room) { socket.send(JSON.stringify(unacked[id])); }
        });
      } else if (f.type === "ack") {
        delete unacked[f.client_id];
      } else if (f.type === "reset") {
        setConn("connecting", T.textReload);
        closedForGood = true; setTimeout(function () { location.reload(); }, 800);
      } else if (f.type === "presence") {
        presence[f.user.id] = f.online ? f.user.name : null;
        document.getElementById("presence").textContent =
          Object.keys(presence).filter(function (k) { return presence[k]; }).map(function (k) { return "● " + presence[k]; }).join("  ");
      } else if (f.type === "typing" && f.user.id !== me && f.room === current) {
        var t = document.getElementById("typing"); t.textContent = f.user.name + " " + T.textTyping;
        clearTimeout(t._timer); t._timer = setTimeout(function () { t.textContent = ""; }, 3000);
      } else if (f.type === "ping") {
        socket.send('{"type":"ping"}');
      } else if (f.type === "error") {
        if (f.code === "muted") { setConn("muted", T.textMuted); }
        if (f.ref && f.code === "not_stored") {
          // Not stored (the server could not write it): keep it and send it again shortly.
          var again = unacked[f.ref];
          setTimeout(function () { if (again && unacked[f.ref]) { send(again); } }, 2000);
        } else if (f.ref) { delete unacked[f.ref]; }
        var said = T["textError" + f.code.charAt(0).toUpperCase() + f.code.slice(1)] || T.textError;
        var e = el("li", "msg error", said); e.dataset.room = current; e.setAttribute("role", "alert"); list.appendChild(e);
      }
    };
    socket.onclose = function (event) {
      if (closedForGood || event.code === 4410 || event.code === 4404 || event.code === 4403) {
        if (!closedForGood) {
          // 4410: the session ended while we were away; 4403/4404: not (or no longer) allowed in.
          closeRoom(event.code === 4410 ? T.textEnded : T.textRemoved);
        }
        closedForGood = true; return;
      }
      reconnectSoon();
    };
  }
  window.addEventListener("offline", drop);
  window.addEventListener("online", function () {
    if (closedForGood || (socket && socket.readyState <= 1)) { return; }
    if (socket) { socket.onclose = null; }  // a failed attempt: its retry is replaced by this one
    backoff = 500; clearTimeout(retry); connect();
  });
  setInterval(function () {
    if (socket && socket.readyState === 1 && Date.now() - lastHeard > 45000) { drop(); }
  }, 5000);

  document.querySelectorAll(".tab").forEach(function (t) {
    t.addEventListener("click", function () { switchRoom(t.dataset.room); });
  });
  document.getElementById("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    var box = document.getElementById("text"), text = box.value.trim(); if (!text) { return; }
    var note = document.getElementById("note");
    var concession = document.getElementById("concession"), privately = !!(concession && concession.checked);
    post({type: note && note.checked ? "note" : "message", room: current, client_id: uid(), text: text,
          concession: privately},
         function () {
           box.value = ""; if (concession) { concession.checked = false; }
           // A party's concession is kept in its own caucus (the only tab of a party's besides
           // the joint one): show the party where it went.
           if (privately) { switchRoom(document.querySelector('.tab[data-room^="caucus:"]').dataset.room); }
         });
  });
  var lastTyping = 0;
  document.getElementById("text").addEventListener("input", function () {
    if (Date.now() - lastTyping > 2000 && socket && socket.readyState === 1) {
      lastTyping = Date.now(); socket.send(JSON.stringify({type: "typing", room: current}));
    }
  });
  document.getElementById("offer-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var amount = document.getElementById("offer-amount").value.trim(); if (!amount) { return; }
    post({type: "offer", room: current, client_id: uid(), amount: amount, text: document.getElementById("offer-text").value,
          answer_by: answerBy(document.getElementById("offer-answer-by"))},
         function () { document.getElementById("offer-form").reset(); });
  });
  var evidenceForm = document.getElementById("evidence-form");
  if (evidenceForm) {
    evidenceForm.addEventListener("submit", function (e) {
      e.preventDefault();
      post({type: "evidence", room: current, client_id: uid(), evidence_id: Number(document.getElementById("evidence-id").value)},
           function () {});
    });
  }
  // Ending the session cannot be undone: the mediator is told what will happen, then asked.
  var endConfirm = document.getElementById("end-confirm"), endFrame = null;
  function closeEndConfirm() {
    if (typeof endConfirm.close === "function") { endConfirm.close(); } else { endConfirm.removeAttribute("open"); }
  }
  if (endConfirm) {
    document.getElementById("end-confirm-cancel").addEventListener("click", function () { endFrame = null; closeEndConfirm(); });
    document.getElementById("end-confirm-go").addEventListener("click", function () {
      var frame = endFrame; endFrame = null; closeEndConfirm(); if (frame) { send(frame); }
    });
  }
  document.querySelectorAll("[data-control]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (b.dataset.control === "end" && endConfirm) {
        endFrame = {type: "control", client_id: uid(), action: "end"};
        if (typeof endConfirm.showModal === "function") { endConfirm.showModal(); } else { endConfirm.setAttribute("open", ""); }
        return;
      }
      var frame = {type: "control", client_id: uid(), action: b.dataset.control};
      if (b.dataset.side) { frame.side = b.dataset.side; }
      if (b.dataset.user) { frame.user_id = Number(b.dataset.user); }
      if (frame.action === "open_caucus") { switchRoom("caucus:" + frame.side); }
      if (frame.action === "close_caucus") { switchRoom("joint"); }
      send(frame);
    });
  });
  connect();
})();
