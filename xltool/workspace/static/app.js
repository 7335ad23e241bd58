// The workspace's only script: drag and drop uploads (files, folders, zips), one request per
// file with its progress, and a "please wait" note on slow downloads. No library, no CDN.
(function () {
  "use strict";
  var csrf = document.body.getAttribute("data-csrf");

  document.querySelectorAll("a[data-progress]").forEach(function (link) {
    link.addEventListener("click", function () {
      var note = link.parentNode.querySelector(".progress");
      if (note) { note.hidden = false; setTimeout(function () { note.hidden = true; }, 8000); }
    });
  });

  var drop = document.getElementById("drop");
  var list = document.getElementById("upload-list");
  if (!drop || !list) return;
  var input = document.getElementById("file-input");
  var url = list.getAttribute("data-url");
  var queue = [], running = 0, LIMIT = 2;

  function row(name) {
    var tr = document.createElement("tr");
    var a = document.createElement("td"); a.textContent = name;
    var b = document.createElement("td"); var bar = document.createElement("progress"); bar.max = 100; bar.value = 0; b.appendChild(bar);
    var c = document.createElement("td"); c.textContent = "等待上传";
    tr.appendChild(a); tr.appendChild(b); tr.appendChild(c);
    list.querySelector("tbody").appendChild(tr);
    return { tr: tr, bar: bar, result: c };
  }

  function send(item) {
    running++;
    var form = new FormData();
    form.append("csrf_token", csrf);
    form.append("files", item.file, item.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) item.ui.bar.value = Math.round(e.loaded / e.total * 90); };
    item.ui.result.textContent = "正在上传并检查…";
    xhr.onload = function () {
      item.ui.bar.value = 100;
      var data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (data && data.outcomes) {
        item.ui.result.textContent = data.outcomes.map(function (o) { return o.message; }).join("\n");
        item.ui.tr.className = data.outcomes[0].kind === "recorded" ? (data.outcomes[0].status === "passed" ? "recorded" : "failed") : data.outcomes[0].kind;
      } else {
        item.ui.result.textContent = (data && data.error) || "上传失败（" + xhr.status + "），请重试。";
        item.ui.tr.className = "refused";
      }
      item.ui.tr.setAttribute("data-done", "1");
      done();
    };
    xhr.onerror = function () { item.ui.result.textContent = "上传中断，请检查网络后重试。"; item.ui.tr.className = "refused"; item.ui.tr.setAttribute("data-done", "1"); done(); };
    xhr.send(form);
  }
  function done() { running--; pump(); }
  function pump() { while (running < LIMIT && queue.length) send(queue.shift()); }
  function add(file, name) { queue.push({ file: file, name: name || file.name, ui: row(name || file.name) }); pump(); }

  function walk(entry, path) {
    if (entry.isFile) { entry.file(function (f) { add(f, path + f.name); }); }
    else if (entry.isDirectory) {
      var reader = entry.createReader();
      var more = function () { reader.readEntries(function (entries) { if (!entries.length) return; entries.forEach(function (e) { walk(e, path + entry.name + "/"); }); more(); }); };
      more();
    }
  }
  ["dragenter", "dragover"].forEach(function (t) { drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); }); });
  ["dragleave", "drop"].forEach(function (t) { drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove("over"); }); });
  drop.addEventListener("drop", function (e) {
    var items = e.dataTransfer.items;
    if (items && items.length) {
      for (var i = 0; i < items.length; i++) {
        if (items[i].kind !== "file") continue;
        var entry = items[i].webkitGetAsEntry ? items[i].webkitGetAsEntry() : null;
        if (entry) { walk(entry, ""); } else { var f = items[i].getAsFile(); if (f) add(f); }
      }
    } else {
      Array.prototype.forEach.call(e.dataTransfer.files, function (f) { add(f); });
    }
  });
  input.addEventListener("change", function () { Array.prototype.forEach.call(input.files, function (f) { add(f); }); input.value = ""; });
})();
