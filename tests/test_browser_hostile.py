"""Issue 16, hostile and careless input, in the real app (`streamlit run`, headless Debian Chromium): each bad upload
goes through the Data page's real file input and "Validate and load", gets its own message, and leaves the cohort
that was loaded before it working (the Data page names it, another page draws its chart from it).

The empty cohort and the large junk file start from an earlier upload (40 of the default cohort's patients, as one
.zip) rather than from the default cohort, so that "the previous cohort stays loaded" cannot pass by falling back to
the default; the other refusals go through the same path (a refused upload never replaces the session's cohort) and
start from the default cohort, which saves an upload each."""

from __future__ import annotations

import functools
import io
import json
import random
import string
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tests.test_browser import CHROMIUM, ROOT, SHOTS, wait_idle
from tests.test_browser import page as page  # the module-scoped fixtures: one server and browser for this module
from tests.test_browser import server as server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (apt-get install chromium)"),
]

DEFAULT = ROOT / "data" / "default_cohort"
TEMPLATE = ROOT / "data" / "template"
DEFAULT_NAME = "Synthetic MIS-C cohort (reconstructed from published summaries)"
EARLIER = "Earlier upload (40 patients)"
MIME = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".zip": "application/zip",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
REFUSED = "The upload was not loaded"


# ------------------------------------------------------------------------------------------------ payloads
def _tables() -> dict[str, pd.DataFrame]:
    """The default cohort's tables as text, exactly as in the files."""
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(DEFAULT.glob("*.csv"))}


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _files(tables: dict[str, pd.DataFrame], name: str) -> dict[str, bytes]:
    """A cohort as the files an uploader sends: one CSV per table and metadata.json naming the cohort."""
    files = {f"{t}.csv": _csv(df) for t, df in tables.items()}
    files["metadata.json"] = json.dumps({"name": name, "synthetic": True}).encode()
    return files


def _default_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(DEFAULT.iterdir())}


@functools.cache
def _earlier_zip() -> bytes:
    """The cohort loaded before each hostile upload: the default cohort's first 40 patients, as one .zip."""
    tables = _tables()
    keep = set(tables["patients"]["patient_id"].iloc[:40])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in _files({t: df[df["patient_id"].isin(keep)] for t, df in tables.items()}, EARLIER).items():
            z.writestr(name, data)
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------ the Data page
def _uploader(pg):
    return pg.locator('[data-testid="stFileUploader"]').first


def _upload(pg, files: dict[str, bytes], until: str, synthetic: bool = True, timeout: float = 90_000) -> None:
    """On the Data page: empty the uploader, send ``files`` through its real <input type=file>, answer the synthetic
    question, press "Validate and load" and wait until ``until`` is on the page."""
    up = _uploader(pg)
    while up.locator('[data-testid="stFileChipDeleteBtn"] button').count():
        up.locator('[data-testid="stFileChipDeleteBtn"] button').first.click()
        wait_idle(pg)
    up.locator('input[type="file"]').set_input_files(
        [{"name": n, "mimeType": MIME.get(Path(n).suffix.lower(), "text/csv"), "buffer": b} for n, b in files.items()]
    )
    pg.wait_for_function(
        "(n) => { const b = [...document.querySelectorAll('[data-testid=\"stMain\"] button')]"
        ".find(b => b.innerText.trim() === 'Validate and load');"
        " return b && !b.disabled && document.querySelectorAll('[data-testid=\"stFileChip\"]').length === n; }",
        arg=len(files),
        timeout=timeout,
    )
    wait_idle(pg)
    box = pg.get_by_role("checkbox", name="These are synthetic patients")
    if box.is_checked() != synthetic:
        pg.locator('[data-testid="stCheckbox"]', has_text="These are synthetic patients").locator("label").click()
        wait_idle(pg)
        assert box.is_checked() == synthetic
    pg.get_by_role("button", name="Validate and load").click()
    pg.wait_for_function("(t) => document.body.innerText.includes(t)", arg=until, timeout=timeout)
    wait_idle(pg)


def _open_data(pg, server, earlier: bool = True) -> None:
    """A new session on the Data page; with ``earlier``, the 40-patient upload loaded first."""
    pg.goto(f"{server}/data")
    wait_idle(pg)
    if earlier:
        _upload(pg, {"earlier.zip": _earlier_zip()}, until="— n = 40")
        assert f"{EARLIER} — synthetic; 40 patients rows" in pg.inner_text("body")


