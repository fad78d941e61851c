"""Multiple systems estimation (MSE): how many persons no list has seen.

Pure: no Flask, no SQL. The input is a list-overlap table (for each combination of
lists, how many persons were seen by exactly those lists); the output is an estimate of
the persons seen by none, or a refusal with a reason people can act on.

Method (docs/estimation.md, ADR 0017):

- Poisson log-linear model of the 2^t − 1 observable cell counts (combinations with no
  person are observed zeros; the all-zero cell is the unknown). Main effects are always
  in; two-way interactions are chosen stepwise (forwards and backwards from the
  main-effects model) by AIC and, separately, by BIC (log of the persons observed, the
  Rcapture convention). The published figure uses **AIC**, as Silverman (2014) did for
  the UK estimate; the BIC model is reported alongside.
- Only interactions between lists that share at least one person are candidates, and a
  candidate model is considered only if its maximum-likelihood estimate exists (the
  Fienberg–Rinaldo linear program, as in Chan, Silverman & Vincent 2021): a fitted
  interaction with no overlap, or a zero cell the model can fit only with an infinite
  parameter, has no MLE, and the unseen-cell estimate would be meaningless.
- Interval: parametric bootstrap. Counts are simulated from the chosen model's fitted
  values, the *chosen model* is refitted to each replicate (vectorised Newton–Raphson;
  model selection is not repeated, so the interval is conditional on the model), and the
  2.5 % and 97.5 % percentiles of the replicated totals are the 95 % interval. Seeded.

Every reported model is fitted with statsmodels' GLM (Poisson family, log link). The
stepwise search scores its candidates, and the bootstrap refits its replicates, with the
same likelihood maximised in numpy (Newton–Raphson, warm-started, vectorised over the
replicates): checked against statsmodels in the tests, and a hundred times faster than
building a statsmodels model per candidate.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MIN_LISTS = 3
MAX_LISTS = 8
DEFAULT_REPS = 1000
DEFAULT_SEED = 2014
#: An unseen estimate more than this many times the observed persons is not published:
#: the model is extrapolating far beyond the data (near-non-existence of the MLE).
MAX_UNSEEN_RATIO = 50.0
PUBLISHED_CRITERION = "aic"
METHOD = "poisson_loglinear_stepwise"
_LP_TOL = 1e-7

Pair = tuple[int, int]

#: code -> (Spanish message, English message); {placeholders} come from `details`.
REASONS: dict[str, tuple[str, str]] = {
    "too_few_lists": (
        "Se necesitan al menos tres listas con personas; hay {lists}. Amplíe el periodo o "
        "elija más fuentes.",
        "At least three lists with persons are needed; there are {lists}. Widen the period "
        "or choose more sources.",
    ),
    "too_many_lists": (
        "Como máximo {max} listas; elija las fuentes o agrupe algunas.",
        "At most {max} lists; choose the sources or merge some.",
    ),
    "isolated_list": (
        "La lista {list} no comparte ninguna persona con las demás: sin coincidencias no se "
        "puede estimar cuántas personas no vio nadie. Quítela o agrúpela con otra.",
        "List {list} shares no person with any other list: without overlap the unseen "
        "cannot be estimated. Remove it or merge it with another.",
    ),
    "too_few_persons": (
        "Hay menos de {minimum} personas observadas: demasiado pocas para estimar y publicar.",
        "Fewer than {minimum} persons observed: too few to estimate and publish.",
    ),
    "no_estimate": (
        "El modelo no tiene estimación de máxima verosimilitud con estos datos (coincidencias "
        "demasiado escasas). Agrupe listas o amplíe el periodo.",
        "The model has no maximum-likelihood estimate with these data (overlaps too sparse). "
        "Merge lists or widen the period.",
    ),
    "withheld": (
        "No se publica para proteger una cifra pequeña (control de divulgación): otra "
        "cifra publicada permitiría deducirla. Use todas las fuentes o quite el desglose.",
        "Withheld to protect a small count (disclosure control): another published figure "
        "would give it away. Use all sources or remove the breakdown.",
    ),
    "unstable_estimate": (
        "La estimación de personas no vistas es inestable (más de {ratio} veces las "
        "observadas o el ajuste no converge): las listas se solapan demasiado poco. "
        "Agrupe listas o amplíe el periodo.",
        "The estimate of unseen persons is unstable (more than {ratio} times those observed "
        "or the fit does not converge): the lists overlap too little. Merge lists or widen "
        "the period.",
    ),
}


class TableError(ValueError):
    """A malformed overlap table (CLI input): names the line and the column."""

    def __init__(self, message: str, line: int | None = None, column: str | None = None):
        where = []
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why no estimate is given: a stable `code` and messages in Spanish and English."""

    code: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def message_es(self) -> str:
        return REASONS[self.code][0].format(**self.details)

    @property
    def message_en(self) -> str:
        return REASONS[self.code][1].format(**self.details)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message_en, "message_es": self.message_es}


