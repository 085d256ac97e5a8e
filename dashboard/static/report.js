// Report viewer: uploads with progress (XHR upload events), then renders the full-analysis answer; reopens stored
// reports (a job's result or an upload's answer) and draws a subject's progress over sessions (the subjects' store).
(() => {
  const $ = (id) => document.getElementById(id);
  const clock = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  };
  const sentenceCase = (type) => type.charAt(0).toUpperCase() + type.slice(1).replaceAll("_", " ");
  let localVideoUrl = null;

  function seek(seconds) {
    const player = $("player");
    player.currentTime = seconds;
    player.play().catch(() => {});
  }

  function showError(message) {
    $("upload-error").textContent = message;
    $("upload-error").hidden = false;
  }

  function upload(event) {
    event.preventDefault();
    const form = event.target;
    const file = $("video-file").files[0];
    if (!file) return;
    $("upload-error").hidden = true;
    $("report").hidden = true;
    $("progress").hidden = false;
    $("upload-button").disabled = true;
    $("upload-progress").value = 0;
    $("progress-text").textContent = "Uploading… 0%";
    const data = new FormData(form);
    data.set("sessionId", `dashboard-${Date.now()}`);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.action);
    xhr.setRequestHeader("X-CSRF-Token", document.querySelector('meta[name="csrf-token"]').content);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      const percent = Math.round((100 * e.loaded) / e.total);
      $("upload-progress").value = percent;
      $("progress-text").textContent = `Uploading… ${percent}%`;
    });
    xhr.upload.addEventListener("load", () => {
      $("upload-progress").removeAttribute("value"); // indeterminate while the server works
      $("progress-text").textContent = "Processing: transcribing and analysing the video…";
    });
    xhr.addEventListener("load", () => {
      $("upload-button").disabled = false;
      if (xhr.status !== 200) {
        $("progress").hidden = true;
        showError((xhr.response && xhr.response.detail) || `The analysis failed (HTTP ${xhr.status}).`);
        return;
      }
      $("progress-text").textContent = "Done.";
      $("upload-progress").value = 100;
      if (localVideoUrl) URL.revokeObjectURL(localVideoUrl);
      localVideoUrl = URL.createObjectURL(file);
      render(xhr.response, localVideoUrl);
      loadProgress(new FormData(form).get("subject") || undefined); // its session is in the subject's series now
    });
    xhr.addEventListener("error", () => {
      $("upload-button").disabled = false;
      $("progress").hidden = true;
      showError("The upload failed: the connection was lost.");
    });
    xhr.send(data);
  }

  // `body`: full-analysis's answer, or analyze-video's (a job's result), which is the analysis itself.
  function render(body, fallbackUrl) {
    const analysis = body.video_analysis || body;
    $("report").hidden = false;
    const source = body.videoUrl || fallbackUrl;
    if (source) {
      $("player").src = source;
      $("player").addEventListener("error", () => {
        $("video-url-note").textContent = "The video is no longer available: its temporary URL has expired.";
      }, { once: true });
    }
    $("video-url-note").textContent = body.videoUrl
      ? "Playing from the temporary videoUrl the API returned."
      : !fallbackUrl ? (body.videoUrlReason || "This analysis keeps no video (analyze-video).")
        : `${body.videoUrlReason || "The video was not stored."} Playing your local copy.`;
    $("overall-score").textContent = analysis.overall_score ?? "–";
    const categories = $("category-scores");
    categories.replaceChildren();
    for (const [name, score] of Object.entries(analysis.category_scores)) {
      const bar = el("span", { className: "bar" });
      bar.style.width = `${score === null ? 0 : score * 10}%`;
      categories.append(el("dt", {}, name), el("dd", {}, el("span", { className: "meter" }, bar),
        score === null ? "n/a" : score.toFixed(1)));
    }
    const pace = analysis.speaking_pace_wpm;
    $("pace-fillers").textContent = `Pace ${pace === null ? "n/a" : Math.round(pace) + " wpm"} · ` +
      `${analysis.filler_word_count ?? "n/a"} filler words`;
    renderChart(analysis.time_series_scores);
    renderMoments($("key-moments"), analysis.key_moments, (m) => m.why || m.label);
    renderMoments($("labeled-moments"), analysis.labeled_moments, (m) => m.label || m.type);
    renderTranscript(body.transcript_details, analysis.labeled_moments);
    for (const [id, items] of [["strengths", analysis.strengths], ["improvements", analysis.areas_for_improvement]]) {
      $(id).replaceChildren(...items.map((text) => el("li", {}, text)));
    }
    $("recommendation").textContent = analysis.recommendation || "";
    const progress = (analysis.progress && analysis.progress.feedback) || []; // with a subject
    $("progress-heading").hidden = progress.length === 0;
    $("progress-feedback").replaceChildren(...progress.map((text) => el("li", {}, text)));
    // The answer's sentences are in its feedback language; the page's own labels stay English.
    const said = analysis.language ? analysis.language.feedback : "en";
    for (const id of ["strengths", "improvements", "recommendation", "key-moments", "labeled-moments", "progress-feedback"]) $(id).lang = said;
    $("raw-json").textContent = JSON.stringify(body, null, 2);
  }

  function renderChart(rows) {
    if (typeof Plotly === "undefined") { // the bundle is still loading: draw once it has
      window.addEventListener("load", () => renderChart(rows), { once: true });
      return;
    }
    const x = rows.map((r) => (r.start_s + r.end_s) / 2);
    const hover = rows.map((r) => `${clock(r.start_s)}–${clock(r.end_s)}`);
    const traces = [{
      x, y: rows.map((r) => r.overall_score), name: "overall (0–100)", mode: "lines+markers",
      text: hover, hovertemplate: "%{text}: %{y}<extra>overall</extra>", line: { width: 3 },
    }];
    for (const name of ["clarity", "confidence", "likeability", "authenticity"]) {
      const values = rows.map((r) => (r.scores[name] === null ? null : r.scores[name] * 10));
      if (values.every((v) => v === null)) continue;
      traces.push({ x, y: values, name: `${name} (×10)`, mode: "lines+markers", text: hover,
        hovertemplate: `%{text}: %{y}<extra>${name}</extra>`, line: { dash: "dot" } });
    }
    const chart = $("time-chart");
    Plotly.newPlot(chart, traces, {
      margin: { t: 10, r: 10, b: 40, l: 40 }, height: 300,
      xaxis: { title: { text: "time (s)" } }, yaxis: { range: [0, 100], title: { text: "score" } },
      legend: { orientation: "h", y: -0.25 },
    }, { displaylogo: false, responsive: true });
    chart.on("plotly_click", (event) => {
      const row = rows[event.points[0].pointIndex];
      if (row) seek(row.start_s);
    });
  }

  function renderMoments(list, moments, describe) {
    list.replaceChildren(...moments.map((m) => {
      const button = el("button", { type: "button", className: "seek", title: "Play from here" },
        `${clock(m.start_s)}–${clock(m.end_s)}`);
      button.dataset.start = m.start_s;
      button.addEventListener("click", () => seek(m.start_s));
      return el("li", { className: `moment ${m.tone || ""} type-${m.type}` }, button,
        el("span", { className: "moment-type" }, sentenceCase(m.type)), " ", describe(m));
    }));
  }

  function renderTranscript(details, moments) {
    const target = $("transcript");
    target.replaceChildren();
    if (details === undefined) {
      target.textContent = "analyze-video results carry no transcript; full-analysis results do.";
      return;
    }
    if (!details || !details.words || details.words.length === 0) {
      target.textContent = "No speech was transcribed.";
      return;
    }
    const fillers = moments.filter((m) => m.type === "filler");
    const pauses = moments.filter((m) => m.type === "long_pause");
    let pauseIndex = 0;
    for (const word of details.words) {
      while (pauseIndex < pauses.length && pauses[pauseIndex].start_s <= word.start_s) {
        const p = pauses[pauseIndex++];
        const marker = el("span", { className: "pause", title: p.label },
          `pause ${(p.end_s - p.start_s).toFixed(1)} s`);
        marker.addEventListener("click", () => seek(p.start_s));
        target.append(marker, " ");
      }
      const isFiller = fillers.some((f) => word.start_s < f.end_s && f.start_s < word.end_s);
      const node = el(isFiller ? "mark" : "span", { className: isFiller ? "filler word" : "word",
        title: clock(word.start_s) }, word.word);
      node.addEventListener("click", () => seek(word.start_s));
      target.append(node, " ");
    }
    for (const p of pauses.slice(pauseIndex)) {
      target.append(el("span", { className: "pause", title: p.label }, `pause ${(p.end_s - p.start_s).toFixed(1)} s`));
    }
  }

  function whenPlotly(draw) {
    if (typeof Plotly === "undefined") window.addEventListener("load", draw, { once: true });
    else draw();
  }

  async function loadProgress(subject) {
    const chart = $("progress-chart");
    if (!chart) return;
    const query = subject ? `?subject=${encodeURIComponent(subject)}` : "";
    const response = await fetch(chart.dataset.source + query, { credentials: "same-origin" });
    if (!response.ok) return;
    const progress = await response.json();
    const select = $("progress-subject");
    select.replaceChildren(...progress.subjects.map(
      (name) => el("option", { value: name, selected: name === progress.subject }, name)));
    $("progress-subject-label").hidden = progress.subjects.length === 0;
    const points = progress.points;
    if (points.length === 0) {
      $("progress-note").textContent =
        "No sessions of a subject yet: name a subject when you upload, and each analysis adds a point here.";
      return;
    }
    const x = points.map((p) => p.at);
    const traces = [{ x, y: points.map((p) => p.overall_score), name: "overall (0–100)", mode: "lines+markers",
      line: { width: 3 } }];
    for (const name of ["clarity", "confidence", "likeability", "authenticity"]) {
      const values = points.map((p) => (p.category_scores[name] == null ? null : p.category_scores[name] * 10));
      if (values.every((v) => v === null)) continue;
      traces.push({ x, y: values, name: `${name} (×10)`, mode: "lines+markers", line: { dash: "dot" } });
    }
    whenPlotly(() => {
      Plotly.newPlot(chart, traces, {
        margin: { t: 10, r: 10, b: 40, l: 40 }, height: 300, xaxis: { type: "date" },
        yaxis: { range: [0, 100], title: { text: "score" } }, legend: { orientation: "h", y: -0.25 },
      }, { displaylogo: false, responsive: true });
    });
  }

  async function loadStoredReport(card) {
    const response = await fetch(card.dataset.source, { credentials: "same-origin" });
    if (!response.ok) return;
    const stored = await response.json();
    if (stored.result) render(stored.result, null);
  }

  // The button stays disabled until this handler is attached, so a form is never submitted without it.
  document.addEventListener("DOMContentLoaded", () => {
    const form = $("upload-form");
    if (form) {
      form.addEventListener("submit", upload);
      $("upload-button").disabled = false;
    }
    loadProgress();
    const subjects = $("progress-subject");
    if (subjects) subjects.addEventListener("change", () => loadProgress(subjects.value));
    const stored = $("stored-report");
    if (stored) loadStoredReport(stored);
  });
})();
