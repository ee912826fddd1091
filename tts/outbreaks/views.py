"""The settings register, linking a case to the settings they attended, and the outbreak pages."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from tts.audit.services import audited_list_page, record_event
from tts.cases.models import Case
from tts.errors import DomainError, ValidationFailed
from tts.extensions import db
from tts.input_guard import bounded_int
from tts.outbreaks import bp
from tts.outbreaks import services
from tts.outbreaks.forms import (ACTION_CHOICES, KIND_CHOICES, STATUS_CHOICES, ActionForm, DoneForm, LinkForm,
                                 OpenForm, SettingForm, StatusForm)
from tts.outbreaks.models import (Outbreak, OutbreakAction, OutbreakStatus, Setting, SettingKind, SettingLink,
                                  SettingMention)
from tts.outbreaks.settings import (DuplicateSetting, create_setting, links_of, search_settings, suggest_settings,
                                    unlink, update_setting)
from tts.people.access import case_or_403, contact_or_403
from tts.permissions import can, require
from tts.reports.charts import epicurve_chart
from tts.transaction import undo
from tts.ui import flash_errors, submit


def setting_or_404(setting_id: int) -> Setting:
    return db.session.get(Setting, setting_id) or abort(404)


def outbreak_or_404(outbreak_id: int) -> Outbreak:
    return db.session.get(Outbreak, outbreak_id) or abort(404)


# -- the register --------------------------------------------------------------------------------------------

@bp.route("/settings/")
@require("setting.view")
def settings_index():
    q = (request.args.get("q") or "")[:100]
    kind = request.args.get("kind") if request.args.get("kind") in SettingKind.labels() else None
    found = search_settings(q, kind) if q or kind else search_settings(None, None)
    live = services.live_outbreaks_at([s.id for s in found])
    return render_template("outbreaks/settings.html", settings=found, q=q, kind=kind, kinds=KIND_CHOICES, live=live)


@bp.route("/settings/new", methods=["GET", "POST"])
@require("setting.create")
def setting_new():
    form = SettingForm()
    duplicate: dict = {}

    def save():
        try:
            return create_setting(current_user, form.data_())
        except DuplicateSetting as exc:
            duplicate["existing"] = exc.existing
            raise

    setting = submit(form, save, prefix="")
    if setting is not None:
        flash(f"{setting.name} added to the register.", "success")
        back = request.args.get("case_id", type=bounded_int)
        contact_back = request.args.get("contact_id", type=bounded_int)
        if contact_back:
            return redirect(url_for("outbreaks.contact_link", contact_id=contact_back, setting_id=setting.id))
        mention_id = request.args.get("mention_id", type=bounded_int)
        if mention_id:
            return redirect(url_for("outbreaks.mention", mention_id=mention_id, q=setting.name))
        if back:
            return redirect(url_for("outbreaks.case_link", case_id=back, setting_id=setting.id))
        return redirect(url_for("outbreaks.setting", setting_id=setting.id))
    return render_template("outbreaks/setting_form.html", form=form, kinds=KIND_CHOICES, setting=None,
                           existing=duplicate.get("existing")), (400 if form.errors else 200)


@bp.route("/settings/<id:setting_id>")
@require("setting.view", record="role")
def setting(setting_id: int):
    found = setting_or_404(setting_id)
    outbreaks = db.session.scalars(select(Outbreak).where(Outbreak.setting_id == found.id)
                                   .order_by(Outbreak.opened_at.desc())).all()
    links = []
    if can("outbreak.manage"):  # who attended: supervisors (tracers link from a case they hold)
        links = db.session.scalars(select(SettingLink).where(SettingLink.setting_id == found.id)
                                   .order_by(SettingLink.last_attended.desc().nulls_last(), SettingLink.id)
                                   .limit(200)).all()
        people = [(link.case or link.contact).person_id for link in links]
        html = render_template("outbreaks/setting.html", setting=found, outbreaks=outbreaks, links=links,
                               link_count=len(links))
        return audited_list_page(html, current_user, "outbreaks.setting", people)
    count = db.session.scalar(select(func.count()).select_from(SettingLink).where(SettingLink.setting_id == found.id))
    return render_template("outbreaks/setting.html", setting=found, outbreaks=outbreaks, links=links, link_count=count)


@bp.route("/settings/<id:setting_id>/edit", methods=["GET", "POST"])
@require("setting.manage", record="role")
def setting_edit(setting_id: int):
    found = setting_or_404(setting_id)
    form = SettingForm(obj=found)
    saved = submit(form, lambda: update_setting(current_user, found, form.data_()), prefix="")
    if saved is not None:
        flash(f"{found.name} updated.", "success")
        return redirect(url_for("outbreaks.setting", setting_id=found.id))
    return render_template("outbreaks/setting_form.html", form=form, kinds=KIND_CHOICES, setting=found,
                           existing=None), (400 if form.errors else 200)


@bp.route("/settings/<id:setting_id>/outbreaks/new", methods=["GET", "POST"])
@require("outbreak.manage", record="role")
def outbreak_new(setting_id: int):
    found = setting_or_404(setting_id)
    form = OpenForm()
    try:
        opened = submit(form, lambda: services.open_outbreak(current_user, found, reason=form.reason.data))
    except services.OutbreakConflict as exc:
        undo()
        flash(str(exc), "error")
        return redirect(url_for("outbreaks.show", outbreak_id=exc.extra["existing_outbreak_id"]))
    if opened is not None:
        flash(f"Outbreak {opened.reference} opened at {found.name}.", "success")
        return redirect(url_for("outbreaks.show", outbreak_id=opened.id))
    return render_template("outbreaks/open.html", form=form, setting=found), (400 if form.errors else 200)


# -- a case's settings ---------------------------------------------------------------------------------------

@bp.route("/cases/<id:case_id>/settings", methods=["GET", "POST"])
@require("case.create", record="own_case")
def case_link(case_id: int):
    return _link_page(case_or_403(current_user, case_id))


@bp.route("/contacts/<id:contact_id>/settings", methods=["GET", "POST"])
@require("case.create", record="own_contact")
def contact_link(contact_id: int):
    return _link_page(contact_or_403(current_user, contact_id))


def _link_page(record):
    """Find the setting in the register (or add it), choose it, and say when they last attended."""
    is_case = isinstance(record, Case)
    subject = {"case": record} if is_case else {"contact": record}
    q = (request.args.get("q") or "")[:100]
    chosen = request.args.get("setting_id", type=bounded_int)
    form = LinkForm()
    if request.method == "GET" and chosen:
        form.setting_id.data = str(chosen)
    return_to = request.args.get("return_to", type=bounded_int)

    def save():
        setting_id = bounded_int(form.setting_id.data or "", 1)
        return services.link(current_user, db.session.get(Setting, setting_id) if setting_id else None,
                             last_attended=form.last_attended.data, **subject)

    linked = submit(form, save, prefix="")
    if linked is not None:
        outbreak = services.live_outbreak(linked.setting_id)
        message = f"{record.person.full_name} linked to {linked.setting.name}."
        if outbreak is not None:
            message += f" The setting has an outbreak: {outbreak.reference}."
        flash(message, "success")
        if return_to:
            return redirect(url_for("callqueue.call", item_id=return_to))
        if is_case:
            return redirect(url_for("cases.show", case_id=record.id) + "#settings")
        return redirect(url_for("people.show", person_id=record.person_id) + "#settings")
    found = search_settings(q) if q else []
    if chosen and all(s.id != chosen for s in found):
        extra = db.session.get(Setting, chosen)
        found = ([extra] if extra else []) + found
    if form.setting_id.data and not found:
        extra = db.session.get(Setting, bounded_int(form.setting_id.data, 1) or 0)
        found = [extra] if extra else []
    action = (url_for("outbreaks.case_link", case_id=record.id, return_to=return_to) if is_case
              else url_for("outbreaks.contact_link", contact_id=record.id, return_to=return_to))
    return render_template("outbreaks/case_link.html", record=record, is_case=is_case, action=action, form=form,
                           q=q, found=found, links=links_of(**subject), return_to=return_to), \
        (400 if form.errors else 200)


@bp.route("/cases/<id:case_id>/settings/<id:link_id>/remove", methods=["POST"])
@require("case.create", record="own_case")
def case_unlink(case_id: int, link_id: int):
    case = case_or_403(current_user, case_id)
    found = db.session.get(SettingLink, link_id)
    if found is None or found.case_id != case.id:
        abort(404)
    name = found.setting.name
    unlink(current_user, found)
    flash(f"{name} removed from {case.person.full_name}'s settings. An outbreak it is in keeps the case.", "success")
    return redirect(url_for("cases.show", case_id=case.id) + "#settings")


# -- outbreaks -----------------------------------------------------------------------------------------------

@bp.route("/outbreaks/")
@require("outbreak.manage")
def index():
    status = request.args.get("status")
    from sqlalchemy.orm import joinedload

    query = select(Outbreak).options(joinedload(Outbreak.setting)).order_by(Outbreak.opened_at.desc())
    if status in OutbreakStatus.labels():
        query = query.where(Outbreak.status == status)
    elif status != "all":
        status = "live"
        query = query.where(Outbreak.status != OutbreakStatus.CLOSED)
    outbreaks = db.session.scalars(query.limit(200)).all()
    counts = dict(db.session.execute(
        select(services.OutbreakCase.outbreak_id, func.count()).where(
            services.OutbreakCase.outbreak_id.in_([o.id for o in outbreaks]))
        .group_by(services.OutbreakCase.outbreak_id)).all())
    return render_template("outbreaks/index.html", outbreaks=outbreaks, counts=counts, status=status,
                           statuses=STATUS_CHOICES, work=services.waiting_actions(100))


def _page(outbreak: Outbreak, action_form=None, status_form=None):
    cases = services.member_cases(outbreak)
    contacts = services.contacts_of(outbreak, cases)
    links = services.chain(cases)
    curve = services.epicurve(cases)
    record_event(current_user, "outbreak.view", outbreak, {"case_ids": [c.id for c in cases]})
    from tts.letters.models import Letter
    from tts.letters.services import email_available, letters_of

    quarantine = db.session.scalars(select(Letter).where(Letter.contact_id.in_([c.id for c in contacts]))
                                    .order_by(Letter.created_at.desc(), Letter.id.desc()).limit(200)).all()
    html = render_template(
        "outbreaks/show.html", outbreak=outbreak, cases=cases, contacts=contacts, links=links, curve=curve,
        chart=epicurve_chart(curve, title=f"Cases by day, {outbreak.setting.name}"),
        diagram=chain_diagram(cases, links), action_form=action_form or ActionForm(formdata=None),
        status_form=status_form or StatusForm(formdata=None), action_choices=ACTION_CHOICES,
        status_choices=[c for c in STATUS_CHOICES if c[0] != outbreak.status], done_form=DoneForm(formdata=None),
        letters=letters_of(outbreak), contact_letters=quarantine, email_available=email_available())
    people = [c.person_id for c in cases] + [c.person_id for c in contacts]
    return audited_list_page(html, current_user, "outbreaks.show", people)


@bp.route("/outbreaks/<id:outbreak_id>")
@require("outbreak.manage", record="role")
def show(outbreak_id: int):
    return _page(outbreak_or_404(outbreak_id))


@bp.route("/outbreaks/<id:outbreak_id>/actions", methods=["POST"])
@require("outbreak.manage", record="role")
def action_new(outbreak_id: int):
    outbreak = outbreak_or_404(outbreak_id)
    form = ActionForm()
    done = submit(form, lambda: services.add_action(current_user, outbreak, kind=form.kind.data or None,
                                                    notes=form.notes.data, due_date=form.due_date.data,
                                                    done=not form.todo.data), prefix="")
    if done is not None:
        flash(f"{done.kind_label} recorded.", "success")
        return redirect(url_for("outbreaks.show", outbreak_id=outbreak.id) + "#actions")
    return _page(outbreak, action_form=form), 400


@bp.route("/outbreaks/<id:outbreak_id>/actions/<id:action_id>/done", methods=["POST"])
@require("outbreak.manage", record="role")
def action_done(outbreak_id: int, action_id: int):
    action = db.session.get(OutbreakAction, action_id)
    if action is None or action.outbreak_id != outbreak_id:
        abort(404)
    try:
        services.complete_action(current_user, action, request.form.get("notes"))
    except DomainError as exc:
        undo()
        flash(str(exc), "error")
    else:
        flash(f"{action.kind_label}: marked done.", "success")
    return redirect(url_for("outbreaks.show", outbreak_id=outbreak_id) + "#actions")


@bp.route("/outbreaks/<id:outbreak_id>/status", methods=["POST"])
@require("outbreak.manage", record="role")
def status(outbreak_id: int):
    outbreak = outbreak_or_404(outbreak_id)
    form = StatusForm()
    try:
        changed = submit(form, lambda: services.change_status(current_user, outbreak, status=form.status.data or None,
                                                              reason=form.reason.data), prefix="")
    except services.OutbreakConflict as exc:
        undo()
        flash_errors("The status was not changed", ValidationFailed({"status": [str(exc)]}), {"status": "status-0"})
        return redirect(url_for("outbreaks.show", outbreak_id=outbreak.id) + "#status")
    if changed is not None:
        flash(f"Outbreak {outbreak.reference} is now {outbreak.status_label.lower()}.", "success")
        return redirect(url_for("outbreaks.show", outbreak_id=outbreak.id))
    return _page(outbreak, status_form=form), 400


# -- the chain, drawn ----------------------------------------------------------------------------------------

def chain_diagram(cases: list[Case], links: list[tuple[Case, Case]]):
    """An SVG of who caught it from whom: one column per generation, an arrow per link. Beside it on the page
    is the same chain as a list (the accessible reading of it)."""
    from markupsafe import Markup, escape

    if not links:
        return None
    parent = {child.id: source.id for source, child in links}
    involved = {c.id for pair in links for c in pair}

    def depth(case_id: int, seen=()) -> int:
        return 0 if case_id not in parent or case_id in seen else 1 + depth(parent[case_id], (*seen, case_id))

    columns: dict[int, list[Case]] = {}
    for case in cases:
        if case.id in involved:
            columns.setdefault(depth(case.id), []).append(case)
    box_w, box_h, gap_x, gap_y = 150, 44, 60, 18
    width = len(columns) * (box_w + gap_x) - gap_x + 20
    height = max(len(v) for v in columns.values()) * (box_h + gap_y) - gap_y + 20
    where = {}
    parts = [f'<svg role="img" aria-labelledby="chain-title" viewBox="0 0 {width} {height}" class="tts-chart '
             f'tts-chain" xmlns="http://www.w3.org/2000/svg"><title id="chain-title">Transmission chain: '
             f'{len(links)} link{"s" if len(links) != 1 else ""} among {len(involved)} cases</title>'
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#0b0c0c"/></marker></defs>']
    for col, members in sorted(columns.items()):
        for row, case in enumerate(members):
            x, y = 10 + col * (box_w + gap_x), 10 + row * (box_h + gap_y)
            where[case.id] = (x, y)
            parts.append(f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="4" fill="#f3f2f1" '
                         f'stroke="#0b0c0c"/><text x="{x + 8}" y="{y + 19}" font-size="14" font-weight="bold">'
                         f'{escape(case.person.first_name[:16])} {escape(case.person.last_name[:1])}.</text>'
                         f'<text x="{x + 8}" y="{y + 36}" font-size="13">{escape(case.reference)}</text>')
    for source, child in links:
        (x1, y1), (x2, y2) = where[source.id], where[child.id]
        parts.append(f'<line x1="{x1 + box_w}" y1="{y1 + box_h / 2}" x2="{x2}" y2="{y2 + box_h / 2}" '
                     f'stroke="#0b0c0c" stroke-width="2" marker-end="url(#arrow)"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704: built from numbers and escape()d text


# -- places people named, to match to the register ------------------------------------------------------------

@bp.route("/settings/places")
@require("setting.manage")
def mentions():
    waiting = services.waiting_mentions()
    html = render_template("outbreaks/mentions.html", mentions=waiting, total=services.count_waiting_mentions())
    return audited_list_page(html, current_user, "outbreaks.mentions", [m.subject.person_id for m in waiting])


def mention_or_404(mention_id: int) -> SettingMention:
    return db.session.get(SettingMention, mention_id) or abort(404)


@bp.route("/settings/places/<id:mention_id>", methods=["GET", "POST"])
@require("setting.manage", record="role")
def mention(mention_id: int):
    """Match one place to a setting: search the register (the person's words to start with), choose, link."""
    found_mention = mention_or_404(mention_id)
    if found_mention.status != "waiting":
        flash("That place was already dealt with.", "info")
        return redirect(url_for("outbreaks.mentions"))
    q = (request.args.get("q") if "q" in request.args else found_mention.text)[:100]
    form = LinkForm()

    def save():
        setting_id = bounded_int(form.setting_id.data or "", 1)
        return services.match_mention(current_user, found_mention, db.session.get(Setting, setting_id) if setting_id
                                      else None, form.last_attended.data)

    linked = submit(form, save, prefix="")
    if linked is not None:
        flash(f"Matched to {linked.setting.name}: {found_mention.subject.person.full_name} is linked to it.", "success")
        return redirect(url_for("outbreaks.mentions"))
    found = suggest_settings(q)
    record_event(current_user, "setting.mention_view", found_mention, {"person_id": found_mention.subject.person_id})
    return render_template("outbreaks/mention.html", mention=found_mention, form=form, q=q, found=found), \
        (400 if form.errors else 200)


@bp.route("/settings/places/<id:mention_id>/dismiss", methods=["POST"])
@require("setting.manage", record="role")
def mention_dismiss(mention_id: int):
    found_mention = mention_or_404(mention_id)
    try:
        services.dismiss_mention(current_user, found_mention)
    except DomainError as exc:
        undo()
        flash(str(exc), "info")
    else:
        flash(f"\u201c{found_mention.text}\u201d set aside: not a setting to follow up.", "success")
    return redirect(url_for("outbreaks.mentions"))
