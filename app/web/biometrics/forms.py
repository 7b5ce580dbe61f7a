"""Forms of the biometric pages; each carries its CSRF token."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

# staff record consent only from the signed paper form: on-screen consent is the trainee's own
METHOD_CHOICES = (
    ("paper", _l("The trainee signed the paper form")),
)


class ConsentForm(FlaskForm):
    """Consent under the text version shown; staff say how it was given."""

    version = HiddenField(validators=[DataRequired()])
    # rendered as radio buttons by the template (METHOD_CHOICES); a plain field with AnyOf
    # avoids WTForms' choices API, whose tuple form is deprecated in 3.3 and absent before it
    method = StringField(_l("How consent was given"), default="paper",
                         validators=[InputRequired(), AnyOf(("on_screen", "paper"))])
    paper_reference = StringField(_l("Reference of the signed form"), validators=[Length(max=100)])
    agree = BooleanField(_l("I have read the text above and agree to face recognition"),
                         validators=[DataRequired()])
    submit = SubmitField(_l("Record consent"))


class MyConsentForm(FlaskForm):
    """A trainee's own consent, given on screen."""

    version = HiddenField(validators=[DataRequired()])
    agree = BooleanField(_l("I have read the text above and agree to face recognition"),
                         validators=[DataRequired()])
    submit = SubmitField(_l("I agree"))


class WithdrawForm(FlaskForm):
    """Withdraw consent; the template is deleted at once (staff give the signed form's reference)."""

    paper_reference = StringField(_l("Reference of the signed form"), validators=[Length(max=100)])

    submit = SubmitField(_l("Withdraw consent and delete the face data"))


class AlternativeForm(FlaskForm):
    """Arrange the instructor-witnessed ID-card check instead of face recognition."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Arrange ID-card verification"))


class ResolveFlagForm(FlaskForm):
    """Close a duplicate-face flag with a note."""

    note = TextAreaField(_l("Note"), validators=[Length(max=500)])
    submit = SubmitField(_l("Mark as resolved"))
