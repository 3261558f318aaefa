// litrev team screening: one work at a time, one key per decision (plain JS, no libraries).
(function () {
  "use strict";
  const stage = document.body.dataset.stage;
  const csrftoken = document.querySelector("meta[name=csrftoken]").content;
  const $ = (id) => document.getElementById(id);
  let state = JSON.parse($("state").textContent);
  let note = "";
  let busy = false;

  function show(text, isError) {
    const box = $("message");
    box.textContent = text || "";
    box.className = isError ? "error" : (text ? "ok" : "");
    if (isError) box.setAttribute("role", "alert"); else box.setAttribute("role", "status");
  }

  function signalText(signal) {
    if (!signal) return "";
    // The statistical stopping rule's verdict ("keep screening" or "you can stop: ..."),
    // then the familiar heuristic beside it, never as the verdict.
    let text = "Stopping rule: " + signal.verdict + ".";
    if (signal.random_sampling) text += " Works now come in random order, for the stopping test.";
    return text + " Excludes in a row: " + signal.consecutive_excludes + ".";
  }

  function render() {
    const p = state.progress;
    $("screened").textContent = p.screened;
    $("remaining").textContent = p.remaining;
    $("signal").textContent = signalText(p.signal);
    const w = state.work;
    $("work").hidden = !w;
    $("done").hidden = !!w;
    if (!w) return;
    $("work").dataset.workId = w.id;
    $("work-title").innerHTML = w.title_html;  // escaped by the server, keywords in <mark>
    $("abstract").innerHTML = w.abstract_html;
    $("authors").textContent = w.authors.length ? w.authors.join(", ") : "(no authors)";
    $("meta").textContent = [w.year, w.venue, "work " + w.id,
      w.score !== null ? "model score " + (w.score >= 0 ? "+" : "") + w.score.toFixed(2) : null].filter(Boolean).join(" · ");
    const links = $("links");
    links.replaceChildren(...w.links.map((l) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = l.url; a.textContent = l.label; a.target = "_blank"; a.rel = "noopener noreferrer";
      li.append(a);
      return li;
    }));
    const tags = $("tags");
    tags.replaceChildren(...(w.tags.length ? w.tags : [null]).map((t) => {
      const li = document.createElement("li");
      if (!t) { li.textContent = "none yet"; return li; }
      li.dataset.key = t.key;
      li.textContent = t.key + ": " + t.value + (t.suggested ? " (suggested" +
        (t.confidence !== null ? ", " + Number(t.confidence).toFixed(2) : "") + ")" : " (confirmed)") +
        (t.evidence ? " — " + t.evidence : "");
      return li;
    }));
    const votes = w.votes || [];
    $("votes-box").hidden = !w.votes;
    $("votes").replaceChildren(...votes.map((v) => {
      const li = document.createElement("li");
      li.textContent = v.reviewer + ": " + v.decision + (v.reason ? " (" + v.reason + ")" : "");
      return li;
    }));
    const list = $("reason-list");
    list.replaceChildren(...state.reasons.map((r, i) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button"; b.textContent = (i + 1) + ". " + r; b.dataset.reason = r;
      b.addEventListener("click", () => exclude(r));
      li.append(b);
      return li;
    }));
  }

  async function post(action, data) {
    if (busy) return;
    busy = true;
    try {
      const body = new URLSearchParams(Object.assign({csrftoken: csrftoken}, data || {}));
      const response = await fetch("/team/api/" + stage + "/" + action, {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"Accept": "application/json"},
      });
      if (response.status === 401) { window.location.reload(); return; }
      const json = await response.json();
      if (json.work !== undefined) { state = json; render(); }
      show(json.error || json.message || "", !!json.error);
      if (!json.error && action === "decide") note = "";
      $("work").focus();
    } catch (e) {
      show("Could not reach the server (" + e + "). Your last decision may not be saved: reload.", true);
    } finally {
      busy = false;
    }
  }

  function decide(decision, reason) {
    if (!state.work) return;
    const data = {work_id: state.work.id, decision: decision, note: note};
    if (reason) data.reason = reason;
    post("decide", data);
  }

  function exclude(reason) { closePanels(); decide("exclude", reason); }

  function closePanels() {
    for (const id of ["reasons", "note-box", "tag-box", "help"]) $(id).hidden = true;
  }

  function open(id) {
    closePanels();
    $(id).hidden = false;
    // The reasons panel itself takes focus, so Enter means "no reason" and Tab reaches the buttons.
    const input = $(id).querySelector("input");
    (input || $(id)).focus();
  }

  const keys = {
    i: () => decide("include"),
    m: () => decide("maybe"),
    e: () => { if (state.work) open("reasons"); },
    u: () => post("undo"),
    s: () => post("skip"), ArrowRight: () => post("skip"),
    b: () => post("back"), ArrowLeft: () => post("back"),
    n: () => { if (state.work) { $("note-input").value = note; open("note-box"); } },
    t: () => { if (state.work) { $("tag-input").value = ""; open("tag-box"); } },
    "?": () => open("help"),
  };

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.id === "note-input" || target.id === "tag-input") {
      if (event.key === "Escape") { closePanels(); $("work").focus(); event.preventDefault(); }
      if (event.key === "Enter") {
        event.preventDefault();
        if (target.id === "note-input") {
          note = target.value.trim();
          show(note ? "Note kept for your decision." : "Note cleared.");
          closePanels();
          $("work").focus();
        } else {
          closePanels();
          post("tags", {work_id: state.work.id, tags: target.value.trim()});
        }
      }
      return;
    }
    if (!$("reasons").hidden) {
      if (/^[1-9]$/.test(event.key) && Number(event.key) <= state.reasons.length) {
        event.preventDefault();
        exclude(state.reasons[Number(event.key) - 1]);
      } else if (event.key === "Enter" && target.dataset.reason === undefined) {
        event.preventDefault();
        exclude(null);  // without a reason: refused where the stage needs one
      } else if (event.key === "Escape") {
        closePanels(); show("Exclusion cancelled."); $("work").focus();
      }
      return;
    }
    if (event.key === "Escape") { closePanels(); $("work").focus(); return; }
    if (target.tagName === "BUTTON" && (event.key === "Enter" || event.key === " ")) return;
    const action = keys[event.key];
    if (action) { event.preventDefault(); action(); }
  });

  for (const button of document.querySelectorAll(".actions button")) {
    button.addEventListener("click", () => keys[button.dataset.key]());
  }
  render();
  if (state.work) $("work").focus();
})();
