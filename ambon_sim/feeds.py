"""Simulated OPD / national feeds over HTTP, evolving with sim time, with fault injection.

    python -m ambon_sim.feeds --host 127.0.0.1 --port 8601 --speed 60 --seed 7 [--start now]

Paths: /open311/requests.json|.xml, /bmkg/autogempa.json|.xml, /bmkg/gempadirasakan.json|.xml,
/bmkg/cap/warnings.xml,
/fhir/Location, /fhir/HealthcareService, /asn/attendance.json, /asn/kehadiran.json
(every service office's ASN check-ins, ambon_sim.offices), /dlh/trips.csv,
GET /health, GET /sim/time. ETag + Last-Modified on every document (304 on a match).

Faults: ``POST /fault/<feed>?mode=500|hang|truncated|wrongtypes|huge|duplicates|html|none``
with feed one of open311, bmkg, cap, fhir, attendance, dlh, all.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import logging
import sys
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from ambon_sim import feed_world as world

LOG = logging.getLogger("sim.feeds")
FEEDS = ("open311", "bmkg", "cap", "fhir", "attendance", "dlh")
MODES = ("none", "500", "hang", "truncated", "wrongtypes", "huge", "duplicates", "html")
HUGE_BYTES = 50 * 1024 * 1024
HANG_MAX_S = 30.0
ROUTES = {
    "/open311/requests.json": ("open311", "application/json"),
    "/open311/requests.xml": ("open311", "application/xml"),
    "/bmkg/autogempa.json": ("bmkg", "application/json"),
    "/bmkg/autogempa.xml": ("bmkg", "application/xml"),
    "/bmkg/gempadirasakan.json": ("bmkg", "application/json"),
    "/bmkg/gempadirasakan.xml": ("bmkg", "application/xml"),
    "/bmkg/cap/warnings.xml": ("cap", "application/atom+xml"),
    "/fhir/Location": ("fhir", "application/fhir+json"),
    "/fhir/HealthcareService": ("fhir", "application/fhir+json"),
    "/asn/attendance.json": ("attendance", "application/json"),
    "/asn/kehadiran.json": ("attendance", "application/json"),
    "/dlh/trips.csv": ("dlh", "text/csv; charset=utf-8"),
}


class FeedSim:
    """Sim clock, documents and faults (thread-safe: documents are pure functions)."""

    def __init__(self, registry: Any, seed: int, speed: float, start: datetime):
        self.registry, self.seed, self.speed = registry, seed, speed
        self.start = start.astimezone(world.WIT)
        self.epoch = (self.start - timedelta(hours=24)).replace(minute=0, second=0, microsecond=0)
        self.t0 = time.monotonic()
        self.faults: dict[str, str] = {}
        self.first_seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self._offices: Any = None

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * self.speed)

    def document(self, path: str, mode: str = "none") -> bytes:
        """The body of ``path`` at the current sim time (``mode`` wrongtypes/duplicates applied)."""
        now, wrong = self.now(), mode == "wrongtypes"
        if path.startswith("/open311/"):
            recs = world.open311_records(self.seed, self.epoch, now, wrong)
            recs = recs + recs if mode == "duplicates" else recs
            return world.dumps(recs) if path.endswith(".json") else world.open311_xml(recs).encode()
        if path.startswith("/bmkg/autogempa"):
            g = world.latest_quake(self.seed, self.epoch, now, wrong)
            return world.dumps({"Infogempa": {"gempa": g}}) if path.endswith(".json") else \
                world.bmkg_xml(g).encode()
        if path.startswith("/bmkg/gempadirasakan"):
            felt = world.felt_quakes(self.seed, self.epoch, now)
            return world.dumps({"Infogempa": {"gempa": felt}}) if path.endswith(".json") else \
                world.bmkg_xml(*felt).encode()
        if path == "/bmkg/cap/warnings.xml":
            return world.cap_feed(world.cap_alerts(self.seed, self.epoch, now)).encode()
        if path == "/fhir/Location":
            return world.dumps(world.fhir_locations(self.registry.puskesmas, wrong))
        if path == "/fhir/HealthcareService":
            return world.dumps(world.fhir_services(self.registry.puskesmas))
        if path == "/asn/kehadiran.json":
            return world.dumps(self.offices().kehadiran(now))
        if path == "/asn/attendance.json":
            doc = world.checkins(self.registry, self.seed, now, wrong)
            if mode == "duplicates":
                doc["checkins"] = doc["checkins"] * 2
            return world.dumps(doc)
        body = world.trips_csv(self.registry, self.seed, now, wrong)
        if mode == "duplicates":
            body += "".join(body.splitlines(keepends=True)[1:])
        return body.encode()

    def offices(self) -> Any:
        """The simulated service offices (built on first use: calendar and roster files)."""
        with self.lock:
            if self._offices is None:
                from ambon_sim.offices import office_world

                self._offices = office_world(self.registry, self.seed)
            return self._offices

    def validators(self, body: bytes) -> tuple[str, str]:
        tag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        with self.lock:
            seen = self.first_seen.setdefault(tag, time.time())
            if len(self.first_seen) > 5000:
                self.first_seen = {tag: seen}
        return tag, email.utils.formatdate(seen, usegmt=True)

    def fault(self, feed: str) -> str:
        return self.faults.get(feed) or self.faults.get("all") or "none"


class Handler(BaseHTTPRequestHandler):
    sim: FeedSim
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:
        LOG.debug("%s " + fmt, self.address_string(), *args)

    def _send(self, code: int, body: bytes, ctype: str = "text/plain; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self) -> None:
        url = urlparse(self.path)
        parts = url.path.strip("/").split("/")
        mode = parse_qs(url.query).get("mode", ["none"])[0]
        if len(parts) != 2 or parts[0] != "fault" or parts[1] not in (*FEEDS, "all") or mode not in MODES:
            self._send(400, f"POST /fault/<{'|'.join(FEEDS)}|all>?mode=<{'|'.join(MODES)}>\n".encode())
            return
        if mode == "none":
            self.sim.faults.pop(parts[1], None)
        else:
            self.sim.faults[parts[1]] = mode
        LOG.info("fault %s -> %s", parts[1], mode)
        self._send(200, world.dumps(self.sim.faults), "application/json")

    def do_GET(self) -> None:
        path = urlparse(self.path).path
        if path == "/health":
            self._send(200, b"ok\n")
            return
        if path == "/sim/time":
            self._send(200, world.dumps({"sim_time": self.sim.now().isoformat(), "faults": self.sim.faults}),
                       "application/json")
            return
        if path not in ROUTES:
            self._send(404, b"not found\n")
            return
        feed, ctype = ROUTES[path]
        mode = self.sim.fault(feed)
        if self._faulted(mode, feed):
            return
        body = self.sim.document(path, mode)
        if mode == "truncated":
            self._send(200, body[: len(body) // 2], ctype)
            return
        tag, modified = self.sim.validators(body)
        inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
        if (inm and inm == tag) or (not inm and ims and ims == modified):
            self._send(304, b"", ctype, {"ETag": tag, "Last-Modified": modified})
            return
        self._send(200, body, ctype, {"ETag": tag, "Last-Modified": modified, "Cache-Control": "no-cache"})

    def _faulted(self, mode: str, feed: str) -> bool:
        """Serve the transport-level faults; True when the response is done."""
        if mode == "500":
            self._send(500, b"Internal Server Error\n")
        elif mode == "html":
            self._send(200, b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
                            b"<body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>", "text/html")
        elif mode == "hang":
            deadline = time.monotonic() + HANG_MAX_S
            while self.sim.fault(feed) == "hang" and time.monotonic() < deadline:
                time.sleep(0.05)
            self._send(503, b"Service Unavailable\n")
        elif mode == "huge":
            self._huge()
        else:
            return False
        return True

    def _huge(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(HUGE_BYTES))
        self.end_headers()
        chunk = b" " * 65536
        try:
            for _ in range(HUGE_BYTES // len(chunk)):
                self.wfile.write(chunk)
        except OSError:
            pass  # the client stopped reading: that is the point
        self.close_connection = True


def serve(sim: FeedSim, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"sim": sim})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ambon_sim.feeds", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8601)
    p.add_argument("--speed", type=float, default=60.0, help="sim seconds per real second")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--start", default="now", help="now or an ISO datetime (naive = WIT)")
    p.add_argument("--registry", default=None, help="registry file (default: settings)")
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--calls-dir", default=None, help="where the simulated 112 centre writes its "
                   "queue_log and Master.csv (default data/runtime/sim/callcentre; 'none': off)")
    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from pathlib import Path

    from ambon_core.registry import load_registry

    registry = load_registry(Path(args.registry) if args.registry else None)
    start = datetime.now(world.WIT) if args.start == "now" else datetime.fromisoformat(args.start)
    start = start if start.tzinfo else start.replace(tzinfo=world.WIT)
    sim = FeedSim(registry, args.seed, args.speed, start)
    server = serve(sim, args.host, args.port)
    if args.calls_dir != "none":
        from ambon_sim.callcentre import SIM_CALLS_DIR, CallCentreWriter

        def storms(day):  # the simulated BMKG warnings: floods bring the calls
            start = datetime.combine(day, datetime.min.time(), world.WIT)
            return world.cap_windows(args.seed, sim.epoch, start, start + timedelta(days=1))

        CallCentreWriter(Path(args.calls_dir or SIM_CALLS_DIR), args.seed, sim.now, storms).start()
    LOG.info("serving sim feeds on http://%s:%d (speed %.0fx, seed %d, start %s)", args.host,
             server.server_address[1], args.speed, args.seed, sim.start.isoformat())
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
