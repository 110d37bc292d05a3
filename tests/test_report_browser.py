"""The HTML report in a real headless browser (Debian's chromium): it loads without errors and shows its plots."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from oracles.render import write_all
from tests.test_render import synthetic_report

CHROMIUM = Path("/usr/bin/chromium")
REPORTS = Path(os.environ.get("MANUALBP_REPORTS_DIR") or Path(__file__).resolve().parents[1] / "reports")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium; "
                                                      "`make test` installs it when run as root)"),
]

# Appended to a COPY of the page: records load errors and each image's natural size in the DOM, so that
# --dump-dom shows them.  The report itself has no script.
PROBE = """<script>
window.__errors = [];
const what = e => e.message
  || ('failed to load ' + (e.target && (e.target.currentSrc || e.target.src || e.target.tagName)));
window.addEventListener('error', e => window.__errors.push(what(e).slice(0, 200)), true);
window.addEventListener('load', () => {
  const imgs = Array.from(document.images).map(i => ({alt: i.alt.slice(0, 60), complete: i.complete,
    w: i.naturalWidth, h: i.naturalHeight, shown: i.getBoundingClientRect().width}));
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({errors: window.__errors, images: imgs, title: document.title,
    sections: Array.from(document.querySelectorAll('main section h2')).map(h => h.textContent)});
  document.body.appendChild(out);
});
</script>"""


def _chromium(tmp_path: Path, page: Path, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    cmd = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--window-size=1280,2400",
           "--virtual-time-budget=10000", *extra, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=tmp_path)


def _probe(tmp_path: Path, html: Path) -> dict:
    probed = tmp_path / "probed.html"
    text = html.read_text(encoding="utf-8")
    probed.write_text(text.replace("</body>", PROBE + "\n</body>"), encoding="utf-8")
    run = _chromium(tmp_path, probed, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    m = re.search(r'<pre id="probe">(.*?)</pre>', run.stdout, re.S)
    assert m, "the page did not finish loading in chromium:\n" + run.stdout[:500] + run.stderr[-2000:]
    return json.loads(m.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


def _check_page(tmp_path: Path, html: Path, expected_images: int | None) -> None:
    probe = _probe(tmp_path, html)
    assert probe["errors"] == []
    assert probe["title"] == "manualbp report"
    assert "Summary" in probe["sections"]
    images = probe["images"]
    assert images, "no plots on the page"
    if expected_images is not None:
        assert len(images) == expected_images
    for img in images:
        assert img["complete"] and img["w"] > 100 and img["h"] > 100, img
        assert img["shown"] > 100, img

    shot = tmp_path / "page.png"
    run = _chromium(tmp_path, html, f"--screenshot={shot}")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size == (1280, 2400)
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 500  # text, tables and plots, not a blank page


def test_synthetic_report_renders_with_its_plots(tmp_path):
    paths = write_all(synthetic_report(), tmp_path / "report")
    _check_page(tmp_path, paths["html"], expected_images=4)


def test_committed_report_renders_with_its_plots(tmp_path):
    html = REPORTS / "index.html"
    if not html.exists():
        pytest.skip("reports/ is not committed yet (run `make report`)")
    copy = tmp_path / "index.html"
    shutil.copyfile(html, copy)
    _check_page(tmp_path, copy, expected_images=None)
