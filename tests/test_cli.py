import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.conftest import REPO

runner = CliRunner()


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "report", "serve", "sources"):
        assert command in result.output


def test_run_help_shows_since_until():
    result = runner.invoke(app, ["run", "--help"])
    assert "--since" in result.output and "--until" in result.output and "--config" in result.output


def test_sources_describes_each_kind():
    result = runner.invoke(app, ["sources"])
    assert result.exit_code == 0
    for kind in ("review", "social", "ticket"):
        assert kind in result.output
    assert "CP932" in result.output


def test_bad_config_is_a_clear_error_before_any_work(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("sources: []\nstages: {stages: []}\n", encoding="utf-8")
    result = runner.invoke(app, ["run", "--config", str(bad)])
    assert result.exit_code == 2
    assert "stages.stages" in result.output


def test_the_nightly_deployment_builds_offline_from_the_config():
    from flows.nightly import nightly_deployment
    from nlp.config import load_config
    from tests.conftest import REPO

    cfg = load_config(REPO / "configs" / "default.yaml")
    deployment = nightly_deployment(cfg, "configs/default.yaml")
    schedule = deployment.schedules[0].schedule
    assert schedule.cron == "0 2 * * *" and schedule.timezone == "Asia/Tokyo"
    assert deployment.concurrency_limit == 1
    assert deployment.parameters == {"config_path": "configs/default.yaml"}


def test_prefect_yaml_matches_the_default_schedule():
    import yaml

    from nlp.config import load_config
    from tests.conftest import REPO

    cfg = load_config(REPO / "configs" / "default.yaml")
    deployment = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))["deployments"][0]
    assert deployment["entrypoint"] == "flows/nightly.py:nightly"
    assert deployment["schedules"][0] == {"cron": cfg.schedule.cron, "timezone": cfg.schedule.timezone}
    assert deployment["concurrency_limit"] == 1


def test_the_console_shows_steps_not_prefect_chatter_nor_repeats(capsys):
    import logging

    from flows.cli import _console, _Quiet

    task_log = logging.getLogger("prefect.task_runs")
    _console(verbose=False)
    try:
        quiet = [f for f in task_log.filters if isinstance(f, _Quiet)]
        assert len(quiet) == 1
        shown = [m for m in ("Finished in state Completed()", "Created task run 'ingest-1' for task 'ingest'",
                             "quarantined from a: x", "quarantined from a: x", "ingest a: 10 rows read")
                 if quiet[0].filter(logging.LogRecord("prefect.task_runs", logging.INFO, "", 0, m, (), None))]
        assert shown == ["quarantined from a: x", "ingest a: 10 rows read"]
        logging.getLogger("koe.progress").info("replay 3/8: up to 2026-11-01")
        assert "koe: replay 3/8: up to 2026-11-01" in capsys.readouterr().err
    finally:
        for f in [f for f in task_log.filters if isinstance(f, _Quiet)]:
            task_log.removeFilter(f)
        for h in list(logging.getLogger("koe").handlers):
            logging.getLogger("koe").removeHandler(h)
    _console(verbose=True)
    try:
        assert not [f for f in task_log.filters if isinstance(f, _Quiet)]
    finally:
        for h in list(logging.getLogger("koe").handlers):
            logging.getLogger("koe").removeHandler(h)


def test_run_and_report_take_verbose():
    for command in ("run", "report"):
        assert "--verbose" in runner.invoke(app, [command, "--help"]).output


def test_the_readme_deploy_steps_match_prefect_yaml_and_a_missing_koe_home_is_named(tmp_path, monkeypatch):
    import yaml

    from nlp.config import ConfigError, load_config

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    steps = readme.split("### Deploy with a worker", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    deployment = spec["deployments"][0]
    pool = deployment["work_pool"]["name"]
    assert f"prefect work-pool create {pool} " in steps and f"--pool {pool}" in steps
    assert f"{spec['name']}/{deployment['name']}" in steps and "KOE_HOME" in steps
    assert "$KOE_HOME" in str(spec["pull"])
    entry, func = deployment["entrypoint"].split(":")
    assert (REPO / entry).is_file() and f"def {func}(" in (REPO / entry).read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # a worker started elsewhere than the checkout
    with pytest.raises(ConfigError, match="set KOE_HOME"):
        load_config(deployment["parameters"]["config_path"])
