from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from affsrv.affiliates.services import AFFILIATE_PASSWORD_MIN


class SignUpForm(FlaskForm):
    fname = StringField("First name", validators=[DataRequired(), Length(max=100)])
    lname = StringField("Last name", validators=[DataRequired(), Length(max=100)])
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[
        DataRequired(), Length(AFFILIATE_PASSWORD_MIN, 200)])
    confirm = PasswordField("Password again", validators=[
        DataRequired(), EqualTo("password", "the two differ")])
    submit = SubmitField("Sign up")


class ResetRequestForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Send me a link")


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[
        DataRequired(), Length(AFFILIATE_PASSWORD_MIN, 200)])
    confirm = PasswordField("New password again", validators=[
        DataRequired(), EqualTo("password", "the two differ")])
    submit = SubmitField("Set password")


class PasswordChangeForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=200)])
    new = PasswordField("New password", validators=[
        DataRequired(), Length(AFFILIATE_PASSWORD_MIN, 200)])
    confirm = PasswordField("New password again", validators=[
        DataRequired(), EqualTo("new", "the two differ")])
    submit = SubmitField("Change password")


class CloseAccountForm(FlaskForm):
    understood = BooleanField("I understand that this cannot be undone",
                              validators=[DataRequired("tick this to close the account")])
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Close my account")
