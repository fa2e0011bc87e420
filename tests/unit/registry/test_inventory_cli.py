from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from api.cli.inventory import app

RUNNER = CliRunner()
BASHAN = str(Path(sys.executable).parent / "bashan")


def test_synth_writes_a_deterministic_bazhong_csv(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    result = RUNNER.invoke(app, ["synth", "--city", "bazhong", "--out", str(first), "--rows", "2000", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "wrote 2,000 sub-compartments of bazhong" in result.output
    assert "11,626,000.00 mu, 34,180,440.000 t C (125,328,280.000 t CO2e), 2.9400 t C per mu" in result.output
    RUNNER.invoke(app, ["synth", "--out", str(second), "--rows", "2000", "--seed", "4"])
    RUNNER.invoke(app, ["synth", "--out", str(other), "--rows", "2000", "--seed", "5"])
    assert first.read_bytes() == second.read_bytes() != other.read_bytes()
    lines = first.read_text(encoding="utf-8").splitlines()
    assert (
        lines[0]
        == "subcompartment_id,district_code,district,township,village,species,age_years,area_mu,volume_m3_per_mu"
    )
    assert len(lines) == 2001


def test_stock_reads_the_file_back_and_reports_by_district_and_species(tmp_path: Path) -> None:
    path = tmp_path / "bazhong.csv"
    RUNNER.invoke(app, ["synth", "--out", str(path), "--rows", "1000", "--seed", "2"])
    result = RUNNER.invoke(app, ["stock", str(path)])
    assert result.exit_code == 0, result.output
    for text in ("南江县 Nanjiang", "3,371,540.00", "栎类 oak", "34,180,440.000", "125,328,280.000", "2.940"):
        assert text in result.output
    assert "1,000 sub-compartments" in result.output


def test_a_bad_file_names_line_and_field_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "subcompartment_id,district_code,district,township,village,species,age_years,area_mu,volume_m3_per_mu\n"
        "A1,NJ,南江县,长赤镇,青林村,oak,20,3.5,4.2\n"
        "A2,NJ,南江县,长赤镇,青林村,oak,20,3.5,4.2155\n",
        encoding="utf-8",
    )
    result = RUNNER.invoke(app, ["stock", str(path)])
    assert result.exit_code == 1
    assert "line 3, field volume_m3_per_mu: '4.2155' has more than 3 decimals" in result.output
    path.write_bytes(b"\xff\xfe not utf-8")
    assert "not UTF-8" in RUNNER.invoke(app, ["stock", str(path)]).output


def test_too_few_rows_are_refused(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["synth", "--out", str(tmp_path / "x.csv"), "--rows", "10"])
    assert result.exit_code == 2
    assert not (tmp_path / "x.csv").exists()


def test_the_command_is_registered_on_bashan(tmp_path: Path) -> None:
    out = tmp_path / "bz.csv"
    done = subprocess.run(
        [BASHAN, "inventory", "synth", "--out", str(out), "--rows", "500"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 10_000
