"""Screenshots with each interactive element labelled by its ref (browser_vision's `annotate`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from playwright.async_api import Error, Page

from trajforge.tools.browser.session import ACTION_TIMEOUT_MS, BrowserProblem

if TYPE_CHECKING:
    from trajforge.tools.browser.session import BrowserSession

MAX_LABELS = 60
_OVERLAY_ID = "__trajforge_refs"
_DRAW = """(boxes) => {
  const layer = document.createElement('div');
  layer.id = 'OVERLAY';
  layer.style.cssText = 'position:absolute;left:0;top:0;z-index:2147483647;pointer-events:none';
  for (const b of boxes) {
    const tag = document.createElement('div');
    tag.textContent = b.ref;
    tag.style.cssText = `position:absolute;left:${b.x + window.scrollX}px;top:${b.y + window.scrollY}px;` +
      'background:#ffeb3b;color:#000;font:bold 11px monospace;padding:0 2px;border:1px solid #000';
    layer.appendChild(tag);
  }
  document.body.appendChild(layer);
}""".replace("OVERLAY", _OVERLAY_ID)
_REMOVE = f"() => document.getElementById('{_OVERLAY_ID}')?.remove()"


async def annotated_screenshot(session: BrowserSession, page: Page) -> tuple[bytes, list[dict[str, Any]]]:
    """A PNG of the viewport with ref labels drawn over the elements of a fresh compact snapshot."""
    snap = await session.snapshot(full=False)
    boxes = []
    for ref in snap.refs[:MAX_LABELS]:
        try:
            # The element is there (element() counted it): the action timeout, not a short one, so a
            # busy machine does not drop labels (a recording and its replay label the same elements).
            box = await (await session.element(ref)).bounding_box(timeout=ACTION_TIMEOUT_MS)
        except (Error, BrowserProblem):
            continue
        if box is not None:
            boxes.append({"ref": f"@{ref}", "x": round(box["x"]), "y": round(box["y"]),
                          "width": round(box["width"]), "height": round(box["height"])})  # fmt: skip
    await page.evaluate(_DRAW, boxes)
    try:
        png = await page.screenshot()
    finally:
        await page.evaluate(_REMOVE)
    return png, boxes
