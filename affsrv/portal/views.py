"""The affiliate area's pages. Every page past sign-in reads the signed-in affiliate's own
records only: no page takes an affiliate from the URL or a form."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from affsrv.affiliates import services as affiliates
from affsrv.affiliates.models import Affiliate
from affsrv.commissions.services import find_commissions, ledger_currency
from affsrv.errors import DomainError
from affsrv.extensions import db
from affsrv.payments.services import balances, list_payments
from affsrv.portal import services
from affsrv.portal.forms import (
    CloseAccountForm,
    NewPasswordForm,
    PasswordChangeForm,
    ResetRequestForm,
    SignUpForm,
)
from affsrv.products.services import get_product, list_products
from affsrv.ratelimits import address_key, limiter, retry_after_seconds
from affsrv.reports.services import Period, make_period, this_month, today_in
from affsrv.settings import settings
from affsrv.tracking.services import normalise_ip, referral_stats
from affsrv.users import throttle
from affsrv.users.forms import SignInForm
from affsrv.users.views import account_page, sign_out
from affsrv.web.csvout import csv_response
from affsrv.web.params import day_end, day_start, int_arg
from affsrv.web.views import (
    USER_LOADERS,
    local_time,
    login_manager,
    protect,
    public_url,
    viewer_zone,
)

bp = Blueprint("portal", __name__, url_prefix="/affiliate", template_folder="templates")
PUBLIC = {"portal.login", "portal.signup", "portal.reset_request", "portal.reset"}
PAGE_ROWS = 500


class SignedInAffiliate(UserMixin):
    """The signed-in affiliate, as Flask-Login holds it."""

    kind = "affiliate"

    def __init__(self, affiliate: Affiliate) -> None:
        self.affiliate_id = affiliate.id
        self.code = affiliate.code
        self.email = affiliate.email
        self.approved = affiliate.approved
        self.timezone = services.timezone_of(affiliate.id)
        self._fingerprint = fingerprint(affiliate)

    def get_id(self) -> str:
        return f"a:{self.affiliate_id}:{self._fingerprint}"


def fingerprint(affiliate: Affiliate) -> str:
    """Changes when the password does: sessions signed in before a change stop working."""
    return hashlib.sha256((affiliate.password_hash or "-").encode()).hexdigest()[:16]


def _load(session_id: str) -> Any:
    affiliate_id, _, print_ = session_id.partition(":")
    if not affiliate_id.isdigit() or not 0 < int(affiliate_id) < 2**31:
        return None
    affiliate = db.session.get(Affiliate, int(affiliate_id))
    # Disabling an affiliate, or a new password, ends their sessions.
    if affiliate is None or not affiliate.enabled or fingerprint(affiliate) != print_:
        return None
    return SignedInAffiliate(affiliate)


USER_LOADERS["a"] = _load


@bp.before_request
def _affiliates_only() -> Any:
    if request.endpoint in PUBLIC:
        return None
    if not current_user.is_authenticated or getattr(current_user, "kind", "") != "affiliate":
        return login_manager.unauthorized()
    return None


protect(bp)


def init_app(app: Flask) -> None:
    login_manager.blueprint_login_views["portal"] = "portal.login"
    app.register_blueprint(bp)


def _me() -> Affiliate:
    affiliate = db.session.get(Affiliate, current_user.affiliate_id)
    if affiliate is None:  # gone since the session began
        abort(404)
    return affiliate


def _sign_in(affiliate: Affiliate) -> None:
    session.clear()
    login_user(SignedInAffiliate(affiliate))
    services.note_signin(affiliate)


def _signup_limit() -> str:
    return current_app.config["AFFSRV"]["limits"]["signups_per_address"]


def _counts_as_signup(response: Response) -> bool:
    # A sign-up made, or refused because the e-mail is taken (which would otherwise let anyone
    # test addresses without limit); not a form sent back for a typo.
    return response.status_code in (303, 409)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit, key_func=address_key, methods=["POST"], scope="signup",
               deduct_when=_counts_as_signup)
def signup() -> Any:
    form = SignUpForm()
    status = 200
    if form.validate_on_submit():
        try:
            affiliate = services.sign_up(
                form.fname.data.strip(), form.lname.data.strip(), form.email.data.strip(),
                form.password.data, normalise_ip(request.remote_addr) or "",
                public_url(url_for("admin.affiliates", state="pending")),
            )
        except DomainError as exc:
            flash(exc.message, "error")
            status = exc.status
        else:
            _sign_in(affiliate)
            flash("Welcome! Your affiliate code is " + affiliate.code + "." + (
                "" if affiliate.approved else
                " Your account waits for the merchant's approval; your links count once "
                "it is approved."), "info")
            return redirect(url_for("portal.dashboard"), code=303)
    elif form.is_submitted():
        status = 400
    return render_template("portal/signup.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@throttle.throttle_signin
def login() -> Any:
    form = SignInForm()
    if form.validate_on_submit():
        affiliate = affiliates.check_affiliate_password(form.email.data, form.password.data)
        if affiliate is not None and affiliate.enabled:
            _sign_in(affiliate)
            return redirect(url_for("portal.dashboard"), code=303)
        # One answer for an unknown e-mail, a wrong password and a disabled account.
        flash("Wrong e-mail or password.", "error")
        return render_template("portal/login.html", form=form), throttle.FAILED_SIGNIN
    return render_template("portal/login.html", form=form), 400 if form.is_submitted() else 200


@bp.errorhandler(429)
def _too_many(_exc: Exception) -> Any:
    if request.endpoint == "portal.signup":
        seconds = retry_after_seconds()
        flash(f"Too many sign-ups from your address. Try again in {seconds} seconds.", "error")
        page = render_template("portal/signup.html", form=SignUpForm())
        return page, 429, {"Retry-After": str(seconds)}
    if request.endpoint == "portal.close_account":
        seconds = retry_after_seconds()
        flash(f"Too many wrong passwords. Try again in {seconds} seconds.", "error")
        me = _me()
        page = render_template("portal/close.html", form=CloseAccountForm(),
                               currency=ledger_currency(), balance=balances([me.id])[me.id])
        return page, 429, {"Retry-After": str(seconds)}
    if request.endpoint == "portal.reset_request":
        flash("Too many reset links asked for from your address. Try again in an hour.",
              "error")
        return render_template("portal/reset_request.html", form=ResetRequestForm()), 429
    flash("Too many failed sign-ins. Wait a quarter of an hour and try again.", "error")
    return render_template("portal/login.html", form=SignInForm()), 429


@bp.post("/logout")
def logout() -> Response:
    return sign_out("portal.login")


@bp.route("/reset", methods=["GET", "POST"])
@throttle.throttle_reset_requests
def reset_request() -> Any:
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.send_reset_link(
            form.email.data,
            lambda token: public_url(url_for("portal.reset", token=token)))
        # The same answer whether the address is known or not.
        flash("If an affiliate account has that address, a link to set a new password is on "
              "its way. It works for two hours.", "info")
        return redirect(url_for("portal.login"), code=303)
    return render_template("portal/reset_request.html", form=form), (
        400 if form.is_submitted() else 200)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Any:
    form = NewPasswordForm()
    if services.affiliate_for_reset(token) is None:
        flash("That link is used up or expired. Ask for a new one.", "error")
        return render_template("portal/reset_request.html", form=ResetRequestForm()), 410
    if form.validate_on_submit():
        try:
            affiliate = services.reset_password(token, form.password.data)
        except DomainError as exc:
            abort(exc.status, exc.message)
        _sign_in(affiliate)
        flash("Your new password is set.", "info")
        return redirect(url_for("portal.dashboard"), code=303)
    return render_template("portal/reset.html", form=form), 400 if form.is_submitted() else 200


def _links(code: str) -> list[tuple[Any, str]]:
    base = public_url(url_for("tracking.landing", code=code))
    return [(p, f"{base}?p={p.id}") for p in list_products() if p.enabled]


RECENT_DAYS = 7


@bp.get("/")
def dashboard() -> str:
    me = _me()
    products = {p.id: p for p in list_products()}
    today = today_in(viewer_zone())
    recent = _period(today - timedelta(days=RECENT_DAYS - 1), today)
    return render_template(
        "portal/dashboard.html", me=me, links=_links(me.code), currency=ledger_currency(),
        balance=balances([me.id])[me.id], products=products,
        commissions=find_commissions(affiliate_id=me.id, limit=10),
        payments=list_payments(me.id, limit=10), recent=services.performance(me.code, recent),
        recent_days=RECENT_DAYS,
    )


def _period(first: date, last: date) -> Period:
    try:
        return make_period(first, last, viewer_zone(), settings("reports")["max_days"])
    except DomainError as exc:
        abort(exc.status, exc.message)


def _date_arg(name: str) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(400, f"{name}: a date as YYYY-MM-DD, please")


def _requested_period() -> Period:
    """``from`` to ``to`` in the viewer's zone; as the reports default them: this month so
    far, or from the first of ``to``'s month, or from ``from`` to today."""
    first, today = this_month(viewer_zone())
    until = _date_arg("to")
    since = _date_arg("from") or (until.replace(day=1) if until else first)
    return _period(since, until or max(since, today))


