"""The README and docs/ agree with the code: every command, make target and variable they name exists.

A reader copies what the README shows; a renamed subcommand or settings field must turn this red,
not a user's terminal. Names are taken from code spans and code blocks only (prose is free).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from spotify_core.settings import Settings
from spotify_pipeline.cli import build_parser

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PACKAGES = ("spotify_core", "spotify_pipeline", "crawler", "lake", "spark_jobs", "analytics")

# Variables the README names that the settings object does not read, each with who reads it.
EXTERNAL_VARIABLES = {
    "STACK_BIND_ADDRESS": ("docker-compose.yml", "Docker Compose substitutes it into the published ports"),
    "AIRFLOW_CONN_SPARK_DEFAULT": ("docker-compose.yml", "Airflow reads its Spark connection from it"),
    "STACK_TRINO_PORT": ("docker-compose.yml", "Docker Compose substitutes it into Trino's published port"),
    "JUPYTER_TOKEN": ("docker-compose.yml", "the jupyter service's login token"),
}
# Prefixes of harness settings documented as a family (the sample API's own settings object).
HARNESS_PREFIXES = {"SAMPLE_API_": "sample_api/settings.py"}
# Upper-case words in code spans that are values, not variables.
NOT_VARIABLES = {"QUOTA_EXCEEDED", "EX_TEMPFAIL"}


def code_spans(text: str) -> list[str]:
    """The fenced blocks and inline code spans of a Markdown text."""
    return re.findall(r"```.*?```|`[^`\n]+`", text, flags=re.S)


def commands_named(text: str) -> set[tuple[str, ...]]:
    """``spotify-pipeline <command> [<subcommand>]`` as written in code."""
    found = set()
    for span in code_spans(text):
        for match in re.finditer(r"spotify-pipeline((?:[ \t]+[a-z][a-z0-9-]*){1,2})", span):
            found.add(tuple(match.group(1).split()))
    return found


def make_targets_named(text: str) -> set[str]:
    found = set()
    for span in code_spans(text):
        found.update(re.findall(r"(?<![\w-])make[ \t]+([a-z][a-z0-9_-]*)", span))
    return found


def variables_named(text: str) -> set[str]:
    found = set()
    for span in code_spans(text):
        found.update(re.findall(r"(?<![A-Za-z0-9_])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+_?)(?![a-z])", span))
    return found - NOT_VARIABLES


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse has no public accessor for its subcommands
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def second_words(parser: argparse.ArgumentParser) -> set[str] | None:
    """What may follow the command: its subcommands, or the choices of its first positional (``stack up``);
    None when anything may (``query "SQL"``) or nothing is checked."""
    nested = subparsers(parser)
    if nested:
        return set(nested)
    positionals = [a for a in parser._actions if not a.option_strings and a.dest != "help"]
    return set(positionals[0].choices) if positionals and positionals[0].choices else None


def missing_commands(named: set[tuple[str, ...]], parser: argparse.ArgumentParser) -> list[str]:
    """Commands (and the word after one that takes a fixed set of them) the parser does not know."""
    missing = []
    top = subparsers(parser)
    for words in sorted(named):
        if words[0] not in top:
            missing.append(words[0])
            continue
        allowed = second_words(top[words[0]])
        if allowed is not None and len(words) > 1 and words[1] not in allowed:
            missing.append(" ".join(words))
    return missing


def makefile_targets(makefile: Path) -> set[str]:
    text = makefile.read_text()
    targets = set(re.findall(r"^([A-Za-z0-9_-]+)[ \t]*:(?!=)", text, flags=re.M))
    for phony in re.findall(r"^\.PHONY:((?:.*\\\n)*.*)$", text, flags=re.M):
        targets.update(phony.replace("\\\n", " ").split())
    return targets


def unknown_variables(named: set[str]) -> list[str]:
    fields = {name.upper() for name in Settings.model_fields}
    unknown = []
    for name in sorted(named):
        if name in fields:
            continue
        if name in EXTERNAL_VARIABLES:
            where, _ = EXTERNAL_VARIABLES[name]
            if name in (ROOT / where).read_text():
                continue
        if any(name.startswith(prefix) for prefix in HARNESS_PREFIXES):
            continue
        unknown.append(name)
    return unknown


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_command_named_exists(doc: Path) -> None:
    assert missing_commands(commands_named(doc.read_text()), build_parser()) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_make_target_named_exists(doc: Path) -> None:
    named = make_targets_named(doc.read_text())
    assert sorted(named - makefile_targets(ROOT / "Makefile")) == []


def test_every_variable_in_the_readme_is_a_setting_or_a_documented_external_one() -> None:
    named = variables_named((ROOT / "README.md").read_text())
    assert len(named) > 30  # the configuration table was read
    assert unknown_variables(named) == []


def test_the_harness_prefixes_are_real_settings() -> None:
    for prefix, where in HARNESS_PREFIXES.items():
        assert f'env_prefix="{prefix}"' in (ROOT / where).read_text().replace("'", '"')


def test_a_readme_naming_a_missing_command_fails_the_check() -> None:
    """The check itself: a README showing commands, targets and variables that do not exist."""
    readme = ("Run `spotify-pipeline crawl --artists a.txt`, then `spotify-pipeline frobnicate`,\n"
              "```\nspotify-pipeline stack teleport\nmake demo\nmake deploy-everything\n```\n"
              "| `SPOTIFY_CLIENT_ID` | `NO_SUCH_SETTING` |\n")
    assert missing_commands(commands_named(readme), build_parser()) == ["frobnicate", "stack teleport"]
    assert make_targets_named(readme) - makefile_targets(ROOT / "Makefile") == {"deploy-everything"}
    assert unknown_variables(variables_named(readme)) == ["NO_SUCH_SETTING"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_docs_link_only_inside_the_repository(doc: Path) -> None:
    text = doc.read_text()
    assert "../shared" not in text and "ARCHITECTURE.md" not in text
    assert not re.search(r"(?<![\w.~])/(work|root|home)/", text), "a machine path"
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+://|mailto:", target):
            continue
        assert (doc.parent / target).exists(), f"{doc.name} links to {target}, which does not exist"


def test_the_module_map_names_every_module() -> None:
    """Each module of the packages is in docs/module-contracts.md: by its path, by a folder holding it
    (`crawler/landing/`), or by its file name on a line naming its folder (`spark_jobs/silver.py`, `gold.py`)."""
    lines = (ROOT / "docs" / "module-contracts.md").read_text().splitlines()
    unnamed = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if path.name == "__init__.py":
                continue
            parts = rel.split("/")
            holders = ["/".join(parts[:n]) + "/" for n in range(2, len(parts))]  # folders below the package
            folder = "/".join(parts[:-1]) + "/"
            if not any(rel in line or any(f"`{h}`" in line for h in holders)
                       or (folder in line and f"`{path.name}" in line) for line in lines):
                unnamed.append(rel)
    assert unnamed == []
