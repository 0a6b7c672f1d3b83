from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from affsrv.clerkkeys.services import ROLES as CLERK_ROLES


class AffiliateForm(FlaskForm):
    fname = StringField("First name", validators=[DataRequired(), Length(max=100)])
    lname = StringField("Last name", validators=[DataRequired(), Length(max=100)])
    # Checked by the affiliates service (marshmallow), as every other way in is.
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    commtier = DecimalField("Own commission %", places=None,
                            validators=[Optional(), NumberRange(0, 100)])
    clickbank_nickname = StringField("ClickBank nickname", validators=[Length(max=64)])
    payinfo = TextAreaField("Payment info", validators=[Length(max=10_000)])
    notes = TextAreaField("Notes", validators=[Length(max=10_000)])
    submit = SubmitField("Save")


class ActionForm(FlaskForm):
    """A button that changes one thing (approve, disable, revoke): the CSRF token and a
    submit."""

    submit = SubmitField("Go")


class DecideForm(FlaskForm):
    action = HiddenField()
    submit = SubmitField("Go")


class ProductForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=255)])
    url = URLField("Landing URL", validators=[DataRequired(), URL(require_tld=False),
                                              Length(max=2048)])
    sku = StringField("SKU", validators=[Optional(), Length(max=64)])
    commission_rate = DecimalField("Commission %", places=None,
                                   validators=[Optional(), NumberRange(0, 100)])
    submit = SubmitField("Save")


class PayoutForm(FlaskForm):
    method = SelectField("Paid by", choices=[
        SelectChoice("paypal", "PayPal"), SelectChoice("bank", "Bank transfer"),
        SelectChoice("check", "Check"), SelectChoice("other", "Other")])
    reference = StringField("Reference (batch id)", validators=[Length(max=255)])
    submit = SubmitField("Record payout batch")


class KeyForm(FlaskForm):
    label = StringField("Label", validators=[Length(max=100)])
    submit = SubmitField("Create key")


class AccountForm(FlaskForm):
    """A new ClickBank account; the nickname and key are checked by the clickbank service."""

    nickname = StringField("Nickname", validators=[DataRequired(), Length(max=64)])
    # Write-only: a PasswordField is never filled back into the page.
    secret_key = PasswordField("Secret key", validators=[DataRequired(), Length(max=64)])
    legacy_cverify = BooleanField("Accept legacy (4.0 and older) form posts")
    submit = SubmitField("Add account")


class AccountSettingsForm(FlaskForm):
    """What ``affsrv account set`` changes."""

    legacy_cverify = BooleanField("Accept legacy (4.0 and older) form posts")
    unknown_skus = SelectField("A sale naming an unknown SKU", choices=[
        SelectChoice("create", "creates its product and earns the commission"),
        SelectChoice("refuse", "is stored only (no product, no commission)")])
    submit = SubmitField("Save")


class SubscriptionForm(FlaskForm):
    """``affsrv notify add``: checked by the notifications service."""

    url = URLField("Receiver URL", validators=[DataRequired(), Length(max=2048)])
    secret_key = PasswordField("Secret key", validators=[Optional(), Length(max=64)])
    affiliate = StringField("Only this affiliate (code)", validators=[Optional(),
                                                                      Length(max=64)])
    product_id = IntegerField("Only this product (id)",
                              validators=[Optional(), NumberRange(1, 2**31 - 1)])
    submit = SubmitField("Add subscription")


class ClerkKeyForm(FlaskForm):
    """``affsrv clerk-key add``: the roles and sites are checked by the clerkkeys service."""

    roles = SelectMultipleField("Roles", choices=[SelectChoice(r, r) for r in CLERK_ROLES],
                                widget=ListWidget(prefix_label=False),
                                option_widget=CheckboxInput())
    sites = StringField("Sites", validators=[DataRequired(), Length(max=1000)])
    label = StringField("Label", validators=[Length(max=100)])
    submit = SubmitField("Create key")