def _product_names() -> dict[str, str]:
    """The reports' product keys (ids as text; "" for clicks naming no product) to names."""
    names = {str(p.id): p.name for p in list_products()}
    names[""] = "(no product)"
    return names


@bp.get("/performance")
def performance() -> str:
    me = _me()
    period = _requested_period()
    return render_template("portal/performance.html", period=period,
                           figures=services.performance(me.code, period),
                           product_names=_product_names())


PERFORMANCE_GROUPS = ("product", "link", "day")


@bp.get("/performance.csv")
def performance_csv() -> Response:
    me = _me()
    by = request.args.get("by", "product")
    if by not in PERFORMANCE_GROUPS:
        abort(400, f"by: one of {', '.join(PERFORMANCE_GROUPS)}")
    period = _requested_period()
    figures = services.performance(me.code, period)
    rows = {"product": figures.by_product, "link": figures.by_link, "day": figures.by_day}[by]
    names = _product_names()
    return csv_response(
        f"clicks-by-{by}-{period.first.isoformat()}-{period.last.isoformat()}.csv",
        [by, *(["product_name"] if by == "product" else []), "clicks", "sales",
         "conversion_rate", "earnings", "earnings_per_click", "currency"],
        ([r.key, *([names.get(r.key, r.key)] if by == "product" else []), r.clicks, r.sales,
          r.conversion_rate, r.commissions, r.earnings_per_click, r.currency] for r in rows),
    )


