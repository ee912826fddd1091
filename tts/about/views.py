from flask import current_app, render_template

from tts.about import bp
from tts.permissions import public


@bp.route("/accessibility")
@public
def accessibility():
    """The accessibility statement (Public Sector Bodies Accessibility Regulations 2018), open to everyone."""
    config = current_app.config
    return render_template("about/accessibility.html", organisation=config["TTS_ORGANISATION_NAME"],
                           contact_email=config["TTS_ACCESSIBILITY_EMAIL"], team_phone=config["TTS_TEAM_PHONE"],
                           statement_date=config["TTS_ACCESSIBILITY_STATEMENT_DATE"])
