"""/admin/products: add, edit (name, landing URL, SKU, rate), enable and disable."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from affsrv.admin.forms import ActionForm, ProductForm
from affsrv.admin.views import bp, refuse
from affsrv.errors import DomainError
from affsrv.products import services as products


def _values(form: ProductForm) -> dict[str, Any]:
    return {"name": form.name.data.strip(), "url": form.url.data.strip(),
            "sku": (form.sku.data or "").strip() or None,
            "commission_rate": form.commission_rate.data}


@bp.route("/products", methods=["GET", "POST"], endpoint="products")
def products_page() -> Any:
    form = ProductForm()
    status = 200
    if form.validate_on_submit():
        try:
            product = products.create_product(**_values(form))
        except DomainError as exc:
            flash(exc.message, "error")
            status = exc.status
        else:
            flash(f"Product {product.id} added.", "info")
            return redirect(url_for("admin.products"), code=303)
    elif form.is_submitted():
        status = 400
    return render_template("admin/products.html", products=products.list_products(),
                           form=form, action=ActionForm()), status


def _product(product_id: int) -> Any:
    try:
        return products.get_product(product_id)
    except DomainError as exc:
        refuse(exc)


@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
def product(product_id: int) -> Any:
    found = _product(product_id)
    form = ProductForm(obj=found, url=found.landing_url)
    status = 200
    if form.validate_on_submit():
        try:
            products.update_product(found.id, **_values(form))
        except DomainError as exc:
            flash(exc.message, "error")
            status = exc.status
        else:
            flash(f"Product {found.id} saved.", "info")
            return redirect(url_for("admin.products"), code=303)
    elif form.is_submitted():
        status = 400
    return render_template("admin/product.html", product=found, form=form), status


def _set_enabled(product_id: int, enabled: bool) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400, "the form is incomplete")
    try:
        found = products.set_enabled(product_id, enabled)
    except DomainError as exc:
        refuse(exc)
    flash(f"Product {found.id} {'enabled' if enabled else 'disabled'}.", "info")
    return redirect(url_for("admin.products"), code=303)


@bp.post("/products/<int:product_id>/enable")
def enable_product(product_id: int) -> Response:
    return _set_enabled(product_id, True)


@bp.post("/products/<int:product_id>/disable")
def disable_product(product_id: int) -> Response:
    return _set_enabled(product_id, False)
