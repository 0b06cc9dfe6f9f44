"""Generate allocation instances, solve them with OR-Tools' SimpleMinCostFlow and with
`passgenau solve --dimacs`, check that the optimal costs are equal and print both times.

Run through scripts/compare-ortools.sh (it makes the venv). Not part of the test command.

An instance is a cohort run's graph: source -> customer [cap 1] -> eligible offer
[cost -score] -> offer -> sink, with the offer's places split into convex segments (the
70-120 % corridor: a bonus below 70 % of the planned places, neutral up to 100 %, a
penalty above), and an "unassigned" bypass customer -> sink.
"""

import argparse
import json
import random
import subprocess
import sys
import time


def instance(customers, offers, pairs, seed):
    rng = random.Random(seed)
    source, sink = 0, 1 + customers + offers
    arcs = []  # (tail, head, cap, cost)
    for c in range(customers):
        arcs.append((source, 1 + c, 1, 0))
        arcs.append((1 + c, sink, 1, 0))  # unassigned
    per = max(1, pairs // customers)
    extra = pairs - per * customers
    for c in range(customers):
        k = per + (1 if c < extra else 0)
        for o in rng.sample(range(offers), min(k, offers)):
            arcs.append((1 + c, 1 + customers + o, 1, -rng.randint(100, 400)))
    total_places = 0
    for o in range(offers):
        planned = max(1, int(customers / offers * rng.uniform(0.4, 1.0)))
        low, high = int(planned * 0.7), int(planned * 1.2)
        node = 1 + customers + o
        arcs.append((node, sink, low, -30))           # filling towards 70 %
        arcs.append((node, sink, planned - low, 0))   # 70-100 %
        arcs.append((node, sink, high - planned, 40)) # the 20 % option
        total_places += high
    return sink + 1, source, sink, customers, arcs


def write_dimacs(path, nodes, source, sink, supply, arcs):
    with open(path, "w") as f:
        f.write("c passgenau allocation instance\n")
        f.write(f"p min {nodes} {len(arcs)}\n")
        f.write(f"n {source + 1} {supply}\n")
        f.write(f"n {sink + 1} {-supply}\n")
        f.writelines(f"a {t + 1} {h + 1} 0 {cap} {cost}\n" for t, h, cap, cost in arcs)


def ortools(nodes, source, sink, supply, arcs):
    from ortools.graph.python import min_cost_flow
    import numpy as np

    smcf = min_cost_flow.SimpleMinCostFlow()
    a = np.array(arcs, dtype=np.int64)
    smcf.add_arcs_with_capacity_and_unit_cost(a[:, 0], a[:, 1], a[:, 2], a[:, 3])
    smcf.set_node_supply(source, supply)
    smcf.set_node_supply(sink, -supply)
    started = time.perf_counter()
    status = smcf.solve()
    ms = (time.perf_counter() - started) * 1000
    if status != smcf.OPTIMAL:
        return {"status": str(status), "cost": None, "solve_ms": ms}
    return {"status": "optimal", "cost": smcf.optimal_cost(), "solve_ms": ms}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--offers", type=int, default=1_000)
    ap.add_argument("--pairs", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--passgenau", default="target/release/passgenau")
    ap.add_argument("--file", default="target/compare.min")
    args = ap.parse_args()
    nodes, source, sink, supply, arcs = instance(args.customers, args.offers, args.pairs, args.seed)
    write_dimacs(args.file, nodes, source, sink, supply, arcs)
    ours = subprocess.run(
        ["/usr/bin/time", "-f", "%M", args.passgenau, "solve", "--dimacs", args.file],
        capture_output=True, text=True, check=True,
    )
    mine = json.loads(ours.stdout.strip().splitlines()[-1])
    rss_mb = int(ours.stderr.strip().splitlines()[-1]) / 1024
    theirs = ortools(nodes, source, sink, supply, arcs)
    equal = mine["cost"] == theirs["cost"]
    print(json.dumps({
        "customers": args.customers, "offers": args.offers, "arcs": len(arcs),
        "passgenau": mine, "passgenau_peak_rss_mb": round(rss_mb),
        "ortools": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in theirs.items()},
        "equal_cost": equal,
        "ratio": round(mine["solve_ms"] / theirs["solve_ms"], 3) if theirs["solve_ms"] else None,
    }))
    if not equal:
        sys.exit(1)


if __name__ == "__main__":
    main()
