"""Run PySAL spopt's MaxPHeuristic on a generated town and report the same figures as
`wangge-plan`'s benchmark (see README.md in this directory for the exact commands).

Three ways of running it:
- `--mode town` (the default; exactly what the issue describes: the whole town handed to spopt as one
  instance, its adjacency graph as the weights, spopt's default policy for the parts that
  cannot reach the floor, which joins them to a neighbouring part by one artificial link).
  This is one `solve()` over all compounds; its distance matrix is n² floats, which is why the
  issue saw it pass 10 GB at 50,000 compounds. A region that spans two communities, or that
  is not contiguous in the town's real adjacency (it uses one of spopt's artificial links,
  across an arterial or a river), cannot be adopted as a grid and counts as not in band.
- `--mode whole` (kinder to spopt: small instances, nothing joined across a barrier): one
  MaxPHeuristic per connected part of the town's adjacency graph (arterials and rivers are
  already excluded from it), nothing else. spopt knows nothing of communities, so some of its
  regions span two; such a region cannot be adopted as a grid, and the "share" counts it as not
  in band (the share by households alone is printed beside it).
- `--mode groups`: spopt helped with our own rules, as below.
BENCHMARKS.md records all three.

In `--mode groups`, same instance, same rules as the planner where spopt can follow them:
- the graph is the town's adjacency file (arterials and rivers are already excluded), cut at
  community boundaries; MaxPHeuristic runs on each connected group separately (a max-p region
  never spans two groups anyway, and this keeps every grid inside one community);
- floor = the band's floor (spopt has no ceiling); attributes for heterogeneity = centroid
  coordinates (compact regions);
- a group whose total is below the floor cannot form a region: it counts as one grid, as in
  the planner ("small group").

spopt 0.7's simulated annealing sometimes never terminates on a group (it cycles between
moves); each solve() call gets TIMEOUT seconds and is retried up to RETRIES times, and the
number of timeouts is reported (the time column includes them). A group that fails every
attempt counts as one grid.

Figures: grids; in-band grids / grids that are not a single compound over the ceiling; share
of households living in in-band grids; largest multi-compound grid; wall time and peak RSS.
"""

import argparse
import json
import resource
import sys
import time
import signal
import warnings

import geopandas as gpd
import numpy as np
from libpysal.weights import W
from spopt.region import MaxPHeuristic

warnings.filterwarnings("ignore")

# Per-group time limit for one MaxPHeuristic.solve() call, and attempts per group.
TIMEOUT = 20
# In town mode one solve() covers every compound (--timeout overrides).
TOWN_TIMEOUT = 1800
# In whole mode a part holds up to ~120 compounds (on the 300 town one solve() of the
# largest part takes about 6 s when it ends at all).
WHOLE_TIMEOUT = 30
RETRIES = 3


class _Timeout(Exception):
    pass


def _alarm(_signum, _frame):
    raise _Timeout()


signal.signal(signal.SIGALRM, _alarm)


def groups(ids, community, edges):
    """Connected groups of the same-community adjacency graph."""
    index = {c: i for i, c in enumerate(ids)}
    adj = [[] for _ in ids]
    for e in edges:
        a, b = index[str(e[0])], index[str(e[1])]
        if a != b and community[a] == community[b]:
            adj[a].append(b)
            adj[b].append(a)
    seen = [False] * len(ids)
    out = []
    for s in range(len(ids)):
        if seen[s]:
            continue
        seen[s] = True
        comp, stack = [s], [s]
        while stack:
            v = stack.pop()
            for u in adj[v]:
                if not seen[u]:
                    seen[u] = True
                    comp.append(u)
                    stack.append(u)
        out.append(sorted(comp))
    return out, adj


def contiguous(members, adj):
    """Whether `members` are connected through the town's real adjacency."""
    inside = set(members)
    seen = {members[0]}
    stack = [members[0]]
    while stack:
        v = stack.pop()
        for u in adj[v]:
            if u in inside and u not in seen:
                seen.add(u)
                stack.append(u)
    return len(seen) == len(inside)


