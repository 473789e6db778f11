"""The report's first screen as a reader sees it, for the README: `python -m bench.screens [REPORT.html]` takes
the newest report under out/reports/ (what `make demo` wrote) and saves headless-Chromium screenshots at a
phone's 390 x 844 px and a laptop's 1,400 x 900 px to bench/results/report/."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bench.common import RESULTS

REPO = Path(__file__).resolve().parents[1]
SIZES = {"390": "390,844", "1400": "1400,900"}


def main(report: Path | None = None) -> list[Path]:
    if report is None:
        found = sorted((REPO / "out" / "reports").glob("*/report.html"), key=lambda p: p.stat().st_mtime)
        if not found:
            raise SystemExit("no report under out/reports: run `make demo` first")
        report = found[-1]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("chromium is not installed: `make sysdeps` (as root) installs Debian's")
    out = RESULTS / "report"
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    for name, size in SIZES.items():
        shot = out / f"first-screen-{name}.png"
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--window-size={size}", f"--screenshot={shot}", report.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
        shots.append(shot)
        print(f"{shot.relative_to(REPO)} ({size.replace(',', ' x ')} px) from {report}")
    return shots


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
