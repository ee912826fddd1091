"""Admins see the policy versions and add a new one."""
from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from tts.clock import to_london, utcnow
from tts.permissions import require
from tts.policies import bp
from tts.policies.forms import PolicyForm
from tts.policies.services import create_policy_version, list_policies, policy_in_force
from tts.ui import submit


@bp.route("/", methods=["GET", "POST"])
@require("policy.manage")
def index():
    current = policy_in_force()
    form = PolicyForm(data={"case_isolation_days": current.case_isolation_days,
                            "contact_quarantine_days": current.contact_quarantine_days,
                            "infectious_days_before_onset": current.infectious_days_before_onset})
    policy = submit(form, lambda: create_policy_version(
        current_user, effective_date=form.effective_date.data, case_isolation_days=form.case_isolation_days.data,
        contact_quarantine_days=form.contact_quarantine_days.data,
        infectious_days_before_onset=form.infectious_days_before_onset.data, note=form.note.data), prefix="")
    if policy is not None:
        flash(f"New policy saved: it applies to cases and contacts logged from "
              f"{to_london(policy.effective_from):%-d %B %Y %H:%M}", "success")
        return redirect(url_for("policies.index"))
    return render_template("policies/index.html", form=form, policies=list_policies(), current=current,
                           now=utcnow()), (400 if form.errors else 200)
