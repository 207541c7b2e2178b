"""Runs axe-core (vendored, test-only) in a Playwright page against WCAG 2.1 A and AA.

The app's CSP (`script-src 'self'`) blocks an injected <script> tag, so axe's source is
evaluated through the DevTools protocol instead: that is not subject to the page's CSP and
leaves no console error behind.
"""

from functools import cache
from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_SOURCE = Path(__file__).resolve().parent / "vendor" / f"axe-core-{AXE_VERSION}.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((rule) => ({
    id: rule.id,
    impact: rule.impact,
    help: rule.help,
    nodes: rule.nodes.map((node) => ({target: node.target, html: node.html})),
  }));
}"""


@cache
def _source() -> str:
    return AXE_SOURCE.read_text(encoding="utf-8")


def violations(page) -> list[dict]:
    """axe's WCAG 2.1 A/AA violations on the page as it is now (an empty list when clean)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_source())
    return page.evaluate(RUN, WCAG_21_AA)


def describe(name: str, found: list[dict]) -> str:
    """One line per rule and one per offending element, short enough to read in a failure."""
    lines = [f"{name}: {len(found)} accessibility rule(s) violated"]
    for rule in found:
        lines.append(f"  [{rule['impact']}] {rule['id']}: {rule['help']}")
        for node in rule["nodes"][:5]:
            target = " ".join(
                " >> ".join(part) if isinstance(part, list) else part for part in node["target"]
            )
            snippet = " ".join(node["html"].split())[:160]
            lines.append(f"      {target}    {snippet}")
        if len(rule["nodes"]) > 5:
            lines.append(f"      … and {len(rule['nodes']) - 5} more")
    return "\n".join(lines)


def check_accessibility(page, name: str) -> None:
    """Fails with a readable list of what axe finds against WCAG 2.1 AA on the page."""
    found = violations(page)
    assert not found, describe(name, found)
