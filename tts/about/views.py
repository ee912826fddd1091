from flask import abort, current_app, render_template

from tts.about import bp
from tts.permissions import public, require


@bp.route("/accessibility")
@public
def accessibility():
    """The accessibility statement (Public Sector Bodies Accessibility Regulations 2018), open to everyone."""
    config = current_app.config
    return render_template("about/accessibility.html", organisation=config["TTS_ORGANISATION_NAME"],
                           contact_email=config["TTS_ACCESSIBILITY_EMAIL"], team_phone=config["TTS_TEAM_PHONE"],
                           statement_date=config["TTS_ACCESSIBILITY_STATEMENT_DATE"])


@bp.route("/more/<group>")
@require(note="the group's links are those the user may open; 404 when there are none")
def more(group: str):
    """A navigation group's page: its links, each with what it is for."""
    from tts.ui import NAV_GROUPS, nav_group_links

    if group not in NAV_GROUPS or group == "cases":
        abort(404)
    links = nav_group_links(group)
    if not links:
        abort(404)
    title, lead = NAV_GROUPS[group]
    return render_template("about/more.html", title=title, lead=lead, links=links)
