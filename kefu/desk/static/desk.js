// Shared helpers of the desk's pages. Text from customers is only ever put in the
// page with textContent, never as HTML.
"use strict";

const Desk = {
  csrf: (document.querySelector('meta[name="csrf-token"]') || {}).content || "",
  PRIORITY: { urgent: "紧急", high: "优先", normal: "普通" },
  STATUS: { waiting: "等待接手", assigned: "处理中", resolved: "已处理完" },
  EMOTION: { angry: "愤怒", anxious: "焦虑", disappointed: "失望", neutral: "平静", satisfied: "满意" },
  STEP: { listen: "倾听", share: "分担", probe: "询问", check: "确认", action: "行动", satisfy: "满意" },
  CATEGORY: { delivery: "配送", quality: "商品质量", wrong_item: "错发漏发", service: "服务态度",
              billing: "费用", other: "其他" },
  REMEDY: { refund: "退款", replace: "换货", resend: "补发", compensate: "补偿", repair: "免费维修",
            callback: "专人回电" },
  CHANNEL: { rest: "网页接口", socketio: "网页聊天", wechat: "微信" },
  ROLE: { agent: "客服", supervisor: "主管", trainer: "训练师" },

  async api(method, path, body) {
    const options = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      options.headers["X-CSRF-Token"] = Desk.csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (error) {
      return { ok: false, status: 0, data: { detail: "网络连接中断，请稍后再试" } };
    }
    if (response.status === 401) { window.location.href = "/login"; throw new Error("login"); }
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, data };
  },

  el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  },

  clear(node) { while (node.firstChild) node.removeChild(node.firstChild); },

  duration(seconds) {
    const minutes = Math.floor(seconds / 60), rest = seconds % 60;
    return minutes + ":" + String(rest).padStart(2, "0");
  },

  clock(value) {
    if (value === null || value === undefined) return "";
    const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    return date.toLocaleTimeString("zh-CN", { hour12: false });
  },

  when(value) {
    if (!value) return "";
    const date = new Date(value);
    return date.toLocaleDateString("zh-CN") + " " + date.toLocaleTimeString("zh-CN", { hour12: false });
  },

  errorText(data) { return data.detail || data.error || "未知错误"; },

  // --- push: one EventSource per page; it reconnects by itself and sends Last-Event-ID ---

  listen(params, handlers) {
    const query = new URLSearchParams(params);
    const source = new EventSource("/api/events?" + query.toString());
    const mark = document.getElementById("live-state");
    const show = (text, bad) => { if (mark) { mark.textContent = text; mark.className = bad ? "live bad" : "live"; } };
    source.onopen = () => { show("实时"); if (handlers.open) handlers.open(); };
    source.onerror = () => show("连接中断，正在重连…", true);
    ["case_new", "case_changed", "case_resolved", "case_rated", "case_escalated", "typing", "message"].forEach((kind) => {
      source.addEventListener(kind, (event) => {
        const data = JSON.parse(event.data || "{}");
        if (kind === "case_new" || kind === "case_escalated") Desk.alert(kind, data);
        if (handlers.any) handlers.any(kind, data);
        if (handlers[kind]) handlers[kind](data);
      });
    });
    source.addEventListener("logged_out", () => { source.close(); window.location.href = "/login"; });
    window.addEventListener("beforeunload", () => source.close());
    return source;
  },

  // --- alerts on a new or escalated case: a browser notification and a sound ----------

  alertsOn() { return localStorage.getItem("kefu.desk.alerts") !== "off"; },

  setAlerts(on) { localStorage.setItem("kefu.desk.alerts", on ? "on" : "off"); Desk.showAlertState(); },

  async askPermission() {
    if (!("Notification" in window)) return "unsupported";
    if (Notification.permission === "default") {
      try { await Notification.requestPermission(); } catch (error) { /* old API: ignore */ }
    }
    Desk.showAlertState();
    return Notification.permission;
  },

  showAlertState() {
    const box = document.getElementById("alert-state");
    const toggle = document.getElementById("alert-toggle");
    if (!box || !toggle) return;
    const on = Desk.alertsOn();
    toggle.textContent = on ? "关闭提醒" : "开启提醒";
    let text = on ? "新案例会提醒（声音）" : "提醒已关闭";
    if (on && "Notification" in window) {
      text = { granted: "新案例会弹出通知并响铃", denied: "浏览器拒绝了通知，只响铃提醒；可在浏览器设置里允许",
               default: "新案例会响铃；点“允许通知”可同时弹出通知" }[Notification.permission] || text;
    }
    box.textContent = text;
    const ask = document.getElementById("alert-permission");
    if (ask) ask.hidden = !(on && "Notification" in window && Notification.permission === "default");
  },

  alert(kind, data) {
    if (!Desk.alertsOn()) return;
    const title = kind === "case_new" ? "新的转人工案例" : "案例升级为更紧急";
    const body = (Desk.PRIORITY[data.priority] ? "【" + Desk.PRIORITY[data.priority] + "】" : "") + (data.summary || "");
    Desk.beep();
    window.__deskAlerts = (window.__deskAlerts || 0) + 1;
    if ("Notification" in window && Notification.permission === "granted") {
      try {
        const note = new Notification(title, { body, tag: "kefu-case-" + data.case_id });
        note.onclick = () => { window.focus(); window.location.href = "/cases/" + data.case_id; };
      } catch (error) { /* some browsers only notify from a service worker */ }
    }
  },

  beep() {
    try {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      Desk.audio = Desk.audio || new Context();
      const osc = Desk.audio.createOscillator(), gain = Desk.audio.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.15;
      osc.connect(gain); gain.connect(Desk.audio.destination);
      osc.start(); osc.stop(Desk.audio.currentTime + 0.25);
    } catch (error) { /* no sound device */ }
  },

  setupAlerts() {
    const toggle = document.getElementById("alert-toggle");
    if (!toggle) return;
    toggle.addEventListener("click", async () => {
      Desk.setAlerts(!Desk.alertsOn());
      if (Desk.alertsOn()) await Desk.askPermission();
    });
    const ask = document.getElementById("alert-permission");
    if (ask) ask.addEventListener("click", () => Desk.askPermission());
    Desk.showAlertState();
  },
};

document.addEventListener("DOMContentLoaded", () => Desk.setupAlerts());
