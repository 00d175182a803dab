"""The `jiuzhu` command as a designer uses it."""
from pathlib import Path

from click.testing import CliRunner

from service.cli import main

from .conftest import ROOT


def test_validate_accepts_the_shipped_processes():
    result = CliRunner().invoke(main, ['validate'])
    assert result.exit_code == 0, result.output
    assert 'dibao_a' in result.output and 'dibao_legacy' in result.output


def test_validate_reports_file_line_element_and_exits_1():
    bad = ROOT / 'tests' / 'fixtures' / 'invalid' / 'malformed.bpmn'
    result = CliRunner().invoke(main, ['validate', str(bad)])
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[0]
    assert line.endswith('malformed.bpmn:5: -: XML 格式错误 (malformed XML): Opening and ending tag mismatch: '
                         'startEvent line 4 and process, line 5, column 18')


def test_deploy_twice_keeps_versions(database_url, monkeypatch):
    monkeypatch.setenv('DATABASE_URL', database_url)
    monkeypatch.setenv('SECRET_KEY', 'cli-test')
    runner = CliRunner()
    first = runner.invoke(main, ['deploy'])
    assert first.exit_code == 0, first.output
    assert 'deployed  dibao_a v1' in first.output
    second = runner.invoke(main, ['deploy'])
    assert second.exit_code == 0, second.output
    assert 'unchanged dibao_a v1' in second.output


def test_deploy_refuses_an_invalid_file(database_url, monkeypatch):
    monkeypatch.setenv('DATABASE_URL', database_url)
    monkeypatch.setenv('SECRET_KEY', 'cli-test')
    bad = ROOT / 'tests' / 'fixtures' / 'invalid' / 'exclusive_no_condition.bpmn'
    result = CliRunner().invoke(main, ['deploy', str(bad)])
    assert result.exit_code == 1
    assert 'exclusive_no_condition.bpmn:' in result.output


def test_serve_on_a_busy_port_says_so_in_chinese_and_never_claims_to_have_started(tmp_path):
    # A real process: `serve` would otherwise start its embedded scheduler inside the test run.
    import os
    import socket
    import subprocess
    import sys
    busy = socket.socket()
    busy.bind(('127.0.0.1', 0))
    busy.listen(1)
    try:
        port = busy.getsockname()[1]
        env = dict(os.environ, DATABASE_URL=f'sqlite:///{tmp_path / "serve.sqlite3"}', SECRET_KEY='cli-test')
        jiuzhu = str(Path(sys.executable).parent / 'jiuzhu')
        result = subprocess.run([jiuzhu, 'serve', '--port', str(port)], env=env,
                                capture_output=True, text=True, timeout=600, cwd=ROOT)
    finally:
        busy.close()
    assert result.returncode == 1, result.stdout + result.stderr
    assert '已被其他程序占用' in result.stderr and str(port) in result.stderr
    assert '服务已启动' not in result.stdout + result.stderr
