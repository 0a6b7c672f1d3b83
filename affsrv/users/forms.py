from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from affsrv.users.services import PASSWORD_MAX, PASSWORD_MIN


class SignInForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    submit = SubmitField("Sign in")


class PasswordChangeForm(FlaskForm):
    current = PasswordField("Current password", validators=[Length(max=PASSWORD_MAX)])
    new = PasswordField("New password",
                        validators=[DataRequired(), Length(PASSWORD_MIN, PASSWORD_MAX)])
    confirm = PasswordField("New password again",
                            validators=[DataRequired(), EqualTo("new", "the two differ")])
    submit = SubmitField("Change password")


class TimezoneForm(FlaskForm):
    timezone = SelectField("Show times in", validate_choice=True)
    submit = SubmitField("Save")


class ButtonForm(FlaskForm):
    """A form that is only a button (sign out, use a link): the CSRF token and a submit."""

    submit = SubmitField("Go")
