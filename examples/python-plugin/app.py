"""py-claims: a Probity plugin written in Python (componentize-py).

It shows that the WIT contract in ../../wit (`probity:plugin@0.1.0`, world `plugin`) is
language-neutral: nothing here comes from the Rust SDK, only from the WIT. (Whether the
current host accepts the built component: see README.md.)

What it does, on every `listing.upserted`:

- ``py-claims.absolute_term`` (misleading-claim, **high**): the title contains one of the
  configured absolute terms ("best", "#1", "100% effective", 国家级 …). One finding per
  listing; its evidence lists every match with its byte span in the UTF-8 title (as the
  WIT ``span`` demands: bytes, not Python code points) and the matched text.
- When a listing that was flagged comes back with a clean title, the same rule is
  reported again as an **info** finding starting "cleared:", which replaces the earlier
  finding in the listing's verdict (the history keeps both).
- ``py-claims.repeat_seller`` (other, **info**): the third distinct listing of a seller
  to be flagged. Counted in host state with ``state.increment``.

Settings (the ``[plugins.py-claims.settings]`` table, as JSON)::

    {"terms": ["best", "100% effective", "国家级"]}

``terms`` replaces the default list. Matching ignores case; a run of spaces in a term
matches any run of whitespace; an ASCII letter or digit at either end of a term must not
touch another ASCII letter or digit in the title (so "best" does not match "bestseller"
and "#1" does not match "#10"), while Chinese terms match anywhere, since Chinese text
has no spaces between words.

Everything here runs inside the sandbox: no files, no network, a frozen wall clock. The
only ways out are the host imports (`log`, `settings`, `clock`, `state`, `timers`). Two
rules follow for Python code (see README.md):

- import every module at the top of this file. componentize-py snapshots the interpreter
  after importing this module; a module first imported while handling an event (some
  stdlib functions import lazily, e.g. ``Counter.most_common``) is looked up on a file
  system the plugin does not have, and the call traps;
- never ``print``: the component is built without WASI (``--stub-wasi``), so writing to
  stdout traps. Use ``log.write``.
"""

import json
import re
from typing import List, Optional

import wit_world
from componentize_py_types import Err
from wit_world.imports import log, settings, state, types

# The rule ids (the host only allows a-z, 0-9, `.`, `_` and `-`).
RULE_ABSOLUTE = "py-claims.absolute_term"
RULE_REPEAT_SELLER = "py-claims.repeat_seller"

# The seller finding fires when this many distinct listings of one seller were flagged.
REPEAT_SELLER_AT = 3

# The default absolute terms, used when the settings have no `terms`.
DEFAULT_TERMS = [
    # English superlatives and guarantees.
    "best",
    "#1",
    "number one",
    "100% effective",
    "guaranteed",
    "miracle",
    "world's first",
    "unbeatable",
    # Chinese absolute terms (Advertising Law art. 9(3)).
    "国家级",
    "最佳",
    "最好",
    "第一品牌",
    "全网最低价",
]

# Bounds on the settings, so a typo cannot build a huge matcher.
MAX_TERMS = 1000
MAX_TERM_CHARS = 100

# The host refuses a finding with more than 64 evidence items.
MAX_EVIDENCE = 64

# State keys. `flagged:<listing>` holds b"1" while the listing is flagged and b"0" once it
# was flagged and then cleared, so a listing counts once for its seller however often it
# flips. `seller-flagged:<seller>` is the counter of flagged listings of the seller.
FLAGGED_PREFIX = "flagged:"
SELLER_COUNTER_PREFIX = "seller-flagged:"
FLAGGED = b"1"
CLEARED = b"0"


def _is_ascii_word_char(ch: str) -> bool:
    """Whether `ch` is an ASCII letter or digit (what a word boundary is about)."""
    return ch.isascii() and ch.isalnum()


def _term_pattern(term: str) -> str:
    """The regular expression for one term (see the module docstring for the rules)."""
    body = r"\s+".join(re.escape(word) for word in term.split())
    if _is_ascii_word_char(term[0]):
        body = r"(?<![A-Za-z0-9])" + body
    if _is_ascii_word_char(term[-1]):
        body = body + r"(?![A-Za-z0-9])"
    return body


def parse_terms(settings_json: str) -> List[str]:
    """The terms from a settings JSON text, or an `Err(SettingsError)` naming the field.

    Used both by `validate-settings` (to refuse bad settings at load) and when an
    instance builds its matcher (from settings the host has already accepted).
    """
    try:
        parsed = json.loads(settings_json)
    except ValueError as error:
        raise Err(types.SettingsError("settings", f"not JSON: {error}"))
    if not isinstance(parsed, dict):
        raise Err(types.SettingsError("settings", "must be a table (a JSON object)"))
    for key in parsed:
        if key != "terms":
            raise Err(types.SettingsError(key, "unknown setting; the only one is `terms`"))
    terms = parsed.get("terms", DEFAULT_TERMS)
    if not isinstance(terms, list):
        raise Err(types.SettingsError("terms", "must be a list of strings"))
    if not terms:
        raise Err(types.SettingsError("terms", "must list at least one term"))
    if len(terms) > MAX_TERMS:
        raise Err(types.SettingsError("terms", f"at most {MAX_TERMS} terms"))
    for index, term in enumerate(terms):
        field = f"terms[{index}]"
        if not isinstance(term, str):
            raise Err(types.SettingsError(field, "must be a string"))
        if not term.strip():
            raise Err(types.SettingsError(field, "must not be empty"))
        if len(term) > MAX_TERM_CHARS:
            raise Err(types.SettingsError(field, f"at most {MAX_TERM_CHARS} characters"))
    return [term.strip() for term in terms]


