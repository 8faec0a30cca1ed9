"""Issue 18, replicas behind a proxy: `deploy/replicas.sh 2 PORT` starts two replicas of the app and Debian's nginx
(deploy/nginx.conf) on loopback; two browser contexts in Debian's Chromium go through the proxy. One uploads a cohort
on the Data page while the other stays on the default cohort and changes a filter: both keep working, neither sees
the other's data, and nginx's access log shows every request of each browser (its replica cookie) on one replica,
one replica per browser, across reloads. Also through the proxy: the security headers, /_stcore/metrics refused,
/_stcore/health "ok", and the upload streamed to the replica, never spooled to nginx's disk. Nothing is left running
afterwards."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from email.message import Message
from pathlib import Path

import pandas as pd
import pytest

from tests.test_browser import CHROMIUM, LAUNCH_ARGS, ROOT, _free_port, wait_idle

NGINX = "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else shutil.which("nginx")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (apt-get install chromium)"),
    pytest.mark.skipif(NGINX is None, reason="Debian nginx not installed (apt-get install nginx-light)"),
]

COOKIE = "misc_replica"
PUBLIC_HOST = "misc-dash.test"  # resolved to 127.0.0.1 by Chromium's --host-resolver-rules
UPLOAD_N = 31
UPLOAD_NAME = f"Replica test upload ({UPLOAD_N} patients)"
DEFAULT_NAME = "Synthetic MIS-C cohort (reconstructed from published summaries)"
LOG_LINE = re.compile(r'"(?P<method>\S+) (?P<uri>\S+) [^"]*" (?P<status>\d+) \d+ up=(?P<up>\S+) key=(?P<key>\S*) ')


# ------------------------------------------------------------------------------------------------ the proxy
@pytest.fixture(scope="module")
def proxy():
    """deploy/replicas.sh 2 PORT in its own process group; yields (url, run directory, replica ports). Teardown stops
    it with SIGTERM (its trap stops nginx and the replicas), and checks that nothing of it is left."""
    run = Path(tempfile.mkdtemp(prefix="misc-replicas-test."))
    port = _free_port()
    ports: list[int] = []
    err = open(run / "replicas.stderr", "wb")  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(
        ["bash", str(ROOT / "deploy" / "replicas.sh"), "2", str(port)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=err,
        start_new_session=True,
        env={**os.environ, "REPLICAS_RUN_DIR": str(run), "NGINX": NGINX},
    )
    try:
        url = _read_url(proc, run, timeout=90)
        stderr = (run / "replicas.stderr").read_text()
        ports += [int(p) for p in re.findall(r"replica \d+: http://127\.0\.0\.1:(\d+)", stderr)]
        assert len(ports) == 2, stderr
        yield url, run, ports
    finally:
        _stop(proc)
        err.close()
        left = _leftovers(proc.pid, run, ports)
        shutil.rmtree(run, ignore_errors=True)
        assert not left, f"processes left running after replicas.sh stopped:\n{left}"


def _read_url(proc: subprocess.Popen, run: Path, timeout: float) -> str:
    """The first line replicas.sh prints on stdout: the proxy's URL, once it answers /_stcore/health."""
    deadline = time.time() + timeout
    line = b""
    while time.time() < deadline and not line.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            line += chunk
    if not line.endswith(b"\n"):
        pytest.fail(f"replicas.sh printed no URL in {timeout} s:\n" + (run / "replicas.stderr").read_text()[-3000:])
    url = line.decode().strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
    return url


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the script's trap stops nginx and the replicas
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever the trap missed (nothing, normally)
    proc.wait(10)


