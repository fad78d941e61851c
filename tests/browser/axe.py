"""axe-core in the browser tests (vendored: tests/browser/vendor/README.md).

The page's Content-Security-Policy allows only its own scripts, so axe is not added as a
``<script>``: it is evaluated through the DevTools protocol (``page.evaluate``), which the
CSP does not govern, and the page under test stays exactly as a user gets it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

VENDOR = Path(__file__).resolve().parent / "vendor"


@cache
def axe_source() -> str:
    return (VENDOR / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Every axe-core violation on the page as it is now (default rule set: WCAG 2.x A
    and AA plus best practices), each with its rule, impact and the offending nodes."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' — ' + n.failureSummary)
            }));
        }"""
    )
    return list(result)


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        lines.extend(f"    {node}" for node in v["nodes"][:5])
    return "\n".join(lines)
