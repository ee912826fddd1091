"""/healthz, /readyz and /metrics: for load balancers, orchestrators and Prometheus, not for people."""
import hmac
import ipaddress

from flask import Response, abort, current_app, jsonify, request

from tts.ops import bp
from tts.permissions import Access, declare


def metrics_access(view):
    """Route decorator: no sign-in; `Authorization: Bearer $TTS_METRICS_TOKEN`, or a caller whose address is in
    TTS_METRICS_ALLOW (loopback by default)."""
    return declare(view, Access("metrics", note="bearer TTS_METRICS_TOKEN, or an address in TTS_METRICS_ALLOW"))


def probe(view):
    return declare(view, Access("public", note="health probe: no personal data, never audited"))


@bp.route("/healthz")
@probe
def healthz():
    """The process is up and answering. Touches nothing else (not the database): a load balancer that
    restarted processes on a database outage would make the outage worse."""
    return jsonify({"status": "ok"})


@bp.route("/readyz")
@probe
def readyz():
    """Ready for traffic: the database answers and its schema is the code's (the newest migration)."""
    from tts.ops.readiness import readiness

    ready, reason = readiness()
    if ready:
        return jsonify({"status": "ready"})
    return jsonify({"status": "not ready", "reason": reason}), 503


def _allowed() -> bool:
    config = current_app.config
    token = config.get("TTS_METRICS_TOKEN") or ""
    offered = request.headers.get("Authorization", "")
    if token and offered.startswith("Bearer ") and hmac.compare_digest(offered[7:].encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in config["TTS_METRICS_NETWORKS"])


@bp.route("/metrics")
@metrics_access
def metrics():
    from tts.ops.metrics import exposition

    if not _allowed():
        abort(403)
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(exposition(), content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
