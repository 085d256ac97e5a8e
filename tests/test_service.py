"""Integration: starts the real Serve application from serve_config.cpu.yaml and posts real videos to it."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from testkit.service_runner import REPO, Service, running_service
from testkit.videos import BECKETT_WAV, load_audio, make_audio_only_file
from tests.analysis_support import GUIDE_FIELDS

pytestmark = pytest.mark.integration

PACE_TOLERANCE = 0.15


@pytest.fixture(scope="module")
def service(tmp_path_factory, talking_head_videos) -> Service:
    with running_service(tmp_path_factory.mktemp("service")) as running:
        yield running


def _words(text: str) -> set[str]:
    return {w.strip(".,!?;:\"'").lower() for w in text.split()}


def test_health_and_docs(service):
    assert httpx.get(f"{service.base_url}/health").json() == {"status": "ok"}
    spec = httpx.get(f"{service.base_url}/openapi.json").json()
    assert {"/api/v1/analyze-video", "/api/v1/full-analysis"} <= set(spec["paths"])
    assert httpx.get(f"{service.base_url}/docs").status_code == 200


def test_a_client_generated_from_the_openapi_document_parses_real_answers(service, talking_head, tmp_path):
    """datamodel-code-generator (PyPI) turns /openapi.json into pydantic models; they parse what the service says,
    errors included, so every field a client reads is documented."""
    import importlib.util
    import subprocess
    import sys

    spec = httpx.get(f"{service.base_url}/openapi.json").json()
    for path in ("/api/v1/analyze-video", "/api/v1/full-analysis"):
        answers = spec["paths"][path]["post"]["responses"]
        assert "$ref" in answers["200"]["content"]["application/json"]["schema"]
        assert {"401", "413", "415", "422", "500", "503", "504"} <= answers.keys()
    (tmp_path / "openapi.json").write_text(json.dumps(spec))
    subprocess.run(
        [
            str(Path(sys.executable).parent / "datamodel-codegen"),
            "--input",
            str(tmp_path / "openapi.json"),
            "--input-file-type",
            "openapi",
            "--output",
            str(tmp_path / "client_models.py"),
            "--output-model-type",
            "pydantic_v2.BaseModel",
        ],
        check=True,
        capture_output=True,
    )
    module_spec = importlib.util.spec_from_file_location("client_models", tmp_path / "client_models.py")
    client = importlib.util.module_from_spec(module_spec)
    sys.modules["client_models"] = client
    module_spec.loader.exec_module(client)

    full = service.post("/api/v1/full-analysis", talking_head.path, data={"context_phrase": "quarterly review"})
    video = service.post("/api/v1/analyze-video", talking_head.path)
    parsed = client.FullAnalysis.model_validate(full.json())
    assert parsed.video_analysis.speaking_pace_wpm == full.json()["video_analysis"]["speaking_pace_wpm"]
    assert client.VideoAnalysis.model_validate(video.json()).overall_score == video.json()["overall_score"]
    unauthorized = service.post("/api/v1/analyze-video", talking_head.path, headers={})
    assert client.ErrorBody.model_validate(unauthorized.json()).detail == "Invalid or expired API key."


def test_every_container_gets_a_full_analysis(service, talking_head_container):
    video = talking_head_container
    response = service.post(
        "/api/v1/full-analysis", video.path, data={"sessionId": "s-42", "context_phrase": "job interview practice"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sessionId"] == "s-42"
    assert body["videoUrl"].startswith(f"{service.base_url}/media/")  # the local store's signed, expiring URL
    assert body["videoUrlReason"] is None
    spoken = _words(body["transcript"])
    known = {w.lower() for w in video.words}
    assert len(spoken & known) >= 0.7 * len(known), (body["transcript"], video.words)

    analysis = body["video_analysis"]
    for field in GUIDE_FIELDS:
        assert analysis[field] is not None, field
    assert 0 <= analysis["overall_score"] <= 100
    assert all(0 <= v <= 10 for v in analysis["category_scores"].values())
    assert abs(analysis["speaking_pace_wpm"] - video.pace_wpm) <= PACE_TOLERANCE * video.pace_wpm
    assert analysis["strengths"] and analysis["detailed_feedback"] and analysis["recommendation"]
    assert len(analysis["time_series_scores"]) >= 2
    spoken = [row for row in analysis["time_series_scores"] if row["pace_wpm"] is not None]
    assert len(spoken) >= 2  # and each scores all four categories (confidence and authenticity were always null)
    assert all(None not in row["scores"].values() and row["overall_score"] is not None for row in spoken), spoken
    assert 3 <= len(analysis["key_moments"]) <= 5
    long_pauses = [m for m in analysis["labeled_moments"] if m["type"] == "long_pause"]
    ((truth_start, truth_end),) = [p for p in video.pauses if p[1] - p[0] >= 2.0]
    assert any(abs(m["start_s"] - truth_start) < 0.5 and abs(m["end_s"] - truth_end) < 0.5 for m in long_pauses)
    assert analysis["evidence_quality"]["face_visible_ratio"] >= 0.9
    assert body["engine_kpis"]["pace_wpm"] == pytest.approx(analysis["speaking_pace_wpm"], abs=0.1)
    assert body["engine_analysis"]["content"]["relevance_to_context"] is not None


def test_real_speech_recording(service, talking_head_beckett):
    response = service.post("/api/v1/full-analysis", talking_head_beckett.path)
    assert response.status_code == 200, response.text
    assert {"tried", "failed", "matter", "better"} <= _words(response.json()["transcript"])


def test_analyze_video_with_x_api_key(service, talking_head):
    response = service.post("/api/v1/analyze-video", talking_head.path, headers={"X-API-Key": service.key})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(GUIDE_FIELDS) <= set(body)
    assert body["filler_word_count"] == len([m for m in body["labeled_moments"] if m["type"] == "filler"])


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "KEY"},
        {"Authorization": "Bearer ng_notarealkey"},
        {"X-API-Key": "ng_" + "a" * 46},
    ],
)
def test_bad_credentials_get_401(service, talking_head, headers):
    response = service.post("/api/v1/analyze-video", talking_head.path, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or expired API key."}
    assert response.headers["www-authenticate"] == "Bearer"


def test_key_without_bearer_prefix_gets_401(service, talking_head):
    response = service.post("/api/v1/analyze-video", talking_head.path, headers={"Authorization": service.key})
    assert response.status_code == 401


def test_revoked_and_expired_keys_get_401(service, talking_head):
    revoked, record = service.store.create_key("integration", "to revoke", None)
    assert service.store.revoke("integration", record.prefix)
    expiring, _ = service.store.create_key("integration", "short", timedelta(seconds=1))
    time.sleep(1.5)
    for key in (revoked, expiring):
        response = service.post("/api/v1/analyze-video", talking_head.path, headers={"X-API-Key": key})
        assert response.status_code == 401


@pytest.mark.parametrize("field", ["file", None])
def test_wrong_or_missing_field_gets_422(service, talking_head, field):
    if field is None:
        response = service.post("/api/v1/analyze-video", None, data={"sessionId": "x"})
    else:
        response = service.post("/api/v1/analyze-video", talking_head.path, field=field)
    assert response.status_code == 422
    assert response.json() == {"detail": "Missing or invalid request body."}


def test_context_phrase_and_session_id_over_their_bounds_get_422_before_any_work(service, talking_head):
    """A 1 MB phrase was copied four times into the answer and kept 30 days with a job: each field has its own
    bound, checked at parse, on the endpoints and on jobs alike."""
    started = time.monotonic()
    for path in ("/api/v1/full-analysis", "/api/v1/analyze-video", "/api/v1/jobs"):
        phrase = service.post(path, talking_head.path, data={"context_phrase": "interview " * 100_000})
        session = service.post(path, talking_head.path, data={"sessionId": "s" * 201})
        assert phrase.status_code == session.status_code == 422, (phrase.text, session.text)
        assert phrase.json() == {"detail": "Field 'context_phrase' is longer than 1000 characters (the limit)."}
        assert session.json() == {"detail": "Field 'sessionId' is longer than 200 characters (the limit)."}
    assert time.monotonic() - started < 30  # answered at parse: no decoding, no model call


def test_a_job_id_is_looked_at_only_after_the_key(service):
    """No key: 401 whatever the id (an over-long one answered 422 before the key was checked); with a key, an
    unknown, malformed or over-long id is the same 404."""
    with httpx.Client(base_url=service.base_url, timeout=60) as client:
        for method in ("GET", "DELETE"):
            for job_id in ("job_" + "a" * 22, "not-a-job", "job_" + "a" * 300):
                anonymous = client.request(method, f"/api/v1/jobs/{job_id}")
                assert anonymous.status_code == 401, (method, job_id, anonymous.text)
                assert anonymous.json() == {"detail": "Invalid or expired API key."}
                keyed = client.request(
                    method, f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {service.key}"}
                )
                assert keyed.status_code == 404, (method, job_id, keyed.text)
                assert keyed.json() == {"detail": "No such job."}


def test_not_a_video_gets_clear_4xx(service, tmp_path):
    bogus = tmp_path / "photo.mp4"
    bogus.write_bytes((REPO / "testkit" / "assets" / "portrait_astronaut.png").read_bytes())
    response = service.post("/api/v1/analyze-video", str(bogus))
    assert response.status_code in (415, 422)
    assert "detail" in response.json()


def test_no_face_video_is_measured_without_face_scores(service, talking_head_no_face):
    response = service.post("/api/v1/analyze-video", talking_head_no_face.path)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["evidence_quality"]["face_visible_ratio"] == 0
    assert "face" in body["evidence_quality"]["missing"]
    assert body["category_scores"]["likeability"] is None
    assert body["score_details"]["categories"]["likeability"]["reason"]
    assert body["speaking_pace_wpm"] is not None and body["category_scores"]["clarity"] is not None


def test_no_audio_video_is_measured_without_speech_scores(service, talking_head_no_audio):
    response = service.post("/api/v1/full-analysis", talking_head_no_audio.path)
    assert response.status_code == 200, response.text
    body = response.json()
    analysis = body["video_analysis"]
    assert analysis["speaking_pace_wpm"] is None and analysis["filler_word_count"] is None
    assert analysis["category_scores"]["clarity"] is None
    assert "speech" in analysis["evidence_quality"]["missing"]
    assert analysis["evidence_quality"]["face_visible_ratio"] >= 0.9
    assert body["transcript"] is None


REAL_CLIPS = (
    "monologue_webm",
    "falsetto_avi",
    "mfa_uhuh_webm",
    "face_then_cut_mkv",
    "single_face_near_silent_avi",
    "muted_microphone_mp4",
    "no_audio_track_mov",
)


@pytest.mark.parametrize("name", REAL_CLIPS)
def test_real_recordings_answer_200_with_honest_evidence(service, real_recordings, name):
    """Real people: a monologue with fillers, falsetto, stretched "uh"s, a cut to a cartoon, a near-silent
    webcam clip, a muted microphone and no audio track. Each answers 200; what was not heard is not scored."""
    clip = real_recordings[name]
    response = service.post("/api/v1/full-analysis", clip.path)
    assert response.status_code == 200, response.text
    analysis = response.json()["video_analysis"]
    evidence = analysis["evidence_quality"]
    assert evidence["face_visible_ratio"] == pytest.approx(clip.face_visible_ratio, abs=0.05)
    scored = {c["metric"] for d in analysis["score_details"]["categories"].values() for c in d["components"]}
    if clip.has_speech and clip.pace_wpm is not None:
        assert {"acoustic", "corpus", "slow"} <= _words(response.json()["transcript"])
        assert analysis["speaking_pace_wpm"] == pytest.approx(clip.pace_wpm, rel=PACE_TOLERANCE)
        assert "pace_wpm" in scored
    if not clip.has_speech:
        assert "speech" in evidence["missing"] and analysis["speaking_pace_wpm"] is None
        assert not scored & {"pace_wpm", "filler_rate_per_min", "pitch_sd_semitones", "stt_confidence"}
        assert "filler" not in " ".join(analysis["strengths"]).lower()


def test_face_out_of_frame_is_located(service, talking_head_face_out):
    video = talking_head_face_out
    body = service.post("/api/v1/analyze-video", video.path).json()
    visible_s = sum(b - a for a, b in video.face_visible)
    truth_ratio = visible_s / video.duration_s
    assert body["evidence_quality"]["face_visible_ratio"] == pytest.approx(truth_ratio, abs=0.05)


def test_provided_transcript_and_mediapipe_samples(service, talking_head):
    first = service.post("/api/v1/full-analysis", talking_head.path).json()
    words = first["transcript_details"]["words"]
    assert words
    samples = json.dumps([{"t": 0.5, "landmarks": []}, {"t": 1.0, "landmarks": [[0.5, 0.5, 0.0]] * 478}])
    text = " ".join(talking_head.words)
    body = service.post(
        "/api/v1/full-analysis", talking_head.path, data={"transcript": text, "mediapipeSamples": samples}
    ).json()
    assert body["transcript"] == text
    assert body["transcript_details"]["source"] == "provided"
    assert body["video_analysis"]["evidence_quality"]["landmark_source"] == "client_samples"
    assert body["video_analysis"]["evidence_quality"]["frames_analyzed"] == 2


def test_mediapipe_samples_with_an_audio_recording_get_422_saying_why(service, tmp_path):
    voice = tmp_path / "voice.m4a"
    make_audio_only_file(voice, load_audio(BECKETT_WAV))
    response = service.post(
        "/api/v1/analyze-video", str(voice), data={"mediapipeSamples": json.dumps([{"t": 0.5, "landmarks": []}])}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("mediapipeSamples were sent with a file that has no video track")


def test_invalid_mediapipe_samples_get_422_saying_why(service, talking_head):
    response = service.post("/api/v1/full-analysis", talking_head.path, data={"mediapipeSamples": "[{not json"})
    assert response.status_code == 422
    assert "mediapipeSamples" in response.json()["detail"]


def test_real_spanish_speech_over_a_real_face_is_heard_in_spanish(service, tmp_path):
    """A Spanish FLEURS reading muxed over the real webcam video: identified, transcribed by the multilingual model
    in Spanish (it was "No speech was detected" with the English-only model) and timed; the answer's sentences are
    in Spanish, or in English when the client asks for them so, with the same numbers."""
    from benchmarks.languages_set import FACE
    from benchmarks.real_set import mux
    from benchmarks.speakers_set import read_audio
    from tests.test_feedback_language import QUOTED, english_left, sentences_of

    audio = read_audio(REPO / "benchmarks" / "real" / "languages" / "cuttledoc-fleurs_es_000.ogg")
    video = tmp_path / "spanish.mp4"
    mux(video, FACE, 0.0, audio, len(audio) / 16000, "mp4")
    response = service.post("/api/v1/full-analysis", str(video))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["language"] == body["video_analysis"]["language"]
    language = body["language"]
    assert (language["spoken"], language["source"], language["feedback"], language["supported"]) == (
        "es",
        "detected",
        "es",
        True,
    )  # the feedback follows the speech (issue 24 item 6)
    assert language["probability"] > 0.9
    assert (body["transcript_details"]["language"], body["transcript_details"]["model"]) == ("es", "base")
    assert {"recomienda", "viajeros", "clima", "extremo", "planes", "viaje"} <= _words(body["transcript"])
    assert 100 < body["video_analysis"]["speaking_pace_wpm"] < 250
    spanish = sentences_of(body)
    assert body["video_analysis"]["detailed_feedback"].startswith("Dijiste ")
    assert not any(english_left(text, "es") for text in spanish), spanish
    said = QUOTED.sub(" ", " ".join(spanish))  # the speaker's own words are quoted as said
    assert re.search(r"\d,\d", said) and not re.search(r"\d\.\d", said)

    asked = service.post("/api/v1/full-analysis", str(video), data={"language": "es", "feedback_language": "en"})
    assert asked.status_code == 200, asked.text
    english = asked.json()
    assert (english["language"]["source"], english["language"]["feedback"]) == ("requested", "en")
    assert english["video_analysis"]["detailed_feedback"].startswith("You spoke ")
    for field in ("overall_score", "speaking_pace_wpm", "filler_word_count", "category_scores"):
        assert english["video_analysis"][field] == body["video_analysis"][field], field
    assert len(sentences_of(english)) == len(spanish)


def test_an_unsupported_language_gets_422_naming_it(service, talking_head):
    response = service.post("/api/v1/analyze-video", talking_head.path, data={"language": "sv"})
    assert response.status_code == 422
    assert "'sv'" in response.json()["detail"]
    response = service.post("/api/v1/analyze-video", talking_head.path, data={"feedback_language": "sv"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Field 'feedback_language': 'sv' is not a supported feedback language")


SCORES = ("clarity", "confidence", "likeability", "authenticity", "overall")


def _subject_rows(service, subject: str | None = None) -> int:
    import sqlite3

    with sqlite3.connect(service.log_path.parent / "softskills.db") as db:
        if subject is None:
            return db.execute("SELECT count(*) FROM subject_sessions").fetchone()[0]
        return db.execute("SELECT count(*) FROM subject_sessions WHERE subject = ?", (subject,)).fetchone()[0]


def test_a_subjects_takes_with_fewer_fillers_show_fillers_improved_and_the_rest_usual(service):
    """Issue 25's check through the service: each series (benchmarks/progress_set.py, constructed and real) is
    earlier takes of one recording and a latest take that differs only in its fillers, sent with one subject. The
    module's other tests posted without a subject: none of theirs was kept. Another owner's key sees nothing, and a
    DELETE leaves no row of the subject."""
    from benchmarks.progress_set import progress_set
    from testkit.videos import FIXTURE_DIR

    assert _subject_rows(service) == 0
    series = progress_set(FIXTURE_DIR)
    for name, takes in series.items():
        answers = [
            service.post("/api/v1/analyze-video", path, data={"subject": name})
            for path in (*takes.earlier, takes.latest)
        ]
        assert [a.status_code for a in answers] == [200] * len(answers), answers[-1].text
        first, last = answers[0].json()["progress"], answers[-1].json()["progress"]
        assert (first["earlier_sessions"], first["sessions_needed"], first["metrics"]) == (0, 3, [])
        verdicts = {m["name"]: m["verdict"] for m in last["metrics"]}
        assert verdicts.pop("filler_rate_per_min") == "improved", (name, last)
        assert all(verdicts[k] == "usual" for k in verdicts if k not in SCORES), (name, last)
        if name == "real":  # espeak-ng's "um"s break its flat stretches: the constructed latest take is measurably
            # more monotone (monotone_ratio 0.6 against 0), and authenticity, which weighs it, is rightly worse
            assert all(verdicts[k] in ("usual", "improved") for k in SCORES), (name, last)  # clarity weighs fillers
        assert any("your filler words" in sentence for sentence in last["feedback"]), last["feedback"]
        assert last["feedback"][0] in answers[-1].json()["detailed_feedback"]

    mine = {"Authorization": f"Bearer {service.key}"}
    other = {"Authorization": f"Bearer {service.store.create_key('someone-else', 'Other', None)[0]}"}
    listed = httpx.get(f"{service.base_url}/api/v1/subjects", headers=mine).json()["subjects"]
    assert [(s["subject"], s["sessions"]) for s in listed] == [(name, 4) for name in sorted(series)]
    assert httpx.get(f"{service.base_url}/api/v1/subjects", headers=other).json()["subjects"] == []
    missing = httpx.get(f"{service.base_url}/api/v1/subjects/nobody/progress", headers=mine)
    theirs = httpx.get(f"{service.base_url}/api/v1/subjects/real/progress", headers=other)
    assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json()) == (404, missing.json())
    fillers = httpx.get(f"{service.base_url}/api/v1/subjects/real/progress", headers=mine).json()["series"]
    assert len(fillers["filler_rate_per_min"]) == 4
    erased = httpx.delete(f"{service.base_url}/api/v1/subjects/real", headers=mine)
    assert erased.json() == {"subject": "real", "deleted_sessions": 4} and _subject_rows(service, "real") == 0
    assert httpx.get(f"{service.base_url}/api/v1/subjects/real/progress", headers=mine).status_code == 404
