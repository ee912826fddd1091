"""deploy/alerts.yml: every metric an alert uses is one /metrics gives, and every runbook link has its section."""
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_alert_rules_use_only_exposed_metrics_and_link_to_their_runbook(client, daytime):
    from tts.ops.heartbeats import beat
    from tts.extensions import db

    with client.application.app_context():
        for lane in ("pass", "slow", "audit"):
            beat(lane)
        db.session.commit()
    client.post("/login", data={"email": "nobody@tts.example", "password": "wrong"})  # a sign-in failure
    exposed = {line.split("{")[0].split(" ")[0] for line in client.get("/metrics").get_data(as_text=True).splitlines()
               if line and not line.startswith("#")}
    rules = yaml.safe_load((ROOT / "deploy" / "alerts.yml").read_text())["groups"][0]["rules"]
    operations = (ROOT / "docs" / "operations.md").read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
               for heading in re.findall(r"^### (.+)$", operations, re.MULTILINE)}
    assert len(rules) >= 4
    for rule in rules:
        for name in re.findall(r"\btts_[a-z_]+", rule["expr"]):
            assert name in exposed, f"{rule['alert']} uses {name}, which /metrics does not give"
        anchor = rule["annotations"]["runbook"].split("#")[1]
        assert anchor in anchors, f"{rule['alert']}: docs/operations.md has no section #{anchor}"
    names = {rule["alert"] for rule in rules}
    assert {"TTSWorkerStalled", "TTSTextsStuck", "TTSFirstCallsOverdue", "TTSErrorRate"} <= names