def _problems(pg) -> str:
    """The refusal and the text of the problems grid under it (the grid's accessible table holds the cells of its
    visible rows)."""
    alert = pg.locator('[data-testid="stAlert"]', has_text=REFUSED)
    assert alert.count() == 1, pg.inner_text("body")[:3000]
    grid = pg.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').first
    grid.wait_for(timeout=30_000)
    pg.wait_for_function(
        '() => document.querySelector(\'[data-testid="stMain"] [data-testid="stDataFrame"] td\') !== null',
        timeout=30_000,
    )
    return alert.inner_text() + "\n" + (grid.text_content() or "")


def _nav(pg, title: str) -> None:
    pg.locator('[data-testid="stSidebarNavLink"]', has_text=title).first.click()
    wait_idle(pg)


def _still_works(pg, name: str = EARLIER, n: int = 40, back: bool = False) -> None:
    """The cohort loaded before the refused upload is still the session's cohort: the Data page names it and the
    upload form is there, the Fever page draws its chart for its n patients, and no page shows an exception."""
    body = pg.inner_text("body")
    assert f"{name} — synthetic; {n} patients rows" in body
    assert "Load your own cohort" in body and _uploader(pg).count() == 1
    assert pg.locator('[data-testid="stException"]').count() == 0
    _nav(pg, "Fever")
    pg.wait_for_function("(n) => document.body.innerText.includes('— n = ' + n)", arg=n, timeout=30_000)
    pg.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    assert pg.locator('[data-testid="stException"]').count() == 0
    if back:  # and the Data page again, with the same cohort
        _nav(pg, "Data")
        assert f"{name} — synthetic; {n} patients rows" in pg.inner_text("body")


def _back_to_default(pg) -> None:
    pg.get_by_role("button", name="Back to the reconstructed default cohort").click()
    pg.wait_for_function(
        "(t) => document.body.innerText.includes(t)", arg=f"{DEFAULT_NAME} — synthetic; 46 patients rows"
    )
    wait_idle(pg)
    assert "— n = 46" in pg.inner_text("body")
    assert pg.get_by_role("button", name="Back to the reconstructed default cohort").is_disabled()


def _set(df: pd.DataFrame, row: int, col: str, value: str) -> pd.DataFrame:
    df = df.copy()
    df.loc[row, col] = value
    return df


# ------------------------------------------------------------------------------------------------ the cases
def test_a_cohort_with_no_patients_is_refused_and_the_upload_page_stays_usable(page, server):
    """The app's own empty template (every table, headers only) is not a cohort: refused with a message naming
    patients.csv; the earlier cohort stays loaded, and the upload form still works (here: back to the default)."""
    _open_data(page, server)
    _upload(page, {p.name: p.read_bytes() for p in sorted(TEMPLATE.glob("*.csv"))}, until=REFUSED)
    text = _problems(page)
    assert "patients.csv" in text and "has no patients" in text
    _still_works(page, back=True)
    _back_to_default(page)


def test_infinite_numbers_are_rejected(page, server):
    """`inf`, `Infinity` and `1e309` in a numeric column are three problems naming the column and the value."""
    _open_data(page, server, earlier=False)
    tables = _tables()
    pts = tables["patients"]
    for row, value in ((0, "inf"), (1, "Infinity"), (2, "1e309")):
        pts = _set(pts, row, "age_years", value)
    _upload(page, _files({**tables, "patients": pts}, "Infinite ages"), until=REFUSED)
    text = _problems(page)
    assert "3 problem(s)" in text
    assert "age_years" in text and "not a valid float" in text
    for value in ("inf", "Infinity", "1e309"):
        assert value in text
    _still_works(page, DEFAULT_NAME, 46)


def test_invisible_and_text_direction_characters_are_flagged(page, server):
    """An id that differs from another only by a zero-width space, and a text with a right-to-left override, are
    flagged as containing an invisible or text-direction control character."""
    _open_data(page, server, earlier=False)
    tables = _tables()
    pts = _set(tables["patients"], 1, "patient_id", "SYN-001\u200b")
    pts = _set(pts, 2, "race", "Wh\u202eite")
    _upload(page, _files({**tables, "patients": pts}, "Hidden characters"), until=REFUSED)
    text = _problems(page)
    assert text.count("contains an invisible or text-direction control character") >= 2
    assert "patient_id" in text and "race" in text
    _still_works(page, DEFAULT_NAME, 46)