def _leftovers(pgid: int, run: Path, ports: list[int]) -> str:
    """What still runs of the process group, of nginx (its command line names the run directory) or of the
    replicas (theirs name their ports)."""
    time.sleep(0.5)
    patterns = [["-g", str(pgid)], ["-f", str(run)]] + [["-f", f"--server.port {p}( |$)"] for p in ports]
    out = []
    for args in patterns:
        res = subprocess.run(["pgrep", "-a", *args], capture_output=True, text=True, check=False)
        out += [line for line in res.stdout.splitlines() if "pgrep" not in line]
    return "\n".join(out)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, str]:
    """Status, headers (case-insensitive, repeated ones kept) and body of a GET."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode(errors="replace")


def _log(run: Path) -> list[dict[str, str]]:
    lines = (run / "access.log").read_text().splitlines()
    return [m.groupdict() for m in map(LOG_LINE.search, lines) if m]


def _upstream_of(run: Path, key: str, timeout: float = 5) -> str:
    """The replica that served the request with stickiness key ``key`` (nginx writes the line just after the
    response)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ups = {e["up"] for e in _log(run) if e["key"] == key}
        if ups:
            assert len(ups) == 1, ups
            return ups.pop()
        time.sleep(0.1)
    raise AssertionError(f"no access log line with key={key}")


def _security_headers(h) -> None:
    """``h``: an HTTPMessage (case-insensitive) or Playwright's headers (lower-case names)."""
    assert h.get("content-security-policy") == "frame-ancestors 'self'", h
    assert h.get("x-frame-options") == "SAMEORIGIN", h
    assert h.get("x-content-type-options") == "nosniff", h
    assert h.get("referrer-policy") == "no-referrer", h


# ------------------------------------------------------------------------------------------------ the cohort
def _upload_zip() -> bytes:
    """The default cohort's first UPLOAD_N patients, as one .zip of its CSVs (stored, not deflated: ~140 kB, larger
    than nginx's 16 kB request body buffer, so a spooled upload would show in its error log)."""
    tables = {
        p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in (ROOT / "data/default_cohort").glob("*.csv")
    }
    keep = set(tables["patients"]["patient_id"].iloc[:UPLOAD_N])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, df in sorted(tables.items()):
            z.writestr(f"{name}.csv", df[df["patient_id"].isin(keep)].to_csv(index=False, lineterminator="\n"))
        z.writestr("metadata.json", json.dumps({"name": UPLOAD_NAME, "synthetic": True}))
    return buf.getvalue()


def _upload(pg, data: bytes) -> None:
    """On the Data page: send the .zip through the real file input, tick "These are synthetic patients", load."""
    pg.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        [{"name": "replica_upload.zip", "mimeType": "application/zip", "buffer": data}]
    )
    pg.wait_for_function(
        "() => { const b = [...document.querySelectorAll('[data-testid=\"stMain\"] button')]"
        ".find(b => b.innerText.trim() === 'Validate and load');"
        " return b && !b.disabled && document.querySelectorAll('[data-testid=\"stFileChip\"]').length === 1; }",
        timeout=60_000,
    )
    wait_idle(pg)
    box = pg.get_by_role("checkbox", name="These are synthetic patients")
    if not box.is_checked():
        pg.locator('[data-testid="stCheckbox"]', has_text="These are synthetic patients").locator("label").click()
        wait_idle(pg)
    assert box.is_checked()
    pg.get_by_role("button", name="Validate and load").click()
    pg.wait_for_function("(n) => document.body.innerText.includes('— n = ' + n)", arg=UPLOAD_N, timeout=60_000)
    wait_idle(pg)


def _no_upload_seen(pg) -> None:
    body = pg.inner_text("body")
    assert f"n = {UPLOAD_N}" not in body and UPLOAD_NAME not in body and "replica_upload.zip" not in body


