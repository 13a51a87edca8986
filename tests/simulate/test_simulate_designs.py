"""Task designs: schema, counts, category structures, optimal accuracies, seeds, file designs."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from catmodel.data import ColumnMap, DataError, TrialTable, load_trials
from catmodel.errors import SettingsError
from catmodel.simulate import designs
from catmodel.simulate.designs import (
    DESIGNS,
    describe_designs,
    gaussian_categories,
    gaussian_optimal_accuracy,
    make_design,
    optimal_accuracy,
    two_gaussian,
)

# name -> (trials per participant, blocks, trials per block) of the defaults
DEFAULT_COUNTS = {
    "two-gaussian": (400, 10, 40),
    "ii": (600, 6, 100),
    "rb": (600, 6, 100),
    **{f"shj-{t}": (256, 32, 8) for t in range(1, 7)},
    "5-4": (16 * 9 + 16, 17, None),
    "ii-4": (600, 6, 100),
    # 8 training blocks of 18 items, then the transfer block: 18 old, 3 prototypes, 27 new
    "distortion": (8 * 18 + 48, 9, None),
}

# Medin & Schaffer's (1978) 5-4 structure as listed by Smith & Minda (2000, Table 1), written
# out here independently of the module.
FIVE_FOUR_A = {"1110", "1010", "1011", "1101", "0111"}
FIVE_FOUR_B = {"1100", "0110", "0001", "0000"}


def pattern(row) -> str:
    return "".join(str(int(v)) for v in row)


# ----------------------------------------------------------------------------- schema and counts


@pytest.mark.parametrize("name", list(DEFAULT_COUNTS))
def test_every_design_loads_with_the_documented_counts(name):
    frame = make_design(name, 3, seed=1)
    table = TrialTable.from_frame(frame)
    n_trials, n_blocks, per_block = DEFAULT_COUNTS[name]
    assert table.n_learners == 3
    assert table.learners == ["sim001", "sim002", "sim003"]
    assert table.features == frame.attrs["features"]
    counts = table.frame.groupby("learner").size()
    assert (counts == n_trials).all()
    assert table.frame["trial"].tolist() == list(range(1, n_trials + 1)) * 3
    assert table.frame.groupby("learner")["block"].nunique().eq(n_blocks).all()
    if per_block is not None:
        assert table.frame.groupby(["learner", "block"]).size().eq(per_block).all()
    # veridical feedback unless a design says otherwise
    train = frame["phase"].eq("train") if "phase" in frame else np.ones(len(frame), bool)
    assert (table.frame["feedback"][train] == table.frame["category"][train]).all()


@pytest.mark.parametrize("name", ["ii", "5-4", "shj-3"])
def test_designs_survive_to_csv_and_load_trials(name, tmp_path):
    frame = make_design(name, 2, seed=4)
    table = TrialTable.from_frame(frame)
    path = table.to_csv(tmp_path / "design.csv")
    back = load_trials(path, ColumnMap(), require_response=False)
    cols = ["participant", "trial", "block", *table.features, "category", "feedback"]
    pd.testing.assert_frame_equal(back.frame[cols], table.frame[cols])


def test_n_blocks_and_n_trials_set_the_length():
    assert len(make_design("ii", 1, n_blocks=2)) == 200
    assert len(make_design("ii", 1, n_trials=250)) == 250
    assert make_design("ii", 1, n_trials=250)["block"].max() == 3
    assert len(make_design("rb", 1, n_blocks=3, block_size=10)) == 30
    assert len(make_design("two-gaussian", 1, n_blocks=2)) == 80
    assert len(make_design("shj-1", 1, n_blocks=5)) == 40
    assert len(make_design("shj-1", 1, n_blocks=5, passes=2)) == 80
    assert len(make_design("5-4", 1, n_blocks=2)) == 18 + 16
    assert len(make_design("5-4", 1, n_blocks=2, transfer_blocks=2)) == 18 + 32
    assert set(make_design("5-4", 1, n_blocks=2, transfer_blocks=0)["phase"]) == {"train"}
    with pytest.raises(SettingsError):
        make_design("ii", 1, n_trials=250, n_blocks=2)


def test_gaussian_designs_balance_categories_within_blocks():
    frame = make_design("rb", 4, n_trials=250, seed=2)
    counts = frame.groupby(["participant", "block"])["category"].value_counts().unstack()
    full = counts.xs(1, level="block")
    assert (full == 50).all().all()
    last = counts.xs(3, level="block")  # 50 trials
    assert (last == 25).all().all()
    odd = make_design("ii", 20, n_trials=101, block_size=101, seed=0)
    per = odd.groupby("participant")["category"].value_counts().unstack()
    assert set(per.min(axis=1)) == {50} and set(per.max(axis=1)) == {51}
    # the extra trial goes to a random category, not always the same one
    assert set(per.idxmax(axis=1)) == {"A", "B"}


def test_two_gaussian_is_unchanged_through_make_design():
    pd.testing.assert_frame_equal(
        make_design("two-gaussian", 2, 120, seed=7), two_gaussian(2, 120, seed=7)
    )
    # the demo's category structure
    m, c = gaussian_categories("two-gaussian")
    np.testing.assert_array_equal(m, designs.TWO_GAUSSIAN_MEANS)
    np.testing.assert_array_equal(c, designs.TWO_GAUSSIAN_COVS)


def test_describe_designs_names_every_design():
    described = describe_designs()
    assert set(described) == {*DESIGNS, "file:PATH"}
    assert all(isinstance(v, str) and v and "\n" not in v for v in described.values())
    assert {"two-gaussian", "ii", "rb", "5-4", *(f"shj-{t}" for t in range(1, 7))} <= set(DESIGNS)


def test_bad_names_and_options_are_settings_errors():
    with pytest.raises(SettingsError, match="unknown design"):
        make_design("xor", 2)
    with pytest.raises(SettingsError):
        make_design("ii", 2, colour="red")
    with pytest.raises(SettingsError):
        make_design("ii", 2, means=[[0, 0, 0], [1, 1, 1]])
    with pytest.raises(SettingsError, match="positive definite"):
        make_design("rb", 2, covs=[[1, 2], [2, 1]])
    with pytest.raises(SettingsError):
        make_design("ii", 0)
    with pytest.raises(SettingsError):
        make_design("5-4", 1, transfer_category="nearest")


# ----------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("name", ["two-gaussian", "ii", "rb", "shj-4", "5-4"])
def test_seeds_make_designs_reproducible_and_different(name):
    a = make_design(name, 3, seed=11)
    pd.testing.assert_frame_equal(a, make_design(name, 3, seed=11))
    b = make_design(name, 3, seed=12)
    assert not a.drop(columns="participant").equals(b.drop(columns="participant"))
    # each participant has its own sequence
    seqs = [
        g.drop(columns=["participant"]).reset_index(drop=True) for _, g in a.groupby("participant")
    ]
    assert not seqs[0].equals(seqs[1])


def test_a_participant_does_not_depend_on_how_many_are_simulated():
    few = make_design("ii", 2, seed=3)
    many = make_design("ii", 5, seed=3)
    pd.testing.assert_frame_equal(few, many[many["participant"].isin(["sim001", "sim002"])])


# ----------------------------------------------------------------------------- Gaussian structures


def monte_carlo_accuracy(means, covs, n: int = 200_000, seed: int = 0) -> tuple[float, float]:
    """Accuracy of the classifier that picks the highest true density, and its SE."""
    rng = np.random.default_rng(seed)
    dists = [stats.multivariate_normal(m, c) for m, c in zip(means, covs, strict=True)]
    hits = []
    for k, d in enumerate(dists):
        x = d.rvs(n, random_state=rng)
        logp = np.stack([e.logpdf(x) for e in dists])
        hits.append(np.argmax(logp, axis=0) == k)
    hits = np.concatenate(hits)
    return hits.mean(), hits.std() / np.sqrt(len(hits))


@pytest.mark.parametrize("name", ["ii", "rb"])
def test_default_gaussian_designs_have_optimal_accuracy_between_80_and_90(name):
    means, covs = gaussian_categories(name)
    mc, se = monte_carlo_accuracy(means, covs)
    assert 0.8 <= mc - 4 * se and mc + 4 * se <= 0.9
    assert abs(optimal_accuracy(name) - mc) < 4 * se
    # equal covariances: the optimal accuracy is Φ(Mahalanobis distance / 2)
    delta = means[1] - means[0]
    mahalanobis = np.sqrt(delta @ np.linalg.solve(covs[0], delta))
    assert optimal_accuracy(name) == pytest.approx(stats.norm.cdf(mahalanobis / 2), abs=1e-10)
    assert optimal_accuracy(name) == pytest.approx(0.8413447460685429, abs=1e-10)


def test_optimal_accuracy_matches_monte_carlo_for_unequal_covariances():
    means, covs = gaussian_categories("two-gaussian")
    mc, se = monte_carlo_accuracy(means, covs, seed=1)
    assert abs(optimal_accuracy("two-gaussian") - mc) < 4 * se
    three_m = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    three_c = np.array([np.eye(2) * 0.3, [[1.0, 0.5], [0.5, 0.8]], np.eye(2) * 0.1])
    mc, se = monte_carlo_accuracy(three_m, three_c, seed=2)
    assert abs(gaussian_optimal_accuracy(three_m, three_c) - mc) < 4 * se


def test_design_stimuli_follow_the_category_distributions():
    frame = make_design("ii", 1, n_trials=40_000, seed=5)
    means, covs = gaussian_categories("ii")
    for k, label in enumerate("AB"):
        x = frame.loc[frame["category"] == label, ["x1", "x2"]].to_numpy()
        np.testing.assert_allclose(x.mean(axis=0), means[k], atol=0.5)
        np.testing.assert_allclose(np.cov(x.T), covs[k], rtol=0.05, atol=5)


def test_four_categories_sit_at_the_corners_of_a_diamond_with_sd_10():
    frame = make_design("ii-4", 1, n_trials=40_000, seed=6)
    corners = {"A": (72, 100), "B": (100, 128), "C": (100, 72), "D": (128, 100)}
    assert sorted(frame["category"].unique()) == sorted(corners)
    for label, mean in corners.items():
        x = frame.loc[frame["category"] == label, ["x1", "x2"]].to_numpy()
        np.testing.assert_allclose(x.mean(axis=0), mean, atol=0.5)
        np.testing.assert_allclose(np.cov(x.T), 100.0 * np.eye(2), rtol=0.05, atol=5)


def boundary_x1(means, covs, x2: float) -> float:
    """Where along the horizontal line at ``x2`` the two category densities are equal."""
    a, b = (stats.multivariate_normal(m, c) for m, c in zip(means, covs, strict=True))
    centre = means.mean(axis=0)[0]
    return optimize.brentq(
        lambda x1: a.logpdf([x1, x2]) - b.logpdf([x1, x2]), centre - 200, centre + 200
    )


def test_rb_boundary_is_vertical_and_45_degrees_makes_it_diagonal():
    means, covs = gaussian_categories("rb")
    for x2 in (0.0, 50.0, 120.0):
        assert boundary_x1(means, covs, x2) == pytest.approx(50.0, abs=1e-8)
    means, covs = gaussian_categories("rb", rotation=45)
    for x2 in (0.0, 30.0, 50.0, 90.0):
        assert boundary_x1(means, covs, x2) == pytest.approx(100.0 - x2, abs=1e-8)
    # rotation changes the orientation, not the difficulty
    assert optimal_accuracy("rb", rotation=45) == pytest.approx(optimal_accuracy("rb"), abs=1e-9)


def test_ii_default_is_rb_rotated_by_45_degrees():
    for got, want in zip(
        gaussian_categories("ii"), gaussian_categories("rb", rotation=45), strict=True
    ):
        np.testing.assert_allclose(got, want, atol=1e-12)
    a = make_design("ii", 2, seed=9)
    b = make_design("rb", 2, seed=9, rotation=45)
    np.testing.assert_allclose(a[["x1", "x2"]], b[["x1", "x2"]], atol=1e-9)


def test_user_categories_and_rotation():
    means = [[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]]
    frame = make_design("ii", 2, n_trials=90, block_size=30, means=means, covs=np.eye(2))
    assert sorted(frame["category"].unique()) == ["A", "B", "C"]
    TrialTable.from_frame(frame)
    m, c = gaussian_categories("rb", means=means, rotation=90)
    centre = np.mean(means, axis=0)
    np.testing.assert_allclose(
        m - centre, (np.array(means) - centre) @ np.array([[0, 1], [-1, 0]]), atol=1e-12
    )
    np.testing.assert_allclose(c[0], np.diag([900.0, 100.0]), atol=1e-9)
    # ii with other means keeps its own (diagonal) covariance
    _, c = gaussian_categories("ii", means=means)
    np.testing.assert_allclose(c, np.broadcast_to(gaussian_categories("ii")[1][0], (3, 2, 2)))


# ----------------------------------------------------------------------------- SHJ


def shj_partition(type_number: int) -> dict[tuple[int, int, int], object]:
    frame = make_design(f"shj-{type_number}", 1, n_blocks=2, seed=type_number)
    items = {}
    for row in frame.itertuples():
        key = (int(row.x1), int(row.x2), int(row.x3))
        assert items.setdefault(key, row.category) == row.category
    return items


def relevant_dimensions(items) -> list[int]:
    """Dimensions whose flip changes the category of some item."""
    out = []
    for d in range(3):
        for key, label in items.items():
            flipped = tuple(1 - v if i == d else v for i, v in enumerate(key))
            if items[flipped] != label:
                out.append(d)
                break
    return out


def within_category_edges(items) -> int:
    return sum(
        items[a] == items[b]
        for a, b in itertools.combinations(items, 2)
        if sum(x != y for x, y in zip(a, b, strict=True)) == 1
    )


def linearly_separable(items) -> bool:
    # feasibility of y (w·x + b) >= 1
    x = np.array(list(items), dtype=float)
    labels = list(items.values())
    y = np.where(np.array(labels) == labels[0], 1.0, -1.0)
    a = -y[:, None] * np.c_[x, np.ones(len(x))]
    res = optimize.linprog(np.zeros(4), A_ub=a, b_ub=-np.ones(len(x)), bounds=[(None, None)] * 4)
    return res.status == 0


@pytest.mark.parametrize(
    "type_number, n_relevant, edges, separable",
    [
        (1, 1, 8, True),
        (2, 2, 4, False),
        (3, 3, 6, False),
        (4, 3, 6, True),
        (5, 3, 4, False),
        (6, 3, 0, False),
    ],
)
def test_shj_types_have_their_partitions(type_number, n_relevant, edges, separable):
    items = shj_partition(type_number)
    assert len(items) == 8
    values = list(items.values())
    assert sorted(pd.Series(values).value_counts().tolist()) == [4, 4]
    assert len(relevant_dimensions(items)) == n_relevant
    assert within_category_edges(items) == edges
    assert linearly_separable(items) == separable


def test_shj_type_2_is_xor_and_type_6_is_parity():
    def same_as(items, rule):
        keys = list(items)
        pairs = {(rule(k), items[k]) for k in keys}
        return len(pairs) == 2 and len({p[0] for p in pairs}) == 2

    ii = shj_partition(2)
    assert any(
        same_as(ii, lambda k, i=i, j=j: k[i] ^ k[j]) for i, j in itertools.combinations(range(3), 2)
    )
    assert same_as(shj_partition(6), lambda k: k[0] ^ k[1] ^ k[2])
    assert not same_as(shj_partition(5), lambda k: k[0] ^ k[1] ^ k[2])


def test_shj_blocks_hold_each_item_once():
    frame = make_design("shj-3", 2, seed=0)
    per_block = frame.groupby(["participant", "block"]).apply(
        lambda g: len({pattern(r) for r in g[["x1", "x2", "x3"]].to_numpy()})
    )
    assert (per_block == 8).all()


# ----------------------------------------------------------------------------- 5-4


def test_five_four_has_the_canonical_items_and_phases():
    frame = make_design("5-4", 2, seed=3)
    table = TrialTable.from_frame(frame)
    features = ["x1", "x2", "x3", "x4"]
    train = frame[frame["phase"] == "train"]
    transfer = frame[frame["phase"] == "transfer"]
    assert len(train) == 2 * 16 * 9 and len(transfer) == 2 * 16
    labels = {pattern(r[:4]): r[4] for r in train[[*features, "category"]].to_numpy()}
    assert {k for k, v in labels.items() if v == "A"} == FIVE_FOUR_A
    assert {k for k, v in labels.items() if v == "B"} == FIVE_FOUR_B
    for _, g in train.groupby(["participant", "block"]):
        assert len({pattern(r) for r in g[features].to_numpy()}) == 9
    for _, g in transfer.groupby("participant"):
        assert {pattern(r) for r in g[features].to_numpy()} == {
            "".join(p) for p in itertools.product("01", repeat=4)
        }
    assert transfer["feedback"].isna().all()
    assert (train["feedback"] == train["category"]).all()
    assert table.frame.loc[table.frame["phase"] == "transfer", "feedback"].isna().all()
    assert set(table.frame["phase"]) == {"train", "transfer"}
    # old items keep their label in the transfer phase
    old = transfer[transfer["item"].str[0] != "T"]
    assert all(
        (pattern(r[:4]) in FIVE_FOUR_A) == (r[4] == "A")
        for r in old[[*features, "category"]].to_numpy()
    )


def test_five_four_new_items_get_the_centroid_label_or_none():
    # nearest training centroid, hand-computed: A = (.8,.6,.8,.6), B = (.25,.5,.25,.25)
    want = {
        "1001": "A",
        "1000": "B",
        "1111": "A",
        "0010": "B",
        "0101": "B",
        "0011": "A",
        "0100": "B",
    }
    frame = make_design("5-4", 1, seed=0, transfer_category="centroid")
    new = frame[frame["item"].str[0] == "T"]
    got = {pattern(r[:4]): r[4] for r in new[["x1", "x2", "x3", "x4", "category"]].to_numpy()}
    assert got == want
    missing = make_design("5-4", 1, seed=0)  # the default: new items have no true label
    assert missing.loc[missing["item"].str[0] == "T", "category"].isna().all()
    assert missing.loc[missing["item"].str[0] != "T", "category"].notna().all()
    # rows without feedback may lack a category: the loader keeps them as transfer trials
    table = TrialTable.from_frame(missing)
    batch = table.to_batch()
    new_rows = table.frame["category"].isna().to_numpy()
    assert new_rows.sum() == 7
    rows = batch.row.numpy()
    assert (batch.category.numpy()[rows >= 0][new_rows[rows[rows >= 0]]] == -1).all()
    # ... but a trial with feedback and no category is still an error
    bad = missing.copy()
    bad.loc[bad["item"] == "T10", "feedback"] = "A"
    with pytest.raises(DataError, match="missing category"):
        TrialTable.from_frame(bad)


# ----------------------------------------------------------------------------- file designs


@pytest.fixture
def data_file(tmp_path):
    rows = []
    rng = np.random.default_rng(0)
    for subject in ("p7", "p3", "p9"):
        for t in range(1, 13):
            cat = "A" if rng.random() < 0.5 else "B"
            rows.append(
                {
                    "subj": subject,
                    "t": t,
                    "blk": (t - 1) // 4 + 1,
                    "size": rng.normal(),
                    "angle": rng.normal(),
                    "cat": cat,
                    "fb": "" if t > 10 else cat,
                    "resp": "A",
                }
            )
        rows[-12]["cat"], rows[-11]["cat"] = "A", "B"  # both categories for everyone
    path = tmp_path / "data.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    columns = ColumnMap(
        participant="subj",
        trial="t",
        block="blk",
        features=("size", "angle"),
        category="cat",
        feedback="fb",
        response="resp",
    )
    return path, columns, pd.read_csv(path, keep_default_na=False)


def test_file_design_returns_each_participants_own_sequence(data_file):
    path, columns, raw = data_file
    frame = make_design(f"file:{path}", None, columns=columns)
    assert list(pd.unique(frame["participant"])) == ["p7", "p3", "p9"]
    assert frame.attrs["features"] == ["size", "angle"]
    for subject, g in frame.groupby("participant", sort=False):
        r = raw[raw["subj"] == subject]
        np.testing.assert_allclose(g[["size", "angle"]].to_numpy(), r[["size", "angle"]].to_numpy())
        assert g["category"].tolist() == r["cat"].tolist()
        assert g["block"].tolist() == r["blk"].tolist()
        assert g["trial"].tolist() == list(range(1, 13))
        fb = [None if v == "" else v for v in r["fb"]]
        assert [None if pd.isna(v) else v for v in g["feedback"]] == fb
    assert "response" not in frame
    # it loads back as a design
    table = TrialTable.from_frame(frame)
    assert table.features == ["size", "angle"]
    assert table.frame["feedback"].isna().sum() == 6


def test_file_design_keeps_the_first_participants_and_trials(data_file):
    path, columns, _ = data_file
    first = make_design(f"file:{path}", 2, columns=columns)
    assert list(pd.unique(first["participant"])) == ["p7", "p3"]
    short = make_design(f"file:{path}", 1, n_trials=5, columns=columns)
    assert len(short) == 5 and short["trial"].tolist() == [1, 2, 3, 4, 5]
    blocks = make_design(f"file:{path}", None, n_blocks=2, columns=columns)
    assert blocks.groupby("participant").size().eq(8).all()
    with pytest.raises(SettingsError):
        make_design(f"file:{path}", 4, columns=columns)


def test_file_design_round_trips_a_written_design(tmp_path):
    frame = make_design("5-4", 2, seed=1)
    path = TrialTable.from_frame(frame).to_csv(tmp_path / "five_four.csv")
    again = make_design(f"file:{path}", None)
    cols = ["participant", "trial", "block", "x1", "x2", "x3", "x4", "category", "phase"]

    def norm(f):  # new transfer items have no category: compare missing as missing
        f = f[cols].reset_index(drop=True).astype({"category": object})
        f["category"] = f["category"].where(f["category"].notna(), None)
        return f

    pd.testing.assert_frame_equal(norm(again), norm(frame), check_dtype=False)
    assert again["feedback"].isna().tolist() == frame["feedback"].isna().tolist()


def test_file_design_without_blocks_uses_block_size(tmp_path):
    path = tmp_path / "noblock.csv"
    pd.DataFrame({"participant": 1, "x1": np.arange(10.0), "category": ["A", "B"] * 5}).to_csv(
        path, index=False
    )
    frame = make_design(f"file:{path}", None, block_size=4)
    assert frame["block"].tolist() == [1] * 4 + [2] * 4 + [3] * 2


def test_file_design_rejects_unknown_options(data_file):
    path, columns, _ = data_file
    with pytest.raises(SettingsError):
        make_design(f"file:{path}", None, columns=columns, rotation=45)
