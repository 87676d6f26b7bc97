"""The documented recipes keep secrets out of process arguments (`ps`, sudo's log).

Every file an operator copies from (README.md, docs/*.md, deploy/*) is read line by line. No
recipe may expand a file onto a command line (`env $(…)`, `xargs`), and no command line may carry
a password: a `…PASSWORD=value` assignment or a URL with `user:password@`. Lines of an env file
shown as such (`NCKH_KEY=value` and nothing else) are the safe place for secrets and pass.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md"),
               *(p for p in (ROOT / "deploy").iterdir() if p.is_file())])

EXPANSION = re.compile(r"env \$\(|\bxargs\b")
PASSWORD_ASSIGNMENT = re.compile(r"PASSWORD=(?![\s`'\"]|$)", re.I)
URL_WITH_PASSWORD = re.compile(r"://[^\s/:@]+:[^\s/@]+@")
ENV_FILE_LINE = re.compile(r"NCKH_[A-Z0-9_]+=\S*")


def command_lines(path: Path) -> list[tuple[int, str]]:
    """The lines of `path` that are, or show, a command: code blocks of Markdown (and inline
    code naming nckh), every line of a shell script, `Exec…=`/`Environment=` of a unit file.
    A TOML file configures, it runs nothing: none."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix == ".md":
        found, fenced = [], False
        for number, line in enumerate(lines, start=1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif fenced or ("`" in line and "nckh " in line):
                found.append((number, line))
        return found
    if path.suffix == ".service":
        return [(n, line) for n, line in enumerate(lines, start=1)
                if re.match(r"\s*(Exec\w*|Environment)=", line)]
    if path.suffix == ".sh":
        return list(enumerate(lines, start=1))
    return []


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_recipe_expands_a_file_onto_a_command_line(path: Path) -> None:
    bad = [f"{path.name}:{n}: {line.strip()}"
           for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
           if EXPANSION.search(line)]
    assert bad == []


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_command_line_carries_a_password(path: Path) -> None:
    bad = [f"{path.name}:{n}: {line.strip()}" for n, line in command_lines(path)
           if (PASSWORD_ASSIGNMENT.search(line) or URL_WITH_PASSWORD.search(line))
           and not ENV_FILE_LINE.fullmatch(line.strip())]
    assert bad == []


def test_the_checks_catch_the_old_recipes() -> None:
    old = ["sudo -u nckh env $(sudo cat /etc/nckh/nckh.env | xargs) nckh init",
           "cat nckh.env | xargs -I{} nckh"]
    assert all(EXPANSION.search(line) for line in old)
    leaky = ["export NCKH_SMTP_PASSWORD=hunter2 && nckh mail test",
             "#   NCKH_SMTP_USER=… NCKH_SMTP_PASSWORD=… NCKH_MAIL_FROM=…",
             "NCKH_DATABASE_URL=postgresql://nckh:hunter2@db/nckh nckh init"]
    assert all(PASSWORD_ASSIGNMENT.search(line) or URL_WITH_PASSWORD.search(line)
               for line in leaky)
    assert not any(ENV_FILE_LINE.fullmatch(line) for line in leaky)
    assert ENV_FILE_LINE.fullmatch("NCKH_DATABASE_URL=postgresql://nckh:SECRET@127.0.0.1/nckh")


def test_the_operators_guide_shows_the_safe_ways() -> None:
    text = (ROOT / "docs/operators.md").read_text(encoding="utf-8")
    assert "nckh --env-file /etc/nckh/nckh.env" in text
    assert "systemd-run" in text and "-p EnvironmentFile=/etc/nckh/nckh.env" in text
