"""Readers for the files in deploy/: compose YAML, env files, the Dockerfile, nginx and systemd configuration.

Each reader understands only the syntax that the deploy/ files use, and
raises ValueError on anything else, so a test fails instead of reading a
file wrongly.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

ASSIGNMENT = re.compile(r"^#?\s*(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


def read_env_file(path: Path, include_commented: bool = False) -> dict[str, str]:
    """Return the VARIABLE=value lines of an env file, optionally also those commented out.

    Single or double quotes around a whole value are removed, as compose and
    systemd do. Comment lines that are not assignments are skipped.
    """
    variables = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and not include_commented):
            continue
        match = ASSIGNMENT.match(stripped)
        if match is None:
            if stripped.startswith("#"):
                continue
            raise ValueError(f"{path.name}: not a VARIABLE=value line: {line!r}")
        value = match["value"]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        variables[match["name"]] = value
    return variables


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """deploy/docker-compose.yml as a dict, with the `<<` merge keys applied."""
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


@dataclass
class Stage:
    """One FROM stage of a Dockerfile: its image, its name and its instructions in order."""

    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def arguments(self, keyword: str) -> list[str]:
        return [argument for name, argument in self.instructions if name == keyword]


def read_dockerfile(path: Path) -> list[Stage]:
    """Split a Dockerfile into stages, joining continuation lines and dropping comments."""
    logical_lines = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical_lines.append(pending + line)
        pending = ""

    stages: list[Stage] = []
    for line in logical_lines:
        if not line.strip():
            continue
        keyword, _, argument = line.strip().partition(" ")
        keyword, argument = keyword.upper(), argument.strip()
        if keyword == "FROM":
            words = argument.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image=words[0], name=name))
        elif not stages:
            raise ValueError(f"{path.name}: {keyword} before the first FROM")
        else:
            stages[-1].instructions.append((keyword, argument))
    return stages


@dataclass
class NginxBlock:
    """A block of an nginx configuration: its directives and its nested blocks, in order."""

    name: str
    arguments: list[str]
    directives: list[list[str]] = field(default_factory=list)
    blocks: list[NginxBlock] = field(default_factory=list)

    def values(self, directive: str) -> list[list[str]]:
        return [words[1:] for words in self.directives if words[0] == directive]

    def block(self, name: str, *arguments: str) -> NginxBlock:
        for block in self.blocks:
            if block.name == name and tuple(block.arguments) == arguments:
                return block
        raise KeyError(f"no block {name} {' '.join(arguments)}")


def read_nginx_config(path: Path) -> NginxBlock:
    """Parse an nginx configuration into nested blocks. Quoted words lose their quotes."""
    text = re.sub(r"#[^\n]*", "", path.read_text(encoding="utf-8"))
    tokens = re.findall(r'"[^"]*"|\'[^\']*\'|[{};]|[^\s{};]+', text)
    root = NginxBlock(name="main", arguments=[])
    stack = [root]
    words: list[str] = []
    for token in tokens:
        if token == ";":
            stack[-1].directives.append(words)
            words = []
        elif token == "{":
            block = NginxBlock(name=words[0], arguments=words[1:])
            stack[-1].blocks.append(block)
            stack.append(block)
            words = []
        elif token == "}":
            if words or len(stack) == 1:
                raise ValueError(f"{path.name}: unbalanced '}}' or a directive without ';'")
            stack.pop()
        else:
            words.append(token[1:-1] if token[0] in "'\"" else token)
    if words or len(stack) != 1:
        raise ValueError(f"{path.name}: unterminated directive or block")
    return root


def read_unit_file(path: Path) -> dict[str, dict[str, list[str]]]:
    """Return section -> key -> values of a systemd unit. Values are lists because a key may repeat."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = sections.setdefault(stripped[1:-1], {})
            continue
        key, separator, value = stripped.partition("=")
        if current is None or not separator:
            raise ValueError(f"{path.name}: not a Key=value line inside a section: {line!r}")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def split_command(command: str | list[str]) -> list[str]:
    """Return a compose `command` or `test` as an argument list."""
    return command if isinstance(command, list) else shlex.split(command)