# ------------------------------------------------------------------------------------------------ the tests
def test_through_the_proxy_health_headers_and_metrics(proxy):
    url, _, ports = proxy
    status, headers, body = _get(url + "/_stcore/health")
    assert (status, body.strip()) == (200, "ok")
    _security_headers(headers)
    status, headers, body = _get(url + "/")
    assert status == 200 and '<div id="root">' in body
    _security_headers(headers)
    # a browser without the replica cookie gets one, from nginx, beside Streamlit's own cookies
    assert [c for c in headers.get_all("set-cookie", []) if c.startswith(f"{COOKIE}=") and "HttpOnly" in c], headers
    again = _get(url + "/", {"Cookie": f"{COOKIE}=abc"})[1].get_all("set-cookie") or []
    assert not [c for c in again if c.startswith(f"{COOKIE}=")], again  # and only once
    # the browser reads host-config at start: reachable
    assert _get(url + "/_stcore/host-config")[0] == 200
    # metrics refused in every spelling nginx normalises to it, with the headers on the error too
    for path in (
        "/_stcore/metrics",
        "/_stcore/metrics/",
        "//_stcore/metrics",
        "/_stcore/%6detrics",
        "/_stcore/metrics?families=session_state",
    ):
        status, headers, body = _get(url + path)
        assert status in (403, 404), (path, status)
        assert "session" not in body, path
        _security_headers(headers)
    assert _get(url + "/_stcore/agent/openapi.json")[0] == 404
    # ... while monitoring on the machine still reads each replica directly on its loopback port
    for p in ports:
        status, _, body = _get(f"http://127.0.0.1:{p}/_stcore/metrics")
        assert status == 200 and "session" in body


def test_one_failed_request_never_moves_a_browser(proxy):
    """The nginx.conf that replicas.sh generated: no upstream line lets nginx mark a replica down after a failure
    (max_fails=0; nginx's default max_fails=1 moves all of a replica's browsers for 10 s, and their sessions and
    uploads with them), and nginx drops idle upstream connections before the replica does (uvicorn's
    timeout_keep_alive, which Streamlit leaves at its default), so no request is sent on a connection being closed.
    (CI once logged one browser's static files on the other replica, after a reset keep-alive connection.)"""
    import inspect

    import uvicorn
    from streamlit.web.server.starlette import starlette_server

    _, run, ports = proxy
    conf = (run / "nginx.conf").read_text()
    upstream = re.search(r"upstream misc_dash \{(.*?)\n    \}", conf, re.S).group(1)
    body = [line.strip() for line in upstream.splitlines() if line.strip() and not line.strip().startswith("#")]
    servers = [line for line in body if line.startswith("server ")]
    assert servers == [f"server 127.0.0.1:{p} max_fails=0;" for p in ports], body
    nginx_idle = int(re.fullmatch(r"keepalive_timeout (\d+)s;", next(b for b in body if "keepalive_timeout" in b))[1])
    uvicorn_idle = inspect.signature(uvicorn.Config).parameters["timeout_keep_alive"].default
    assert "timeout_keep_alive" not in inspect.getsource(starlette_server)  # Streamlit keeps uvicorn's default
    assert nginx_idle < uvicorn_idle, (nginx_idle, uvicorn_idle)


