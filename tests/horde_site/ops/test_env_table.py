"""The README's environment variable table names every variable settings.py reads, and only
those: a new setting cannot go undocumented, a removed one cannot linger in the docs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# envbool("X"...), envint('X'...), os.environ.get("X"...), os.environ["X"], "X" in os.environ
READS = re.compile(
    r"""(?:\benv(?:bool|int|float|list)\(\s*|os\.environ\.get\(\s*|os\.environ\[\s*)["']([A-Z][A-Z0-9_]*)["']"""
    r"""|["']([A-Z][A-Z0-9_]*)["']\s+in\s+os\.environ"""
)


def settings_variables() -> set[str]:
    source = (ROOT / "horde_site" / "settings.py").read_text()
    return {m.group(1) or m.group(2) for m in READS.finditer(source)}


def readme_table_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Environment variables\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1]))
    return names


def test_the_parser_finds_each_kind_of_read():
    found = settings_variables()
    # one of each: envbool, envint (in an f-string, single quotes), envfloat, envlist,
    # os.environ.get, os.environ[...], `in os.environ`
    expected = {"DEBUG", "HORDE_RATE_POP_PER_MINUTE", "RATINGS_WEIGHT_CAP", "ALLOWED_HOSTS", "DATABASE_URL"}
    assert expected | {"AWS_PRIVATE_STORAGE_BUCKET_NAME", "TEST_DATABASE_NAME"} <= found
    assert len(found) > 100


def test_every_variable_settings_reads_is_in_the_readme_table():
    assert sorted(settings_variables() - readme_table_variables()) == []


def test_every_variable_in_the_readme_table_is_read_by_settings():
    assert sorted(readme_table_variables() - settings_variables()) == []


def test_no_other_module_reads_a_tunable_from_the_environment():
    """Settings live in one place: app code reads django.conf.settings. The GPU worker's hand-off
    to its own pool processes (tasks.ENV_WORKER_ID, ENV_BACKEND) and the entry points'
    DJANGO_SETTINGS_MODULE default are not tunables."""
    allowed = re.compile(r"os\.environ(?:\.setdefault\(\"DJANGO_SETTINGS_MODULE\"|\[tasks\.ENV_|\.get\(ENV_)")
    # The project's own code: manage.py and its packages (the apps, horde_site), not tests,
    # benchmarks, scripts or the virtual environments under var/.
    packages = [d for d in ROOT.iterdir() if (d / "__init__.py").is_file() and d.name not in {"tests", "bench"}]
    files = [ROOT / "manage.py", *(path for package in packages for path in package.rglob("*.py"))]
    offenders = []
    for path in files:
        relative = path.relative_to(ROOT)
        if relative == Path("horde_site/settings.py"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"os\.environ|os\.getenv|getenv\(", line) and not allowed.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    # The diffusers backend sets the Hugging Face libraries' own offline switches (no downloads).
    offenders = [o for o in offenders if "HF_HUB_" not in o and "TRANSFORMERS_OFFLINE" not in o]
    assert offenders == []