def _junk_csv(size: int = 12 << 20) -> bytes:
    """~12 MB: the patients header, then rows of random words (every typed column wrong in every row)."""
    header = (DEFAULT / "patients.csv").read_text(encoding="utf-8").splitlines()[0]
    r = random.Random(16)
    words = ["".join(r.choices(string.ascii_letters + string.digits + " .-", k=r.randint(1, 12))) for _ in range(5000)]
    ncol = header.count(",") + 1
    out, n = [header], len(header)
    while n < size:
        line = ",".join(r.choices(words, k=ncol))
        out.append(line)
        n += len(line) + 1
    return ("\n".join(out) + "\n").encode()


def test_a_large_junk_file_is_answered_with_the_first_problems_and_a_count(page, server):
    """A 12 MB junk patients.csv (100 000 rows of random words) is answered, not left running: the first problems
    row by row, a count per rule for the rest ("… and N more rows"), a bounded total; and the app still works.
    (The bound is generous: this is not a speed test.)"""
    _open_data(page, server)
    junk = _junk_csv()
    assert len(junk) > 12 << 20
    t0 = time.monotonic()
    _upload(page, {"patients.csv": junk}, until=REFUSED, timeout=120_000)
    answered = time.monotonic() - t0
    text = _problems(page)
    assert answered < 60, f"the junk upload took {answered:.0f} s to answer"
    assert "patients.csv" in text and "not a valid float" in text and "value not allowed" in text
    count = int(text.split(REFUSED + ": ", 1)[1].split(" problem", 1)[0])
    assert 0 < count < 5000, count  # the first rows of each problem and one summary each, not 1.3 M rows
    # scroll the problems grid (from its end: the summaries follow the listed rows) until a summary row is drawn
    found = page.evaluate(
        """async () => {
            const grid = document.querySelector('[data-testid="stMain"] [data-testid="stDataFrame"]');
            const scroller = grid.querySelector('.dvn-scroller');
            const first = () => (grid.querySelector('tbody tr') || {}).textContent;
            const step = Math.max(scroller.clientHeight - 70, 100);
            for (let top = scroller.scrollHeight; top > -step; top -= step) {
                const before = first();
                scroller.scrollTop = Math.max(top, 0);
                for (let k = 0; k < 40 && first() === before; k++) await new Promise(r => setTimeout(r, 25));
                const m = grid.textContent.match(/… and (\\d+) more rows with the same problem/);
                if (m) return m[0];
            }
            return null;
        }"""
    )
    assert found and int(found.split()[2]) > 0, found
    _still_works(page)


def test_semicolon_and_latin1_files_are_recognised_and_named(page, server):
    """A semicolon-separated patients.csv and a Latin-1 labs.csv: each is named with what it is and how to save it;
    no server temp folder appears in the messages."""
    _open_data(page, server, earlier=False)
    files = _default_files()
    files["patients.csv"] = files["patients.csv"].replace(b",", b";")
    files["labs.csv"] = files["labs.csv"].decode().replace("U/L", "µmol/l é", 5).encode("latin-1")
    _upload(page, files, until=REFUSED)
    text = _problems(page)
    assert "is separated by semicolons, not commas" in text
    assert "is not UTF-8 text (it looks like Windows-1252 / Latin-1" in text
    assert "patients.csv" in text and "labs.csv" in text
    assert "/tmp" not in text and "site-packages" not in text
    _still_works(page, DEFAULT_NAME, 46)


def test_file_names_match_the_tables_whatever_their_case(page, server):
    """`Patients.CSV` (and `ECHO.csv`) are the patients and echo tables: the upload loads all 46 patients and every
    table; then the default cohort is one click away."""
    _open_data(page, server, earlier=False)
    tables = _tables()
    files = _files(tables, "Mixed-case file names")
    files["Patients.CSV"] = files.pop("patients.csv")
    files["ECHO.csv"] = files.pop("echo.csv")
    _upload(page, files, until="Mixed-case file names — synthetic; 46 patients rows")
    body = page.inner_text("body")
    assert f"{len(tables['echo'])} echo rows" in body
    assert "is ignored" not in body and "unknown table" not in body and REFUSED not in body
    assert page.get_by_role("button", name="Back to the reconstructed default cohort").is_enabled()
    _nav(page, "Cardiac")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    assert "— n = 46" in page.inner_text("body")
    _nav(page, "Data")
    _back_to_default(page)