@dataclass(frozen=True, slots=True)
class ModelFit:
    """One fitted log-linear model: its interactions and fit statistics."""

    terms: tuple[Pair, ...]
    unseen: float
    deviance: float
    df: int
    aic: float
    bic: float
    params: tuple[float, ...]

    def term_names(self, lists: Sequence[str]) -> list[str]:
        return [f"{lists[i]}:{lists[j]}" for i, j in self.terms]


@dataclass(frozen=True, slots=True)
class Estimate:
    lists: tuple[str, ...]
    observed: int
    estimate: float
    unseen: float
    ci_low: float
    ci_high: float
    criterion: str
    chosen: ModelFit
    models: Mapping[str, ModelFit]
    reps: int
    seed: int
    failed_reps: int

    def model_description(self) -> str:
        names = ["main effects", *self.chosen.term_names(self.lists)]
        return " + ".join(names)

    def as_dict(self) -> dict[str, Any]:
        def fit_doc(fit: ModelFit) -> dict[str, Any]:
            return {
                "interactions": fit.term_names(self.lists),
                "unseen": round(fit.unseen, 1),
                "estimate": round(self.observed + fit.unseen, 1),
                "deviance": round(fit.deviance, 3),
                "df": fit.df,
                "aic": round(fit.aic, 3),
                "bic": round(fit.bic, 3),
            }

        return {
            "lists": list(self.lists),
            "observed": self.observed,
            "estimate": round(self.estimate, 1),
            "unseen": round(self.unseen, 1),
            "ci_low": round(self.ci_low, 1),
            "ci_high": round(self.ci_high, 1),
            "model": self.model_description(),
            "interactions": self.chosen.term_names(self.lists),
            "method": METHOD,
            "criterion": self.criterion,
            "fit": {
                "deviance": round(self.chosen.deviance, 3),
                "df": self.chosen.df,
                "aic": round(self.chosen.aic, 3),
                "bic": round(self.chosen.bic, 3),
            },
            "models": {name: fit_doc(fit) for name, fit in self.models.items()},
            "interval": {
                "level": 0.95,
                "method": "parametric_bootstrap_percentile",
                "refit": "chosen_model",
                "reps": self.reps,
                "seed": self.seed,
                "failed_reps": self.failed_reps,
            },
        }


# -- the table -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Table:
    """Counts for every non-empty combination of `lists` (absent combinations are 0)."""

    lists: tuple[str, ...]
    patterns: np.ndarray  # (2^t − 1) × t of 0/1, fixed order
    counts: np.ndarray  # persons per pattern

    @classmethod
    def from_cells(cls, lists: Sequence[str], cells: Iterable[tuple[Iterable[str], int]]) -> Table:
        """`cells`: (the lists that saw the persons, how many). Lists outside `lists` are
        ignored (a person seen only by them is not in the table)."""
        lists = tuple(lists)
        if len(set(lists)) != len(lists):
            raise TableError("a list is repeated")
        patterns = _patterns(len(lists))
        index = {tuple(int(v) for v in row): i for i, row in enumerate(patterns)}
        counts = np.zeros(len(patterns))
        for members, n in cells:
            members = set(members)
            key = tuple(int(name in members) for name in lists)
            if any(key) and n:
                counts[index[key]] += int(n)
        return cls(lists, patterns, counts)

    @property
    def observed(self) -> int:
        return int(self.counts.sum())

    def overlap(self, i: int, j: int) -> int:
        both = (self.patterns[:, i] == 1) & (self.patterns[:, j] == 1)
        return int(self.counts[both].sum())

    def list_size(self, i: int) -> int:
        return int(self.counts[self.patterns[:, i] == 1].sum())

    def drop_empty_lists(self) -> Table:
        keep = [i for i in range(len(self.lists)) if self.list_size(i) > 0]
        if len(keep) == len(self.lists):
            return self
        cells = [
            ({self.lists[i] for i in range(len(self.lists)) if row[i]}, int(n))
            for row, n in zip(self.patterns, self.counts, strict=True)
            if n
        ]
        return Table.from_cells([self.lists[i] for i in keep], cells)