class Matcher:
    """Finds the configured terms in a text; built once per instance."""

    def __init__(self, terms: List[str]):
        # Longest first, so that of two terms starting at the same place the longer wins
        # (全网最低价 rather than a shorter term inside it).
        ordered = sorted(set(terms), key=len, reverse=True)
        self.pattern = re.compile("|".join(_term_pattern(t) for t in ordered), re.IGNORECASE)

    def find(self, text: str) -> List[types.Evidence]:
        """One evidence item per match in `text` (the title), with byte offsets."""
        evidence = []
        for match in self.pattern.finditer(text):
            # Python indexes code points; the WIT span is in UTF-8 bytes.
            start = len(text[: match.start()].encode("utf-8"))
            end = start + len(match.group().encode("utf-8"))
            evidence.append(
                types.Evidence(
                    field="title",
                    span=types.Span(start=start, end=end),
                    excerpt=match.group(),
                    detail=None,
                )
            )
            if len(evidence) == MAX_EVIDENCE:
                break
        return evidence


# The default matcher is built at import time. componentize-py runs this module while it
# builds the component and snapshots the heap, so the compiled pattern ships inside the
# .wasm: an instance that keeps the default terms does no set-up at all. (Measured: a
# first call that compiles the default pattern costs ~80 million fuel, against ~0.5
# million with it pre-built; in that build every later call also cost ~11 million fuel
# instead of ~0.3 million, so heavy allocation at run time is best avoided.)
DEFAULT_MATCHER = Matcher(DEFAULT_TERMS)

# The matcher of this instance, chosen on its first event from the settings. The host
# keeps instances warm and calls them many times, so settings are read once, not per
# event. (Not at import time: there are no host imports to call while building.)
_matcher: Optional[Matcher] = None


def matcher() -> Matcher:
    global _matcher
    if _matcher is None:
        terms = parse_terms(settings.get())
        _matcher = DEFAULT_MATCHER if terms == DEFAULT_TERMS else Matcher(terms)
        log.write(log.Level.DEBUG, f"matcher ready: {len(terms)} terms")
    return _matcher


def as_plugin_error(err: Err) -> Err:
    """An `Err` from a host import or the settings, as the plugin error `handle` may return.

    The host turns a plugin error into a `plugin_error` finding and applies `on_error`.
    """
    value = err.value
    if isinstance(value, state.StateError):
        code, message = "state_" + value.name.lower(), f"state write refused: {value.name}"
    elif isinstance(value, types.SettingsError):
        code, message = "bad_settings", f"{value.field}: {value.message}"
    else:
        return err
    return Err(types.PluginError(code=code, message=message))


class WitWorld(wit_world.WitWorld):
    """The component's exports (the `plugin` world)."""

    def manifest(self) -> types.Manifest:
        return types.Manifest(
            name="py-claims",
            version="0.1.0",
            description="absolute terms in listing titles (a Python plugin)",
            subscribes=[types.EventType.LISTING_UPSERTED],
            keyed_by=types.ShardKey.SELLER,
        )

    def validate_settings(self, proposed: str) -> None:
        # Raises Err(SettingsError) on bad settings; returning means ok.
        parse_terms(proposed)

    def handle(self, envelope: types.Envelope) -> List[types.Finding]:
        event = envelope.event
        # Only subscribed types are sent, but a plugin should not rely on it.
        if not isinstance(event, types.Event_ListingUpserted):
            return []
        try:
            return check_listing(event.value)
        except Err as err:
            # componentize-py returns a raised `Err(PluginError)` as the `err` case.
            raise as_plugin_error(err)

    def on_timer(self, timer: types.Timer) -> List[types.Finding]:
        # This plugin schedules no timers.
        return []


def check_listing(listing: types.ListingUpserted) -> List[types.Finding]:
    subject = types.Subject(kind=types.SubjectType.LISTING, id=listing.listing_id)
    evidence = matcher().find(listing.title)
    marker_key = FLAGGED_PREFIX + listing.listing_id
    marker = state.get(marker_key)

    if not evidence:
        if marker != FLAGGED:
            return []
        # It was flagged and is clean now: say so, so the verdict drops back to allow.
        state.set(marker_key, CLEARED, None)
        return [
            types.Finding(
                subject=subject,
                rule=RULE_ABSOLUTE,
                category=types.Category.MISLEADING_CLAIM,
                severity=types.Severity.INFO,
                message="cleared: the title no longer contains an absolute term",
                evidence=[
                    types.Evidence(field="title", span=None, excerpt=None, detail="no match")
                ],
            )
        ]

    quoted = ", ".join(f"“{item.excerpt}”" for item in evidence)
    findings = [
        types.Finding(
            subject=subject,
            rule=RULE_ABSOLUTE,
            category=types.Category.MISLEADING_CLAIM,
            severity=types.Severity.HIGH,
            message=f"the title makes an absolute claim: {quoted}",
            evidence=evidence,
        )
    ]
    if marker is None:
        # First time this listing is flagged: it counts for its seller.
        count = state.increment(SELLER_COUNTER_PREFIX + listing.seller_id, 1, None)
        if count == REPEAT_SELLER_AT:
            findings.append(
                types.Finding(
                    subject=types.Subject(kind=types.SubjectType.SELLER, id=listing.seller_id),
                    rule=RULE_REPEAT_SELLER,
                    category=types.Category.OTHER,
                    severity=types.Severity.INFO,
                    message=f"{count} listings of this seller made absolute claims",
                    evidence=[
                        types.Evidence(
                            field="seller_id",
                            span=None,
                            excerpt=None,
                            detail=f"{count} flagged listings, the latest {listing.listing_id}",
                        )
                    ],
                )
            )
    if marker != FLAGGED:
        state.set(marker_key, FLAGGED, None)
    return findings
