// Shared helpers of the desk's pages. Text from customers is only ever put in the
// page with textContent, never as HTML.
"use strict";

const Desk = {
  csrf: (document.querySelector('meta[name="csrf-token"]') || {}).content || "",
  POLL_MS: 2000,
  PRIORITY: { urgent: "紧急", high: "优先", normal: "普通" },
  STATUS: { waiting: "等待接手", assigned: "处理中", resolved: "已处理完" },
  EMOTION: { angry: "愤怒", anxious: "焦虑", disappointed: "失望", neutral: "平静", satisfied: "满意" },
  STEP: { listen: "倾听", share: "分担", probe: "询问", check: "确认", action: "行动", satisfy: "满意" },
  CATEGORY: { delivery: "配送", quality: "商品质量", wrong_item: "错发漏发", service: "服务态度",
              billing: "费用", other: "其他" },
  REMEDY: { refund: "退款", replace: "换货", resend: "补发", compensate: "补偿", repair: "免费维修",
            callback: "专人回电" },
  CHANNEL: { rest: "网页接口", socketio: "网页聊天", wechat: "微信" },

  async api(method, path, body) {
    const options = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      options.headers["X-CSRF-Token"] = Desk.csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    const response = await fetch(path, options);
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
};