def _product_arg() -> int | None:
    """The ``product`` query argument: a known product's id or None (a 4xx otherwise)."""
    product_id = int_arg("product")
    if product_id is not None:
        try:
            get_product(product_id)
        except DomainError as exc:
            abort(exc.status, exc.message)
    return product_id


def _referrals(me: Affiliate) -> list[tuple[int, str, int]]:
    return referral_stats(me.id, _product_arg())


@bp.get("/referrals")
def referrals() -> str:
    me = _me()
    products = {p.id: p for p in list_products()}
    return render_template("portal/referrals.html", referrals=_referrals(me),
                           products=products, args=request.args)


@bp.get("/referrals.csv")
def referrals_csv() -> Response:
    me = _me()
    products = {p.id: p.name for p in list_products()}
    return csv_response(
        "referrals.csv", ["product_id", "product", "link", "clicks"],
        ([pid or "", products.get(pid, "(no product)"), link, clicks]
         for pid, link, clicks in _referrals(me)),
    )


def _commission_filters(me: Affiliate) -> dict[str, Any]:
    product_id = _product_arg()
    return {"affiliate_id": me.id, "product_id": product_id,
            "since": day_start(request.args.get("from"), "from"),
            "until": day_end(request.args.get("to"), "to")}


@bp.get("/commissions")
def commissions() -> str:
    me = _me()
    found = find_commissions(**_commission_filters(me), limit=PAGE_ROWS)
    return render_template("portal/commissions.html", commissions=found, args=request.args,
                           products={p.id: p for p in list_products()},
                           full=len(found) == PAGE_ROWS, page_rows=PAGE_ROWS)


@bp.get("/commissions.csv")
def commissions_csv() -> Response:
    me = _me()
    products = {p.id: p for p in list_products()}
    return csv_response(
        "commissions.csv",
        ["id", "created", "product_id", "product", "kind", "status", "sale_total",
         "commission_total", "currency", "paid"],
        ([c.id, local_time(c.created_at, "%Y-%m-%d %H:%M:%S %z"), c.product_id,
          products[c.product_id].name, c.kind, c.status, c.sale_total, c.commission_total,
          c.currency, "yes" if c.payment_id else "no"]
         for c in find_commissions(**_commission_filters(me), limit=None)),
    )


@bp.get("/payments")
def payments() -> str:
    return render_template("portal/payments.html", payments=list_payments(_me().id))


@bp.get("/payments.csv")
def payments_csv() -> Response:
    return csv_response(
        "payments.csv", ["id", "created", "method", "amount", "currency", "reference"],
        ([p.id, local_time(p.created_at, "%Y-%m-%d %H:%M:%S %z"), p.method, p.amount,
          p.currency, p.reference] for p in list_payments(_me().id, limit=None)),
    )


@bp.route("/account", methods=["GET", "POST"])
def account() -> Any:
    me = _me()
    return account_page(
        PasswordChangeForm(prefix="pw"), zone=current_user.timezone,
        change_password=lambda current, new: affiliates.change_affiliate_password(
            me, current, new),
        save_zone=lambda zone: services.set_timezone(me.id, zone),
        sign_in_again=lambda: login_user(SignedInAffiliate(me)),
        endpoint="portal.account", template="portal/account.html")


def _close_failure_limit() -> str:
    # Wrong passwords here count like failed sign-ins: a stolen session cannot guess on.
    failures = current_app.config["AFFSRV"]["web"]["signin_failures_per_account"]
    return f"{failures} per {throttle.WINDOW}"


def _close_key() -> str:
    return f"close-account/{getattr(current_user, 'affiliate_id', 0)}"


@bp.route("/account/close", methods=["GET", "POST"])
@limiter.limit(_close_failure_limit, key_func=_close_key, methods=["POST"],
               scope="close-account",
               deduct_when=lambda response: response.status_code == throttle.FAILED_SIGNIN)
def close_account() -> Any:
    """Closing the account: a page that says what happens, then the password again."""
    if not settings("affiliates")["allow_close"]:
        abort(404)
    me = _me()
    form = CloseAccountForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.close_account(me, form.password.data)
        except DomainError as exc:
            flash(exc.message, "error")
            status = exc.status
        else:
            logout_user()
            session.clear()
            flash("Your affiliate account is closed and your personal data erased.", "info")
            return redirect(url_for("portal.login"), code=303)
    elif form.is_submitted():
        status = 400
    return render_template("portal/close.html", form=form, currency=ledger_currency(),
                           balance=balances([me.id])[me.id]), status
