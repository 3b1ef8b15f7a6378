// One case: transcript (live from Rasa), the bot's record, and the agent's tools.
"use strict";

(function () {
  const root = document.getElementById("case");
  const caseId = root.dataset.caseId;
  const base = "/api/cases/" + caseId;
  const $ = (id) => document.getElementById(id);
  const canAct = root.dataset.role !== "trainer";
  const state = { data: null, codes: null, canned: {}, pending: null, typingTimer: 0 };
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
      (data.breached ? " · 已超时" : "") + (data.resolution_name ? " · " + data.resolution_name : "");
    $("case-status").className = data.breached ? "breach-mark" : "";
    $("case-summary").textContent = data.summary;
    $("case-reason").textContent = record.reason_text + (record.emotion_reason ? "（" + record.emotion_reason + "）" : "") +
      (data.callback_ticket_id ? " · 回电工单 " + data.callback_ticket_id : "");
    const facts = $("facts");
    Desk.clear(facts);
    const rows = [["顾客", data.customer], ["渠道", Desk.CHANNEL[record.channel] || record.channel],
      ["类别", Desk.CATEGORY[record.category] || record.category], ["手机号", record.facts.contact_phone],
      ["订单", record.facts.order_id ? record.facts.order_id + (record.facts.order_verified ? "（已核实）" : "（未核实）") : null],
      ["商品", record.facts.product], ["问题", record.facts.problem || (record.facts.account || []).join("；")],
      ["时间", record.facts.incident_time], ["诉求", Desk.REMEDY[record.facts.wished_remedy] || record.facts.wished_remedy],
      ["已选方案", Desk.REMEDY[record.facts.chosen_remedy] || record.facts.chosen_remedy]];
    rows.filter((r) => r[1] !== null && r[1] !== undefined && r[1] !== "").forEach(([k, v]) => {
      facts.appendChild(Desk.el("dt", "", k)); facts.appendChild(Desk.el("dd", "", v));
    });
    $("case-rating").textContent = data.satisfaction ? data.satisfaction + " 分（满分 5 分）" + (data.satisfaction >= 4 ? " · 满意" : " · 不满意")
      : (data.status === "resolved" ? "顾客还没有评分" : "结案后请顾客评分");
    renderLabels(data);
    fill($("steps"), record.steps.all, (step) => Desk.el("li",
      (record.steps.reached.includes(step) ? "done" : "") + (record.steps.current === step ? " current" : ""), Desk.STEP[step]));
    fill($("emotions"), record.emotion, (e) => Desk.el("li", "emo-" + e.label,
      (Desk.EMOTION[e.label] || e.label) + " " + Number(e.intensity).toFixed(2) + " ·「" + e.text + "」"));
    const offers = record.offered.map((set) => "提供方案：" + set.map((r) => Desk.REMEDY[r] || r).join("、"))
      .concat(record.promises.map((p) => "工单 " + p.ticket_id + "：" + (Desk.REMEDY[p.remedy] || p.remedy || "") +
        (p.promise ? "，承诺" + p.promise + "处理" : "") + (p.deadline ? "（" + p.deadline.replace("T", " ") + " 前）" : "")));
    fill($("offers"), offers, (text) => Desk.el("li", "", text));
    fill($("notes"), data.notes, (n) => Desk.el("li", "", n.agent + " · " + Desk.clock(n.at) + "：" + n.text));
    fill($("history"), data.history, (h) => {
      const item = Desk.el("li", "");
      item.appendChild(Desk.el("span", "when", Desk.when(h.at)));
      item.appendChild(Desk.el("span", "who", h.who));
      item.appendChild(Desk.el("span", "what", h.text));
      return item;
    });
    state.data = data;
    if (!canAct) return;
    const mine = data.agent === root.dataset.me;
    const open = data.status !== "resolved";
    const supervisor = root.dataset.role === "supervisor";
    $("claim").disabled = !open || mine || (data.agent !== null && !supervisor);
    $("resolve").disabled = !open || (data.agent !== null && !mine);
    $("send").disabled = !open || (data.agent !== null && !mine);
    $("transfer").disabled = !open || !(mine || (supervisor && data.agent !== null));
    $("claim").hidden = data.agent !== null && !mine && supervisor;
    if (!open) $("resolve-panel").hidden = true;
  }

  function renderLabels(data) {
    const box = $("labels");
    Desk.clear(box);
    const chosen = data.labels.map((l) => l.code);
    if (!canAct || !state.codes) {
      if (!chosen.length) box.appendChild(Desk.el("span", "empty", "无"));
      data.labels.forEach((l) => box.appendChild(Desk.el("span", "chip on", l.name)));
      return;
    }
    Object.entries(state.codes.root_causes).forEach(([code, name]) => {
      const chip = Desk.el("button", "chip" + (chosen.includes(code) ? " on" : ""), name);
      chip.type = "button";
      chip.dataset.code = code;
      chip.setAttribute("aria-pressed", chosen.includes(code) ? "true" : "false");
      chip.addEventListener("click", () => {
        const next = chosen.includes(code) ? chosen.filter((c) => c !== code) : chosen.concat([code]);
        act("/labels", { labels: next }, "根因标签已更新");
      });
      box.appendChild(chip);
    });
  }

  async function refresh() {
    const { ok, data } = await Desk.api("GET", base);
    if (!ok) { $("action-status").textContent = Desk.errorText(data); return null; }
    renderRecord(data);
    renderTranscript(data.transcript, data.live);
    return data.event_id;
  }

  function refreshSoon() {
    if (state.pending) return;
    state.pending = setTimeout(async () => { state.pending = null; await refresh(); }, 150);
  }

  async function act(path, body, okText) {
    const { ok, data } = await Desk.api("POST", base + path, body);
    $("action-status").textContent = ok ? okText : "未成功：" + Desk.errorText(data);
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
    if (!ok) { $("reply-status").textContent = "未发送：" + Desk.errorText(data); return; }
    showWarnings([]);
    $("reply-text").value = "";
    $("reply-status").textContent = data.delivered ? "已送达" : "已保存，正在重试送达";
    await refresh();
  }

  function typingShown() {
    $("typing").hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(() => { $("typing").hidden = true; }, 6000);
  }

  async function loadCodes() {
    const { ok, data } = await Desk.api("GET", "/api/codes");
    if (ok) state.codes = data;
    if (!ok || !canAct) return;
    Object.entries(data.resolution_codes).forEach(([code, name]) => {
      const option = Desk.el("option", "", name); option.value = code; $("resolve-code").appendChild(option);
    });
  }

  async function loadAgents() {
    const { ok, data } = await Desk.api("GET", "/api/agents");
    const select = $("transfer-to");
    Desk.clear(select);
    const others = ok ? data.agents.filter((a) => a.name !== root.dataset.me) : [];
    if (!others.length) {
      const none = Desk.el("option", "", "暂时没有其他同事可以转");
      none.value = ""; select.appendChild(none);
      return;
    }
    others.forEach((a) => {
      const option = Desk.el("option", "", a.name + "（" + (Desk.ROLE[a.role] || a.role) + (a.online ? "，在线" : "，离线") + "）");
      option.value = a.name;
      select.appendChild(option);
    });
  }

  async function loadCanned() {
    const { ok, data } = await Desk.api("GET", "/api/canned?case=" + caseId);
    if (!ok) return;
    const select = $("canned-select");
    state.canned = {};
    data.replies.forEach((reply) => {
      state.canned[reply.id] = reply.filled;
      const option = Desk.el("option", "", reply.title); option.value = reply.id; select.appendChild(option);
    });
  }

  function insertCanned() {
    const text = state.canned[$("canned-select").value];
    if (!text) return;
    const area = $("reply-text");
    const at = area.selectionStart || area.value.length;
    area.value = area.value.slice(0, at) + text + area.value.slice(area.selectionEnd || at);
    $("canned-select").value = "";
    area.focus();
  }

  if (canAct) {
    $("reply-form").addEventListener("submit", (event) => { event.preventDefault(); send(false); });
    $("send-anyway").addEventListener("click", () => send(true));
    $("reply-text").addEventListener("input", () => { $("guard-warning").hidden = true; });
    $("canned-select").addEventListener("change", insertCanned);
    $("claim").addEventListener("click", () => act("/claim", {}, "已接手，已告诉顾客由您来处理"));
    $("resolve").addEventListener("click", () => { $("resolve-panel").hidden = false; $("resolve-code").focus(); });
    $("resolve-cancel").addEventListener("click", () => { $("resolve-panel").hidden = true; });
    $("resolve-confirm").addEventListener("click", async () => {
      const code = $("resolve-code").value;
      if (!code) { $("action-status").textContent = "请先选择处理结果"; return; }
      const { ok } = await act("/resolve", { code, comment: $("resolve-comment").value.trim() || null },
        "已结案，机器人正在请顾客评价");
      if (ok) $("resolve-panel").hidden = true;
    });
    $("transfer").addEventListener("click", async () => {
      const agent = $("transfer-to").value;
      if (!agent) { $("action-status").textContent = "请选择要转给的同事"; return; }
      const reason = $("transfer-reason").value.trim();
      if (!reason) { $("action-status").textContent = "请写明转交原因"; $("transfer-reason").focus(); return; }
      const { ok } = await act("/transfer", { agent, reason }, "已转给 " + agent);
      if (ok) $("transfer-reason").value = "";
    });
    $("note-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = $("note-text").value.trim();
      if (!text) return;
      const { ok } = await act("/notes", { text }, "备注已保存");
      if (ok) $("note-text").value = "";
    });
  }

  (async function start() {
    await loadCodes();
    if (canAct) await Promise.all([loadAgents(), loadCanned()]);
    const eventId = await refresh();
    const mineCase = (data) => String(data.case_id) === String(caseId);
    Desk.listen(eventId === null ? { case: caseId } : { case: caseId, after: eventId }, {
      any: (kind, data) => {
        if (!mineCase(data)) return;
        if (kind === "typing") typingShown();
        else { if (kind === "message") $("typing").hidden = true; refreshSoon(); }
      },
      open: () => refreshSoon(),
    });
  })();
})();