def test_two_browsers_two_replicas_sticky_and_isolated(proxy):
    from playwright.sync_api import sync_playwright

    url, run, ports = proxy
    replicas = {f"127.0.0.1:{p}" for p in ports}
    # The browsers use a host name, as on a real server, not 127.0.0.1: Streamlit accepts the WebSocket when its
    # Origin matches the Host nginx forwards, or is a loopback address; a name on a port other than 80/443 shows
    # that nginx forwards the Host with its port.
    public = url.replace("127.0.0.1", PUBLIC_HOST)
    with sync_playwright() as p:
        args = [*LAUNCH_ARGS, f"--host-resolver-rules=MAP {PUBLIC_HOST} 127.0.0.1"]
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            # browser 1: no cookie yet; nginx sets one on the first response and keeps it on that replica
            ctx1 = browser.new_context(viewport={"width": 1400, "height": 1000})
            pg1 = ctx1.new_page()
            resp = pg1.goto(public + "/data")
            _security_headers(resp.headers)
            wait_idle(pg1)
            assert f"{DEFAULT_NAME} — synthetic; 46 patients rows" in pg1.inner_text("body")
            key1 = next(c["value"] for c in ctx1.cookies() if c["name"] == COOKIE)
            up1 = _upstream_of(run, key1)
            assert up1 in replicas

            # browser 2: a cookie that nginx's hash sends to the other replica (a fresh random cookie lands on the
            # same one half the time; this makes the test show both replicas at work)
            for _ in range(64):
                key2 = secrets.token_hex(16)
                _get(url + "/_stcore/health", {"Cookie": f"{COOKIE}={key2}"})
                if _upstream_of(run, key2) != up1:
                    break
            else:
                pytest.fail("no cookie reached the second replica in 64 tries")
            up2 = _upstream_of(run, key2)
            ctx2 = browser.new_context(viewport={"width": 1400, "height": 1000})
            ctx2.add_cookies([{"name": COOKIE, "value": key2, "url": public}])
            pg2 = ctx2.new_page()
            pg2.goto(public + "/fever")
            wait_idle(pg2)
            assert "All patients — n = 46" in pg2.inner_text("body")

            # browser 1 uploads a cohort of 31 patients through the proxy (an HTTP PUT, then the WebSocket)
            _upload(pg1, _upload_zip())
            body1 = pg1.inner_text("body")
            assert f"{UPLOAD_NAME} — synthetic; {UPLOAD_N} patients rows" in body1
            assert pg1.locator('[data-testid="stException"]').count() == 0

            # browser 2 keeps working on the default cohort: a filter change redraws its page
            _no_upload_seen(pg2)
            pg2.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
            thumb = pg2.locator('[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]').first
            thumb.focus()
            for _ in range(5):
                pg2.keyboard.press("ArrowRight")
            pg2.wait_for_function("() => !document.body.innerText.includes('All patients — n = 46')", timeout=30_000)
            wait_idle(pg2)
            assert "Age ≥ 6 — n = " in pg2.inner_text("body")
            assert pg2.locator('[data-testid="stException"]').count() == 0
            _no_upload_seen(pg2)

            # browser 1 still has its cohort on another page of its session
            pg1.locator('[data-testid="stSidebarNavLink"]', has_text="Fever").first.click()
            wait_idle(pg1)
            pg1.wait_for_function("(n) => document.body.innerText.includes('— n = ' + n)", arg=UPLOAD_N, timeout=30_000)
            pg1.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)

            # reloads: browser 2 is still on the default cohort; browser 1's reload is a new session, whose
            # cohort is the default one again (an upload lives in its session only)
            pg2.goto(public + "/data")
            wait_idle(pg2)
            assert f"{DEFAULT_NAME} — synthetic; 46 patients rows" in pg2.inner_text("body")
            _no_upload_seen(pg2)
            pg1.reload()
            wait_idle(pg1)
            assert "— n = 46" in pg1.inner_text("body")
            assert {c["value"] for c in ctx1.cookies() if c["name"] == COOKIE} == {key1}
            assert {c["value"] for c in ctx2.cookies() if c["name"] == COOKIE} == {key2}
            ctx1.close()
            ctx2.close()
        finally:
            browser.close()

    # stickiness, from nginx's access log: every request of each browser went to its one replica
    time.sleep(0.5)
    log = _log(run)
    for key, up in ((key1, up1), (key2, up2)):
        mine = [e for e in log if e["key"] == key]
        assert {e["up"] for e in mine} == {up}, [e for e in mine if e["up"] != up]
        streams = [e for e in mine if e["uri"].startswith("/_stcore/stream") and e["status"] == "101"]
        assert len(streams) >= 2, mine  # a WebSocket through the proxy per session (first visit and reload)
    assert {up1, up2} == replicas
    puts = [e for e in log if e["method"] == "PUT" and e["uri"].startswith("/_stcore/upload_file/")]
    assert puts and all(e["key"] == key1 and e["up"] == up1 and e["status"].startswith("2") for e in puts), puts
    # no request was retried on another replica (nginx would log "up=A, B")
    assert all(e["up"] in replicas or e["up"] == "-" for e in log), [e for e in log if "," in e["up"]]

    # nothing of the upload went to nginx's disk: it streamed to the replica (proxy_request_buffering off)
    errors = (run / "error.log").read_text()
    assert "temporary file" not in errors, errors
    # and no request failed on its way to a replica (a reset keep-alive connection, a replica marked down)
    assert "upstream" not in errors, errors
