"""Lyon Tea Festival registration: a form with server-side validation, a select, checkboxes, radio
buttons, a date, a file upload and a consent box; submissions are kept for the check."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from trajforge.tasks.sites.base import Site, esc

TICKETS = {"day": "Day pass (25 €)", "weekend": "Weekend pass (40 €)", "vip": "VIP pass (90 €)"}
WORKSHOPS = {"tasting": "Tea tasting", "brewing": "Cold brewing", "ceramics": "Ceramics for tea"}
DIETS = {"none": "No preference", "vegetarian": "Vegetarian", "vegan": "Vegan"}
FIRST_DAY, LAST_DAY = date(2026, 5, 14), date(2026, 5, 16)
MAX_UPLOAD = 100_000


class FormsSite(Site):
    """The festival site: /register (the form) and /contact (a simpler message form)."""

    title = "Lyon Tea Festival"
    nav = (("Home", "/"), ("Register", "/register"), ("Contact", "/contact"))

    def __init__(self) -> None:
        self.submissions: list[dict[str, Any]] = []
        self.messages: list[dict[str, str]] = []
        self.rejected = 0
        super().__init__()

    def routes(self) -> list[BaseRoute]:
        """The festival's pages."""
        return [
            Route("/", self.home),
            Route("/register", self.register, methods=["GET", "POST"]),
            Route("/register/thanks/{reference}", self.thanks),
            Route("/contact", self.contact, methods=["GET", "POST"]),
        ]

    def state(self) -> dict[str, Any]:
        """Accepted registrations, contact messages and how many submissions were refused."""
        return {"submissions": self.submissions, "messages": self.messages, "rejected": self.rejected}

    async def home(self, request: Request) -> Response:
        body = (
            "<h1>Lyon Tea Festival 2026</h1><p>Three days of tea, from 14 to 16 May 2026, at the Halle Tony Garnier."
            '</p><p><a href="/register">Register for the festival</a></p>'
        )
        return self.page("Home", body)

    async def register(self, request: Request) -> Response:
        if request.method == "GET":
            return self.page("Register", _form({}, []))
        form = await request.form()
        values, errors = await _validate(form)
        if errors:
            self.rejected += 1
            return self.page("Register", _form(values, errors), status=422)
        reference = f"REG-{len(self.submissions) + 1:04d}"
        self.submissions.append({"reference": reference, **values})
        return RedirectResponse(f"/register/thanks/{reference}", status_code=303)

    async def thanks(self, request: Request) -> Response:
        reference = request.path_params["reference"]
        found = next((s for s in self.submissions if s["reference"] == reference), None)
        if found is None:
            return self.not_found(f"No registration {reference} was received.")
        body = (
            f"<h1>Registration received</h1><p>Thank you, {esc(found['name'])}. "
            f"Your reference is {reference}.</p><p>Ticket: {esc(TICKETS[found['ticket']])}; "
            f"first day: {found['date']}.</p>"
        )
        return self.page("Registration received", body)

    async def contact(self, request: Request) -> Response:
        sent = ""
        if request.method == "POST":
            form = await request.form()
            message = {k: str(form.get(k, "")).strip() for k in ("name", "email", "message")}
            if not all(message.values()):
                self.rejected += 1
                sent = '<p class="error" role="alert">Please fill in every field.</p>'
            else:
                self.messages.append(message)
                return self.page("Message sent", "<h1>Message sent</h1><p>We received your message.</p>")
        body = (
            f'<h1>Contact</h1>{sent}<form method="post" novalidate>'
            '<label>Your name <input name="name"></label><label>Email <input type="email" name="email"></label>'
            '<label>Message <textarea name="message"></textarea></label><button>Send message</button></form>'
        )
        return self.page("Contact", body)


async def _validate(form: FormData) -> tuple[dict[str, Any], list[str]]:
    """The submission's values and what is wrong with them."""
    values: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in ("name", "email", "ticket", "diet", "date")}
    values["workshops"] = sorted(str(w) for w in form.getlist("workshops"))
    values["consent"] = form.get("consent") == "yes"
    errors = []
    if not values["name"]:
        errors.append("Full name: this field is required.")
    if "@" not in values["email"] or "." not in values["email"].rpartition("@")[2]:
        errors.append("Email: enter a valid email address.")
    if values["ticket"] not in TICKETS:
        errors.append("Ticket: choose a ticket.")
    if values["diet"] not in DIETS:
        errors.append("Diet: choose one option.")
    if any(w not in WORKSHOPS for w in values["workshops"]):
        errors.append("Workshops: unknown workshop.")
    errors += _date_errors(values["date"])
    if not values["consent"]:
        errors.append("Consent: you must accept the festival rules.")
    upload = form.get("badge_photo")
    values["upload"] = None
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            errors.append("Badge photo: the file is larger than 100 KB.")
        else:
            values["upload"] = {"filename": upload.filename, "size": len(data),
                                "sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
    return values, errors


def _date_errors(text: str) -> list[str]:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return ["First day: enter a date."]
    if not FIRST_DAY <= day <= LAST_DAY:
        return ["First day: the festival runs from 2026-05-14 to 2026-05-16."]
    return []


def _form(values: dict[str, Any], errors: list[str]) -> str:
    shown = "".join(f'<p class="error" role="alert">{esc(e)}</p>' for e in errors)
    options = "".join(
        f'<option value="{k}"{" selected" if values.get("ticket") == k else ""}>{esc(v)}</option>'
        for k, v in TICKETS.items()
    )
    boxes = "".join(
        f'<label><input type="checkbox" name="workshops" value="{k}"'
        f"{' checked' if k in values.get('workshops', []) else ''}> {esc(v)}</label>"
        for k, v in WORKSHOPS.items()
    )
    radios = "".join(
        f'<label><input type="radio" name="diet" value="{k}"{" checked" if values.get("diet") == k else ""}> '
        f"{esc(v)}</label>"
        for k, v in DIETS.items()
    )
    return (
        f"<h1>Register</h1>{shown}"
        '<form method="post" action="/register" enctype="multipart/form-data" novalidate>'
        f'<label>Full name <input name="name" value="{esc(values.get("name", ""))}"></label>'
        f'<label>Email <input type="email" name="email" value="{esc(values.get("email", ""))}"></label>'
        f'<label>Ticket <select name="ticket"><option value="">Choose a ticket</option>{options}</select></label>'
        f"<fieldset><legend>Workshops</legend>{boxes}</fieldset>"
        f"<fieldset><legend>Diet</legend>{radios}</fieldset>"
        f'<label>First day <input type="date" name="date" value="{esc(values.get("date", ""))}"></label>'
        '<label>Badge photo (optional) <input type="file" name="badge_photo"></label>'
        '<label><input type="checkbox" name="consent" value="yes"> I accept the festival rules</label>'
        "<button>Submit registration</button></form>"
    )