def _patterns(t: int) -> np.ndarray:
    rows = [p for p in itertools.product((0, 1), repeat=t) if any(p)]
    return np.array(rows, dtype=float).reshape(len(rows), t)


def read_table(lines: Iterable[str]) -> Table:
    """Parse the CSV format of the shared reference file: one 0/1 column per list and a
    `count` column. Errors name the line (1 = header) and the column."""
    import csv

    reader = csv.reader(lines)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise TableError("the file is empty", line=1) from None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    if "count" not in header:
        raise TableError("no 'count' column", line=1)
    for name in header:
        if not name:
            raise TableError("a column has no name", line=1)
    if len(set(header)) != len(header):
        raise TableError("a column name is repeated", line=1)
    lists = [h for h in header if h != "count"]
    if not lists:
        raise TableError("no list columns", line=1)
    cells: list[tuple[set[str], int]] = []
    seen: dict[tuple[int, ...], int] = {}
    for number, row in enumerate(reader, start=2):
        if not row or all(not v.strip() for v in row):
            continue
        if len(row) != len(header):
            raise TableError(f"expected {len(header)} values, found {len(row)}", line=number)
        values = dict(zip(header, (v.strip() for v in row), strict=True))
        key = []
        for name in lists:
            if values[name] not in ("0", "1"):
                raise TableError(f"must be 0 or 1, not {values[name]!r}", number, name)
            key.append(int(values[name]))
        raw = values["count"]
        if not raw.isdigit():
            raise TableError(f"must be a whole number >= 0, not {raw!r}", number, "count")
        if not any(key):
            if int(raw):
                raise TableError(
                    "the all-zero combination is the unknown and cannot have a count", number
                )
            continue
        if tuple(key) in seen:
            raise TableError(f"combination repeats line {seen[tuple(key)]}", number)
        seen[tuple(key)] = number
        cells.append(({n for n, v in zip(lists, key, strict=True) if v}, int(raw)))
    return Table.from_cells(lists, cells)


# -- models ----------------------------------------------------------------------------------


def design(patterns: np.ndarray, terms: Sequence[Pair]) -> np.ndarray:
    """Intercept, one column per list, one per two-way interaction in `terms`."""
    cols = [np.ones(len(patterns)), *patterns.T]
    cols.extend(patterns[:, i] * patterns[:, j] for i, j in terms)
    return np.column_stack(cols)


def mle_exists(x: np.ndarray, y: np.ndarray) -> bool:
    """Fienberg–Rinaldo check: the Poisson MLE exists unless some direction `d` leaves
    every positive cell's linear predictor unchanged and lowers some zero cells' — then
    the likelihood keeps rising along `d` and a parameter runs off to −∞."""
    from scipy.optimize import linprog

    zero = y == 0
    if not zero.any():
        return bool(np.linalg.matrix_rank(x) == x.shape[1])
    xp, x0 = x[~zero], x[zero]
    p = x.shape[1]
    # maximise −Σ x0·d  s.t.  xp·d = 0,  −1 <= x0·d <= 0
    res = linprog(
        c=x0.sum(axis=0),
        A_ub=np.vstack([x0, -x0]),
        b_ub=np.concatenate([np.zeros(len(x0)), np.ones(len(x0))]),
        A_eq=xp if len(xp) else None,
        b_eq=np.zeros(len(xp)) if len(xp) else None,
        bounds=[(None, None)] * p,
        method="highs",
    )
    if res.status != 0:  # unbounded cannot happen (box on x0·d); be conservative
        return False
    return bool(-res.fun <= _LP_TOL)