def test_an_xlsx_with_csvs_is_not_silently_preferred(page, server):
    """One workbook uploaded together with CSV files: the workbook is the cohort, and each CSV left out is named
    on the page as ignored."""
    from misc_dash.loading import cohort_xlsx, export_metadata, validate_files

    _open_data(page, server, earlier=False)  # it loads: the earlier upload would only be replaced
    cohort, problems = validate_files(_default_files())
    assert cohort is not None, problems
    workbook = cohort_xlsx(cohort.tables, export_metadata(cohort, cohort.tables, "Workbook cohort", "46 patients"))
    files = {
        "cohort.xlsx": workbook,
        **{k: v for k, v in _default_files().items() if k in ("patients.csv", "labs.csv")},
    }
    _upload(page, files, until="Workbook cohort — synthetic; 46 patients rows")
    body = page.inner_text("body")
    for name in ("patients.csv", "labs.csv"):
        assert f"{name}: is ignored: cohort.xlsx was uploaded with it" in body, body[:3000]
    _back_to_default(page)


LINK = '<a href="https://example.org/evil">x</a>'
BOLD = '<b style="color:red">BOLDMARK</b>'
URL = "https://autolink.example.org/path"

# any live link to the data's URLs (HTML or SVG, xlink too), and any element holding the marked text that is a <b>
# or drawn red: the data's markup applied
_MARKUP_JS = """() => {
    const bad = [];
    for (const el of document.querySelectorAll('*')) {
        for (const a of el.attributes) {
            if (/href$/i.test(a.name) && a.value.includes('example.org')) bad.push(el.tagName + ' ' + a.value);
        }
        const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('');
        if (own.includes('BOLDMARK')) {
            const s = getComputedStyle(el);
            if (el.tagName.toLowerCase() === 'b' || s.color === 'rgb(255, 0, 0)' || s.fill === 'rgb(255, 0, 0)')
                bad.push(el.tagName + ' styled: ' + own);
        }
    }
    return bad;
}"""

# hover every point of every trace that carries the data's text, and check the hover label each time
_HOVER_JS = (
    """async () => {
    const check = """
    + _MARKUP_JS
    + """;
    const bad = [], seen = [];
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
        if (!gd.offsetParent || !gd.data) continue;
        for (let i = 0; i < gd.data.length; i++) {
            const t = gd.data[i];
            if (!/BOLDMARK|example\\.org/.test(JSON.stringify(t))) continue;
            // the points whose own values carry the text (or the first point, when only the trace's name does)
            const marked = new Set();
            for (const k of ['x', 'y', 'text', 'hovertext', 'customdata', 'labels']) {
                const arr = Array.isArray(t[k]) ? t[k] : [];
                arr.forEach((v, j) => { if (/BOLDMARK|example\\.org/.test(JSON.stringify(v))) marked.add(j); });
            }
            const points = marked.size ? [...marked].slice(0, 8) : [0];
            for (const j of points) {
                Plotly.Fx.hover(gd, [{curveNumber: i, pointNumber: j}]);
                await new Promise(r => setTimeout(r, 70));
                const label = gd.querySelector('.hoverlayer');
                if (label && label.textContent) seen.push(label.textContent);
                bad.push(...check());
            }
            Plotly.Fx.unhover(gd);
        }
    }
    return {bad, seen: seen.filter(s => /BOLDMARK|example/.test(s))};  // the labels that showed the data's text
}"""
)


