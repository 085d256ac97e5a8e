"""End to end in a real browser: Debian's Chromium, driven by Playwright, against the real Serve application.

Signs in, generates a key, copies it, calls the API with it, revokes it and sees the call fail, then uploads a
video in the Reports tab and checks the rendered report (scores, chart, transcript, moments that seek the
player) against the JSON the page received; then the report history (a job of the account's beside the upload, the
progress chart) and the upload's report reopened. Screenshots of every page go to tests/artifacts/.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from softskills.auth.accounts import AccountStore
from testkit.service_runner import REPO, running_service
from tests.job_support import submit, wait_for

pytestmark = pytest.mark.integration
SUBJECT = "e2e-practice"

CHROMIUM = Path("/usr/bin/chromium")  # installed by scripts/install-system-deps.sh; never `playwright install`
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "tests" / "artifacts"
EMAIL, PASSWORD = "e2e@example.com", "an end-to-end password"
AUTH_CACHE_S = 5  # documented bound: a revoked key is refused on every replica within 5 s


@pytest.fixture(scope="module")
def service(tmp_path_factory, talking_head_videos):
    with running_service(tmp_path_factory.mktemp("dashboard")) as running:
        AccountStore(f"sqlite:///{running.log_path.parent / 'softskills.db'}").create_account(EMAIL, PASSWORD)
        yield running


@pytest.fixture
def page(service):
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: run `make system-deps`")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=service.base_url, viewport={"width": 1280, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service.base_url)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
        yield page
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def test_keys_flow_and_report_in_the_browser(service, page, talking_head_videos):
    from playwright.sync_api import expect

    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/dashboard/login$"))
    shot(page, "01-sign-in")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/dashboard/keys$"))
    expect(page.locator("text=No keys yet")).to_be_visible()
    shot(page, "02-api-keys-empty")

    page.fill("#generate-form input[name=name]", "E2E Key")
    page.select_option("#generate-form select[name=expires]", "90d")
    page.click("#generate-form button[type=submit]")
    expect(page.locator(".warning")).to_contain_text("This key will not be shown again")
    shown_key = page.input_value("#new-key-value")
    page.click("#copy-key")
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == shown_key and re.fullmatch(r"ng_[0-9A-Za-z]{46}", copied)
    shot(page, "03-key-generated")
    prefix = copied[:13]

    video = talking_head_videos["script_webm"]
    api = service.post("/api/v1/full-analysis", video.path, headers={"Authorization": f"Bearer {copied}"})
    assert api.status_code == 200, api.text
    video_url = api.json()["videoUrl"]
    assert video_url.startswith(f"{service.base_url}/media/")
    uploaded = Path(video.path).read_bytes()
    ranged = httpx.get(video_url, headers={"Range": "bytes=100-1099"})
    assert ranged.status_code == 206 and ranged.content == uploaded[100:1100]
    assert httpx.get(video_url.replace("signature=", "signature=x")).status_code == 403

    page.goto("/dashboard/keys")
    row = page.locator(f'tr[data-prefix="{prefix}"]')
    expect(row.locator("td").nth(4)).not_to_have_text("Never")  # last used
    expect(row.locator(".status")).to_have_text("active")
    row.locator("text=Revoke").click()
    expect(page.locator("h1")).to_contain_text("Revoke “E2E Key”?")
    shot(page, "04-revoke-confirm")
    page.click("#confirm-revoke")
    expect(page.locator(".notice")).to_contain_text(f"Revoked {prefix}")
    expect(page.locator(f'tr[data-prefix="{prefix}"] .status')).to_have_text("revoked")
    shot(page, "05-api-keys-revoked")
    time.sleep(AUTH_CACHE_S)
    refused = service.post("/api/v1/analyze-video", video.path, headers={"Authorization": f"Bearer {copied}"})
    assert refused.status_code == 401 and refused.json() == {"detail": "Invalid or expired API key."}

    page.click("text=Reports")
    expect(page).to_have_url(re.compile(r"/dashboard/reports$"))
    shot(page, "06-reports-empty")
    page.set_input_files("#video-file", video.path)
    page.fill("input[name=context_phrase]", "team results presentation")
    page.fill("input[name=subject]", SUBJECT)  # the session is kept under it: the progress chart's points
    with page.expect_response(re.compile(r"/dashboard/reports/analyze$"), timeout=600_000) as answer:
        page.click("#upload-button")
        expect(page.locator("#progress-text")).to_contain_text(re.compile("Uploading|Processing"))
    assert answer.value.status == 200
    body = answer.value.json()
    analysis = body["video_analysis"]
    expect(page.locator("#report")).to_be_visible()
    expect(page.locator("#overall-score")).to_have_text(str(analysis["overall_score"]))
    assert analysis["progress"]["sessions_needed"] == 3  # the subject's first session
    expect(page.locator("#progress-feedback li")).to_have_text(analysis["progress"]["feedback"])
    points = page.evaluate("document.getElementById('time-chart').data[0].y")
    assert points == [row["overall_score"] for row in analysis["time_series_scores"]] and len(points) >= 2
    expect(page.locator("#time-chart .main-svg").first).to_be_visible()
    transcript = page.locator("#transcript").inner_text().lower()
    assert sum(word.lower().strip(".,") in transcript for word in video.words) >= 0.7 * len(video.words)
    long_pauses = [m for m in analysis["labeled_moments"] if m["type"] == "long_pause"]
    assert long_pauses and page.locator("#transcript .pause").count() == len(long_pauses)
    fillers = [m for m in analysis["labeled_moments"] if m["type"] == "filler"]
    words = body["transcript_details"]["words"]
    filler_words = sum(any(w["start_s"] < f["end_s"] and f["start_s"] < w["end_s"] for f in fillers) for w in words)
    assert page.locator("#transcript mark.filler").count() == filler_words
    expect(page.locator("#key-moments li")).to_have_count(len(analysis["key_moments"]))
    expect(page.locator("#labeled-moments li")).to_have_count(len(analysis["labeled_moments"]))

    player = page.locator("#player")
    assert player.get_attribute("src") == body["videoUrl"]
    page.wait_for_function("document.getElementById('player').readyState >= 1")  # metadata came over the URL
    index, target = max(enumerate(analysis["key_moments"]), key=lambda item: item[1]["start_s"])
    page.locator("#key-moments li").nth(index).locator("button").click()
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {target['start_s']}) < 0.5")
    page.evaluate("document.getElementById('player').pause()")
    shot(page, "07-report")
    assert page.errors == []

    # Report history: a job of this account's beside the upload, the progress chart (the subject's two sessions), and
    # a stored report reopened.
    job_key, _ = service.store.create_key(EMAIL, "Jobs", None)
    job_id = submit(service, video.path, key=job_key, data={"analysis": "analyze-video", "subject": SUBJECT}).json()[
        "id"
    ]
    job = wait_for(service, job_id, key=job_key)
    page.goto("/dashboard/reports")
    rows = page.locator("tr[data-report]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Job")
    expect(rows.nth(0).locator(".status")).to_have_text("succeeded")
    expect(rows.nth(1)).to_contain_text("Upload")
    page.wait_for_function("(document.getElementById('progress-chart').data || []).length >= 1")
    progress = page.evaluate("document.getElementById('progress-chart').data[0].y")
    assert progress == [analysis["overall_score"], job["result"]["overall_score"]]  # oldest first
    shot(page, "08-report-history")
    rows.nth(1).locator("text=Open").click()
    expect(page).to_have_url(re.compile(r"/dashboard/reports/job_[\w-]{22}$"))
    expect(page.locator("#overall-score")).to_have_text(str(analysis["overall_score"]))
    page.wait_for_function("(document.getElementById('time-chart').data || []).length >= 1")
    assert page.evaluate("document.getElementById('time-chart').data[0].y") == points
    expect(page.locator("#key-moments li")).to_have_count(len(analysis["key_moments"]))
    shot(page, "09-report-reopened")
    assert page.errors == []