def run(compounds_path, adjacency_path, lo, hi, seed, mode="whole", timeout=None):
    gdf = gpd.read_file(compounds_path)
    gdf["id"] = gdf["id"].astype(str)
    with open(adjacency_path, encoding="utf-8") as f:
        edges = json.load(f)["edges"]
    ids = list(gdf["id"])
    community = list(gdf["community"].fillna(""))
    hh = gdf["households"].astype(int).to_numpy()
    # Centroids in a local metric projection (x scaled by cos(latitude)).
    cen = gdf.geometry.centroid
    lat0 = float(np.mean(cen.y))
    gdf["cx"] = cen.x * np.cos(np.radians(lat0)) * 111320.0
    gdf["cy"] = cen.y * 110574.0

    # The town's real adjacency, all edges (contiguity of spopt's regions is judged on it).
    _, town_adj = groups(ids, [""] * len(ids), edges)
    if mode == "town":
        # One instance: every compound, the whole graph, spopt's own handling of the parts.
        comps, adj = [list(range(len(ids)))], town_adj
        default_timeout = TOWN_TIMEOUT
    elif mode == "whole":
        # Connected parts of the whole graph: communities are not spopt's to know.
        comps, adj = groups(ids, [""] * len(ids), edges)
        default_timeout = WHOLE_TIMEOUT
    else:
        comps, adj = groups(ids, community, edges)
        default_timeout = TIMEOUT
    timeout = timeout or default_timeout
    np.random.seed(seed)
    t0 = time.perf_counter()
    regions = []
    timeouts = failed = 0
    for comp in comps:
        total = int(hh[comp].sum())
        if mode != "town" and (len(comp) == 1 or total < lo):
            regions.append(comp)
            continue
        local = {v: i for i, v in enumerate(comp)}
        neighbors = {i: [local[u] for u in adj[v] if u in local] for i, v in enumerate(comp)}
        sub = gdf.iloc[comp].reset_index(drop=True)
        w = W(neighbors, silence_warnings=True)
        labels = None
        for attempt in range(RETRIES):
            model = MaxPHeuristic(sub, w, ["cx", "cy"], "households", lo, top_n=2)
            signal.alarm(timeout)
            try:
                model.solve()
                labels = np.asarray(model.labels_)
                break
            except _Timeout:
                # spopt 0.7's simulated annealing can cycle forever on some groups; retry
                # with the random stream where it is now.
                timeouts += 1
            finally:
                signal.alarm(0)
        if labels is None:
            failed += 1
            regions.append(comp)
            continue
        by = {}
        for i, lab in enumerate(labels):
            by.setdefault(int(lab), []).append(comp[i])
        # Label 0 / -1: areas spopt could not place (enclaves); each such area is its own grid.
        for lab, members in sorted(by.items()):
            if lab <= 0:
                regions.extend([m] for m in members)
            else:
                regions.append(members)
    seconds = time.perf_counter() - t0

    eligible = in_band = hh_in_band = in_band_any = crossing = broken = 0
    largest_multi = 0
    for r in regions:
        h = int(hh[r].sum())
        single_over = len(r) == 1 and h > hi
        if not single_over:
            eligible += 1
        one_community = len({community[v] for v in r}) == 1
        if not one_community:
            crossing += 1
        connected = contiguous(r, town_adj)
        if not connected:
            broken += 1
        if lo <= h <= hi:
            in_band_any += 1
            if one_community and connected:
                in_band += 1
                hh_in_band += h
        if len(r) > 1:
            largest_multi = max(largest_multi, h)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {
        "compounds": len(ids),
        "band": f"{lo}–{hi}",
        "seconds": seconds,
        "peak_rss_mib": peak_mib,
        "grids": len(regions),
        "in_band": in_band,
        "eligible": eligible,
        "share": in_band / eligible if eligible else 1.0,
        "share_any": in_band_any / eligible if eligible else 1.0,
        "crossing": crossing,
        "broken": broken,
        "households_share": hh_in_band / int(hh.sum()),
        "largest_multi": largest_multi,
        "timeouts": timeouts,
        "failed": failed,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", help="directory written by `plan_bench --write-towns DIR`")
    ap.add_argument("sizes", nargs="*", type=int, default=[300, 5000])
    ap.add_argument("--bands", default="500-600,200-300")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mode", choices=["town", "whole", "groups"], default="town")
    ap.add_argument("--timeout", type=int, help="seconds per solve() (default by mode)")
    args = ap.parse_args()
    print(f"spopt MaxPHeuristic, mode {args.mode}")
    print("| compounds | band | time (s) | peak RSS (MiB) | grids | in band and in one community / eligible | share | share by households alone | grids spanning two communities | grids not contiguous | households in in-band grids | largest multi-compound grid | solve() timeouts (groups failed) |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        for band in args.bands.split(","):
            lo, hi = (int(x) for x in band.split("-"))
            r = run(f"{args.dir}/town_{n}.compounds.geojson", f"{args.dir}/town_{n}.adjacency.json", lo, hi, args.seed, args.mode, args.timeout)
            print(
                f"| {r['compounds']} | {r['band']} | {r['seconds']:.1f} | {r['peak_rss_mib']:.0f} | {r['grids']} | "
                f"{r['in_band']} / {r['eligible']} | {100 * r['share']:.1f}% | {100 * r['share_any']:.1f}% | {r['crossing']} | {r['broken']} | "
                f"{100 * r['households_share']:.1f}% | {r['largest_multi']} | {r['timeouts']} ({r['failed']}) |",
                flush=True,
            )


if __name__ == "__main__":
    sys.exit(main())
