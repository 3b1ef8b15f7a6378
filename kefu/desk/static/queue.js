// The queue: polled every two seconds, so new hand-offs appear without a reload.
"use strict";

(function () {
  const rows = document.getElementById("queue-rows");
  const status = document.getElementById("queue-status");

  function row(item) {
    const tr = Desk.el("tr", item.breached ? "breach" : "");
    tr.dataset.caseId = item.id;
    const prio = Desk.el("td");
    prio.appendChild(Desk.el("span", "badge prio-" + item.priority, Desk.PRIORITY[item.priority] || item.priority));
    tr.appendChild(prio);
    tr.appendChild(Desk.el("td", "", item.customer));
    tr.appendChild(Desk.el("td", "", Desk.CHANNEL[item.channel] || item.channel || ""));
    const summary = Desk.el("td", "summary");
    const link = Desk.el("a", "", item.summary);
    link.href = "/cases/" + item.id;
    summary.appendChild(link);
    tr.appendChild(summary);
    const who = item.agent ? "（" + item.agent + "）" : "";
    tr.appendChild(Desk.el("td", "", (Desk.STATUS[item.status] || item.status) + who));
    const wait = Desk.el("td", "wait", Desk.duration(item.waiting_seconds) + " / " + Desk.duration(item.target_seconds));
    if (item.breached) wait.appendChild(Desk.el("strong", "breach-mark", " 已超时"));
    tr.appendChild(wait);
    tr.addEventListener("click", (event) => {
      if (event.target.tagName !== "A") window.location.href = "/cases/" + item.id;
    });
    return tr;
  }

  async function refresh() {
    try {
      const { ok, data } = await Desk.api("GET", "/api/queue");
      if (!ok) throw new Error(data.error || "error");
      Desk.clear(rows);
      if (!data.cases.length) {
        const tr = Desk.el("tr"); const td = Desk.el("td", "empty", "暂时没有待处理的转人工会话。");
        td.colSpan = 6; tr.appendChild(td); rows.appendChild(tr);
      }
      data.cases.forEach((item) => rows.appendChild(row(item)));
      status.textContent = data.cases.length + " 个待处理 · 在线客服 " + data.online_agents + " 人 · " + Desk.clock(Date.now() / 1000);
    } catch (error) {
      status.textContent = "连接中断，正在重试…";
    }
  }

  refresh();
  setInterval(refresh, Desk.POLL_MS);
})();
