"""The comparison tables of docs/simulation.md, from real runs over several seeds (two runs at a time on
separate processes): TTS rules, FIFO, no pre-call text and no household calls (`--set rules`), or calls only
against self-service with and without a held first call, at the same staffing (`--set self-service`).

    PYTHONPATH=. .venv/bin/python bench/simulation_results.py --cases 200 --tracers 5 --seeds 1 2 3 4 5
    PYTHONPATH=. .venv/bin/python bench/simulation_results.py --set self-service --cases 200 --tracers 5
"""
import argparse
import statistics
from concurrent.futures import ProcessPoolExecutor

SETS = {
    "rules": {"TTS rules": {}, "FIFO": {"policy": "fifo"}, "TTS, no pre-call text": {"presms": False},
              "TTS, no household calls": {"household_calls": False}},
    "self-service": {"Calls only": {}, "Self-service": {"self_service": True},
                     "Self-service, first call held 4 h": {"self_service": True, "hold_hours": 4.0}},
}


def one(args: tuple[str, dict, int, int, int, float]) -> tuple[str, int, dict]:
    from tts import create_app
    from tts.simulation.engine import run
    from tts.simulation.params import Scenario

    name, flags, seed, cases, tracers, contacts = args
    figures = run(Scenario(cases_per_day=cases, tracers=tracers, contacts_per_case=contacts, seed=seed, **flags),
                  make_app=create_app)
    return name, seed, figures


def cell(values: list[float], percent: bool = True, bold: bool = False) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    scale, unit = (100, "%") if percent else (1, "")
    mean = statistics.mean(values) * scale
    text = f"{mean:.1f}{unit}"
    if len(values) > 1:
        text += f" ({min(values) * scale:.1f}–{max(values) * scale:.1f})"
    return f"**{text}**" if bold else text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--tracers", type=int, default=5)
    parser.add_argument("--contacts-per-case", type=float, default=3.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--set", dest="variant_set", choices=sorted(SETS), default="rules")
    args = parser.parse_args()
    VARIANTS = SETS[args.variant_set]
    jobs = [(name, flags, seed, args.cases, args.tracers, args.contacts_per_case)
            for name, flags in VARIANTS.items() for seed in args.seeds]
    results: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    seconds = []
    with ProcessPoolExecutor(args.processes) as pool:
        for name, _seed, figures in pool.map(one, jobs):
            results[name].append(figures["results"])
            seconds.append(figures["run"]["seconds"])
    names = list(VARIANTS)
    rows = [
        ("cases", lambda r: r["cases"]["reached_within_24h"], True),
        ("household contacts", lambda r: r["household_contacts"]["reached_within_24h"], True),
        ("other contacts", lambda r: r["other_contacts"]["reached_within_24h"], False),
        ("all contacts", lambda r: r["contacts"]["reached_within_24h"], False),
    ]
    print(f"{args.cases} cases a day, {args.contacts_per_case:g} contacts per case, {args.tracers} tracers; "
          f"seeds {', '.join(map(str, args.seeds))}; mean (range). Run times {min(seconds)}–{max(seconds)} s.\n")
    print("| reached within 24 h | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    for label, pick, bold in rows:
        print(f"| {label} | " + " | ".join(cell([pick(r) for r in results[n]], bold=bold and n == names[0])
                                          for n in names) + " |")
    extra = [
        ("reached within 48 h, household contacts", lambda r: r["household_contacts"]["reached_within_48h"], True),
        ("median hours to reach a case", lambda r: r["cases"]["median_hours_to_reach"], False),
        ("median hours to reach a household contact", lambda r: r["household_contacts"]["median_hours_to_reach"],
         False),
        ("calls per person reached", lambda r: r["calls_per_reach"], False),
        ("escalations (doorstep visits needed)", lambda r: r["escalations"], False),
        ("tracer utilisation", lambda r: r["tracer_utilisation"], True),
    ]
    if args.variant_set == "self-service":
        extra += [
            ("cases who sent the online form", lambda r: r["cases"].get("completed_online"), True),
            ("contacts who confirmed by text", lambda r: r["contacts"].get("confirmed_by_text"), True),
            ("tracer hours on calls", lambda r: r.get("tracer_hours_on_calls"), False),
        ]
    for label, pick, percent in extra:
        print(f"| {label} | " + " | ".join(cell([pick(r) for r in results[n]], percent=percent) for n in names) + " |")


if __name__ == "__main__":
    main()
