"""Random-effects Bayesian model selection against published numbers and exact results."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special, stats

from catmodel.compare.bms import (
    _exceedance_integrated,
    bms_from_fits,
    dirichlet_exceedance,
    log_evidence_matrix,
    random_effects_bms,
)
from catmodel.compare.criteria import FitsTableError

# Published input/output pair: Matteo Lisi, bmsR (R port of SPM12's spm_BMS with the
# BOR and protected exceedance probabilities of Rigoux et al. 2014), README.md,
# section "Here is an example" / "Results", https://github.com/mattelisi/bmsR
# (also rendered at rdrr.io/github/mattelisi/bmsR/f/README.md, "built on March 9,
# 2020"). Input: Akaike weights of 12 participants × 6 models (the R `structure`
# lists them column by column, i.e. model by model); log evidence = log(weights).
BMSR_WEIGHTS_BY_MODEL = [
    [2.50809867187394e-22, 0.000146611855314775, 4.58668624689671e-25,
     4.10535400464176e-07, 0.0686634208305935, 0.0367833971579169,
     0.000110346493359948, 1.68129802885811e-08, 0.108275519613786,
     3.9578164134093e-11, 0.0367837099909541, 1.08999881504e-07],
    [0.0343412062159018, 0.00446326510403562, 0.00172330666747482,
     0.000990826155243488, 0.158393579220946, 0.0295386936257688,
     0.00012552265085804, 0.0272190104668559, 0.0530936016907313,
     2.07255371227757e-10, 0.0214823528123676, 4.73437495302293e-05],
    [0.677938621542126, 5.20954432898137e-08, 0.000627393517771912,
     0.000388486329012404, 3.17565869877651e-18, 0.191176500286399,
     3.83899865682068e-07, 0.0619217494201652, 0.559188952807853,
     5.06676447796227e-09, 0.0418921682773635, 0.702014475355336],
    [0.249399681241455, 0.862817395918837, 0.864775715064725,
     0.865617369930796, 0.147322698727657, 0.643610120435765,
     0.866608545004982, 0.789544918511435, 0.207285291019464,
     0.866813333179825, 0.779961587662899, 0.258256692887969],
    [0.0337525764999333, 0.116769634805204, 0.117034665657295,
     0.11714857188609, 0.497854787795748, 0.0871031579431148,
     0.117282712780637, 0.106853285174707, 0.0635553531488496,
     0.117310426702891, 0.105556322380037, 0.0349512426797482],
    [0.00456791450058339, 0.0158030402211649, 0.0158389190927326,
     0.0158543351634575, 0.127765513425055, 0.0117881305510349,
     0.0158724891702976, 0.0144610196138568, 0.00860128171931599,
     0.0158762348036855, 0.0143238588763795, 0.00473013632753477],
]  # fmt: skip
BMSR_ALPHA = [1.043623, 1.064976, 1.720754, 11.835847, 1.290641, 1.044160]
BMSR_R = [0.05797903, 0.05916533, 0.09559743, 0.65754706, 0.07170226, 0.05800889]
BMSR_XP = [0.000279, 0.000319, 0.001173, 0.997441, 0.000514, 0.000274]  # 1e6 samples
BMSR_BOR = 0.002890379
BMSR_PXP = [0.0007599235, 0.0007998079, 0.0016513395, 0.9950397470, 0.0009942442, 0.0007549379]


def bmsr_log_evidence() -> np.ndarray:
    return np.log(np.array(BMSR_WEIGHTS_BY_MODEL)).T


def test_matches_published_bmsR_example():
    res = random_effects_bms(bmsr_log_evidence())
    np.testing.assert_allclose(res.alpha, BMSR_ALPHA, atol=1e-3)
    np.testing.assert_allclose(res.expected_frequency, BMSR_R, atol=1e-3)
    np.testing.assert_allclose(res.exceedance, BMSR_XP, atol=1e-3)
    assert res.bor == pytest.approx(BMSR_BOR, abs=1e-3)
    np.testing.assert_allclose(res.protected_exceedance, BMSR_PXP, atol=1e-3)
    # The BOR does not depend on sampling, so it must agree far more closely.
    assert res.bor == pytest.approx(BMSR_BOR, rel=1e-6)


def test_spm_stopping_rule_reproduces_published_alpha_exactly():
    # SPM / bmsR stop once the change of alpha is below 1e-3; with the same rule the
    # iteration must land on the printed alpha to its 6 decimals.
    res = random_effects_bms(bmsr_log_evidence(), tol=1e-3)
    np.testing.assert_allclose(res.alpha, BMSR_ALPHA, atol=1e-6)
    np.testing.assert_allclose(res.alpha / res.alpha.sum(), BMSR_R, atol=1e-7)


def test_two_models_closed_form_exceedance():
    rng = np.random.default_rng(3)
    lme = rng.normal(0.0, 2.0, size=(15, 2))
    lme[:, 0] += 0.8
    res = random_effects_bms(lme)
    a1, a2 = res.alpha
    assert res.exceedance[0] == pytest.approx(1.0 - stats.beta.cdf(0.5, a1, a2), abs=1e-12)
    assert res.exceedance.sum() == pytest.approx(1.0, abs=1e-12)
    # The general K-model quadrature must agree with the closed form.
    np.testing.assert_allclose(_exceedance_integrated(res.alpha), res.exceedance, atol=1e-8)
    assert 0.5 < res.exceedance[0] < 0.999


def _exceedance_first_by_simplex_integral(a: np.ndarray) -> float:
    # Independent check: integrate the Dirichlet density over {r1 > r2, r1 > r3}.
    log_norm = special.gammaln(a.sum()) - special.gammaln(a).sum()

    def density(y: float, x: float) -> float:
        z = 1.0 - x - y
        if z <= 0.0 or y <= 0.0:
            return 0.0
        return float(
            np.exp(
                log_norm + (a[0] - 1) * np.log(x) + (a[1] - 1) * np.log(y) + (a[2] - 1) * np.log(z)
            )
        )

    value, _ = integrate.dblquad(
        density,
        1.0 / 3.0,
        1.0,
        lambda x: max(0.0, 1.0 - 2.0 * x),
        lambda x: min(x, 1.0 - x),
        epsabs=1e-11,
        epsrel=1e-10,
    )
    return value


@pytest.mark.parametrize("alpha", [(3.2, 2.5, 1.7), (12.0, 1.5, 4.0), (2.0, 9.0, 8.5)])
def test_three_model_exceedance_matches_simplex_integral(alpha):
    a = np.array(alpha)
    xp = dirichlet_exceedance(a)
    for k in range(3):
        order = [k] + [j for j in range(3) if j != k]
        assert xp[k] == pytest.approx(_exceedance_first_by_simplex_integral(a[order]), abs=1e-7)


def test_sampled_exceedance_agrees_within_monte_carlo_error():
    a = np.array([4.0, 3.0, 2.5, 1.5])
    exact = dirichlet_exceedance(a)
    sampled = dirichlet_exceedance(a, method="sample", n_samples=400_000, seed=1)
    se = np.sqrt(exact * (1 - exact) / 400_000)
    assert np.all(np.abs(sampled - exact) < 4 * se + 1e-12)
    again = dirichlet_exceedance(a, method="sample", n_samples=400_000, seed=1)
    np.testing.assert_array_equal(sampled, again)


def test_identical_evidence_gives_equal_frequencies_and_high_bor():
    bors = []
    for n in (5, 20, 100):
        res = random_effects_bms(np.zeros((n, 3)))
        np.testing.assert_allclose(res.expected_frequency, 1 / 3, atol=1e-12)
        np.testing.assert_allclose(res.exceedance, 1 / 3, atol=1e-9)
        np.testing.assert_allclose(res.protected_exceedance, 1 / 3, atol=1e-9)
        np.testing.assert_allclose(res.alpha, 1.0 + n / 3, atol=1e-9)
        bors.append(res.bor)
    # More subjects with no difference between models: more confidence in the null.
    assert bors[0] < bors[1] < bors[2]
    assert bors[2] > 0.95


def test_overwhelming_evidence_for_one_model():
    lme = np.zeros((30, 3))
    lme[:, 1] = 50.0
    res = random_effects_bms(lme, models=["a", "b", "c"])
    np.testing.assert_allclose(res.alpha, [1.0, 31.0, 1.0], atol=1e-9)
    assert res.exceedance[1] > 1 - 1e-9
    assert res.protected_exceedance[1] > 1 - 1e-9
    assert res.bor < 1e-9
    np.testing.assert_allclose(res.subject_posterior[:, 1], 1.0, atol=1e-12)


def test_invariant_to_subject_offsets_and_model_order():
    lme = bmsr_log_evidence()
    res = random_effects_bms(lme)
    shifted = random_effects_bms(lme + np.arange(12)[:, None] * 1000.0)
    np.testing.assert_allclose(shifted.alpha, res.alpha, rtol=1e-9)
    assert shifted.bor == pytest.approx(res.bor, rel=1e-6)
    perm = [3, 0, 5, 1, 4, 2]
    permuted = random_effects_bms(lme[:, perm])
    np.testing.assert_allclose(permuted.alpha, res.alpha[perm], rtol=1e-9)
    np.testing.assert_allclose(
        permuted.protected_exceedance, res.protected_exceedance[perm], atol=1e-8
    )


def test_prior_counts_enter_alpha():
    lme = np.zeros((10, 2))
    lme[:, 0] = 100.0
    res = random_effects_bms(lme, alpha0=0.5)
    np.testing.assert_allclose(res.alpha, [10.5, 0.5], atol=1e-9)


def test_from_fits_uses_minus_half_criterion(fits):
    res = bms_from_fits(fits)
    lme, participants, models = log_evidence_matrix(fits, "bic")
    assert models == ["gcm", "prototype", "gaussian"]
    assert participants[:2] == ["s00", "s01"]
    first = fits[fits.participant == "s00"].set_index("model")["bic"]
    np.testing.assert_allclose(lme[0], -0.5 * first[models].to_numpy())
    direct = random_effects_bms(lme, models=models)
    np.testing.assert_allclose(res.alpha, direct.alpha)
    aic_res = bms_from_fits(fits, criterion="aic")
    assert not np.allclose(aic_res.alpha, res.alpha)
    frame = res.to_frame()
    assert list(frame.columns) == [
        "model",
        "alpha",
        "expected_frequency",
        "exceedance",
        "protected_exceedance",
    ]
    assert frame.attrs["bor"] == res.bor
    # gcm was simulated as the better model for everyone.
    assert frame.set_index("model").loc["gcm", "expected_frequency"] > 0.5


def test_from_fits_rejects_incomplete_tables(make_fits):
    fits = make_fits(n_participants=4)
    with pytest.raises(FitsTableError):
        bms_from_fits(fits.iloc[:-1])


def test_bad_input():
    with pytest.raises(ValueError):
        random_effects_bms(np.zeros(5))
    with pytest.raises(ValueError):
        random_effects_bms(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError):
        random_effects_bms(np.zeros((3, 2)), models=["a"])
    with pytest.raises(ValueError):
        dirichlet_exceedance(np.array([1.0, 2.0, 3.0]), method="magic")
