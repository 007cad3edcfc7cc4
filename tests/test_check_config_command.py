"""`python -m bot check-config`: the example passes, every problem is listed in clear lines
naming it with exit code 1, and never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from desk_config_helpers import (
    BROKEN,
    BROKEN_PROBLEMS,
    EXAMPLE,
    operator_dir_fixture,  # noqa: F401  (the operator_dir fixture)
)
from helpers import run_bot

from bot.__main__ import main


def write(folder: Path, text: str, name: str = "app.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def check_config(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    """Run `python -m bot check-config ...` in this process: exit code, stdout, stderr lines."""
    code = main(["check-config", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.splitlines()


# python -m bot check-config


def test_check_config_accepts_the_example_app_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check_config(capsys, str(EXAMPLE))

    assert (code, err) == (0, [])
    assert out.startswith(f"{EXAMPLE}: OK (")


def test_check_config_lists_every_problem_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, BROKEN)

    code, out, err = check_config(capsys, str(path))

    assert (code, out) == (1, "")
    assert err[0] == f"casedesk: {path} has {len(BROKEN_PROBLEMS)} problems:"
    assert sorted(err[1:]) == sorted(f"  {problem}" for problem in BROKEN_PROBLEMS)


def test_check_config_reports_invalid_yaml_with_line_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "default_team: support\nteams:\n  support: [C0X\n")

    code, _, err = check_config(capsys, str(path))

    assert code == 1
    assert len(err) == 1
    assert err[0].startswith(f"casedesk: {path}: line 4, column 1: invalid YAML: ")


def test_check_config_on_a_missing_file_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "nowhere.yaml"

    code, out, err = check_config(capsys, str(path))

    assert (code, out) == (1, "")
    assert len(err) == 1, err
    assert str(path) in err[0]
    assert "No such file or directory" in err[0]


def test_check_config_reads_support_config_when_no_path_is_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUPPORT_CONFIG", str(write(tmp_path, BROKEN, "desk.yaml")))

    code, _, err = check_config(capsys)

    assert (code, err[0]) == (1, f"casedesk: {tmp_path / 'desk.yaml'} has 9 problems:")


def test_check_config_defaults_to_app_yaml_in_the_working_directory(
    capsys: pytest.CaptureFixture[str], operator_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(operator_dir)
    monkeypatch.delenv("SUPPORT_CONFIG", raising=False)

    code, out, _ = check_config(capsys)

    assert (code, out.split(":")[0]) == (0, "app.yaml")


@pytest.mark.parametrize(
    "content",
    [
        "default_team: [support]\nteams: {support: {name: S, channel: C0S, agents: [U0A]}}\n",
        "default_team: support\nteams: {support: {name: S, channel: C0S, agents: [U0A], "
        "routes_from: [{id: C0H}]}}\n",
        b"default_team: support\nteams: {support: {name: Caf\xe9, channel: C0S, agents: [U0A]}}\n",
        "",
        "teams: 3\n",
    ],
    ids=["list-as-default-team", "mapping-as-channel", "latin-1", "empty", "teams-a-number"],
)
def test_check_config_never_shows_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | bytes
) -> None:
    path = tmp_path / "app.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")

    code, out, err = check_config(capsys, str(path))

    assert (code, out) == (1, "")
    assert err[0].startswith(f"casedesk: {path}")
    assert not any("Traceback" in line for line in err)


def test_check_config_on_a_folder_is_refused_cleanly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = check_config(capsys, str(tmp_path))

    assert code == 1
    assert "cannot read the file: Is a directory" in "\n".join(err)


def test_check_config_as_a_program_accepts_the_example_and_refuses_a_broken_file(
    operator_dir: Path,
) -> None:
    write(operator_dir, BROKEN, "broken.yaml")

    good = run_bot("check-config", "app.yaml", cwd=operator_dir)
    bad = run_bot("check-config", "broken.yaml", cwd=operator_dir)

    assert (good.returncode, good.stderr) == (0, "")
    assert good.stdout.startswith("app.yaml: OK (")
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr.startswith("casedesk: broken.yaml has 9 problems:\n")
    assert "Traceback" not in bad.stderr
