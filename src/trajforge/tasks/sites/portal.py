"""Northwind customer portal: a login (credentials in the task), invoices behind it, and a settings
form whose saved values a check can read."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from trajforge.tasks.sites.base import Site, esc, table

USERNAME, PASSWORD = "maria", "tea-for-two-42"
INVOICES = (
    ("INV-2026-001", "2026-01-05", "Office tea, 12 boxes", 143.40, "paid"),
    ("INV-2026-002", "2026-01-19", "Kettles, 3 units", 74.70, "paid"),
    ("INV-2026-003", "2026-02-02", "Cups and saucers", 96.00, "unpaid"),
    ("INV-2026-004", "2026-02-16", "Office tea, 20 boxes", 239.00, "unpaid"),
    ("INV-2026-005", "2026-03-02", "Coffee grinder", 48.50, "paid"),
)


class PortalSite(Site):
    """The portal; sessions are a cookie issued at login, so each browser logs in for itself."""

    title = "Northwind Portal"
    nav = (("Account", "/account"), ("Invoices", "/invoices"), ("Settings", "/settings"))

    def __init__(self) -> None:
        self.sessions: set[str] = set()
        self.failed_logins = 0
        self.logins = 0
        self.settings = {"email": "maria@northwind.example", "address": "4 Quai Rambaud, 69002 Lyon"}
        self.saved = 0
        self._tokens = itertools.count(1)
        super().__init__()

    def routes(self) -> list[BaseRoute]:
        """The portal's pages."""
        return [
            Route("/", self.root),
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/account", self.account),
            Route("/invoices", self.invoices),
            Route("/invoice/{number}", self.invoice),
            Route("/settings", self.settings_page, methods=["GET", "POST"]),
        ]

    def state(self) -> dict[str, Any]:
        """Logins, failed logins, the account's settings and how often they were saved."""
        return {"logins": self.logins, "failed_logins": self.failed_logins, "settings": self.settings,
                "saved": self.saved}  # fmt: skip

    def _signed_in(self, request: Request) -> bool:
        return request.cookies.get("session", "") in self.sessions

    def _to_login(self, request: Request) -> Response:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    async def root(self, request: Request) -> Response:
        return RedirectResponse("/account" if self._signed_in(request) else "/login", status_code=303)

    async def login(self, request: Request) -> Response:
        error = ""
        target = request.query_params.get("next", "/account")
        if not target.startswith("/") or target.startswith("//"):
            target = "/account"
        if request.method == "POST":
            form = await request.form()
            if form.get("username") == USERNAME and form.get("password") == PASSWORD:
                token = f"session-{next(self._tokens)}"
                self.sessions.add(token)
                self.logins += 1
                response = RedirectResponse(target, status_code=303)
                response.set_cookie("session", token, httponly=True, samesite="lax")
                return response
            self.failed_logins += 1
            error = '<p class="error" role="alert">Invalid username or password.</p>'
        body = (
            f'<h1>Sign in</h1>{error}<form method="post" action="/login?next={esc(quote(target))}">'
            '<label>Username <input name="username" autocomplete="username"></label>'
            '<label>Password <input type="password" name="password" autocomplete="current-password"></label>'
            "<button>Sign in</button></form>"
        )
        return self.page("Sign in", body, status=401 if error else 200)

    async def logout(self, request: Request) -> Response:
        self.sessions.discard(request.cookies.get("session", ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie("session")
        return response

    async def account(self, request: Request) -> Response:
        if not self._signed_in(request):
            return self._to_login(request)
        unpaid = sum(i[3] for i in INVOICES if i[4] == "unpaid")
        body = (
            "<h1>Welcome back, Maria Lopez</h1><p>Company: Northwind Tea Traders</p><p>Customer number: NW-20417</p>"
            f"<p>Open balance: {unpaid:.2f} €</p>"
            '<form method="post" action="/logout"><button>Sign out</button></form>'
        )
        return self.page("Account", body)

    async def invoices(self, request: Request) -> Response:
        if not self._signed_in(request):
            return self._to_login(request)
        rows = "".join(
            f'<tr><td><a href="/invoice/{n}">{n}</a></td><td>{d}</td><td>{esc(what)}</td><td>{amount:.2f}</td>'
            f"<td>{status}</td></tr>"
            for n, d, what, amount, status in INVOICES
        )
        head = "".join(f'<th scope="col">{h}</th>' for h in ("Invoice", "Date", "Items", "Amount (€)", "Status"))
        return self.page(
            "Invoices", f"<h1>Invoices</h1><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        )

    async def invoice(self, request: Request) -> Response:
        if not self._signed_in(request):
            return self._to_login(request)
        found = next((i for i in INVOICES if i[0] == request.path_params["number"]), None)
        if found is None:
            return self.not_found("No such invoice.")
        number, day, what, amount, status = found
        rows = [("Date", day), ("Items", what), ("Amount", f"{amount:.2f} €"), ("Status", status)]
        return self.page(number, f"<h1>Invoice {number}</h1>" + table(("Field", "Value"), rows))

    async def settings_page(self, request: Request) -> Response:
        if not self._signed_in(request):
            return self._to_login(request)
        note = ""
        if request.method == "POST":
            form = await request.form()
            email, address = str(form.get("email", "")).strip(), str(form.get("address", "")).strip()
            if "@" not in email or len(address) < 8:
                note = '<p class="error" role="alert">Enter a valid email and a full address.</p>'
            else:
                self.settings = {"email": email, "address": address}
                self.saved += 1
                note = '<p role="status">Settings saved.</p>'
        body = (
            f'<h1>Settings</h1>{note}<form method="post" novalidate>'
            f'<label>Notification email <input type="email" name="email" value="{esc(self.settings["email"])}"></label>'
            f'<label>Delivery address <input name="address" value="{esc(self.settings["address"])}"></label>'
            "<button>Save settings</button></form>"
        )
        return self.page("Settings", body)