def test_data_text_is_never_rendered_as_markup(page, server):
    """A real-marked cohort whose first patient's id is an <a href> (in every table), another's id a <b style>, a
    race that is a <b style> and an ethnicity and cohort name holding a URL: on Anakinra dosing, Cardiac, Labs and
    the Data page nothing from the data becomes a link or bold red text: not in the page, the legends or the
    plotly hover labels; and the URL is not auto-linked."""
    _open_data(page, server, earlier=False)  # it loads: the earlier upload would only be replaced
    tables = _tables()
    ids = {"SYN-001": LINK, "SYN-002": BOLD}
    tables = {t: df.assign(patient_id=df["patient_id"].replace(ids)) for t, df in tables.items()}
    pts = _set(tables["patients"], 2, "race", BOLD)
    pts = _set(pts, 3, "ethnicity", f"see {URL}")
    tables["patients"] = pts
    files = _files(tables, f"Markup cohort {BOLD} from {URL}")
    _upload(page, files, until="— n = 46", synthetic=False)
    assert page.locator('[data-testid="stException"]').count() == 0
    # a real cohort's hovers say "a patient": show the ids, so that the hover labels do carry the marked-up ids
    toggle = page.locator('[data-testid="stSidebar"] [data-testid="stCheckbox"]', has_text="Show patient ids")
    toggle.locator("label").click()
    wait_idle(page)
    assert toggle.locator("input").is_checked()
    assert page.evaluate(_MARKUP_JS) == []
    hovered = 0
    for title in ("Anakinra dosing", "Cardiac", "Labs"):
        _nav(page, title)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        page.wait_for_timeout(500)
        assert page.locator('[data-testid="stException"]').count() == 0, title
        assert page.evaluate(_MARKUP_JS) == [], title
        out = page.evaluate(_HOVER_JS)
        assert out["bad"] == [], (title, out["bad"])
        hovered += len(out["seen"])
        page.screenshot(path=str(SHOTS / f"hostile_markup_{title.split()[0].lower()}.png"), full_page=True)
    assert hovered > 0  # hover labels did show the marked-up ids and values (as text)
    _nav(page, "Data")
    assert page.evaluate(_MARKUP_JS) == []
    assert URL in page.inner_text("body") or "autolink" in page.inner_text("body")


FORMULAS = {
    (0, "race"): '=HYPERLINK("http://x","y")',
    (1, "race"): "+1+2",
    (2, "race"): "-1-2",
    (3, "ethnicity"): "@SUM(1+1)",
}


def _download(pg, label: str) -> bytes:
    with pg.expect_download(timeout=60_000) as dl:
        pg.locator('[data-testid="stDownloadButton"] button', has_text=label).first.click()
    return Path(dl.value.path()).read_bytes()


def _formula_cells(workbook: bytes) -> dict[tuple[int, str], tuple[str, object]]:
    """(row, column) → (openpyxl data type, value) of the formula-like cells in the patients sheet."""
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(workbook))["patients"]
    rows = list(ws.iter_rows())
    header = [c.value for c in rows[0]]
    return {
        (r, col): (rows[r + 1][header.index(col)].data_type, rows[r + 1][header.index(col)].value)
        for r, col in FORMULAS
    }


def test_formula_like_text_is_downloaded_as_text_and_loads_back(page, server):
    """Text cells starting with =, +, -, @ load; the filtered-cohort downloads write them as text (.xlsx: string
    cells, never formulas; .zip of CSVs: quote-prefixed), and each download loads back through the uploader with
    the same text."""
    _open_data(page, server, earlier=False)  # it loads: the earlier upload would only be replaced
    tables = _tables()
    pts = tables["patients"]
    for (row, col), value in FORMULAS.items():
        pts = _set(pts, row, col, value)
    _upload(page, _files({**tables, "patients": pts}, "Formula-like text"), until="Formula-like text — synthetic")
    assert REFUSED not in page.inner_text("body")

    workbook = _download(page, "patients (.xlsx")
    cells = _formula_cells(workbook)
    for key, value in FORMULAS.items():
        assert cells[key] == ("s", value), (key, cells[key])
    archive = _download(page, "patients (.zip of CSVs)")
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        name = next(n for n in z.namelist() if n.lower().endswith("patients.csv"))
        csv_text = z.read(name).decode("utf-8-sig")
    got = pd.read_csv(io.StringIO(csv_text), dtype=str, keep_default_na=False)
    for (row, col), value in FORMULAS.items():
        assert got.loc[row, col][:1] not in "=+-@", got.loc[row, col]  # a spreadsheet opens it as text
        assert got.loc[row, col].endswith(value)

    # both downloads load back through the uploader, with the same text
    _upload(page, {"filtered.zip": archive}, until="Formula-like text (filtered) — synthetic; 46 patients rows")
    assert REFUSED not in page.inner_text("body")
    _back_to_default(page)
    _upload(page, {"filtered.xlsx": workbook}, until="Formula-like text (filtered) — synthetic; 46 patients rows")
    assert REFUSED not in page.inner_text("body")
    again = _formula_cells(_download(page, "patients (.xlsx"))
    assert again == cells
    assert page.locator('[data-testid="stException"]').count() == 0
