// Canned replies: everyone reads them; supervisors add, change and delete (the server
// checks each text with the guard before keeping it).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const supervisor = $("canned").dataset.supervisor === "yes";

  function edit(reply) {
    $("canned-id").value = reply ? reply.id : "";
    $("canned-title").value = reply ? reply.title : "";
    $("canned-text").value = reply ? reply.text : "";
    $("canned-warning").hidden = true;
    $("canned-title").focus();
  }

  async function load() {
    const { ok, data } = await Desk.api("GET", "/api/canned");
    const list = $("canned-list");
    Desk.clear(list);
    if (!ok) { list.appendChild(Desk.el("li", "error", Desk.errorText(data))); return; }
    if (!data.replies.length) list.appendChild(Desk.el("li", "empty", "还没有快捷回复。"));
    data.replies.forEach((reply) => {
      const item = Desk.el("li", "canned-item");
      item.appendChild(Desk.el("strong", "", reply.title));
      item.appendChild(Desk.el("p", "", reply.text));
      if (supervisor) {
        const change = Desk.el("button", "small", "修改"); change.type = "button";
        change.addEventListener("click", () => edit(reply));
        const remove = Desk.el("button", "small secondary", "删除"); remove.type = "button";
        remove.addEventListener("click", async () => {
          if (!window.confirm("确定删除“" + reply.title + "”吗？")) return;
          const result = await Desk.api("DELETE", "/api/canned/" + reply.id);
          $("canned-status").textContent = result.ok ? "已删除" : "未删除：" + Desk.errorText(result.data);
          load();
        });
        item.appendChild(change); item.appendChild(remove);
      }
      list.appendChild(item);
    });
  }

  if (supervisor) {
    $("canned-new").addEventListener("click", () => edit(null));
    $("canned-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const id = $("canned-id").value;
      const body = { title: $("canned-title").value, text: $("canned-text").value };
      const { ok, status, data } = await Desk.api(id ? "PUT" : "POST", "/api/canned" + (id ? "/" + id : ""), body);
      const reasons = $("canned-reasons");
      Desk.clear(reasons);
      if (status === 409 && data.error === "guard") {
        data.violations.forEach((v) => reasons.appendChild(Desk.el("li", "", (v.name || v.id) + "「" + v.span + "」：" + v.why +
          (v.suggest ? " 建议：" + v.suggest : ""))));
        $("canned-warning").hidden = false;
        $("canned-status").textContent = "";
        return;
      }
      $("canned-warning").hidden = true;
      $("canned-status").textContent = ok ? "已保存" : "未保存：" + Desk.errorText(data);
      if (ok) { edit(null); load(); }
    });
  }
  load();
})();