def _fit(table: Table, terms: Sequence[Pair], start: np.ndarray | None = None) -> ModelFit | None:
    """statsmodels GLM (Poisson, log link) on the observable cells; None if no finite fit."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    x = design(table.patterns, terms)
    y = table.counts
    try:
        with np.errstate(all="ignore"):
            result = sm.GLM(y, x, family=sm.families.Poisson()).fit(
                start_params=start, maxiter=100, tol=1e-10
            )
    except (PerfectSeparationError, np.linalg.LinAlgError, ValueError):
        return None
    params = np.asarray(result.params, dtype=float)
    if not np.all(np.isfinite(params)) or not getattr(result, "converged", True):
        return None
    k = x.shape[1]
    llf = float(result.llf)
    n = max(table.observed, 2)
    return ModelFit(
        terms=tuple(terms),
        unseen=float(math.exp(min(params[0], 700.0))),
        deviance=float(result.deviance),
        df=int(len(y) - k),
        aic=-2 * llf + 2 * k,
        bic=-2 * llf + math.log(n) * k,
        params=tuple(params.tolist()),
    )


def _quick_fit(table: Table, terms: Sequence[Pair], near: ModelFit | None) -> ModelFit | None:
    """The same Poisson likelihood as `_fit`, maximised with numpy (Newton–Raphson started
    from the nearest fitted model): scores the stepwise candidates in about a millisecond.
    None when the MLE does not exist. The models finally chosen are refitted by `_fit`."""
    from scipy.special import gammaln

    x = design(table.patterns, terms)
    y = table.counts
    p = x.shape[1]
    start = np.zeros(p)
    if near is None:
        start[0] = math.log(max(float(y.mean()), 0.5))
    else:
        t = len(table.lists)
        start[: t + 1] = near.params[: t + 1]
        known = dict(zip(near.terms, near.params[t + 1 :], strict=True))
        start[t + 1 :] = [known.get(term, 0.0) for term in terms]
    # Converged on every parameter: a finite stationary point of a concave likelihood is
    # its maximum, so the MLE exists. When it does not exist a parameter keeps moving by
    # about one per step, Newton does not converge, and the linear program confirms.
    beta = _newton_batch(x, y[None, :], start, strict=True)[0]
    if not np.all(np.isfinite(beta)):
        if not mle_exists(x, y):
            return None
        return _fit(table, terms)  # exists but hard for plain Newton: statsmodels
    with np.errstate(all="ignore"):
        eta = x @ beta
        mu = np.exp(eta)
        llf = float(np.sum(y * eta - mu - gammaln(y + 1)))
        ratio = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
        deviance = float(2 * np.sum(ratio - (y - mu)))
    n = max(table.observed, 2)
    return ModelFit(
        terms=tuple(terms),
        unseen=float(math.exp(min(beta[0], 700.0))),
        deviance=deviance,
        df=int(len(y) - p),
        aic=-2 * llf + 2 * p,
        bic=-2 * llf + math.log(n) * p,
        params=tuple(beta.tolist()),
    )


def candidate_pairs(table: Table) -> list[Pair]:
    """Two-way interactions worth trying: lists that share at least one person."""
    t = len(table.lists)
    return [(i, j) for i, j in itertools.combinations(range(t), 2) if table.overlap(i, j) > 0]


def _score(fit: ModelFit, criterion: str) -> float:
    return fit.aic if criterion == "aic" else fit.bic


def stepwise(
    table: Table,
    criterion: str,
    base: ModelFit,
    cache: dict[frozenset[Pair], ModelFit | None] | None = None,
) -> ModelFit:
    """From `base` (main effects), add or drop the one interaction that lowers the
    criterion most, until no single change lowers it. Models without an MLE are skipped.
    `cache` (model terms -> fit) may be shared between criteria on the same table."""
    pairs = candidate_pairs(table)
    current = base
    if cache is None:
        cache = {}
    cache.setdefault(frozenset(base.terms), base)
    while True:
        options: list[tuple[Pair, ...]] = [
            (*current.terms, p) for p in pairs if p not in current.terms
        ]
        options.extend(tuple(q for q in current.terms if q != p) for p in current.terms)
        best = current
        for terms in options:
            key = frozenset(terms)
            if key not in cache:
                cache[key] = _quick_fit(table, sorted(terms), current)
            fit = cache[key]
            if fit is not None and _score(fit, criterion) < _score(best, criterion) - 1e-9:
                best = fit
        if best is current:
            return current
        current = best


# -- bootstrap -------------------------------------------------------------------------------


def _newton_batch(
    x: np.ndarray, y: np.ndarray, start: np.ndarray, iters: int = 60, *, strict: bool = False
) -> np.ndarray:
    """Poisson log-linear MLE for each row of `y` (B × m) at once; NaN rows did not converge.

    `strict`: converged only when every parameter has settled. Otherwise (the bootstrap)
    the intercept and the fitted positive cells must settle, which also accepts the
    extended MLE of a replicate that lost an interaction's whole overlap."""
    b = y.shape[0]
    p = x.shape[1]
    beta = np.tile(start, (b, 1))
    done = np.zeros(b, dtype=bool)
    ridge = 1e-10 * np.eye(p)
    with np.errstate(all="ignore"):
        for _ in range(iters):
            eta = np.clip(beta @ x.T, -50.0, 50.0)
            mu = np.exp(eta)
            grad = (y - mu) @ x
            hess = np.einsum("bm,mp,mq->bpq", mu, x, x) + ridge
            try:
                step = np.linalg.solve(hess, grad[..., None])[..., 0]
            except np.linalg.LinAlgError:
                step = np.einsum("bpq,bq->bp", np.linalg.pinv(hess), grad)
            step[done] = 0.0
            beta = beta + step
            # The unseen cell depends on the intercept only. When a replicate has lost
            # every person in an interaction's overlap, that parameter drifts to −∞
            # (the extended MLE) while the intercept settles: judge convergence on it
            # and on the fitted values of the cells with persons.
            new_mu = np.exp(np.clip(beta @ x.T, -50.0, 50.0))
            change = np.max(np.abs(new_mu - mu) * (y > 0) / (1.0 + mu), axis=1)
            if strict:
                done |= np.max(np.abs(step), axis=1) < 1e-9
            else:
                done |= (np.abs(step[:, 0]) < 1e-8) & (change < 1e-8)
            if done.all():
                break
    beta[~done] = np.nan
    return beta


