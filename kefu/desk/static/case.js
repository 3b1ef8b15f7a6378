// One case: transcript (live from Rasa), the bot's record, and the agent's tools.
"use strict";

(function () {
  const root = document.getElementById("case");
  const caseId = root.dataset.caseId;
  const base = "/api/cases/" + caseId;
  const $ = (id) => document.getElementById(id);
  let lastTranscriptKey = "";

  function transcriptLine(line) {
    const item = Desk.el("div", "line " + line.role + (line.while_paused ? " paused" : ""));
    const who = { customer: "顾客", bot: "机器人", agent: "客服 " + (line.agent || ""), system: "" }[line.role];
    const head = Desk.el("div", "meta", (who ? who + " · " : "") + Desk.clock(line.at));
    if (line.role === "customer" && line.emotion) {
      const label = Desk.EMOTION[line.emotion.label] || line.emotion.label;
      head.appendChild(Desk.el("span", "emotion emo-" + line.emotion.label,
        label + " " + Number(line.emotion.intensity).toFixed(2)));
    }
    if (line.while_paused) head.appendChild(Desk.el("span", "tag", "转人工后发送"));
    item.appendChild(head);
    item.appendChild(Desk.el("div", "text", line.text));
    if (line.buttons && line.buttons.length) item.appendChild(Desk.el("div", "buttons-shown", "［按钮］" + line.buttons.join(" / ")));
    return item;
  }

  function renderTranscript(lines, live) {
    const key = JSON.stringify(lines.map((l) => [l.seq, l.text]));
    if (key === lastTranscriptKey) return;
    lastTranscriptKey = key;
    const box = $("transcript");
    Desk.clear(box);
    if (!live) box.appendChild(Desk.el("p", "warning", "暂时连不上机器人服务，显示的是转人工时的记录。"));
    lines.forEach((line) => box.appendChild(transcriptLine(line)));
    box.scrollTop = box.scrollHeight;
  }

  function fill(list, items, make) {
    Desk.clear(list);
    items.forEach((item) => list.appendChild(make(item)));
    if (!items.length) list.appendChild(Desk.el("li", "empty", "无"));
  }

  function renderRecord(data) {
    const record = data.record;
    $("case-priority").textContent = Desk.PRIORITY[data.priority] || data.priority;
    $("case-status").textContent = (Desk.STATUS[data.status] || data.status) + (data.agent ? " · " + data.agent : "") +
      " · 已等待 " + Desk.duration(data.waiting_seconds) + " / 目标 " + Desk.duration(data.target_seconds) +
      (data.breached ? " · 已超时" : "");
    $("case-status").className = data.breached ? "breach-mark" : "";
    $("case-summary").textContent = data.summary;
    $("case-reason").textContent = record.reason_text + (record.emotion_reason ? "（" + record.emotion_reason + "）" : "") +
      (data.callback_ticket_id ? " · 回电工单 " + data.callback_ticket_id : "");
    const facts = $("facts");
    Desk.clear(facts);
    const rows = [["会话", record.conversation_id], ["渠道", Desk.CHANNEL[record.channel] || record.channel],
      ["类别", Desk.CATEGORY[record.category] || record.category], ["手机号", record.facts.contact_phone],
      ["订单", record.facts.order_id ? record.facts.order_id + (record.facts.order_verified ? "（已核实）" : "（未核实）") : null],
      ["商品", record.facts.product], ["问题", record.facts.problem || (record.facts.account || []).join("；")],
      ["时间", record.facts.incident_time], ["诉求", Desk.REMEDY[record.facts.wished_remedy] || record.facts.wished_remedy],
      ["已选方案", Desk.REMEDY[record.facts.chosen_remedy] || record.facts.chosen_remedy],
      ["评分", record.facts.satisfaction]];
    rows.filter((r) => r[1] !== null && r[1] !== undefined && r[1] !== "").forEach(([k, v]) => {
      facts.appendChild(Desk.el("dt", "", k)); facts.appendChild(Desk.el("dd", "", v));
    });
    fill($("steps"), record.steps.all, (step) => Desk.el("li",
      (record.steps.reached.includes(step) ? "done" : "") + (record.steps.current === step ? " current" : ""), Desk.STEP[step]));
    fill($("emotions"), record.emotion, (e) => Desk.el("li", "emo-" + e.label,
      (Desk.EMOTION[e.label] || e.label) + " " + Number(e.intensity).toFixed(2) + " ·「" + e.text + "」"));
    const offers = record.offered.map((set) => "提供方案：" + set.map((r) => Desk.REMEDY[r] || r).join("、"))
      .concat(record.promises.map((p) => "工单 " + p.ticket_id + "：" + (Desk.REMEDY[p.remedy] || p.remedy || "") +
        (p.promise ? "，承诺" + p.promise + "处理" : "") + (p.deadline ? "（" + p.deadline.replace("T", " ") + " 前）" : "")));
    fill($("offers"), offers, (text) => Desk.el("li", "", text));
    fill($("notes"), data.notes, (n) => Desk.el("li", "", n.agent + " · " + Desk.clock(n.at) + "：" + n.text));
    const history = data.assignments.map((a) => Desk.clock(a.at) + " " + (a.kind === "claim" ? a.agent + " 接手" : a.by + " 转给 " + a.agent))
      .concat(data.messages.map((m) => Desk.clock(m.at) + " " + m.agent + " 回复（" + ({ pending: "待送达", delivered: "已送达", failed: "失败" }[m.status]) + "）" +
        (m.warnings.length ? " ⚠ 有提醒仍发送：" + m.warnings.map((w) => w.name || w.id).join("、") : "")));
    fill($("history"), history, (text) => Desk.el("li", "", text));
    const mine = data.agent === root.dataset.me;
    const open = data.status !== "resolved";
    $("claim").disabled = !open || mine;
    $("resolve").disabled = !open || (data.agent !== null && !mine);
    $("send").disabled = !open || (data.agent !== null && !mine);
    $("transfer").disabled = !open || !mine;
  }

  async function refresh() {
    const { ok, data } = await Desk.api("GET", base);
    if (!ok) { $("action-status").textContent = data.detail || data.error; return; }
    renderRecord(data);
    renderTranscript(data.transcript, data.live);
  }

  async function act(path, body, okText) {
    const { ok, data } = await Desk.api("POST", base + path, body);
    $("action-status").textContent = ok ? okText : "未成功：" + (data.detail || data.error);
    await refresh();
    return { ok, data };
  }

  function showWarnings(violations) {
    const list = $("guard-reasons");
    Desk.clear(list);
    violations.forEach((v) => {
      const item = Desk.el("li", "guard-finding", "");
      item.appendChild(Desk.el("strong", "guard-name", v.name || v.id));
      item.appendChild(Desk.el("span", "guard-span", "「" + v.span + "」" +
        (v.source === "classifier" ? "（模型判断，可信度 " + Math.round(v.score * 100) + "%）" : "")));
      item.appendChild(Desk.el("div", "guard-why", v.why));
      if (v.suggest) item.appendChild(Desk.el("div", "guard-suggest", "建议：" + v.suggest));
      list.appendChild(item);
    });
    $("guard-warning").hidden = violations.length === 0;
  }

  async function send(confirm) {
    const text = $("reply-text").value.trim();
    if (!text) return;
    $("reply-status").textContent = "发送中…";
    const { ok, status, data } = await Desk.api("POST", base + "/reply", { text, confirm });
    if (status === 409 && data.error === "guard") {
      showWarnings(data.violations);
      $("reply-status").textContent = "请先看一下提醒，可修改后再发送。";
      return;
    }
    if (!ok) { $("reply-status").textContent = "未发送：" + (data.detail || data.error); return; }
    showWarnings([]);
    $("reply-text").value = "";
    $("reply-status").textContent = data.delivered ? "已送达" : "已保存，正在重试送达";
    await refresh();
  }

  $("reply-form").addEventListener("submit", (event) => { event.preventDefault(); send(false); });
  $("send-anyway").addEventListener("click", () => send(true));
  $("reply-text").addEventListener("input", () => { $("guard-warning").hidden = true; });
  $("claim").addEventListener("click", () => act("/claim", {}, "已接手"));
  $("resolve").addEventListener("click", () => act("/resolve", {}, "已交还机器人，机器人正在请顾客评价"));
  $("transfer").addEventListener("click", () => act("/transfer", { agent: $("transfer-to").value }, "已转出"));
  $("note-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("note-text").value.trim();
    if (!text) return;
    const { ok } = await act("/notes", { text }, "备注已保存");
    if (ok) $("note-text").value = "";
  });

  (async function loadAgents() {
    const { ok, data } = await Desk.api("GET", "/api/agents");
    if (!ok) return;
    const select = $("transfer-to");
    data.agents.filter((a) => a.name !== root.dataset.me).forEach((a) => {
      const option = Desk.el("option", "", a.name); option.value = a.name; select.appendChild(option);
    });
  })();

  refresh();
  setInterval(refresh, Desk.POLL_MS);
})();
