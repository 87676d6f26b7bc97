"""Render an nckh e-mail's HTML body and photograph it with headless Chromium.

    .venv/bin/python docs/screenshots/render_email.py [KIND] [--lang vi|en] [--out FILE.png]

Uses the packaged templates and the sample data `nckh mail check` renders (nothing is sent, no
database is touched). Needs Chromium: on Debian/Ubuntu the script installs the `chromium`
package with apt-get when it runs as root and finds no browser; otherwise it says what to install.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str:
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        print("installing chromium with apt-get …", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "chromium"], check=True,
                       stdout=subprocess.DEVNULL)
        if path := shutil.which("chromium"):
            return path
    raise SystemExit("no Chromium found: install it (Debian/Ubuntu: sudo apt-get install "
                     "chromium) and run again")


def main() -> None:
    from engine.settings import load_settings
    from notifications.catalog import load_catalog
    from notifications.config import mail_config
    from notifications.render import Renderer
    from notifications.samples import sample_context

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", nargs="?", default="reminder")
    ap.add_argument("--lang", choices=("vi", "en"), default="vi")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--width", type=int, default=760)
    ap.add_argument("--height", type=int, default=1250)
    args = ap.parse_args()
    out = args.out or ROOT / "docs" / "screenshots" / f"{args.kind}-{args.lang}.png"

    settings = load_settings(env={
        "NCKH_DATA_DIR": tempfile.gettempdir(), "NCKH_OFFICE_EMAIL": "pnvy@syt.example.vn"})
    cfg = mail_config(settings)
    cfg = cfg.__class__(**{**cfg.__dict__, "office": {
        **cfg.office, "agency": "Sở Y tế tỉnh Vĩnh Phúc", "phone": "0211 3 000 000",
        "address": "Thành phố Vĩnh Yên, tỉnh Vĩnh Phúc"}})
    catalog = load_catalog()
    ctx = sample_context(cfg, catalog, args.kind, args.lang)
    if args.kind not in catalog.events.values():
        ctx["event"] = None  # only transitions carry an event's fields and reason
    # The seed plan itself (../shared/seeds/003): a real, public document, so nothing invented.
    ctx["plan"] = "Kế hoạch số 57/KH-SYT ngày 03 tháng 3 năm 2025 của Sở Y tế tỉnh Vĩnh Phúc"
    rendered = Renderer(catalog).render(args.kind, args.lang, ctx)
    browser = find_browser()
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "mail.html"
        header = (f"<div style=\"font:13px Arial;padding:8px 12px;background:#fff;"
                  f"border-bottom:1px solid #ccc\"><b>Subject:</b> {rendered.subject}</div>")
        # The subject line a mail client shows above the body, for the reviewer's eye.
        outer = "<table role=\"presentation\" width=\"100%\""
        page.write_text(rendered.html.replace(outer, header + outer, 1), encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([browser, "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", f"--window-size={args.width},{args.height}",
                        f"--screenshot={out}", page.as_uri()], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       cwd=tmp)
    print(f"subject: {rendered.subject}")
    print(f"screenshot: {out}")


if __name__ == "__main__":
    main()
