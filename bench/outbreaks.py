"""Settings and outbreaks on a benchmark data set (after bench/generate.py): a national register and its
outbreaks at the peak, with one very large outbreak to time the outbreak page against.

    .venv/bin/python bench/outbreaks.py --database-url URL [--seed 1]

National-peak figures (England, the worst weeks of winter 2020-21): about 15,000 care homes, 24,000 schools
and many more workplaces; over a thousand care-home outbreaks open at once. So: 30,000 settings, 3,000 live
outbreaks of 2 to 12 cases each (links and actions with them), and one outbreak of 300 cases (a large
hospital or distribution centre) whose chain has 120 links. The cases are the data set's own.
"""
import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETTINGS, OUTBREAKS, LARGEST, CHAIN_LINKS = 30_000, 3_000, 300, 120
KINDS = [("care_home", 0.3), ("school", 0.3), ("workplace", 0.3), ("hospital", 0.02), ("hospitality", 0.06),
         ("other", 0.02)]


def add(database_url: str, seed: int = 1) -> dict:
    from sqlalchemy import func, insert, select, text, update

    from tts import create_app
    from tts.cases.models import Case
    from tts.extensions import db
    from tts.outbreaks.models import Outbreak, OutbreakAction, OutbreakCase, Setting, SettingLink

    rng = random.Random(seed)
    now = datetime.now(UTC)
    app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url)
    started = time.perf_counter()
    with app.app_context():
        if db.session.scalar(select(func.count()).select_from(Setting)):
            return {"skipped": "settings already loaded"}
        kinds = [k for k, _ in KINDS]
        weights = [w for _, w in KINDS]
        rows = []
        for n in range(SETTINGS):
            kind = rng.choices(kinds, weights)[0]
            name = f"Bench {kind.replace('_', ' ').title()} {n}"
            district = rng.choice(["S1", "S2", "S6", "S10", "S11", "LS1", "M1", "B1", "NE1", "L1"])
            rows.append({"name": name, "name_key": name.lower(), "kind": kind, "postcode": f"{district} {rng.randint(1, 9)}AB",
                         "address": f"{n} Bench Street", "contact_name": "Bench Manager",
                         "contact_phone": f"+4477009{rng.randint(0, 999):05d}"[:13], "contact_email": None,
                         "size": rng.randint(10, 400), "created_at": now})
        db.session.execute(insert(Setting), rows)
        setting_ids = list(db.session.scalars(select(Setting.id).order_by(Setting.id)))
        case_ids = list(db.session.scalars(select(Case.id).order_by(Case.id.desc()).limit(60_000)))
        rng.shuffle(case_ids)
        cursor = 0

        def take(k: int) -> list[int]:
            nonlocal cursor
            chosen = case_ids[cursor:cursor + k]
            cursor += k
            return chosen

        outbreak_rows, member_rows, link_rows, action_rows = [], [], [], []
        chosen_settings = rng.sample(setting_ids, OUTBREAKS)
        sizes = [LARGEST] + [rng.randint(2, 12) for _ in range(OUTBREAKS - 1)]
        for n, (setting_id, size) in enumerate(zip(chosen_settings, sizes)):
            outbreak_rows.append({"reference": f"OB-B{n:06d}", "setting_id": setting_id, "status": "open",
                                  "opened_at": now - timedelta(hours=rng.randint(0, 400)),
                                  "opened_reason": "Bench"})
        db.session.execute(insert(Outbreak), outbreak_rows)
        outbreak_ids = list(db.session.scalars(select(Outbreak.id).order_by(Outbreak.id)))
        largest_members: list[int] = []
        for outbreak_id, setting_id, size in zip(outbreak_ids, chosen_settings, sizes):
            members = take(size)
            if outbreak_id == outbreak_ids[0]:
                largest_members = members
            for case_id in members:
                member_rows.append({"outbreak_id": outbreak_id, "case_id": case_id, "added_at": now})
                link_rows.append({"setting_id": setting_id, "case_id": case_id, "source": "staff", "created_at": now,
                                  "last_attended": (now - timedelta(days=rng.randint(1, 10))).date()})
            for kind, done in (("call_setting", True), ("risk_assessment", True), ("testing_arranged", False)):
                action_rows.append({"outbreak_id": outbreak_id, "kind": kind, "notes": "Bench action", "band": 2,
                                    "due_date": now.date(), "done_at": now if done else None, "created_at": now})
        for table, batch in ((OutbreakCase, member_rows), (SettingLink, link_rows), (OutbreakAction, action_rows)):
            for i in range(0, len(batch), 5_000):
                db.session.execute(insert(table), batch[i:i + 5_000])
        # The largest outbreak's chain: each of 120 cases caught it from an earlier member.
        for i in range(1, CHAIN_LINKS + 1):
            db.session.execute(update(Case).where(Case.id == largest_members[i])
                               .values(exposed_by_case_id=largest_members[rng.randrange(0, i)]))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE settings, setting_links, outbreaks, outbreak_cases, outbreak_actions, "
                              "cases"))
        return {"settings": SETTINGS, "outbreaks": OUTBREAKS, "largest_outbreak_id": outbreak_ids[0],
                "largest_cases": LARGEST, "chain_links": CHAIN_LINKS, "links": len(link_rows),
                "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(add(args.database_url, args.seed))


if __name__ == "__main__":
    main()
