//! The solver against a deliberately simple reference (Edmonds–Karp for a feasible flow,
//! then Bellman–Ford cycle cancelling) on thousands of small random networks, including
//! infeasible ones, zero capacities, parallel arcs, self-loops, negative costs, lower
//! bounds and negative cycles.

use passgenau_allocation::flow::{self, ArcSpec, Network, Status};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
}

/// Reference: optimal cost, or None when infeasible.
fn reference(net: &Network) -> Option<i128> {
    let n = net.nodes;
    if net.supply.iter().sum::<i64>() != 0 {
        return None;
    }
    // residual graph with super source s and sink t
    let s = n;
    let t = n + 1;
    let mut to = Vec::new();
    let mut cap: Vec<i64> = Vec::new();
    let mut cost: Vec<i64> = Vec::new();
    let mut adj = vec![Vec::new(); n + 2];
    let mut add = |u: usize, v: usize, c: i64, w: i64, adj: &mut Vec<Vec<usize>>| {
        adj[u].push(to.len());
        to.push(v);
        cap.push(c);
        cost.push(w);
        adj[v].push(to.len());
        to.push(u);
        cap.push(0);
        cost.push(-w);
    };
    let mut supply = net.supply.clone();
    let mut base: i128 = 0;
    for a in &net.arcs {
        supply[a.from] -= a.lower;
        supply[a.to] += a.lower;
        base += i128::from(a.lower) * i128::from(a.cost);
        add(a.from, a.to, a.capacity - a.lower, a.cost, &mut adj);
    }
    let mut need = 0;
    for (u, &b) in supply.iter().enumerate() {
        if b > 0 {
            add(s, u, b, 0, &mut adj);
            need += b;
        } else if b < 0 {
            add(u, t, -b, 0, &mut adj);
        }
    }
    // Edmonds–Karp
    let mut flow = 0;
    loop {
        let mut prev = vec![usize::MAX; n + 2];
        let mut q = std::collections::VecDeque::from([s]);
        prev[s] = usize::MAX - 1;
        while let Some(u) = q.pop_front() {
            for &e in &adj[u] {
                if cap[e] > 0 && prev[to[e]] == usize::MAX {
                    prev[to[e]] = e;
                    q.push_back(to[e]);
                }
            }
        }
        if prev[t] == usize::MAX {
            break;
        }
        let mut f = i64::MAX;
        let mut v = t;
        while v != s {
            let e = prev[v];
            f = f.min(cap[e]);
            v = to[e ^ 1];
        }
        let mut v = t;
        while v != s {
            let e = prev[v];
            cap[e] -= f;
            cap[e ^ 1] += f;
            v = to[e ^ 1];
        }
        flow += f;
    }
    if flow != need {
        return None;
    }
    // cancel negative cycles (Bellman–Ford from a virtual root) until none is left
    loop {
        let m = n + 2;
        let mut d = vec![0i64; m];
        let mut pred = vec![usize::MAX; m];
        let mut last = usize::MAX;
        for _ in 0..m {
            last = usize::MAX;
            for e in 0..to.len() {
                if cap[e] > 0 {
                    let u = to[e ^ 1];
                    let v = to[e];
                    if d[u] + cost[e] < d[v] {
                        d[v] = d[u] + cost[e];
                        pred[v] = e;
                        last = v;
                    }
                }
            }
        }
        if last == usize::MAX {
            break;
        }
        let mut v = last;
        for _ in 0..m {
            v = to[pred[v] ^ 1];
        }
        // v is on the cycle
        let start = v;
        let mut f = i64::MAX;
        loop {
            let e = pred[v];
            f = f.min(cap[e]);
            v = to[e ^ 1];
            if v == start {
                break;
            }
        }
        loop {
            let e = pred[v];
            cap[e] -= f;
            cap[e ^ 1] += f;
            v = to[e ^ 1];
            if v == start {
                break;
            }
        }
    }
    let mut total = base;
    for (i, a) in net.arcs.iter().enumerate() {
        let used = a.capacity - a.lower - cap[2 * i];
        total += i128::from(used) * i128::from(a.cost);
    }
    Some(total)
}

