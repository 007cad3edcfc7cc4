"""`pip install .` as an operator runs it: the `casedesk` command works from any folder, with
only the runtime requirements (no test or lint tool), its migrations and its sandbox page.

The package is built from a copy of this working tree and installed with pip into a folder of
its own (offline: no build isolation, no dependencies; those are this venv's). The commands run
from another folder, with the tools of requirements-dev.txt made unimportable."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO

from bot import migrate
from bot.db import Database, scratch_schema

# What requirements-dev.txt adds, and the runtime must never import.
DEV_TOOLS = ("pytest", "hypothesis", "mypy", "ruff", "playwright", "websockets", "jsonschema")
NOT_COPIED = (".git", ".venv*", "*_cache", "__pycache__", "*.db", "build", "*.egg-info")


@dataclass(frozen=True)
class Installed:
    site: Path  # what pip installed: the packages, their metadata and bin/casedesk
    absent: Path  # stand-ins that make the dev tools unimportable
    home: Path  # an operator's folder, far from the repository

    def env(self, **settings: str) -> dict[str, str]:
        return {
            "PATH": f"{self.site / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(self.home),
            "PYTHONPATH": f"{self.site}{os.pathsep}{self.absent}",
            **settings,
        }

    def run(self, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.site / "bin" / "casedesk"), *args],
            env=self.env(**settings),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.fixture(scope="module", name="installed")
def installed_fixture(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("installed")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*NOT_COPIED))
    site = root / "site"
    offline = ("--no-deps", "--no-build-isolation", "--no-index")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            *offline,
            "--target",
            str(site),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    absent = root / "absent"
    for tool in DEV_TOOLS:
        (absent / tool).mkdir(parents=True)
        (absent / tool / "__init__.py").write_text(f"raise ImportError('{tool} is a dev tool')\n")
    home = root / "operator"
    home.mkdir()
    return Installed(site, absent, home)


def test_the_package_depends_on_the_runtime_requirements_only(installed: Installed) -> None:
    (metadata,) = installed.site.glob("casedesk-*.dist-info/METADATA")
    required = {
        re.split(r"[\[<>=;\s]", line.removeprefix("Requires-Dist: "))[0].lower()
        for line in metadata.read_text().splitlines()
        if line.startswith("Requires-Dist: ")
    }
    runtime = {
        re.split(r"[\[<>=;\s]", line)[0].lower()
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert required == runtime
    assert {"slack-bolt", "sqlalchemy", "alembic", "gunicorn", "prometheus-client"} <= required
    assert not required & {"pytest", "mypy", "ruff", "playwright", "hypothesis"}


def test_casedesk_imports_the_installed_package_not_the_repository(installed: Installed) -> None:
    where = subprocess.run(
        [sys.executable, "-c", "import bot, handlers, models; print(bot.__file__)"],
        env=installed.env(),
        cwd=installed.home,
        capture_output=True,
        text=True,
        check=True,
    )

    assert Path(where.stdout.strip()).is_relative_to(installed.site)


def test_casedesk_help_lists_the_commands(installed: Installed) -> None:
    result = installed.run("--help")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("usage: casedesk ")
    for command in ("serve", "sandbox", "db", "run-job", "jobs", "export", "seed", "check-config"):
        assert command in result.stdout


def test_casedesk_checks_a_config_given_by_path(installed: Installed) -> None:
    config = installed.home.parent / "desk" / "app.yaml"
    config.parent.mkdir(exist_ok=True)
    shutil.copy(REPO / "app.yaml", config)

    result = installed.run("check-config", str(config))

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"{config}: OK (2 team(s), default team 'support')\n"


def test_casedesk_reads_app_yaml_in_the_folder_it_runs_in(installed: Installed) -> None:
    result = installed.run("check-config")

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("casedesk: app.yaml")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL schema (TEST_DATABASE_URL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/desk.db"
        return
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    with scratch_schema(url, prefix="casedesk_installed") as schema_url:
        yield schema_url


def test_casedesk_db_upgrade_migrates_a_fresh_database_to_head(
    installed: Installed, fresh_database_url: str
) -> None:
    result = installed.run("db", "upgrade", DATABASE_URL=fresh_database_url)

    head = migrate.head_revision()
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"Database is at revision {head}.\n"
    database = Database(fresh_database_url)
    try:
        assert migrate.current_revision(database) == head
    finally:
        database.dispose()


def test_casedesk_sandbox_serves_its_page(installed: Installed, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    casedesk = str(installed.site / "bin" / "casedesk")
    process = subprocess.Popen(
        [casedesk, "sandbox", "--port", str(port), "--config", str(REPO / "app.yaml")],
        env=installed.env(TMPDIR=str(tmp_path)),
        cwd=installed.home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # printed once the page is served
        assert first.startswith(f"Casedesk sandbox: open http://127.0.0.1:{port}/"), first
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        script = urllib.request.urlopen(f"http://127.0.0.1:{port}/static/app.js", timeout=10)
        assert "<html" in page
        assert script.status == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
    assert "Traceback" not in errors, errors
