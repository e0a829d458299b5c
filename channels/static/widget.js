/* parley web widget: <script src="https://BOT_HOST/widget.js" data-title="Help"
   data-color="#2f6f4f" async></script>. Plain JavaScript, no build step. The UI lives in an
   open shadow root. fetch, JSON and localStorage come from a hidden same-origin iframe's fresh
   realm, so a host page that wraps them (before or after this loads) never sees the session
   token, and one that pollutes Object.prototype cannot break it. */
(function () {
  "use strict";
  var W = window, D = document, R = W;
  try {
    var frame = D.createElement("iframe");
    frame.setAttribute("aria-hidden", "true");
    frame.setAttribute("tabindex", "-1");
    frame.setAttribute("style", "display:none!important");
    D.documentElement.appendChild(frame);
    if (frame.contentWindow && frame.contentWindow.fetch) R = frame.contentWindow;
  } catch (e) { R = W; }
  var fetch_ = R.fetch.bind(R), parse = R.JSON.parse, stringify = R.JSON.stringify;
  var Decoder = R.TextDecoder, URL_ = R.URL;
  var create = R.Object.create, hasOwn = R.Object.prototype.hasOwnProperty;
  var storage = null;
  try { storage = R.localStorage; } catch (e) { storage = null; }
  var getItem = storage && storage.getItem.bind(storage);
  var setItem = storage && storage.setItem.bind(storage);
  var removeItem = storage && storage.removeItem.bind(storage);

  var script = D.currentScript;
  if (!script || script.getAttribute("data-parley-loaded")) return;
  script.setAttribute("data-parley-loaded", "1");
  var BASE = new URL_(script.src, D.baseURI).origin;
  var TITLE = script.getAttribute("data-title") || "Chat with us";
  var COLOR = script.getAttribute("data-color") || "";
  if (!W.CSS || !W.CSS.supports("color", COLOR)) COLOR = "#2f6f4f";
  var KEY = "parley:" + BASE;
  var THUMB = "M2 21h4V9H2zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6V3a1.5 1.5 0 0 0-.4-1L13.2 1 6.6 7.6A2 2 0 0 0 6 9v10a2 2 0 0 0 2 2h9a2 2 0 0 0 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7z";

  /* A dictionary immune to Object.prototype: no inherited keys, nothing to pollute. */
  function dict(pairs) {
    var o = create(null);
    for (var i = 0; i < pairs.length; i += 2) o[pairs[i]] = pairs[i + 1];
    return o;
  }
  function own(o, k) { return o && hasOwn.call(o, k) ? o[k] : undefined; }
  function load() { try { return getItem ? getItem(KEY) : null; } catch (e) { return null; } }
  function save(t) {
    try { if (t && setItem) setItem(KEY, t); else if (removeItem) removeItem(KEY); } catch (e) { /* private mode */ }
  }

  function request(method, path, body, token) {
    var headers = dict(["Content-Type", "application/json"]);
    if (token) headers.Authorization = "Bearer " + token;
    var init = dict(["method", method, "headers", headers, "credentials", "omit",
      "mode", "cors", "cache", "no-store", "redirect", "error"]);
    if (body) init.body = stringify(body);
    return fetch_(BASE + path, init);
  }

  /* ---- the UI ---- */
  var host = D.createElement("div");
  host.setAttribute("data-parley", "");
  var root = host.attachShadow(dict(["mode", "open"]));
  var css =
    ":host{all:initial!important;position:fixed!important;z-index:2147483000!important;right:0!important;bottom:0!important;display:block!important;width:0!important;height:0!important}" +
    "*{box-sizing:border-box;font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d1d1f}" +
    "button{cursor:pointer;border:0;background:none;padding:0}" +
    "button:focus-visible,a:focus-visible,textarea:focus-visible{outline:3px solid " + COLOR + ";outline-offset:2px}" +
    ".bubble{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;background:" + COLOR + ";box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center}" +
    ".bubble svg{width:28px;height:28px;fill:#fff}" +
    ".panel{position:fixed;right:20px;bottom:88px;width:min(380px,calc(100vw - 24px));height:min(560px,calc(100vh - 110px));background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden}" +
    ".panel[hidden]{display:none}" +
    "header{background:" + COLOR + ";display:flex;align-items:center;gap:8px;padding:10px 12px}" +
    "header h2{flex:1;margin:0;font-weight:600;font-size:16px;color:#fff}" +
    "header button{color:#fff;font-size:13px;padding:4px 8px;border-radius:6px;border:1px solid rgba(255,255,255,.5)}" +
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f7f8}" +
    ".msg{max-width:85%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}" +
    ".user{align-self:flex-end;background:" + COLOR + ";color:#fff}" +
    ".bot{align-self:flex-start;background:#fff;border:1px solid #e3e5e8}" +
    ".bot.error{border-color:#d33;background:#fff4f4}" +
    ".sources{margin-top:6px;font-size:13px;color:#555}.sources a{color:#0b5cad}" +
    ".row{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}" +
    ".chip{border:1px solid " + COLOR + ";color:" + COLOR + ";border-radius:999px;padding:4px 10px;font-size:14px}" +
    ".rate button{opacity:.45;padding:2px}.rate button[aria-pressed=true]{opacity:1}.rate svg{width:18px;height:18px;fill:" + COLOR + "}" +
    ".typing span{display:inline-block;width:6px;height:6px;margin:0 2px;border-radius:50%;background:#999;animation:b 1s infinite}" +
    ".typing span:nth-child(2){animation-delay:.15s}.typing span:nth-child(3){animation-delay:.3s}" +
    "@keyframes b{0%,80%,100%{opacity:.3}40%{opacity:1}}" +
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e3e5e8;background:#fff}" +
    "textarea{flex:1;resize:none;border:1px solid #ccd;border-radius:8px;padding:8px;height:42px;background:#fff;font-size:16px}" +
    "form button{background:" + COLOR + ";color:#fff;border-radius:8px;padding:0 14px}" +
    "form button:disabled{opacity:.5;cursor:wait}" +
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100%;border-radius:0}}";

  function el(tag, attrs, text) {
    var node = D.createElement(tag);
    for (var i = 0; attrs && i < attrs.length; i += 2) node.setAttribute(attrs[i], attrs[i + 1]);
    if (text != null) node.textContent = text;
    return node;
  }
  var style = el("style", null, css);
  var bubble = el("button", ["class", "bubble", "type", "button", "aria-label", "Open chat: " + TITLE,
    "aria-expanded", "false", "aria-controls", "parley-panel"]);
  bubble.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16v12H7l-3 3z"/></svg>';
  var panel = el("div", ["class", "panel", "id", "parley-panel", "role", "dialog", "aria-label", TITLE]);
  panel.hidden = true;
  var header = el("header");
  var fresh = el("button", ["type", "button", "aria-label", "Start a new conversation"], "New");
  var close = el("button", ["type", "button", "aria-label", "Close chat"], "✕");
  header.appendChild(el("h2", null, TITLE));
  header.appendChild(fresh);
  header.appendChild(close);
  var log = el("div", ["class", "log", "role", "log", "aria-live", "polite", "aria-label", "Conversation"]);
  var form = el("form");
  var input = el("textarea", ["aria-label", "Your message", "placeholder", "Type a message…", "rows", "1", "maxlength", "4000"]);
  var send = el("button", ["type", "submit", "aria-label", "Send"], "Send");
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(style);
  root.appendChild(bubble);
  root.appendChild(panel);

  var token = load(), started = false, busy = false;

  function scroll() { log.scrollTop = log.scrollHeight; }
  function say(cls, text) {
    var node = el("div", ["class", "msg " + cls], text);
    log.appendChild(node);
    scroll();
    return node;
  }

  function rate(node, turnId, initial) {
    var row = el("div", ["class", "row rate"]);
    [[1, "Helpful", ""], [-1, "Not helpful", " style=\"transform:scale(1,-1)\""]].forEach(function (r) {
      var b = el("button", ["type", "button", "aria-label", r[1], "aria-pressed", String(initial === r[0])]);
      b.innerHTML = "<svg viewBox=\"0 0 24 24\" aria-hidden=\"true\"" + r[2] + "><path d=\"" + THUMB + "\"/></svg>";
      b.addEventListener("click", function () {
        request("POST", "/web/feedback", dict(["turn_id", turnId, "rating", r[0]]), token).then(function (res) {
          if (!res.ok) return;
          var all = row.querySelectorAll("button");
          for (var i = 0; i < all.length; i++) all[i].setAttribute("aria-pressed", String(all[i] === b));
        }, function () { /* unreachable: the rating is not kept */ });
      });
      row.appendChild(b);
    });
    node.appendChild(row);
  }

  /* The final reply: its text, its sources as links, quick replies, and rating buttons. */
  function finish(node, reply, rating) {
    node.textContent = own(reply, "text") || "";
    var cites = own(reply, "citations") || [];
    if (cites.length) {
      var src = el("div", ["class", "sources"], "Sources: ");
      cites.forEach(function (c, i) {
        var link = own(c, "link"), label = own(c, "title") || own(c, "label") || "";
        if (i) src.appendChild(D.createTextNode("; "));
        src.appendChild(link ? el("a", ["href", link, "target", "_blank", "rel", "noopener noreferrer"], label)
          : el("span", null, own(c, "label") || label));
      });
      node.appendChild(src);
    }
    var buttons = own(reply, "buttons") || [];
    if (buttons.length) {
      var row = el("div", ["class", "row", "role", "group", "aria-label", "Quick replies"]);
      buttons.forEach(function (b) {
        var chip = el("button", ["type", "button", "class", "chip"], own(b, "label"));
        chip.addEventListener("click", function () { if (ask(own(b, "value"))) row.remove(); });
        row.appendChild(chip);
      });
      node.appendChild(row);
    }
    var turnId = own(reply, "turn_id");
    if (turnId) rate(node, turnId, rating);
    scroll();
  }

  /* One error on show at a time: a new one (or its Retry) replaces the last. */
  var shownError = null;
  var UNREACHABLE = "Can't reach the assistant. Check your connection and try again.";
  var STATUS = dict([401, "Your chat session has ended. Please try again.",
    403, "Chat isn't available on this site.", 413, "That message is too long.",
    422, "That message couldn't be sent.", 429, "Too many requests. Please wait a minute and try again."]);
  function friendly(status) { return own(STATUS, status) || "The assistant could not answer. Please try again."; }
  /* What to tell the visitor about a failure: our own text, or "can't reach" for the rest. */
  function why(e) { return own(e, "friendly") === true ? e.message : UNREACHABLE; }
  function failed(text, retry) {
    if (shownError) shownError.remove();
    var node = shownError = say("bot error", text);
    node.setAttribute("role", "alert");
    if (retry) {
      var again = el("button", ["type", "button", "class", "chip"], "Retry");
      again.addEventListener("click", function () { node.remove(); retry(); });
      var row = el("div", ["class", "row"]);
      row.appendChild(again);
      node.appendChild(row);
    }
  }

  function session(resume) {
    return request("POST", "/web/session", dict(["token", resume ? token : null])).then(function (res) {
      if (!res.ok) { var e = new Error(friendly(res.status)); e.friendly = true; throw e; }
      return res.json();
    }).then(function (body) {
      token = own(body, "token");
      save(token);
      return own(body, "resumed") === true;
    });
  }

  function history() {
    return request("GET", "/web/history", null, token).then(function (res) {
      return res.ok ? res.json() : null;
    }).then(function (body) {
      (own(body, "turns") || []).forEach(function (t) {
        say("user", own(t, "user_text"));
        finish(say("bot", ""), t, own(t, "rating"));
      });
    });
  }

  function start() {
    if (started) return Promise.resolve();
    return session(true).then(function (resumed) {
      started = true;
      return resumed ? history() : null;
    });
  }

  /* Read the SSE stream: tokens append, reset clears, reply finishes, error shows. */
  function stream(res, node, retry) {
    var reader = res.body.getReader(), decoder = new Decoder(), buffer = "", shown = "", done = false;
    function handle(block) {
      var name = "message", data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event: ") === 0) name = line.slice(7);
        else if (line.indexOf("data: ") === 0) data += line.slice(6);
      });
      var body = data ? parse(data) : create(null);
      if (name === "token") { shown += own(body, "text") || ""; node.textContent = shown; node.classList.remove("typing"); scroll(); }
      else if (name === "reset") { shown = ""; node.textContent = ""; }
      else if (name === "reply") { done = true; node.classList.remove("typing"); finish(node, body); }
      else if (name === "error") { done = true; node.remove(); failed(own(body, "text") || "Something went wrong.", null); }
    }
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          if (!done) { node.remove(); failed("The connection was lost.", retry); }
          return;
        }
        buffer += decoder.decode(chunk.value, dict(["stream", true]));
        var parts = buffer.split("\n\n");
        buffer = parts.pop();
        parts.forEach(handle);
        return pump();
      });
    }
    return pump();
  }

  /* While an answer arrives, Send is off and nothing typed or tapped is taken (or lost). */
  function setBusy(b) { busy = b; send.disabled = b; log.setAttribute("aria-busy", String(b)); }

  /* Ask `text`; false when nothing was sent (empty, or an answer is still arriving). */
  function ask(text, isRetry) {
    text = (text || "").trim();
    if (!text || busy) return false;
    setBusy(true);
    if (!isRetry) say("user", text);
    var node = say("bot typing", "");
    node.setAttribute("aria-label", "The assistant is typing");
    node.innerHTML = "<span></span><span></span><span></span>";
    var retry = function () { ask(text, true); };
    start().then(function () {
      return request("POST", "/web/chat", dict(["text", text]), token);
    }).then(function (res) {
      if (res.status === 401) { started = false; token = null; save(null); }
      if (!res.ok) { node.remove(); failed(friendly(res.status), retry); return; }
      if (shownError) { shownError.remove(); shownError = null; }
      return stream(res, node, retry);
    }).catch(function (e) {
      node.remove();
      failed(why(e), retry);
    }).then(function () { setBusy(false); });
    return true;
  }

  function open(show) {
    panel.hidden = !show;
    bubble.setAttribute("aria-expanded", String(show));
    bubble.setAttribute("aria-label", (show ? "Close chat: " : "Open chat: ") + TITLE);
    if (show) {
      input.focus();
      start().catch(function (e) { failed(why(e), function () { open(true); }); });
    } else bubble.focus();
  }

  bubble.addEventListener("click", function () { open(panel.hidden); });
  close.addEventListener("click", function () { open(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") open(false); });
  fresh.addEventListener("click", function () {
    token = null; save(null); started = false; log.textContent = "";
    session(false).then(function () { started = true; input.focus(); }, function (e) { failed(why(e), null); });
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (ask(input.value)) input.value = "";
  });

  function mount() { (D.body || D.documentElement).appendChild(host); }
  if (D.body) mount(); else D.addEventListener("DOMContentLoaded", mount);
})();
