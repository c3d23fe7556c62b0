#!/usr/bin/env python3
"""Read the README's commands, as a newcomer does, and check what they answer.

    readme.py setup N      print the Nth command (1-based) of the "Set up" block
    readme.py try          run every command of the "Try it" block against the server
                           on localhost:8080 and check each answer's status and key fields

The commands are taken from README.md itself, so CI runs what the README says, not a copy.
A "Try it" command this script has no check for fails the run: add its check here when you
add it to the README.
"""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def section_block(title: str) -> list[str]:
    """The lines of the first ```sh block after the `## title` heading."""
    lines = README.read_text(encoding="utf-8").splitlines()
    try:
        start = lines.index(f"## {title}")
    except ValueError:
        sys.exit(f"README.md has no '## {title}' section")
    inside = False
    block: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.strip() == "```sh" and not inside:
            inside = True
            continue
        if inside and line.strip() == "```":
            return block
        if inside:
            block.append(line)
    sys.exit(f"README.md's '## {title}' section has no ```sh block")


def commands(block: list[str]) -> list[list[str]]:
    """Shell words of each command in a block (comments dropped, multi-line quotes kept)."""
    out: list[list[str]] = []
    pending = ""
    for line in block:
        pending = f"{pending}\n{line}" if pending else line
        try:
            words = shlex.split(pending, comments=True)
        except ValueError:  # an open quote: the command goes on
            continue
        pending = ""
        if words:
            out.append(words)
    if pending:
        sys.exit(f"unterminated command in README.md: {pending!r}")
    return out


class Failed(Exception):
    pass


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise Failed(what)


def ndjson_lines() -> int:
    text = (ROOT / "examples" / "events.ndjson").read_text(encoding="utf-8")
    return sum(1 for line in text.splitlines() if line.strip())


def verdict_of(verdicts, kind, ident):
    for verdict in verdicts:
        if verdict["subject"] == {"type": kind, "id": ident}:
            return verdict
    return None


def check_one_event(status, body):
    expect(status == 200, f"status {status}")
    expect(body["status"] == "accepted", f"status field {body['status']!r}")
    listing = verdict_of(body["verdicts"], "listing", "L-1")
    expect(listing is not None, "no verdict for listing L-1")
    expect(listing["action"] in ("review", "block"), f"L-1 is {listing['action']}, not flagged")
    expect(any(f["category"] == "misleading_claim" for f in listing["findings"]),
           "no misleading_claim finding on L-1")


def check_batch(status, body):
    expect(status == 200, f"status {status}")
    expect(body["rejected"] == [], f"rejected lines: {body['rejected']}")
    expect(body["accepted"] + body["duplicates"] == ndjson_lines(),
           f"accepted {body['accepted']} + duplicates {body['duplicates']} != {ndjson_lines()} lines")
    expect(body["flagged"] >= 1, "nothing flagged in examples/events.ndjson")


def check_verdict(status, body):
    expect(status == 200, f"status {status}")
    expect(body["subject"] == {"type": "listing", "id": "L-1"}, f"subject {body['subject']}")
    expect(body["action"] in ("review", "block"), f"action {body['action']}")
    expect(body["seller_id"] == "S-1", f"seller_id {body.get('seller_id')}")


def check_history(status, body):
    expect(status == 200, f"status {status}")
    expect(body["subject"] == {"type": "listing", "id": "L-1"}, f"subject {body['subject']}")
    expect(len(body["findings"]) >= 1, "no findings in the history")
    expect(all(f["event_id"] == "e-1" for f in body["findings"]), "findings of other events")


def check_filter(status, body):
    expect(status == 200, f"status {status}")
    expect(len(body["verdicts"]) >= 1, "no blocked verdicts")
    expect(len(body["verdicts"]) <= 20, "more than the limit")
    expect(all(v["action"] == "block" for v in body["verdicts"]), "a verdict that is not block")


def check_plugins(status, body):
    expect(status == 200, f"status {status}")
    names = {p["name"] for p in body["plugins"]}
    expect(names == {"claims", "brush-orders", "sla"}, f"plugins {sorted(names)}")
    expect(all(p["enabled"] and p["version"] for p in body["plugins"]), "a plugin not loaded")
    claims = next(p for p in body["plugins"] if p["name"] == "claims")
    expect(claims["counters"]["calls"] >= 1, "claims was never called")


def check_reload(status, body):
    expect(status == 200, f"status {status}")
    expect(body["applied"] is False, "a reload of an unchanged configuration applied something")
    expect(body["config_digest"].startswith("sha256:"), f"config_digest {body['config_digest']}")


def check_audit(status, body):
    expect(status == 200, f"status {status}")
    expect(len(body["entries"]) >= 1, "the audit trail is empty")


def check_metrics(status, text):
    expect(status == 200, f"status {status}")
    for name in ("probity_events_total", "probity_plugin_calls_total"):
        expect(re.search(rf"^{name}\b", text, re.M) is not None, f"no {name} series")


# (how to recognise the command, whether its answer is JSON, its check)
CHECKS = [
    (lambda w: "application/json" in " ".join(w) and "/v1/events" in " ".join(w), True, check_one_event),
    (lambda w: "application/x-ndjson" in " ".join(w), True, check_batch),
    (lambda w: w[-1].endswith("/v1/verdicts/listing/L-1"), True, check_verdict),
    (lambda w: w[-1].endswith("/v1/verdicts/listing/L-1/history"), True, check_history),
    (lambda w: "/v1/verdicts?" in w[-1], True, check_filter),
    (lambda w: w[-1].endswith("/v1/plugins"), True, check_plugins),
    (lambda w: w[-1].endswith("/v1/admin/reload"), True, check_reload),
    (lambda w: w[-1].endswith("/v1/admin/audit"), True, check_audit),
    (lambda w: w[-1].endswith("/metrics"), False, check_metrics),
]


def run_try() -> int:
    cmds = commands(section_block("Try it"))
    failures = 0
    for words in cmds:
        shown = shlex.join(words)
        shown = shown if len(shown) < 110 else shown[:107] + "..."
        matches = [(is_json, check) for (match, is_json, check) in CHECKS if match(words)]
        if words[0] != "curl" or len(matches) != 1:
            print(f"FAIL {shown}\n     no check for this command in .ci/readme.py")
            failures += 1
            continue
        is_json, check = matches[0]
        # The command as written, plus the status code on a last line of its own.
        done = subprocess.run(words + ["-w", "\n%{http_code}"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        body, _, code = done.stdout.rpartition("\n")
        try:
            expect(done.returncode == 0, f"curl exit code {done.returncode}: {done.stderr.strip()}")
            status = int(code)
            check(status, json.loads(body) if is_json else body)
            print(f"ok   {shown}")
        except (Failed, ValueError, KeyError, TypeError) as err:
            print(f"FAIL {shown}\n     {type(err).__name__}: {err}\n     answer: {body[:600]}")
            failures += 1
    print(f"{len(cmds) - failures} of {len(cmds)} 'Try it' commands answered as expected")
    return 1 if failures else 0


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "setup":
        cmds = commands(section_block("Set up"))
        print(shlex.join(cmds[int(sys.argv[2]) - 1]))
        return 0
    if len(sys.argv) == 2 and sys.argv[1] == "try":
        return run_try()
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
