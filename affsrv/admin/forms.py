from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional


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
