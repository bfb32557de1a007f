"""What the browser tests share: the console watcher, the accessibility checks (ours, and
axe-core's) and the screenshots.

axe-core comes from the npm registry, fetched once by tools/ensure-services.sh into the
git-ignored .cache/axe-core (never from a CDN); each page gets it injected from there. When
it is missing the check fails under CI (CI set) and skips elsewhere.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[2] / ".cache" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")  # what fails a page; minor and moderate are left to review


class Console:
    """The page's console errors, uncaught exceptions and failed loads of scripts, styles,
    images and data (none may happen). A page answered with 401 or 403 on purpose (a wrong
    password, a reader denied) is a document, not a failed resource: the browser's own
    "Failed to load resource" line for it is left out."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _response(self, response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.errors.append(f"{response.status} {response.url}")


# what every page must have for people using a screen reader or a keyboard: one h1, the
# landmarks, a name for every control, a text alternative for every image, and ids once
ACCESSIBILITY = """() => {
  const problems = [];
  const named = (el) => (el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")
    || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest("label")
    || el.getAttribute("title"));
  if (document.querySelectorAll("h1").length !== 1) problems.push("not one h1");
  if (!document.querySelector("main")) problems.push("no main landmark");
  if (!document.querySelector("nav[aria-label]")) problems.push("no named nav landmark");
  if (!document.documentElement.lang) problems.push("no lang");
  document.querySelectorAll("input:not([type=hidden]), select, textarea").forEach((el) => {
    if (!named(el)) problems.push("unlabelled " + el.outerHTML.slice(0, 80));
  });
  document.querySelectorAll("button, a").forEach((el) => {
    if (!el.textContent.trim() && !el.getAttribute("aria-label"))
      problems.push("nameless " + el.outerHTML.slice(0, 80));
  });
  document.querySelectorAll("img").forEach((el) => {
    if (!el.hasAttribute("alt")) problems.push("no alt " + el.outerHTML.slice(0, 80));
  });
  document.querySelectorAll("iframe").forEach((el) => {
    if (!el.title) problems.push("untitled iframe");
  });
  const ids = [...document.querySelectorAll("[id]")].map((el) => el.id)
    .filter((id) => !id.startsWith("plotly") && !/^[a-f0-9]{6}$/.test(id));
  ids.filter((id, i) => ids.indexOf(id) !== i).forEach((id) => problems.push("id twice " + id));
  return problems;
}"""


def watched_page(browser, url: str, height: int = 1000):
    """A page in a new browser context at ``url`` (a generator for a fixture to ``yield
    from``): closed after the test, which then fails on any console error it saw."""
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": height})
    page = context.new_page()
    console = Console(page)
    yield page
    context.close()
    assert console.errors == []


def wait_drawn(page, timeout_ms: float = 60_000) -> None:
    """Until every chart of the page is drawn. (Not the network's idleness: a page that
    polls, a deployment's live traffic, may never be idle on a loaded machine.)"""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.plot')].every(p => p.dataset.drawn === 'true')",
        timeout=timeout_ms)


def shoot(page, shots, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


@cache
def axe_source() -> str:
    if not AXE.is_file():
        message = (f"axe-core is missing ({AXE}): run bash tools/ensure-services.sh (it "
                   "fetches it from the npm registry)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


# axe's findings that fail a page, one line each: the rule, its impact, where
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter((v) => SERIOUS.includes(v.impact)).flatMap((v) =>
    v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(" ")}: ${v.help}`));
}""".replace("SERIOUS", repr(list(SERIOUS)))


def axe_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    return page.evaluate(AXE_RUN)


def accessibility_problems(page) -> list[str]:
    """Our own checks (one h1, named landmarks and controls, ids once), then axe-core's."""
    return [*page.evaluate(ACCESSIBILITY), *axe_violations(page)]
