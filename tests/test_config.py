import pytest
import yaml

from nlp.config import ConfigError, load_config
from tests.conftest import REPO


def _write(tmp_path, mutate):
    raw = yaml.safe_load((REPO / "configs" / "default.yaml").read_text(encoding="utf-8"))
    mutate(raw)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["default.yaml", "5a.yaml"])
def test_shipped_configs_are_valid(name):
    cfg = load_config(REPO / "configs" / name)
    assert cfg.stages.stages


@pytest.mark.parametrize("mutate, key", [
    (lambda r: r["cluster"].update(min_clustr_size=3), "cluster.min_clustr_size"),
    (lambda r: r["rank"]["weights"].update(volume="lots"), "rank.weights.volume"),
    (lambda r: r["stages"].update(stages=[]), "stages.stages"),
    (lambda r: r["rank"].update(weights={"volume": 0, "negativity": 0, "growth": 0, "severity": 0, "impact": 0}),
     "rank.weights"),
    (lambda r: r["rank"].update(weights={"volume": -1}), "rank.weights"),
    (lambda r: r["sources"][0].update(kind="email"), "sources.0.kind"),
    # a kind's own option on a source of another kind (sources 0: review, 1: social)
    (lambda r: r["sources"][0].update(platform="x"), "sources.0: Value error, source 'shop_reviews': unknown key "
                                                     "'platform'; a review source takes name, kind, path"),
    (lambda r: r["sources"][1].update(channel="email"), "unknown key 'channel'; a social source takes"),
    (lambda r: r["sources"][1].update(platform=3), "source 'sns': platform: Input should be a valid string"),
    (lambda r: r["report"].update(language="fr"), "report.language"),
    (lambda r: r.update(runner="spark"), "runner"),
    (lambda r: r["dask"].update(n_workers=0), "dask.n_workers"),
    (lambda r: r["cluster"].update(fit_sample=0), "cluster.fit_sample"),
])
def test_bad_config_names_the_key(tmp_path, mutate, key):
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, mutate))
    assert key in str(err.value)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [", encoding="utf-8")
    with pytest.raises(ConfigError, match="YAML"):
        load_config(bad)
