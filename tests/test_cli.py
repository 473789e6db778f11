from typer.testing import CliRunner

from flows.cli import app

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
