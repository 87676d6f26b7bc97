"""E-mail addresses: the one rule for what nckh accepts, stores and sends to.

Registration (people, units, the office), configured addresses (From, the office, report
recipients) and the message builder all ask this module, so an address accepted anywhere is one the
builder can put on the wire. The rule is the common ground of RFC 5321/5322 that every mail server
takes without SMTPUTF8: an ASCII dot-atom local part of at most 64 characters (no leading, trailing
or doubled dot), an `@`, and a host name of letter-digit-hyphen labels with at least one dot (or
`localhost`, for a machine's own mail), at most 254 characters in all. Addresses are kept lower-
cased: the province's servers treat them case-insensitively, and one person must not be registered
twice under two spellings.

Pure: no I/O. Returns a reason in words a clerk can act on, or raises `InputError` with it.
"""

from __future__ import annotations

import re

from workflows.errors import InvalidData

MAX_LENGTH = 254  # RFC 5321 path limit (256) minus the angle brackets
MAX_LOCAL = 64
_ATEXT = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def problem(text: str) -> str | None:
    """Why `text` is not an address nckh can send to, or None when it is one."""
    if not text:
        return "it is empty"
    if len(text) > MAX_LENGTH:
        return f"it is {len(text)} characters long; at most {MAX_LENGTH}"
    if not text.isascii():
        return ("it has letters outside ASCII (such as Vietnamese diacritics); mail servers "
                "take only the ASCII form of an address")
    if any(ch.isspace() for ch in text):
        return "it contains a space"
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return "it needs a name, '@' and a domain (name@example.vn)"
    if len(local) > MAX_LOCAL:
        return f"the part before '@' is {len(local)} characters long; at most {MAX_LOCAL}"
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return "the part before '@' may not start or end with a dot, or have two dots in a row"
    if not all(_ATEXT.match(atom) for atom in local.split(".")):
        return "the part before '@' has a character mail servers do not accept"
    labels = domain.split(".")
    if len(labels) < 2 and domain.lower() != "localhost":  # local delivery, the default sender
        return "the domain needs at least one dot (example.vn)"
    if not all(_LABEL.match(label) for label in labels):
        return "the domain may hold only letters, digits, hyphens and dots between names"
    return None


# Names that never reach another machine: this host, private or reserved top-level domains
# (RFC 2606, RFC 6761, RFC 6762's .local, RFC 8375's home.arpa) and the documentation domains.
LOCAL_DOMAINS = frozenset({"localhost", "localdomain", "local", "internal", "lan", "home.arpa",
                           "invalid", "test", "example", "example.com", "example.net",
                           "example.org"})


def undeliverable(text: str) -> str | None:
    """Why mail *from* `text` cannot be answered or trusted by other servers (a local or reserved
    domain), or None. Valid as an address — the embedded default sends to a maildir — but a
    real server rejects or flags it."""
    domain = text.rpartition("@")[2].strip(" >").lower().rstrip(".")
    labels = domain.split(".")
    if len(labels) < 2 or any(".".join(labels[i:]) in LOCAL_DOMAINS
                              for i in range(len(labels))):
        return f"'{domain}' is a local or reserved domain no other mail server delivers to"
    return None


def is_valid(text: str) -> bool:
    return problem(text) is None


def normalise(text: str, *, what: str = "e-mail", field: str | None = None) -> str:
    """The stored form of an address (trimmed, lower-cased), or `InvalidData` (an `InputError`)
    naming `what`; `field` is the form field it came from, for a form to show it beside."""
    address = text.strip().lower()
    reason = problem(address)
    if reason is not None:
        raise InvalidData(f"invalid {what} '{text}': {reason}", field=field)
    return address
