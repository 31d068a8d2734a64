"""Capture a page of a running Horde site as a PNG (the README's screenshot).

    python scripts/screenshot.py [--base-url http://127.0.0.1:8000] [--path /kudos/]
                                 [--username demo --password demo-password] [--out docs/screenshot.png]

Logs in first when a username is given, then saves the page (at most --max-height
pixels tall). Uses Playwright with Debian's Chromium, as the browser tests do.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (one browser set-up for tests and this)


def capture(*, base_url: str, path: str, username: str, password: str, width: int, max_height: int) -> bytes:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base_url, viewport={"width": width, "height": 800})
        page = context.new_page()
        page.set_default_timeout(15_000)
        if username:
            page.goto("/accounts/login/")
            page.fill("input[name=login]", username)
            page.fill("input[name=password]", password)
            page.get_by_role("button", name="Sign In").click()
            page.wait_for_load_state("networkidle")
            if "/accounts/login/" in page.url:
                raise SystemExit(f"Log-in as {username!r} failed.")
        page.goto(path)
        page.wait_for_load_state("networkidle")
        height = min(page.evaluate("document.documentElement.scrollHeight"), max_height)
        png = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
        browser.close()
    return png


def shrink(png: bytes) -> bytes:
    """A palette PNG: the site's flat dark colours survive, the file gets several times smaller."""
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--path", default="/kudos/")
    parser.add_argument("--username", default="demo", help="log in as this user first ('' for none)")
    parser.add_argument("--password", default="demo-password")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--max-height", type=int, default=1000)
    args = parser.parse_args()
    png = shrink(
        capture(
            base_url=args.base_url,
            path=args.path,
            username=args.username,
            password=args.password,
            width=args.width,
            max_height=args.max_height,
        )
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png)
    print(f"{out} ({len(png) // 1024} KiB)")


if __name__ == "__main__":
    main()
