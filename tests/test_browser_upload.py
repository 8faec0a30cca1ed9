"""Playwright against the real app (issue 16): a hospital's cohort uploaded as one .zip through the browser's file
input loads; a warehouse export in a .zip with its saved mapping is mapped on the Data page and loads; the pages
then show the uploaded cohort."""

from __future__ import annotations

import io
import zipfile

from tests import warehouse
from tests.test_browser import page, pytestmark, server, wait_idle  # noqa: F401 (fixtures)

ZIP = "application/zip"


def _default_cohort_zip() -> bytes:
    from misc_dash.loading import DEFAULT_COHORT_DIR

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(DEFAULT_COHORT_DIR.glob("*.csv")):
            zf.writestr(f"hospital_cohort/{p.name}", p.read_bytes())
    return buf.getvalue()


def _mapping_bytes() -> bytes:
    return warehouse.mapping_text().encode()


def _open_data(pg, url: str):
    pg.goto(url + "/data")
    wait_idle(pg)


def _idle(pg):
    pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    pg.wait_for_timeout(400)
    pg.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)


def _upload(pg, files):
    pg.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(files)
    pg.wait_for_function(
        f"() => document.querySelectorAll('[data-testid=\"stFileChip\"]').length >= {len(files)}",
        timeout=60_000,
    )
    _idle(pg)


def _nav(pg, label: str):
    """Go to another page in the same session (a new URL would start a new session, without the upload)."""
    pg.locator('[data-testid="stSidebarNavLink"]', has_text=label).first.click()
    _idle(pg)


def _back_to_default(pg):
    pg.get_by_role("button", name="Back to the reconstructed default cohort").click()
    _idle(pg)


def test_a_zip_upload_through_the_browser_loads(page, server):  # noqa: F811
    _open_data(page, server)
    _upload(page, [{"name": "hospital_cohort.zip", "mimeType": ZIP, "buffer": _default_cohort_zip()}])
    page.get_by_role("button", name="Validate and load").click()
    page.wait_for_function("() => document.body.innerText.includes('as loaded')", timeout=60_000)
    _idle(page)
    body = page.inner_text("body")
    assert "hospital_cohort.zip — as loaded; 46 patients rows" in body
    _nav(page, "Fever")
    page.wait_for_function("() => document.body.innerText.includes('Loaded: hospital_cohort.zip')", timeout=60_000)
    body = page.inner_text("body")
    assert "Loaded: hospital_cohort.zip (46 patients)" in body and "SYNTHETIC COHORT" not in body
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    _nav(page, "Data & fidelity")
    _back_to_default(page)
    assert "Synthetic" in page.inner_text("body")


def test_a_warehouse_export_zip_with_its_saved_mapping_maps_and_loads(page, server):  # noqa: F811
    _open_data(page, server)
    page.get_by_text("Another export: map its columns").click()
    _idle(page)
    _upload(
        page,
        [
            {"name": "warehouse.zip", "mimeType": ZIP, "buffer": warehouse.export_zip()},
            {"name": "hospital.mapping.json", "mimeType": "application/json", "buffer": _mapping_bytes()},
        ],
    )
    page.wait_for_function("() => document.body.innerText.includes('saved mapping you uploaded')", timeout=60_000)
    page.get_by_role("button", name="Preview and check").click()
    page.wait_for_function("() => document.body.innerText.includes('passes every check')", timeout=60_000)
    page.get_by_role("button", name="Load with this mapping").click()
    page.wait_for_function("() => document.body.innerText.includes('Warehouse export')", timeout=60_000)
    _idle(page)
    assert "as loaded" in page.inner_text("body")
    _nav(page, "Table 1")
    page.wait_for_function("() => document.body.innerText.includes('Loaded: Warehouse export')", timeout=60_000)
    assert "IVIG monotherapy: 14" in page.inner_text("body")  # the same 46 patients: 14 on IVIG monotherapy
    _nav(page, "Data & fidelity")
    _back_to_default(page)
