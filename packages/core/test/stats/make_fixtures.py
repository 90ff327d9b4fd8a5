"""Reference values for packages/core/src/stats, from scipy and statsmodels.

    /usr/bin/python3 packages/core/test/stats/make_fixtures.py > packages/core/test/stats/fixtures.json

(Debian's python3 with python3-scipy and python3-statsmodels.) The tests compare Assay's functions to these values
within the tolerances stated in stats.test.ts.
"""
import json
import math

import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

out = {"versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__, "numpy": np.__version__}}

# Wilson intervals: edges (0 of n, n of n), one trial, large n.
out["wilson"] = []
for k, n in [(0, 1), (1, 1), (0, 10), (10, 10), (3, 10), (5, 10), (1, 64), (52, 64), (17, 64), (4999, 10000), (123456, 1000000)]:
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    out["wilson"].append({"k": k, "n": n, "lower": lo, "upper": hi})

# Exact McNemar on the flips (b: 1 -> 0, c: 0 -> 1): none, ties, one-sided, large.
out["mcnemar"] = []
for b, c in [(0, 0), (1, 0), (0, 1), (3, 3), (2, 12), (12, 2), (0, 25), (40, 60), (480, 520), (4900, 5100), (49000, 51000)]:
    r = mcnemar([[0, b], [c, 0]], exact=True)
    out["mcnemar"].append({"b": b, "c": c, "p": float(r.pvalue)})

# Holm across scorers: ties, values at 1, already ordered and not.
out["holm"] = []
for ps in [[0.01], [0.01, 0.04, 0.03, 0.2], [0.05, 0.05, 0.05], [0.001, 1.0, 0.5], [0.2, 0.01, 0.011, 0.04, 0.9]]:
    out["holm"].append({"p": ps, "adjusted": [float(x) for x in multipletests(ps, method="holm")[1]]})

rng = np.random.default_rng(20261202)


def modular(n):
    """A large case both sides can build from n alone (the fixture file stays small): see stats.test.ts."""
    i = np.arange(n)
    return ((i * 7919) % 1000) / 1000, ((i * 104729) % 1009) / 1009


def paired_case(name, a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    d = b - a
    case = {"name": name, "meanDiff": float(d.mean())}
    if len(d) > 1000:
        case["modular"] = len(d)
    else:
        case["a"], case["b"] = a.tolist(), b.tolist()
    if len(d) > 1 and d.std() > 0:
        t = stats.ttest_rel(b, a)
        ci = t.confidence_interval(0.95)
        case["t"] = {"p": float(t.pvalue), "lower": float(ci.low), "upper": float(ci.high)}
        bs = stats.bootstrap((d,), np.mean, n_resamples=20000, method="percentile", random_state=rng)
        case["bootstrap"] = {
            "lower": float(bs.confidence_interval.low),
            "upper": float(bs.confidence_interval.high),
            "standardError": float(bs.standard_error),
        }
    binary = set(np.unique(np.concatenate([a, b]))) <= {0.0, 1.0}
    if binary:
        down = int(((a == 1) & (b == 0)).sum())
        up = int(((a == 0) & (b == 1)).sum())
        case["mcnemar"] = {"down": down, "up": up, "p": float(mcnemar([[0, down], [up, 0]], exact=True).pvalue)}
    return case


out["paired"] = [
    paired_case("continuous, 64 items", rng.uniform(0, 1, 64), np.clip(rng.uniform(0, 1, 64) + 0.08, 0, 1)),
    paired_case("continuous, many ties", rng.integers(0, 5, 200) / 4, rng.integers(0, 5, 200) / 4),
    paired_case("binary, 12 fixed 2 broken of 64", [1] * 40 + [0] * 12 + [1] * 2 + [0] * 10, [1] * 40 + [1] * 12 + [0] * 2 + [0] * 10),
    paired_case("binary, no flips", [1, 0, 1, 1, 0], [1, 0, 1, 1, 0]),
    paired_case("all equal", [0.5] * 30, [0.5] * 30),
    paired_case("one item", [0.2], [0.9]),
    paired_case("constant shift", [0.1, 0.2, 0.3, 0.4], [0.2, 0.3, 0.4, 0.5]),
    paired_case("two items", [0.0, 0.5], [1.0, 0.7]),
    paired_case("large, 20000 items", *modular(20000)),
]


def clean(x):
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return None
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [clean(v) for v in x]
    return x


print(json.dumps(clean(out), indent=1))