def bootstrap(table: Table, fit: ModelFit, reps: int, seed: int) -> tuple[np.ndarray, int]:
    """Totals (observed + unseen) refitted on `reps` parametric replicates of `table`."""
    x = design(table.patterns, fit.terms)
    mu = np.exp(x @ np.asarray(fit.params))
    rng = np.random.default_rng(seed)
    y = rng.poisson(mu, size=(reps, len(mu))).astype(float)
    beta = _newton_batch(x, y, np.asarray(fit.params))
    totals = y.sum(axis=1) + np.exp(beta[:, 0])
    ok = np.isfinite(totals) & (np.exp(beta[:, 0]) <= MAX_UNSEEN_RATIO * y.sum(axis=1) + 1)
    return totals[ok], int((~ok).sum())


# -- the estimator ---------------------------------------------------------------------------


def estimate(
    table: Table,
    *,
    min_persons: int = 1,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
    criterion: str = PUBLISHED_CRITERION,
) -> Estimate | Refusal:
    """The estimate of the total (observed + unseen) with its 95 % interval, or why not."""
    if criterion not in ("aic", "bic"):
        raise ValueError("criterion must be aic or bic")
    table = table.drop_empty_lists()
    t = len(table.lists)
    if t < MIN_LISTS:
        return Refusal("too_few_lists", {"lists": t})
    if t > MAX_LISTS:
        return Refusal("too_many_lists", {"max": MAX_LISTS})
    if table.observed < max(min_persons, 1):
        return Refusal("too_few_persons", {"minimum": max(min_persons, 1)})
    for i, name in enumerate(table.lists):
        if all(table.overlap(i, j) == 0 for j in range(t) if j != i):
            return Refusal("isolated_list", {"list": name})
    if not mle_exists(design(table.patterns, ()), table.counts):
        return Refusal("no_estimate")
    base = _fit(table, ())
    if base is None:
        return Refusal("no_estimate")
    cache: dict[frozenset[Pair], ModelFit | None] = {}
    models = {}
    for name in ("aic", "bic"):
        # selected with the numpy scores; reported (and bootstrapped) from statsmodels
        selected = stepwise(table, name, base, cache)
        models[name] = _fit(table, selected.terms, np.asarray(selected.params)) or selected
    chosen = models[criterion]
    if not math.isfinite(chosen.unseen) or chosen.unseen > MAX_UNSEEN_RATIO * table.observed:
        return Refusal("unstable_estimate", {"ratio": int(MAX_UNSEEN_RATIO)})
    totals, failed = bootstrap(table, chosen, reps, seed)
    if len(totals) < 0.9 * reps:
        return Refusal("unstable_estimate", {"ratio": int(MAX_UNSEEN_RATIO)})
    low, high = np.percentile(totals, [2.5, 97.5])
    return Estimate(
        lists=table.lists,
        observed=table.observed,
        estimate=table.observed + chosen.unseen,
        unseen=chosen.unseen,
        ci_low=float(low),
        ci_high=float(high),
        criterion=criterion,
        chosen=chosen,
        models=models,
        reps=reps,
        seed=seed,
        failed_reps=failed,
    )
