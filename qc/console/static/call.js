// The call page: the player and its waveform, hits selected by click or J/K (playing from 2 s before
// the hit), verdicts with 1/2, space to play or pause, arrows to move 5 s.
(function () {
  "use strict";
  const root = document.getElementById("call");
  if (!root) return;
  const callId = root.dataset.callId;
  const player = document.getElementById("player");
  const LEAD_IN = 2; // seconds played before a hit
  const STEP = 5; // seconds per arrow key
  let selected = -1;
  let selectedId = null;

  const enc = encodeURIComponent;
  const cards = function () { return Array.from(document.querySelectorAll("#panel article.hit")); };

  function playFrom(start) {
    if (!player || start === undefined || start === "") return;
    player.currentTime = Math.max(0, parseFloat(start) - LEAD_IN);
    const playing = player.play();
    if (playing && playing.catch) playing.catch(function () { /* autoplay refused: the position is set */ });
  }

  function mark(index, card) {
    document.querySelectorAll("#transcript .selected").forEach(function (el) { el.classList.remove("selected"); });
    document.querySelectorAll('#transcript mark[data-hits~="' + index + '"]').forEach(function (m) {
      m.classList.add("selected");
    });
    const turn = card.dataset.utterance !== "" ? document.getElementById("u" + card.dataset.utterance) : null;
    if (turn) {
      turn.classList.add("selected");
      turn.scrollIntoView({ block: "nearest" });
    }
  }

  function select(index, play) {
    const list = cards();
    if (!list.length) return;
    index = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (c) { c.classList.remove("selected"); });
    const card = list[index];
    selected = index;
    selectedId = card.dataset.hitId;
    card.classList.add("selected");
    card.scrollIntoView({ block: "nearest" });
    mark(index, card);
    if (play) playFrom(card.dataset.start);
  }

  function restore() {
    const list = cards();
    const again = list.findIndex(function (c) { return c.dataset.hitId === selectedId; });
    if (again >= 0) select(again, false);
  }

  window.qcRefreshPanel = function () {
    return htmx.ajax("GET", "/calls/" + enc(callId) + "/panel", { target: "#panel", swap: "outerHTML" }).then(restore);
  };

  async function judge(value) {
    const card = cards()[selected];
    if (!card) { window.qc.flash("先选择一个命中：点击它，或按 J"); return; }
    const box = card.querySelector(".judge");
    if (!box) { window.qc.flash("这个命中已经复核过（质检主管可以改判）"); return; }
    const body = {
      verdict: value ? "true" : "false",
      reason: box.querySelector("select[name=reason]").value || null,
      comment: box.querySelector("input[name=comment]").value || null,
      replace: card.classList.contains("judged"),
    };
    try {
      const call = await window.qc.api("POST", "/api/calls/" + enc(callId) + "/hits/" + enc(card.dataset.hitId) + "/verdict", body);
      window.qc.flash((value ? "真命中" : "误命中") + "，得分 " + call.score, true);
      await window.qcRefreshPanel();
    } catch (err) {
      window.qc.flash(err.message);
    }
  }

  function seek(delta) {
    if (!player) return;
    const end = isFinite(player.duration) ? player.duration : Infinity;
    player.currentTime = Math.min(end, Math.max(0, player.currentTime + delta));
  }

  document.addEventListener("click", function (event) {
    const verdict = event.target.closest("button[data-verdict]");
    const card = event.target.closest("#panel article.hit");
    if (verdict && card) {
      select(cards().indexOf(card), false);
      judge(verdict.dataset.verdict === "true");
      return;
    }
    if (card && !event.target.closest("input, select, textarea, button, summary, form, a")) {
      select(cards().indexOf(card), true);
      return;
    }
    const marked = event.target.closest("#transcript mark[data-hits]");
    if (marked) {
      select(parseInt(marked.dataset.hits.split(" ")[0], 10), true);
      return;
    }
    const turn = event.target.closest("#transcript li.turn");
    if (turn && turn.dataset.start !== "") playFrom(parseFloat(turn.dataset.start) + LEAD_IN);
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|AUDIO|BUTTON)$/.test(target.tagName))) return;
    switch (event.key) {
      case "1": judge(true); break;
      case "2": judge(false); break;
      case "j": case "J": select(selected + 1, true); break;
      case "k": case "K": select(selected <= 0 ? 0 : selected - 1, true); break;
      case " ":
        if (player) { if (player.paused) player.play().catch(function () {}); else player.pause(); }
        break;
      case "ArrowLeft": seek(-STEP); break;
      case "ArrowRight": seek(STEP); break;
      default: return;
    }
    event.preventDefault();
  });

  async function waveform() {
    const box = document.getElementById("waveform");
    if (!box || !player || !window.WaveSurfer) return;
    try {
      const response = await fetch(box.dataset.peaks, { credentials: "same-origin" });
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      const data = await response.json();
      const stereo = data.channels.length > 1;
      window.qcWave = window.WaveSurfer.create({
        container: box, media: player, peaks: data.channels, duration: data.duration,
        height: stereo ? 48 : 72, waveColor: "#6b8fc7", progressColor: "#1f3d70", cursorColor: "#c0392b",
        normalize: true, dragToSeek: true,
        splitChannels: stereo ? [{ waveColor: "#6b8fc7" }, { waveColor: "#c79a6b" }] : undefined,
      });
      box.title = stereo ? "上：左声道 · 下：右声道" : "";
    } catch (err) {
      box.textContent = "波形不可用：" + err.message;
    }
  }

  waveform();
})();
