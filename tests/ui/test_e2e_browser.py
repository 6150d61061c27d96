"""End to end in a real browser: `streamlit run ui/app.py` on a free port, driven by headless Chromium.

An account is created before the server starts; the user logs in through the form, logs a cue on the Quick log, finds it on Search in other words, opens the entry,
and opens the QA page; every page is saved as a screenshot in docs/screenshots/. Start-up is measured:
process start to the first usable page, and the model load time reported by the app (loaded once).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Screenshots go to docs/screenshots/ when TACITKB_SCREENSHOTS=1 (to refresh the README's pictures);
# otherwise to a temporary folder, so a test run leaves the work tree clean.
SHOTS = (
    REPO / "docs" / "screenshots"
    if os.environ.get("TACITKB_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "tacitkb-screenshots"
)
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
]
CUE = "Harvest bag smelled sharply of vinegar and the inline pH read 6.6 right after the Benzonase spike"
QUERY = "sour acetic odour from the harvest, acidic pH once nuclease was added"
TIMEOUT_MS = 90_000
USER = "ana.operator"
PASSWORD = "vinegar-harvest-25"
ADMIN_PASSWORD = "admin-password-25"


def _loud_skip(reason: str) -> None:
    message = f"\n{'!' * 78}\nE2E BROWSER TEST SKIPPED: {reason}\n{'!' * 78}\n"
    sys.stderr.write(message)
    pytest.skip(f"E2E BROWSER TEST SKIPPED: {reason}")


def chromium_path() -> str:
    """Return Debian's chromium executable, or skip loudly."""
    for candidate in (os.environ.get("TACITKB_CHROMIUM"), shutil.which("chromium"), *CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    _loud_skip("no chromium executable (install it with `apt-get install -y chromium`)")
    raise AssertionError("unreachable")


def create_accounts(home: Path, db: str | None = None) -> None:
    """The first admin, and the engineer account the journey logs in with (as `tacitkb users create`).

    `db`: a shared database URL (postgresql://...) instead of the SQLite file in `home`.
    """
    from kb.governance.roles import Actor
    from kb.governance.users import create_user
    from kb.knowledge_base import KnowledgeBase

    base = KnowledgeBase(home, db=db)
    try:
        create_user(base, "admin", "admin", ADMIN_PASSWORD, by=None)
        create_user(base, USER, "engineer", PASSWORD, by=Actor("admin", "admin"), full_name="Ana Operator")
    finally:
        base.close()


# Issue 16 item 7: user-supplied fields that Markdown would turn into an image fetch, a link or a colour.
HOSTILE_HOST = "127.0.0.9"
HOSTILE_TITLE = f"![x](http://{HOSTILE_HOST}/title.png) [login here](http://{HOSTILE_HOST}/phish) :red[ALERT]"
HOSTILE = {
    "type": "deviation",
    "title": HOSTILE_TITLE,
    "text": "Glowing tubing clamp hostile-marker-zebra after the transfer panel was swapped",
    "process": "LVV",
    "site": f"<img src=http://{HOSTILE_HOST}/site.png>",
    "batch": f"[batch](http://{HOSTILE_HOST}/batch)",
}


def shown(text: str) -> str:
    """Return text as the app shows it: a word joiner after http/www/@ keeps GFM from making links."""
    return re.sub(r"(?i)\b(https?|www)(?=[:.])|(@)", lambda m: (m.group(1) or m.group(2)) + "\u2060", text)


def create_hostile_entries(home: Path, embedder) -> dict[str, str]:
    """A deviation whose title, site, batch and author are Markdown attacks, and a fix linked to it."""
    from kb.knowledge_base import KnowledgeBase

    with KnowledgeBase(home, embedder=embedder) as base:
        bad = base.add(dict(HOSTILE), author=f"[boss](http://{HOSTILE_HOST}/author)")
        fix = base.add(
            {"type": "fix", "text": "Clamp replaced with the validated part", "process": "LVV"}, author="x"
        )
        base.link(bad.id, "fixed_by", fix.id, author="x")
        return {"bad": bad.id, "fix": fix.id}


def free_port() -> int:
    """Return a free TCP port on localhost."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until the Streamlit server answers its health check."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("streamlit did not become healthy in time")


def start_streamlit(home: Path, log_path: Path, **env: str) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run ui/app.py` headless on a free port over $TACITKB_HOME=home; return (process, url).

    Extra keyword arguments are environment variables (e.g. TACITKB_DB=url); output goes to log_path.
    """
    port = free_port()
    env = {
        **os.environ,
        "TACITKB_HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        **env,
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO / "ui" / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def stop_streamlit(proc: subprocess.Popen) -> None:
    """Stop a server started by start_streamlit (terminate, then kill after 20 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server(sample_kb_dir: Path, tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[dict]:
    """A Streamlit server over a copy of the sample knowledge base; yields url, start time and log path."""
    chromium_path()
    pytest.importorskip("playwright.sync_api", reason="E2E BROWSER TEST SKIPPED: pip install playwright")
    home = tmp_path_factory.mktemp("e2e") / "kb"
    shutil.copytree(sample_kb_dir, home)
    create_accounts(home)
    hostile = create_hostile_entries(home, embedder)
    log_path = home.parent / "streamlit.log"
    started = time.monotonic()
    proc, url = start_streamlit(home, log_path)
    try:
        wait_healthy(url, proc)
        yield {
            "url": url,
            "started": started,
            "log": log_path,
            "healthy_s": time.monotonic() - started,
            "hostile": hostile,
        }
    finally:
        stop_streamlit(proc)


@pytest.fixture(scope="module")
def browser_page(server: dict) -> Iterator:
    """A headless Chromium page (Debian's chromium, launched by Playwright)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 2000})
        page.set_default_timeout(TIMEOUT_MS)
        yield page
        browser.close()


def settle(page) -> None:
    """Wait until Streamlit has finished the current run: no running indicator and no stale elements."""
    page.wait_for_timeout(400)
    page.wait_for_function(
        """() => {
            const status = document.querySelector('[data-testid="stStatusWidget"]');
            const running = status && status.innerText.includes('Running');
            return !running && !document.querySelector('[data-stale="true"]');
        }""",
        timeout=TIMEOUT_MS,
    )
    page.wait_for_timeout(300)


def blur(page) -> None:
    """Commit the focused text box the way a user does: click outside it."""
    page.get_by_role("heading").first.click()
    settle(page)


def textbox(page, label):
    """Return the text input or text area with this label."""
    name = label if not isinstance(label, str) else re.compile(rf"^{re.escape(label)}")
    return page.get_by_role("textbox", name=name).first


def choose(page, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox by its label."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label).first
    box.click()
    page.get_by_role("option", name=option, exact=False).first.click()
    settle(page)


def go(page, title: str) -> None:
    """Navigate with the sidebar (same session, so the user's identity is kept)."""
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    settle(page)


def log_in(page, url: str, user: str, password: str) -> None:
    """Open the app in a new session and log in through the form; wait for the Quick log page."""
    page.goto(url)
    textbox(page, "Account name").wait_for(state="visible")
    settle(page)
    textbox(page, "Account name").fill(user)
    page.locator("input[type=password]").first.fill(password)
    page.get_by_role("button", name="Log in").click()
    settle(page)
    textbox(page, "What you noticed").wait_for(state="visible")


def shot(page, name: str) -> None:
    """Save a screenshot (see SHOTS for where)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(5, 5)  # no hover tooltips in the picture
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_browser_journey(server: dict, browser_page) -> None:
    page = browser_page
    page.goto(server["url"])
    textbox(page, "Account name").wait_for(state="visible")
    first_page_s = time.monotonic() - server["started"]
    settle(page)

    # Log in: asked once per session; a wrong password is a message, then the right one opens the app.
    textbox(page, "Account name").fill(USER)
    page.locator("input[type=password]").first.fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    settle(page)
    page.get_by_text("wrong user name or password").first.wait_for()
    shot(page, "login.png")
    textbox(page, "Account name").fill(USER)
    page.locator("input[type=password]").first.fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    settle(page)
    textbox(page, "What you noticed").wait_for(state="visible")
    page.get_by_test_id("stSidebar").get_by_text(USER).first.wait_for()
    page.get_by_role("button", name="Log out").wait_for()

    # Quick log: similar entries appear while typing, before saving.
    choose(page, "Process", "Lentiviral vector")
    choose(page, "Site", "Leiden")
    choose(page, "Step", "Nuclease treatment")
    textbox(page, "Batch").fill("LV-25-050")
    blur(page)
    textbox(page, "What you noticed").fill(CUE)
    page.get_by_text("Why it matched").first.wait_for()
    settle(page)
    textbox(page, "What you did").fill("Held the harvest, informed MSAT, took a retain for acetate.")
    blur(page)
    shot(page, "quick_log.png")
    page.get_by_role("button", name="Save cue").click()
    settle(page)
    saved = page.get_by_text(re.compile(r"Saved KB-\d{6}")).first
    saved.wait_for()
    entry_id = re.search(r"KB-\d{6}", saved.inner_text()).group(0)

    # Search for it in other words.
    go(page, "Search")
    box = textbox(page, "Describe the problem in your own words")
    box.fill(QUERY)
    box.press("Enter")
    settle(page)
    page.get_by_text("Why it matched").first.wait_for()
    assert page.get_by_text(entry_id).count() > 0, f"{entry_id} not found by '{QUERY}'"
    shot(page, "search.png")

    # Open the entry.
    page.get_by_role("button", name=f"Open {entry_id}").first.click()
    settle(page)
    page.get_by_role("heading", name=re.compile(entry_id)).wait_for()
    page.get_by_text(re.compile(rf"by {re.escape(USER)} ")).first.wait_for()
    settle(page)
    shot(page, "entry.png")

    # QA: the planted clarification drift shows.
    go(page, "Deviation clusters and drift")
    page.get_by_text(re.compile(r"Drift signals \(\d+\)")).wait_for()
    settle(page)
    assert page.get_by_text(re.compile(r"clarification", re.I)).count() > 0
    shot(page, "qa.png")

    # The other pages render in the browser too.
    go(page, "Coverage")
    page.get_by_text("Gaps (").first.wait_for()
    settle(page)
    shot(page, "coverage.png")

    go(page, "Workshop")
    page.get_by_role("button", name="Start workshop").wait_for()
    choose(page, "Template", "ACTA knowledge audit")
    choose(page, "Process", "Lentiviral vector")
    choose(page, "Site", "Leiden")
    page.get_by_role("button", name="Start workshop").click()
    settle(page)
    page.get_by_role("button", name="Next").click()
    settle(page)
    page.get_by_text("Ask:").first.wait_for()
    textbox(page, re.compile("Aspect of expertise")).fill(
        "Day 3 culture looked grainy before the count dropped"
    )
    blur(page)
    shot(page, "workshop.png")

    go(page, "Import")
    csv = server["log"].parent / "floor_notes.csv"
    csv.write_text(
        "type,text,process,step,site,occurred_at\n"
        "cue,Bag felt warm at receipt,CAR-T,apheresis_receipt,LEI,2025-08-01\n"
        "cue,,CAR-T,expansion,LEI,2025-08-02\n"
        "cue,Clumps on day 5,CAR-T,expansion,LEI,03/08/2025\n"
    )
    page.locator("input[type=file]").set_input_files(str(csv))
    page.get_by_text("Rejected rows").first.wait_for()
    settle(page)
    shot(page, "import.png")

    # Start-up: measured here, and the app's own account (model loaded once for all of the above).
    log = server["log"].read_text()
    loads = re.findall(r"model loaded in ([\d.]+) s", log)
    first = re.findall(r"first page rendered ([\d.]+) s after process start", log)
    print(
        f"\nSTARTUP: server healthy {server['healthy_s']:.1f} s; first usable page in the browser "
        f"{first_page_s:.1f} s after process start; app: model load {loads} s, first page {first} s"
    )
    assert len(loads) == 1, f"the model must load exactly once per process, log says {loads}"


def test_hostile_fields_render_as_plain_text_on_every_page(server: dict, browser_page) -> None:
    page = browser_page
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url) if HOSTILE_HOST in request.url else None)
    bad, fix = server["hostile"]["bad"], server["hostile"]["fix"]

    def no_markup_from_data() -> None:
        assert page.locator(f"img[src*='{HOSTILE_HOST}']").count() == 0
        assert page.locator(f"a[href*='{HOSTILE_HOST}']").count() == 0

    def find(query: str, entry_id: str) -> None:
        go(page, "Search")
        box = textbox(page, "Describe the problem in your own words")
        box.fill(query)
        box.press("Enter")
        settle(page)
        page.get_by_role("button", name=f"Open {entry_id}").first.wait_for()

    try:
        log_in(page, server["url"], USER, PASSWORD)  # a new session: the login form first
        # Search results: the hostile title is shown as typed, with the snippet and the fix's link.
        find("glowing tubing clamp hostile-marker-zebra", bad)
        page.get_by_text(shown(HOSTILE_TITLE), exact=False).first.wait_for()
        no_markup_from_data()
        # The entry itself: title, meta line (site, batch), author, as literal text.
        page.get_by_role("button", name=f"Open {bad}").first.click()
        settle(page)
        page.get_by_role("heading", name=re.compile(re.escape(bad))).wait_for()
        page.get_by_text(shown(HOSTILE_TITLE)).first.wait_for()
        page.get_by_text(shown(f"by [boss](http://{HOSTILE_HOST}/author)"), exact=False).first.wait_for()
        page.get_by_text(shown(HOSTILE["site"]), exact=False).first.wait_for()
        no_markup_from_data()
        # The linked fix shows the hostile title among its links.
        find("Clamp replaced with the validated part", fix)
        page.get_by_role("button", name=f"Open {fix}").first.click()
        settle(page)
        page.get_by_role("heading", name=re.compile(re.escape(fix))).wait_for()
        page.get_by_text(shown(HOSTILE_TITLE), exact=False).first.wait_for()
        no_markup_from_data()
        for title in ("Deviation clusters and drift", "Coverage", "Quick log"):
            go(page, title)
            no_markup_from_data()
    except Exception:
        shot(page, "hostile-failure.png")
        raise
    assert fetched == [], f"the browser fetched from the attacker's host: {fetched}"
