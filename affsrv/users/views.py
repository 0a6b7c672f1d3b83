"""Signing merchant users in and out, their password and time zone; ``/`` sends a visitor
where they belong."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from affsrv.errors import DomainError, NotFound
from affsrv.users import services, throttle
from affsrv.users.forms import ButtonForm, PasswordChangeForm, SignInForm, TimezoneForm
from affsrv.users.models import MerchantUser, Role
from affsrv.web.views import USER_LOADERS, login_manager, protect

bp = Blueprint("users", __name__, template_folder="templates")
protect(bp)


class SignedInMerchant(UserMixin):
    """The signed-in merchant user, as Flask-Login holds it."""

    kind = "merchant"

    def __init__(self, user: MerchantUser) -> None:
        self.user = user
        self.email = user.email
        self.role = user.role
        self.timezone = user.timezone

    def get_id(self) -> str:
        return f"m:{self.user.id}:{services.session_fingerprint(self.user)}"


def _load(session_id: str) -> Any:
    user_id, _, fingerprint = session_id.partition(":")
    if not user_id.isdigit():
        return None
    try:
        user = services.get_user(int(user_id))
    except NotFound:
        return None
    # A password change signs out every other session of the user.
    return SignedInMerchant(user) if services.session_fingerprint(user) == fingerprint else None


USER_LOADERS["m"] = _load


def init_app(app: Flask) -> None:
    login_manager.login_view = "users.login"
    throttle.init_app(app)
    app.register_blueprint(bp)


def merchant_required(role: str | None = None) -> Any:
    """Decorate a view (or call in ``before_request``) to admit signed-in merchant users only
    (of ``role``, when given)."""

    def check() -> Response | None:
        if not current_user.is_authenticated or getattr(current_user, "kind", "") != "merchant":
            return login_manager.unauthorized()
        if role is not None and current_user.role != role:
            abort(403)
        return None

    return check


def _merchant_only(view: Any) -> Any:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return merchant_required()() or view(*args, **kwargs)

    return wrapper


def _local_target(target: str | None) -> str | None:
    """``target`` if it is a path on this site (no open redirect to another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _sign_in(user: MerchantUser) -> None:
    session.clear()  # a fresh session: no fixation of one made before sign-in
    login_user(SignedInMerchant(user))


@bp.get("/")
def home() -> Response:
    """The dashboard for a signed-in merchant user, the affiliate area for anyone else (most
    people who open affsrv's address are affiliates; the merchant signs in at /login)."""
    kind = getattr(current_user, "kind", "") if current_user.is_authenticated else ""
    if kind == "merchant":
        return redirect(url_for("admin.overview"))
    return redirect(url_for("portal.dashboard") if kind == "affiliate"
                    else url_for("portal.login"))


@bp.route("/login", methods=["GET", "POST"])
@throttle.throttle_signin
def login() -> Any:
    form = SignInForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            _sign_in(user)
            return redirect(_local_target(request.args.get("next")) or url_for("users.home"),
                            code=303)
        # One answer for an unknown e-mail and a wrong password.
        flash("Wrong e-mail or password.", "error")
        return render_template("users/login.html", form=form), throttle.FAILED_SIGNIN
    status = 400 if form.is_submitted() else 200
    return render_template("users/login.html", form=form), status


@bp.errorhandler(429)
def _too_many(_exc: Exception) -> Any:
    flash("Too many failed sign-ins. Wait a quarter of an hour and try again.", "error")
    return render_template("users/login.html", form=SignInForm()), 429


def sign_out(login_endpoint: str) -> Response:
    """A sign-out button's POST, for merchants and affiliates alike: the form's CSRF token
    checked, the session ended and cleared, then the sign-in page."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    logout_user()
    session.clear()
    return redirect(url_for(login_endpoint), code=303)


@bp.post("/logout")
def logout() -> Response:
    return sign_out("users.login")


@bp.route("/login/link/<token>", methods=["GET", "POST"])
def signin_link(token: str) -> Any:
    """A one-time sign-in link (``affsrv user add``). Opening it only shows a button: link
    previews and mail scanners must not use it up."""
    form = ButtonForm()
    if form.validate_on_submit():
        user = services.redeem_signin_token(token)
        if user is None:
            flash("That sign-in link is used up or expired. Ask for a new one "
                  "(affsrv user link --email ...).", "error")
            return render_template("users/link.html", form=form, used=True), 410
        _sign_in(user)
        flash("Signed in. Now choose a password.", "info")
        return redirect(url_for("users.account"), code=303)
    return render_template("users/link.html", form=form, used=False)


@bp.route("/account", methods=["GET", "POST"])
@_merchant_only
def account() -> Any:
    user = current_user.user
    return account_page(
        PasswordChangeForm(prefix="pw"), zone=user.timezone,
        change_password=lambda current, new: services.change_password(user, current, new),
        save_zone=lambda zone: services.set_timezone(user, zone),
        # the session now carries the new password's
        sign_in_again=lambda: login_user(SignedInMerchant(user)),
        endpoint="users.account", template="users/account.html",
        has_password=bool(user.password_hash), roles=Role)


def account_page(password_form: Any, *, zone: str | None,
                 change_password: Callable[[str, str], object],
                 save_zone: Callable[[str], object], sign_in_again: Callable[[], object],
                 endpoint: str, template: str, **context: Any) -> Any:
    """The account page of a signed-in merchant user or affiliate: change the password (then
    sign this session in again: the others end) or the time zone times are shown in. The
    caller passes what differs: its password form's rules, the services, the page."""
    zone_form = TimezoneForm(prefix="tz")
    zone_form.timezone.choices = [SelectChoice("", "the server's zone")] + [
        SelectChoice(z, z) for z in sorted(available_timezones())
    ]
    status = 200
    if request.method == "GET":
        zone_form.timezone.data = zone
    elif password_form.submit.data:
        if password_form.validate_on_submit():
            try:
                change_password(password_form.current.data, password_form.new.data)
            except DomainError as exc:
                flash(exc.message, "error")
                status = 400
            else:
                sign_in_again()
                flash("Password changed. Other sessions are signed out.", "info")
                return redirect(url_for(endpoint), code=303)
        else:
            status = 400
    elif zone_form.submit.data:
        if zone_form.validate_on_submit():
            save_zone(zone_form.timezone.data)
            flash("Time zone saved.", "info")
            return redirect(url_for(endpoint), code=303)
        status = 400
    else:
        abort(400)
    return render_template(template, password_form=password_form, zone_form=zone_form,
                           **context), status
