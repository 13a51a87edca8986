"""Model comparison: information criteria, random-effects Bayesian model selection,
likelihood-ratio tests, and comparisons of fitted parameters between conditions."""

from catmodel.compare.bms import (
    BMS_PRIORS,
    BMSResult,
    bms_evidence,
    bms_from_fits,
    bms_prior,
    dirichlet_exceedance,
    log_evidence_matrix,
    random_effects_bms,
)
from catmodel.compare.criteria import (
    CRITERIA,
    FitsTableError,
    UnknownCriterionError,
    aic,
    akaike_weights,
    bic,
    group_sums,
    per_participant,
)
from catmodel.compare.groupstats import (
    ParameterComparison,
    analysis_scale,
    compare_parameters,
    use_log_scale,
)
from catmodel.compare.lrt import (
    LRTResult,
    chi2_mixture_sf,
    likelihood_ratio_test,
    lrt_from_fits,
)
from catmodel.compare.table import compare_fits

__all__ = [
    "BMS_PRIORS",
    "CRITERIA",
    "BMSResult",
    "FitsTableError",
    "LRTResult",
    "ParameterComparison",
    "UnknownCriterionError",
    "aic",
    "akaike_weights",
    "analysis_scale",
    "bic",
    "bms_evidence",
    "bms_from_fits",
    "bms_prior",
    "chi2_mixture_sf",
    "compare_fits",
    "compare_parameters",
    "dirichlet_exceedance",
    "group_sums",
    "likelihood_ratio_test",
    "log_evidence_matrix",
    "lrt_from_fits",
    "per_participant",
    "random_effects_bms",
    "use_log_scale",
]
