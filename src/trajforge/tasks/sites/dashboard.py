"""Acme Metrics: figures and a chart image (for screenshot analysis), a data table, a panel that
JavaScript fills after a delay, and a status page whose scripts fail in the console."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from trajforge.tasks.sites.base import Site, esc, table

MONTHS = (("Jan", 31200), ("Feb", 28900), ("Mar", 35400), ("Apr", 41800), ("May", 39100), ("Jun", 48200))
FIGURES = (("Revenue (June)", "48,200 €"), ("Orders (June)", "312"), ("Refunds (June)", "7"),
           ("Conversion rate", "3.4%"))  # fmt: skip
LIVE_DELAY_MS = 1200
ACTIVE_USERS = "1,284"


class DashboardSite(Site):
    """The metrics dashboard; it keeps no state."""

    title = "Acme Metrics"
    nav = (("Overview", "/"), ("Data", "/data"), ("Live", "/live"), ("Status", "/status"))

    def routes(self) -> list[BaseRoute]:
        """The dashboard's pages and its two data endpoints."""
        return [
            Route("/", self.overview),
            Route("/chart.svg", self.chart),
            Route("/data", self.data),
            Route("/live", self.live),
            Route("/api/live", self.live_data),
            Route("/status", self.status),
        ]

    async def overview(self, request: Request) -> Response:
        cards = "".join(f'<div class="card"><p>{esc(k)}</p><p><strong>{esc(v)}</strong></p></div>' for k, v in FIGURES)
        body = (
            f'<h1>Sales overview, first half of 2026</h1><section aria-label="Key figures">{cards}</section>'
            '<figure><img src="/chart.svg" alt="Monthly revenue chart" width="600" height="320">'
            "<figcaption>Monthly revenue, January to June 2026</figcaption></figure>"
            '<p><a href="/data">View the data behind the chart</a></p>'
        )
        return self.page("Overview", body)

    async def chart(self, request: Request) -> Response:
        return Response(_chart_svg(), media_type="image/svg+xml")

    async def data(self, request: Request) -> Response:
        rows = [(m, f"{v:,}") for m, v in MONTHS]
        return self.page("Data", "<h1>Monthly revenue (€)</h1>" + table(("Month", "Revenue (€)"), rows))

    async def live(self, request: Request) -> Response:
        script = (
            "<script>setTimeout(async () => {const r = await fetch('/api/live'); const d = await r.json();"
            "document.getElementById('live').textContent = 'Active users right now: ' + d.active_users;"
            f"}}, {LIVE_DELAY_MS});</script>"
        )
        body = f'<h1>Live activity</h1><p id="live" aria-live="polite">Loading live figures…</p>{script}'
        return self.page("Live", body)

    async def live_data(self, request: Request) -> Response:
        return JSONResponse({"active_users": ACTIVE_USERS})

    async def status(self, request: Request) -> Response:
        script = (
            "<script>console.warn('Widget cache is stale (age 3 days)');"
            "console.error('Failed to load widget \"revenue-forecast\": quota exceeded (code Q-429)');"
            "document.getElementById('state').textContent = 'Some widgets failed to load.';"
            "window.metrics.render();</script>"
        )
        body = f'<h1>System status</h1><p id="state">Checking…</p>{script}'
        return self.page("Status", body)


def _chart_svg() -> str:
    """A bar chart with each value written above its bar (what a vision model reads)."""
    top = max(v for _, v in MONTHS)
    bars = []
    for i, (month, value) in enumerate(MONTHS):
        height = round(value / top * 230)
        x = 40 + i * 90
        bars.append(
            f'<rect x="{x}" y="{270 - height}" width="60" height="{height}" fill="#3b7dd8"/>'
            f'<text x="{x + 30}" y="{262 - height}" text-anchor="middle" font-size="14">{value:,}</text>'
            f'<text x="{x + 30}" y="292" text-anchor="middle" font-size="14">{month}</text>'
        )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="320" viewBox="0 0 600 320">'
        '<rect width="600" height="320" fill="#fff"/><text x="300" y="20" text-anchor="middle" font-size="16">'
        "Monthly revenue (€)</text>" + "".join(bars) + "</svg>"
    )
