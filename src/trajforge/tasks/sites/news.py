"""The Harbor Gazette: a paginated article list, articles with tables, lists and reader comments
(some of them look like markup and must stay text), and an authors table."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from trajforge.tasks.sites.base import Site, esc, page_number, pager, table

PER_PAGE = 4


@dataclass(frozen=True)
class Article:
    """One article: its text, and optionally a table, a ranked list and comments."""

    slug: str
    title: str
    author: str
    day: str
    section: str
    paragraphs: tuple[str, ...]
    table: tuple[tuple[str, ...], ...] = ()
    ranked: tuple[str, ...] = ()
    comments: tuple[tuple[str, str], ...] = field(default=())


ARTICLES = (
    Article("budget-2026", "City council adopts the 2026 budget", "Ines Moreau", "2026-01-12", "City",
            ("The council voted 31 to 14 for a budget of 412 million euros.",
             "Transport gets the largest share for the first time."),
            table=(("Department", "Budget (M€)", "Change"), ("Transport", "118", "+9%"),
                   ("Schools", "104", "+3%"), ("Housing", "77", "+12%"), ("Culture", "41", "-2%"),
                   ("Parks", "29", "+1%"), ("Administration", "43", "-5%")),
            comments=(("Paul", "Finally more buses."),
                      ("h4x0r", "<script>alert('pwned')</script> nice budget"))),
    Article("harbor-ferry", "New electric ferry enters service", "Tom Becker", "2026-01-15", "Transport",
            ("The ferry carries 180 passengers and crosses the harbor in 11 minutes.",
             "Tickets cost 2.10 euros, the same as the bus.")),
    Article("best-cafes", "The five best cafés by the water", "Lena Park", "2026-01-18", "Food",
            ("Our readers voted for their favourite cafés along the quays.",),
            ranked=("Café Ancre", "La Vigie", "Le Phare Bleu", "Kaffee Kai", "Dock 7"),
            comments=(("Mara", "Dock 7 deserved better!"),)),
    Article("storm-warning", "Storm warning for the weekend", "Tom Becker", "2026-01-20", "Weather",
            ("Winds of up to 95 km/h are expected on Saturday night.",)),
    Article("library-hours", "Central library extends its hours", "Ines Moreau", "2026-01-22", "City",
            ("From February the library opens until 21:00 on weekdays.",)),
    Article("fish-market", "Fish market moves to pier 4", "Lena Park", "2026-01-25", "City",
            ("The market reopens on 2 February at its new home on pier 4.",)),
    Article("marathon", "Harbor marathon sets a record", "Sam Okafor", "2026-01-28", "Sport",
            ("4,812 runners finished the course, a record for the race.",),
            table=(("Place", "Runner", "Time"), ("1", "A. Kiprop", "2:09:41"), ("2", "J. Weber", "2:11:03"),
                   ("3", "L. Santos", "2:11:58"))),
    Article("school-gardens", "Every school to get a garden", "Sam Okafor", "2026-02-01", "Schools",
            ("The plan covers 37 schools by the end of 2027.",)),
    Article("bridge-works", "Bridge works close the north quay", "Tom Becker", "2026-02-03", "Transport",
            ("The north quay is closed to cars until 30 April.",)),
    Article("jazz-festival", "Jazz festival announces its line-up", "Lena Park", "2026-02-05", "Culture",
            ("Twelve bands will play on three stages in July.",)),
)  # fmt: skip
BY_SLUG = {a.slug: a for a in ARTICLES}


class NewsSite(Site):
    """The newspaper; it keeps no state (reading changes nothing)."""

    title = "The Harbor Gazette"
    nav = (("Front page", "/"), ("All articles", "/articles"), ("Authors", "/authors"))

    def routes(self) -> list[BaseRoute]:
        """The newspaper's pages."""
        return [
            Route("/", self.front),
            Route("/articles", self.articles),
            Route("/article/{slug}", self.article),
            Route("/authors", self.authors),
        ]

    async def front(self, request: Request) -> Response:
        latest = sorted(ARTICLES, key=lambda a: a.day, reverse=True)[:3]
        items = "".join(f'<li><a href="/article/{a.slug}">{esc(a.title)}</a> ({a.day})</li>' for a in latest)
        return self.page("Front page", f"<h1>The Harbor Gazette</h1><h2>Latest news</h2><ul>{items}</ul>")

    async def articles(self, request: Request) -> Response:
        ordered = sorted(ARTICLES, key=lambda a: a.day)
        pages = (len(ordered) + PER_PAGE - 1) // PER_PAGE
        number = page_number(request.query_params.get("page"), pages)
        if number is None:
            return self.not_found(f"There is no page {request.query_params.get('page')} of articles.")
        shown = ordered[(number - 1) * PER_PAGE : number * PER_PAGE]
        items = "".join(
            f'<li><a href="/article/{a.slug}">{esc(a.title)}</a> by {esc(a.author)}, {a.day}, {a.section}</li>'
            for a in shown
        )
        return self.page("All articles", f"<h1>All articles</h1><ol start=\"{(number - 1) * PER_PAGE + 1}\">"
                                         f"{items}</ol>{pager('/articles', number, pages)}")  # fmt: skip

    async def article(self, request: Request) -> Response:
        found = BY_SLUG.get(request.path_params["slug"])
        if found is None:
            return self.not_found("No such article.")
        parts = [f"<article><h1>{esc(found.title)}</h1><p>By {esc(found.author)}, {found.day}</p>"]
        parts += [f"<p>{esc(p)}</p>" for p in found.paragraphs]
        if found.table:
            parts.append(table(found.table[0], found.table[1:]))
        if found.ranked:
            parts.append("<ol>" + "".join(f"<li>{esc(r)}</li>" for r in found.ranked) + "</ol>")
        parts.append("</article>")
        if found.comments:
            shown = "".join(f"<li><strong>{esc(who)}</strong>: {esc(text)}</li>" for who, text in found.comments)
            parts.append(f'<section aria-label="Comments"><h2>Comments</h2><ul>{shown}</ul></section>')
        return self.page(found.title, "".join(parts))

    async def authors(self, request: Request) -> Response:
        counts: dict[str, int] = {}
        for a in ARTICLES:
            counts[a.author] = counts.get(a.author, 0) + 1
        rows = sorted(counts.items())
        return self.page("Authors", "<h1>Authors</h1>" + table(("Author", "Articles"), rows))
