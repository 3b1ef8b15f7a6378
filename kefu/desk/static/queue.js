// The case list: open cases by urgency, or a search; updated by push (Desk.listen),
// so new hand-offs appear without a reload.
"use strict";

(function () {
  const rows = document.getElementById("queue-rows");
  const status = document.getElementById("queue-status");
  const $ = (id) => document.getElementById(id);
  const resolvedView = () => $("filter-status").value === "resolved";
  let eventId = null;
  let pending = null;

  function row(item) {
    const tr = Desk.el("tr", item.breached && item.status !== "resolved" ? "breach" : "");
    tr.dataset.caseId = item.id;
    const prio = Desk.el("td", "nowrap");
    prio.appendChild(Desk.el("span", "badge prio-" + item.priority, Desk.PRIORITY[item.priority] || item.priority));
    tr.appendChild(prio);
    tr.appendChild(Desk.el("td", "customer nowrap", item.customer));
    tr.appendChild(Desk.el("td", "nowrap", Desk.CHANNEL[item.channel] || item.channel || ""));
    const summary = Desk.el("td", "summary");
    const link = Desk.el("a", "", item.summary);
    link.href = "/cases/" + item.id;
    summary.appendChild(link);
    tr.appendChild(summary);
    const who = item.agent ? "（" + item.agent + "）" : "";
    let state = (Desk.STATUS[item.status] || item.status) + who;
    if (item.status === "resolved") {
      state += (item.resolution_name ? " · " + item.resolution_name : "") +
        (item.satisfaction ? " · 评分 " + item.satisfaction + "/5" : "");
    }
    tr.appendChild(Desk.el("td", "", state));
    const wait = Desk.el("td", "wait nowrap", item.status === "resolved" ? Desk.when(item.resolved_at)
      : Desk.duration(item.waiting_seconds) + " / " + Desk.duration(item.target_seconds));
    if (item.breached && item.status !== "resolved") wait.appendChild(Desk.el("strong", "breach-mark", " 已超时"));
    tr.appendChild(wait);
    tr.addEventListener("click", (event) => {
      if (event.target.tagName !== "A") window.location.href = "/cases/" + item.id;
    });
    return tr;
  }

  function query() {
    return new URLSearchParams({ q: $("search-q").value.trim(), status: $("filter-status").value,
      priority: $("filter-priority").value, channel: $("filter-channel").value, agent: $("filter-agent").value });
  }

  async function refresh() {
    const { ok, data } = await Desk.api("GET", "/api/cases?" + query().toString());
    if (!ok) { status.textContent = "未能加载：" + Desk.errorText(data); return null; }
    Desk.clear(rows);
    if (!data.cases.length) {
      const tr = Desk.el("tr");
      const td = Desk.el("td", "empty", resolvedView() || $("search-q").value ? "没有符合条件的案例。" : "暂时没有待处理的转人工会话。");
      td.colSpan = 6; tr.appendChild(td); rows.appendChild(tr);
    }
    data.cases.forEach((item) => rows.appendChild(row(item)));
    status.textContent = data.cases.length + " 个" + (resolvedView() ? "已处理完" : "案例") + " · 更新于 " + Desk.clock(Date.now() / 1000);
    return data.event_id;
  }

  // Several events at once (a burst of hand-offs) make one refresh.
  function refreshSoon() {
    if (pending) return;
    pending = setTimeout(async () => { pending = null; await refresh(); }, 150);
  }

  $("search-form").addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
  ["filter-status", "filter-priority", "filter-channel", "filter-agent"].forEach((id) =>
    $(id).addEventListener("change", refresh));

  (async function start() {
    const { ok, data } = await Desk.api("GET", "/api/agents");
    if (ok) data.agents.forEach((agent) => {
      const option = Desk.el("option", "", agent.name + "（" + (Desk.ROLE[agent.role] || agent.role) + "）");
      option.value = agent.name; $("filter-agent").appendChild(option);
    });
    eventId = await refresh();
    Desk.listen(eventId === null ? {} : { after: eventId }, {
      any: (kind) => { if (kind !== "typing" && kind !== "message") refreshSoon(); },
    });
  })();
})();
