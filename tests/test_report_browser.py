"""The demo report read as a person reads it: in a real headless Chromium (Debian's, installed by the Makefile's
set-up) at a phone's 390 px and a laptop's 1,400 px, in Japanese and in English, and its CSV files read back as
Excel reads them. Screenshots are kept under out/screenshots/ (CI artefacts)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, sample_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = REPO / "out" / "screenshots"
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

# measured inside an iframe of the given width (headless Chromium will not make its window narrower than 500 px):
# the page's scroll width, every element that ends right of the viewport outside a scrolling table wrapper, every
# stage and issue anchor with no link to it, and every chart without an axis label
_PROBE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="{src}" style="width:{width}px;height:1600px;border:0"></iframe><pre id="r"></pre>
<script>
document.getElementById("f").onload = function () {{
  var d = this.contentDocument, w = this.contentWindow.innerWidth, out = [];
  d.querySelectorAll("body *").forEach(function (el) {{
    if (el.closest(".scroll") || el.closest("svg") && el.tagName !== "svg") return;
    if (el.getBoundingClientRect().right > w + 1) out.push(el.tagName + "." + el.className);
  }});
  var links = new Set(Array.from(d.querySelectorAll("a[href^='#']")).map(function (a) {{ return a.getAttribute("href").slice(1); }}));
  var unlinked = Array.from(d.querySelectorAll("[id^='stage-'], [id^='issue-']")).map(function (e) {{ return e.id; }})
      .filter(function (id) {{ return !links.has(id); }});
  var charts = Array.from(d.querySelectorAll("svg.chart"));
  var bare = charts.filter(function (s) {{ return !s.querySelector(".axis-label") || !s.querySelector(".axis-label").textContent.trim(); }}).length;
  document.getElementById("r").textContent = JSON.stringify({{scroll: d.documentElement.scrollWidth, width: w,
      overflow: out.slice(0, 10), unlinked: unlinked, charts: charts.length, bare_charts: bare,
      svg_without_text: Array.from(d.querySelectorAll("svg")).filter(function (s) {{ return !s.querySelector("text"); }}).length,
      issues: d.querySelectorAll("[id^='issue-']").length, stages: d.querySelectorAll("[id^='stage-']").length}});
}};
</script></body></html>"""


def _chromium(*args: str) -> str:
    assert CHROMIUM, "chromium is not installed: run `make test` (its set-up installs Debian's chromium as root)"
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--allow-file-access-from-files", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _probe(report: Path, width: int, tmp: Path) -> dict:
    probe = tmp / f"probe-{width}.html"
    probe.write_text(_PROBE.format(src=report.as_uri(), width=width), encoding="utf-8")
    dom = _chromium("--window-size=1500,1700", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    found = re.search(r'<pre id="r">(.*?)</pre>', dom, re.S)
    assert found and found.group(1), "the probe did not run in Chromium"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


@pytest.fixture(scope="module")
def reports(fresh_run, tmp_path_factory):
    """The sample's report in Japanese (the run's own) and re-rendered in English from a copy of its store."""
    from flows.nightly import rerender

    ja = Path(fresh_run["summary"]["report"])
    tmp = tmp_path_factory.mktemp("en")
    shutil.copytree(Path(fresh_run["config"]).parent, tmp / "run", dirs_exist_ok=True)
    raw = Path(fresh_run["config"]).read_text(encoding="utf-8")
    en_config = tmp / "run" / "en.yaml"
    old_root = str(Path(fresh_run["config"]).parent)
    en_config.write_text(raw.replace(old_root, str(tmp / "run")).replace("language: ja", "language: en"),
                         encoding="utf-8")
    en = Path(rerender(str(en_config))["report"])
    assert "language: en" in en_config.read_text(encoding="utf-8") and en != ja
    return {"ja": ja, "en": en}


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("width", [390, 1400])
def test_the_report_reads_at_phone_and_laptop_width(reports, lang, width, tmp_path):
    report = reports[lang]
    html = report.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    seen = _probe(report, width, tmp_path)
    assert seen["width"] == width
    assert seen["scroll"] <= width, f"the page scrolls sideways: {seen['scroll']} px > {width} px, {seen['overflow']}"
    assert not seen["overflow"], seen["overflow"]
    assert seen["stages"] >= 5 and seen["issues"] >= 3, seen
    assert not seen["unlinked"], f"no link reaches {seen['unlinked']}"
    assert seen["charts"] >= 2 and seen["bare_charts"] == 0 and seen["svg_without_text"] == 0, seen
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"report-{lang}-{width}.png"
    _chromium(f"--window-size={width},2400", f"--screenshot={shot}", report.as_uri())
    assert shot.stat().st_size > 10_000


def test_the_english_report_is_english(reports):
    html = reports["en"].read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", html.split("<body>", 1)[1])
    for heading in ("What to act on first", "What changed since the last run", "Needs follow-up", "Glossary"):
        assert heading in text
    assert not re.search(r"\b1 items\b", text)
    assert 'class="quote en"' in html and 'class="quote ja"' not in html
    for jargon in ("外れ値", "bench", "改善余地"):
        assert jargon not in text and jargon not in reports["ja"].read_text(encoding="utf-8")
    # issues are named in English: an English issue by its own claim (no Japanese name before it, as in the
    # Japanese run's report), a Japanese one by an English name with its own after it where one fits
    names = dict(re.findall(r'class="pp" id="issue-([a-z]+-[0-9]+)">\s*<div class="head"><div><span '
                            r'class="rank">[0-9]+</span><span class="label">(.*?)</span>', html))
    assert any(i.startswith("ja-") for i in names) and any(i.startswith("en-") for i in names)
    assert not [n for i, n in names.items() if i.startswith("en-") and _JAPANESE.search(n)], names
    assert sum(bool(re.match(r"[A-Za-z]", n)) for i, n in names.items() if i.startswith("ja-")) >= 2, names


def test_the_first_screen_says_what_to_do_first_and_states_its_windows(reports):
    html = reports["ja"].read_text(encoding="utf-8")
    todo = html.split('id="todo"', 1)[1].split("<h2", 1)[0]
    assert todo.count('href="#issue-') >= 3 and "直近" not in todo.split("</ol>")[-1]
    changes = html.split('id="changes"', 1)[1].split("<h2", 1)[0]
    assert "直近7日" in changes or "前回から目立った変化はありません" in changes
    assert "時刻は Asia/Tokyo" in html
    # every issue card carries its full verbatim list, without near-duplicates
    cards = html.split('class="pp" id="issue-')[1:]
    assert cards and all("<details>" in c for c in cards)


def test_csv_files_open_in_excel_as_they_are(reports):
    out = reports["ja"].parent
    files = sorted(out.glob("*.csv"))
    assert {"followup.csv", "pain_points.csv", "issue_weekly.csv"} <= {f.name for f in files}
    for path in files:
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name} has no BOM: Japanese Excel reads it as mojibake"
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        for row in rows[1:]:
            for cell in row:
                assert not cell.lstrip("\t\r ").startswith(("=", "+", "@")) or re.fullmatch(r"[+-]?[\d.]+", cell), \
                    f"{path.name}: a cell starts with a formula character"
    followup = list(csv.DictReader(io.StringIO((out / "followup.csv").read_text(encoding="utf-8-sig"))))
    assert followup and {"priority", "new", "owner", "status"} <= set(followup[0])
    # times in the config's time zone, as in the report
    assert all(r["created_at"].endswith("+09:00") for r in followup)
    priorities = [float(r["priority"]) for r in followup]
    assert priorities == sorted(priorities, reverse=True)