fn random_network(rng: &mut Lcg) -> Network {
    let n = rng.range(1, 9) as usize;
    let m = rng.range(0, 24) as usize;
    let mut net = Network::new(n);
    for _ in 0..m {
        let from = rng.range(0, n as i64 - 1) as usize;
        let to = rng.range(0, n as i64 - 1) as usize; // self-loops allowed
        let capacity = if rng.range(0, 9) == 0 { 0 } else { rng.range(1, 8) };
        let lower = if rng.range(0, 7) == 0 {
            rng.range(0, capacity)
        } else {
            0
        };
        let cost = rng.range(-6, 15);
        net.arcs.push(ArcSpec {
            from,
            to,
            lower,
            capacity,
            cost,
        });
        if rng.range(0, 5) == 0 {
            net.arcs.push(ArcSpec {
                from,
                to,
                lower: 0,
                capacity: rng.range(0, 4),
                cost: rng.range(-3, 10),
            }); // parallel
        }
    }
    // supplies: usually balanced, sometimes not
    let units = rng.range(0, 8);
    for _ in 0..units {
        let a = rng.range(0, n as i64 - 1) as usize;
        let b = rng.range(0, n as i64 - 1) as usize;
        net.supply[a] += 1;
        net.supply[b] -= 1;
    }
    if rng.range(0, 19) == 0 {
        net.supply[0] += 1;
    }
    net
}

#[test]
fn agrees_with_the_reference_on_random_networks() {
    let mut rng = Lcg(42);
    let (mut optimal, mut infeasible) = (0, 0);
    for case in 0..4_000 {
        let net = random_network(&mut rng);
        let want = reference(&net);
        // the same network with a capacity beyond 32 bits (a free self-loop, which
        // changes no optimum) runs the solver's 64-bit arc layout instead of the compact one
        let mut wide = net.clone();
        if wide.nodes > 0 {
            wide.add_arc(0, 0, 3_000_000_000, 0);
        }
        for net in [&net, &wide] {
            let sol = flow::solve(net);
            match want {
                None => {
                    assert_eq!(sol.status, Status::Infeasible, "case {case}: {net:?}");
                    infeasible += 1;
                }
                Some(cost) => {
                    assert_eq!(sol.status, Status::Optimal, "case {case}: {net:?}");
                    assert_eq!(sol.cost, cost, "case {case}: {net:?}");
                    flow::verify(net, &sol).unwrap();
                    optimal += 1;
                }
            }
        }
    }
    assert!(
        optimal > 2_000 && infeasible > 400,
        "{optimal} optimal, {infeasible} infeasible"
    );
}

#[test]
fn deterministic_and_certified_on_a_larger_assignment() {
    // 300 customers × 40 offers, bipartite with an "unassigned" bypass, like a cohort run
    let mut rng = Lcg(7);
    let customers = 300;
    let offers = 40;
    let source = 0;
    let sink = 1 + customers + offers;
    let mut net = Network::new(sink + 1);
    net.supply[source] = customers as i64;
    net.supply[sink] = -(customers as i64);
    for c in 0..customers {
        net.add_arc(source, 1 + c, 1, 0);
        net.add_arc(1 + c, sink, 1, 1_000); // unassigned
        for _ in 0..8 {
            let o = rng.range(0, offers as i64 - 1) as usize;
            net.add_arc(1 + c, 1 + customers + o, 1, -rng.range(50, 300));
        }
    }
    for o in 0..offers {
        net.add_arc(1 + customers + o, sink, rng.range(2, 9), 0);
    }
    let a = flow::solve(&net);
    let b = flow::solve(&net);
    assert_eq!(a.status, Status::Optimal);
    assert_eq!(a.flow, b.flow, "same input, same answer");
    assert_eq!(Some(a.cost), reference(&net));
    flow::verify(&net, &a).unwrap();
    // a tampered potential breaks the certificate
    let mut bad = a.clone();
    if let Some(p) = bad.potential.iter_mut().find(|p| **p != 0) {
        *p += 1_000_000;
    }
    assert!(flow::verify(&net, &bad).is_err());
}
