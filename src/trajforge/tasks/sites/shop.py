"""Tiny Shop: a listing with search and pagination, product pages, a cart (per browser, by cookie)
and a checkout whose orders a check can read."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from trajforge.tasks.sites.base import Site, esc, page_number, pager, table

PER_PAGE = 5
SHIPPING = {"standard": 4.90, "express": 9.90}


@dataclass(frozen=True)
class Product:
    """One product of the catalogue."""

    sku: str
    slug: str
    name: str
    category: str
    price: float
    stock: int
    description: str


PRODUCTS = (
    Product("TS-1001", "kettle", "Kettle", "kitchen", 24.90, 3, "A 1.2 litre steel kettle for gas and induction."),
    Product("TS-1002", "teapot", "Teapot", "tea", 18.00, 0, "A white porcelain teapot for four cups."),
    Product("TS-1003", "mug", "Mug", "kitchen", 6.50, 12, "A stoneware mug, 330 ml, dishwasher safe."),
    Product("TS-1004", "tea-tin", "Tea tin", "tea", 9.75, 5, "An airtight tin for 100 g of loose tea."),
    Product("TS-1005", "french-press", "French press", "coffee", 32.00, 7, "A glass press for 8 cups."),
    Product("TS-1006", "milk-frother", "Milk frother", "coffee", 15.40, 0, "A hand frother with a whisk head."),
    Product("TS-1007", "espresso-cups", "Espresso cups (set of 4)", "coffee", 21.00, 9, "Four 80 ml cups."),
    Product("TS-1008", "tea-strainer", "Tea strainer", "tea", 4.20, 25, "A fine mesh strainer with a drip tray."),
    Product("TS-1009", "coffee-grinder", "Coffee grinder", "coffee", 48.50, 2, "A burr grinder, 15 settings."),
    Product("TS-1010", "travel-mug", "Travel mug", "kitchen", 13.90, 14, "A leak-proof 400 ml travel mug."),
    Product("TS-1011", "cast-iron-teapot", "Cast iron teapot", "tea", 54.00, 1, "A 0.8 litre tetsubin."),
    Product("TS-1012", "honey-jar", "Honey jar", "kitchen", 7.80, 0, "A glass jar with a wooden dipper."),
)
BY_SLUG = {p.slug: p for p in PRODUCTS}


class ShopSite(Site):
    """The shop; carts are keyed by a `cart` cookie, so two browsers never share one."""

    title = "Tiny Shop"
    nav = (("Home", "/"), ("Products", "/products"), ("Cart", "/cart"), ("About", "/about"))

    def __init__(self) -> None:
        self.carts: dict[str, dict[str, int]] = {}
        self.orders: list[dict[str, Any]] = []
        self._tokens = itertools.count(1)
        super().__init__()

    def routes(self) -> list[BaseRoute]:
        """The shop's pages."""
        return [
            Route("/", self.home),
            Route("/products", self.products),
            Route("/search", self.search),
            Route("/product/{slug}", self.product),
            Route("/about", self.about),
            Route("/cart", self.cart),
            Route("/cart/add", self.add, methods=["POST"]),
            Route("/cart/remove", self.remove, methods=["POST"]),
            Route("/checkout", self.checkout, methods=["GET", "POST"]),
            Route("/order/{number:int}", self.order),
        ]

    def state(self) -> dict[str, Any]:
        """Orders placed and carts as they were left."""
        return {"orders": self.orders, "carts": self.carts}

    async def home(self, request: Request) -> Response:
        body = (
            "<h1>Tiny Shop</h1><p>Kitchen things for tea and coffee people, shipped from Lyon.</p>"
            '<form action="/search" role="search"><label>Search products <input type="search" name="q"></label>'
            "<button>Search</button></form>"
        )
        return self.page("Home", body)

    async def products(self, request: Request) -> Response:
        pages = (len(PRODUCTS) + PER_PAGE - 1) // PER_PAGE
        number = page_number(request.query_params.get("page"), pages)
        if number is None:
            return self.not_found(f"There is no page {request.query_params.get('page')} of products.")
        shown = PRODUCTS[(number - 1) * PER_PAGE : number * PER_PAGE]
        body = f"<h1>Products</h1>{_listing(shown)}{pager('/products', number, pages)}"
        return self.page("Products", body)

    async def search(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        found = [p for p in PRODUCTS if query and query.casefold() in p.name.casefold()]
        summary = f"{len(found)} result(s) for “{esc(query)}”" if query else "Type a word to search."
        return self.page("Search", f"<h1>Search</h1><p>{summary}</p>{_listing(found) if found else ''}")

    async def product(self, request: Request) -> Response:
        item = BY_SLUG.get(request.path_params["slug"])
        if item is None:
            return self.not_found("No such product.")
        stock = f"In stock: {item.stock}" if item.stock else "Out of stock"
        form = (
            f'<form method="post" action="/cart/add"><input type="hidden" name="slug" value="{item.slug}">'
            '<label>Quantity <input type="number" name="qty" value="1" min="1"></label>'
            "<button>Add to cart</button></form>"
            if item.stock
            else ""
        )
        body = (
            f"<h1>{esc(item.name)}</h1><p>{esc(item.description)}</p><p>Price: {item.price:.2f} €</p>"
            f"<p>{stock}</p><p>SKU: {item.sku}</p><p>Category: {item.category}</p>{form}"
        )
        return self.page(item.name, body)

    async def about(self, request: Request) -> Response:
        body = (
            "<h1>About us</h1><p>Tiny Shop was founded in 2019 in Lyon by two tea drinkers.</p>"
            '<img src="/static/logo.png" alt="Tiny Shop logo" width="120" height="60">'
            "<h2>Opening hours</h2><ul><li>Monday to Friday: 10:00-19:00</li><li>Saturday: 10:00-17:00</li>"
            "<li>Sunday: closed</li></ul>"
        )
        return self.page("About", body)

    def _cart_of(self, request: Request) -> tuple[str, dict[str, int]]:
        token = request.cookies.get("cart", "")
        if token not in self.carts:
            token = f"cart-{next(self._tokens)}"
            self.carts[token] = {}
        return token, self.carts[token]

    @staticmethod
    def _keep(response: Response, token: str) -> Response:
        response.set_cookie("cart", token, httponly=True, samesite="lax")
        return response

    async def add(self, request: Request) -> Response:
        form = await request.form()
        item = BY_SLUG.get(str(form.get("slug", "")))
        try:
            qty = int(str(form.get("qty", "1")))
        except ValueError:
            qty = 0
        if item is None or qty < 1:
            return self.page("Cart", '<h1>Cart</h1><p class="error">That cannot be added.</p>', status=400)
        token, cart = self._cart_of(request)
        if cart.get(item.slug, 0) + qty > item.stock:
            body = f'<h1>Cart</h1><p class="error">Only {item.stock} {esc(item.name)} left in stock.</p>'
            return self._keep(self.page("Cart", body, status=409), token)
        cart[item.slug] = cart.get(item.slug, 0) + qty
        return self._keep(RedirectResponse("/cart", status_code=303), token)

    async def remove(self, request: Request) -> Response:
        form = await request.form()
        token, cart = self._cart_of(request)
        cart.pop(str(form.get("slug", "")), None)
        return self._keep(RedirectResponse("/cart", status_code=303), token)

    async def cart(self, request: Request) -> Response:
        token, cart = self._cart_of(request)
        if not cart:
            return self._keep(self.page("Cart", "<h1>Cart</h1><p>Your cart is empty.</p>"), token)
        rows = [(BY_SLUG[s].name, q, f"{BY_SLUG[s].price:.2f}", f"{BY_SLUG[s].price * q:.2f}") for s, q in cart.items()]
        body = (
            f"<h1>Cart</h1>{table(('Product', 'Quantity', 'Unit price', 'Line total'), rows)}"
            f'<p>Subtotal: {_subtotal(cart):.2f} €</p><p><a href="/checkout">Proceed to checkout</a></p>'
        )
        return self._keep(self.page("Cart", body), token)

    async def checkout(self, request: Request) -> Response:
        token, cart = self._cart_of(request)
        if not cart:
            return self._keep(self.page("Checkout", "<h1>Checkout</h1><p>Your cart is empty.</p>"), token)
        errors: list[str] = []
        values: dict[str, str] = {}
        if request.method == "POST":
            form = await request.form()
            values = {k: str(form.get(k, "")).strip() for k in ("name", "email", "address", "shipping")}
            errors = _checkout_errors(values)
            if not errors:
                return self._keep(RedirectResponse(f"/order/{self._place(cart, values)}", status_code=303), token)
        return self._keep(self.page("Checkout", _checkout_form(cart, values, errors)), token)

    def _place(self, cart: dict[str, int], values: dict[str, str]) -> int:
        number = 1001 + len(self.orders)
        shipping = SHIPPING[values["shipping"]]
        self.orders.append({
            "number": number, "name": values["name"], "email": values["email"], "address": values["address"],
            "shipping": values["shipping"], "items": dict(cart),
            "total": round(_subtotal(cart) + shipping, 2),
        })  # fmt: skip
        cart.clear()
        return number

    async def order(self, request: Request) -> Response:
        number = request.path_params["number"]
        found = next((o for o in self.orders if o["number"] == number), None)
        if found is None:
            return self.not_found(f"There is no order #{number}.")
        body = (
            f"<h1>Order #{number} confirmed</h1><p>Thank you, {esc(found['name'])}. "
            f"Total charged: {found['total']:.2f} € ({found['shipping']} shipping).</p>"
        )
        return self.page(f"Order #{number}", body)


def _listing(items: list[Product] | tuple[Product, ...]) -> str:
    rows = "".join(
        f'<tr><td><a href="/product/{p.slug}">{esc(p.name)}</a></td><td>{p.price:.2f}</td>'
        f"<td>{p.stock if p.stock else 'out of stock'}</td></tr>"
        for p in items
    )
    head = "".join(f'<th scope="col">{h}</th>' for h in ("Product", "Price (€)", "Stock"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _subtotal(cart: dict[str, int]) -> float:
    return round(sum(BY_SLUG[slug].price * qty for slug, qty in cart.items()), 2)


def _checkout_errors(values: dict[str, str]) -> list[str]:
    errors = []
    if not values["name"]:
        errors.append("Name: this field is required.")
    if "@" not in values["email"] or "." not in values["email"].rpartition("@")[2]:
        errors.append("Email: enter a valid email address.")
    if len(values["address"]) < 8:
        errors.append("Address: enter a full postal address.")
    if values["shipping"] not in SHIPPING:
        errors.append("Shipping: choose standard or express.")
    return errors


def _checkout_form(cart: dict[str, int], values: dict[str, str], errors: list[str]) -> str:
    shown = "".join(f'<p class="error" role="alert">{esc(e)}</p>' for e in errors)
    radios = "".join(
        f'<label><input type="radio" name="shipping" value="{key}"'
        f"{' checked' if values.get('shipping') == key else ''}> {key.title()} ({price:.2f} €)</label>"
        for key, price in SHIPPING.items()
    )
    return (
        f"<h1>Checkout</h1><p>Subtotal: {_subtotal(cart):.2f} €</p>{shown}"
        '<form method="post" action="/checkout" novalidate>'
        f'<label>Full name <input name="name" value="{esc(values.get("name", ""))}"></label>'
        f'<label>Email <input type="email" name="email" value="{esc(values.get("email", ""))}"></label>'
        f'<label>Address <textarea name="address">{esc(values.get("address", ""))}</textarea></label>'
        f"<fieldset><legend>Shipping</legend>{radios}</fieldset><button>Place order</button></form>"
    )
