//! Exact minimum-cost flow: Goldberg's cost-scaling push-relabel algorithm with integer
//! costs, after a Dinic max-flow that establishes feasibility. Deterministic (FIFO order,
//! no randomness: the same network gives the same flow). Before it reports `Optimal` the
//! solution carries node potentials and passes [`verify`]: capacities respected, flow
//! conserved, and every residual arc with non-negative reduced cost — the LP optimality
//! certificate, checked in exact integer arithmetic.
//!
//! Design notes (after studying Goldberg 1997, LEMON's `CostScaling` and OR-Tools'
//! `GenericMinCostFlow`): arcs in a compressed forward-star layout with paired reverse
//! arcs; costs multiplied by `n + 1` so that ε = 1 at the end means optimality for the
//! original integer costs; ε shrinks by a factor [`ALPHA`] per refine; each refine starts
//! by saturating the arcs of negative reduced cost and then discharges active nodes in
//! FIFO order with a current-arc pointer. Beyond the textbook: Goldberg's price updates
//! (Dial buckets); a "deep" relabel for nodes whose excess exceeds the room at their best
//! arcs; the first refine at ε₀/α²; early termination once bounded Bellman–Ford turns the
//! prices into potentials that prove optimality; 32-bit arcs when the values fit. What
//! each of these gained is in `docs/benchmarks.md`.

/// One arc of the input: flow between `lower` and `capacity`, at `cost` per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArcSpec {
    pub from: usize,
    pub to: usize,
    pub lower: i64,
    pub capacity: i64,
    pub cost: i64,
}

/// Nodes `0..nodes` with supplies (positive: source, negative: demand) and arcs.
#[derive(Debug, Clone, Default)]
pub struct Network {
    pub nodes: usize,
    pub supply: Vec<i64>,
    pub arcs: Vec<ArcSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Optimal,
    /// No flow meets every supply and demand within the capacities (or the supplies do
    /// not sum to zero, or a lower bound exceeds its capacity).
    Infeasible,
    /// The solution failed its own optimality certificate: a bug, never reported as
    /// optimal.
    Failed,
}

#[derive(Debug, Clone)]
pub struct Solution {
    pub status: Status,
    /// Total cost of the flow (only meaningful when optimal).
    pub cost: i128,
    /// Flow on each input arc, in input order.
    pub flow: Vec<i64>,
    /// Node potentials proving optimality.
    pub potential: Vec<i64>,
}

/// ε shrinks by this factor between refines.
pub const ALPHA: i64 = 8;

/// Work allowed to an early-termination check: this many Bellman–Ford queue steps per
/// node. When the flow is optimal the check converges in far fewer; when it is not, the
/// check costs about as much as one price update.
const EARLY_CHECK_POPS: usize = 2;

impl Network {
    pub fn new(nodes: usize) -> Self {
        Network {
            nodes,
            supply: vec![0; nodes],
            arcs: Vec::new(),
        }
    }

    pub fn add_arc(&mut self, from: usize, to: usize, capacity: i64, cost: i64) -> usize {
        self.arcs.push(ArcSpec {
            from,
            to,
            lower: 0,
            capacity,
            cost,
        });
        self.arcs.len() - 1
    }
}

/// Residual graph in forward-star layout: the arcs of node `u` are
/// `first[u]..first[u + 1]`; `mate[a]` is the reverse of `a`.
struct Residual<W> {
    first: Vec<usize>,
    arcs: Vec<RArc<W>>,
    /// forward residual arc of each input arc
    of_input: Vec<usize>,
}

/// One residual arc, packed so that scanning a node's arcs reads one stream of memory.
///
/// `W` is the integer type of capacities and scaled costs: `i32` when every value fits
/// (half the memory traffic of `i64`, which the solver is bound by), else `i64`. Prices,
/// excesses and reduced costs are always computed in `i64`.
#[derive(Clone, Copy, Default)]
struct RArc<W> {
    head: u32,
    mate: u32,
    residual: W,
    cost: W,
    /// residual of this arc plus that of its mate (constant): the mate's residual is
    /// `pair - residual`, read without touching the mate
    pair: W,
}

/// The integer type of residual capacities and scaled costs.
trait Word: Copy + Default {
    const MAX: i64;
    fn get(self) -> i64;
    /// Only called with values that fit (checked before a type is chosen).
    fn of(v: i64) -> Self;
}

impl Word for i32 {
    const MAX: i64 = i32::MAX as i64;
    #[inline(always)]
    fn get(self) -> i64 {
        i64::from(self)
    }
    #[inline(always)]
    fn of(v: i64) -> Self {
        v as i32
    }
}

impl Word for i64 {
    const MAX: i64 = i64::MAX;
    #[inline(always)]
    fn get(self) -> i64 {
        self
    }
    #[inline(always)]
    fn of(v: i64) -> Self {
        v
    }
}

impl<W: Word> RArc<W> {
    #[inline(always)]
    fn res(&self) -> i64 {
        self.residual.get()
    }
    #[inline(always)]
    fn add_res(&mut self, d: i64) {
        self.residual = W::of(self.residual.get() + d);
    }
    #[inline(always)]
    fn set_res(&mut self, v: i64) {
        self.residual = W::of(v);
    }
    #[inline(always)]
    fn cost(&self) -> i64 {
        self.cost.get()
    }
    #[inline(always)]
    fn pair(&self) -> i64 {
        self.pair.get()
    }
}

impl<W: Word> Residual<W> {
    fn build(n: usize, arcs: &[ArcSpec], scale: i64) -> Residual<W> {
        let mut degree = vec![0usize; n + 1];
        for a in arcs {
            degree[a.from] += 1;
            degree[a.to] += 1;
        }
        let mut first = vec![0usize; n + 1];
        for u in 0..n {
            first[u + 1] = first[u] + degree[u];
        }
        let m = first[n];
        assert!(
            m < u32::MAX as usize && n < u32::MAX as usize,
            "network too large"
        );
        let mut next = first.clone();
        let mut out = vec![RArc::default(); m];
        let mut of_input = Vec::with_capacity(arcs.len());
        for a in arcs {
            let f = next[a.from];
            next[a.from] += 1;
            let r = next[a.to];
            next[a.to] += 1;
            out[f] = RArc {
                head: a.to as u32,
                mate: r as u32,
                residual: W::of(a.capacity - a.lower),
                cost: W::of(a.cost * scale),
                pair: W::of(a.capacity - a.lower),
            };
            out[r] = RArc {
                head: a.from as u32,
                mate: f as u32,
                residual: W::of(0),
                cost: W::of(-a.cost * scale),
                pair: W::of(a.capacity - a.lower),
            };
            of_input.push(f);
        }
        Residual {
            first,
            arcs: out,
            of_input,
        }
    }
}

/// Dinic's max-flow from the supplies to the demands; returns whether all supply can be
/// routed. Leaves the flow in `g` (excess zero everywhere when it returns true).
fn feasible_flow<W: Word>(g: &mut Residual<W>, n: usize, excess: &mut [i64]) -> bool {
    // super source s = n and sink t = n + 1 are simulated: supply nodes start with excess,
    // demand nodes absorb it. Level graph BFS from every node with excess.
    let mut level = vec![u32::MAX; n];
    let mut it = vec![0usize; n];
    let mut queue = Vec::with_capacity(n);
    loop {
        level.iter_mut().for_each(|l| *l = u32::MAX);
        queue.clear();
        for u in 0..n {
            if excess[u] > 0 {
                level[u] = 0;
                queue.push(u);
            }
        }
        if queue.is_empty() {
            return true;
        }
        let mut reached_deficit = false;
        let mut qi = 0;
        while qi < queue.len() {
            let u = queue[qi];
            qi += 1;
            if excess[u] < 0 {
                reached_deficit = true;
            }
            for a in g.first[u]..g.first[u + 1] {
                let v = g.arcs[a].head as usize;
                if g.arcs[a].res() > 0 && level[v] == u32::MAX {
                    level[v] = level[u] + 1;
                    queue.push(v);
                }
            }
        }
        if !reached_deficit {
            return false;
        }
        it.copy_from_slice(&g.first[..n]);
        let mut progress = false;
        for s in 0..n {
            while excess[s] > 0 && level[s] == 0 {
                let pushed = dfs(g, s, excess[s], &level, &mut it, excess);
                if pushed == 0 {
                    break;
                }
                excess[s] -= pushed;
                progress = true;
            }
        }
        if !progress {
            return false;
        }
    }
}

/// Iterative blocking-flow search from `s`; returns the amount delivered to deficits.
fn dfs<W: Word>(
    g: &mut Residual<W>,
    s: usize,
    limit: i64,
    level: &[u32],
    it: &mut [usize],
    excess: &mut [i64],
) -> i64 {
    let mut path: Vec<usize> = Vec::new(); // arcs
    let mut u = s;
    loop {
        if u != s && excess[u] < 0 {
            // augment along the path
            let mut amount = limit.min(-excess[u]);
            for &a in &path {
                amount = amount.min(g.arcs[a].res());
            }
            for &a in &path {
                g.arcs[a].add_res(-amount);
                {
                    let m = g.arcs[a].mate as usize;
                    g.arcs[m].add_res(amount);
                }
            }
            excess[u] += amount;
            return amount;
        }
        let end = g.first[u + 1];
        let mut advanced = false;
        while it[u] < end {
            let a = it[u];
            let v = g.arcs[a].head as usize;
            if g.arcs[a].res() > 0 && level[v] == level[u].wrapping_add(1) {
                path.push(a);
                u = v;
                advanced = true;
                break;
            }
            it[u] += 1;
        }
        if !advanced {
            // dead end: retreat
            match path.pop() {
                None => return 0,
                Some(a) => {
                    u = g.arcs[g.arcs[a].mate as usize].head as usize;
                    it[u] += 1;
                }
            }
        }
    }
}

/// Solves the network exactly.
pub fn solve(net: &Network) -> Solution {
    let n = net.nodes;
    let infeasible = || Solution {
        status: Status::Infeasible,
        cost: 0,
        flow: vec![0; net.arcs.len()],
        potential: vec![0; n],
    };
    if net.supply.len() != n || net.arcs.iter().any(|a| a.from >= n || a.to >= n) {
        return infeasible();
    }
    if net.supply.iter().map(|&s| i128::from(s)).sum::<i128>() != 0
        || net.arcs.iter().any(|a| a.lower > a.capacity)
    {
        return infeasible();
    }
    // lower bounds become supplies
    let mut excess = net.supply.clone();
    for a in &net.arcs {
        excess[a.from] -= a.lower;
        excess[a.to] += a.lower;
    }
    let scale = n as i64 + 1;
    // prices stay within about n · max|scaled cost|: refuse what could overflow i64
    let max_cost = net.arcs.iter().map(|a| a.cost.unsigned_abs()).max().unwrap_or(0) as i128;
    if max_cost * i128::from(scale) * i128::from(scale) * 8 > i128::from(i64::MAX) {
        return Solution {
            status: Status::Failed,
            ..infeasible()
        };
    }
    // the compact arc layout when every capacity and scaled cost fits in 32 bits
    let fits = |w: i64| {
        net.arcs.iter().all(|a| {
            a.capacity - a.lower <= w && i128::from(a.cost).abs() * i128::from(scale) <= i128::from(w)
        })
    };
    if fits(<i32 as Word>::MAX) {
        scale_and_certify::<i32>(net, scale, excess)
    } else {
        scale_and_certify::<i64>(net, scale, excess)
    }
}

/// Feasibility, the refines, the potentials and the certificate, with arcs of type `W`.
fn scale_and_certify<W: Word>(net: &Network, scale: i64, mut excess: Vec<i64>) -> Solution {
    let n = net.nodes;
    let mut g = Residual::<W>::build(n, &net.arcs, scale);
    if !feasible_flow(&mut g, n, &mut excess) {
        return Solution {
            status: Status::Infeasible,
            cost: 0,
            flow: vec![0; net.arcs.len()],
            potential: vec![0; n],
        };
    }
    let mut price = vec![0i64; n];
    let mut eps = g.arcs.iter().map(|a| a.cost().abs()).max().unwrap_or(0);
    let mut current = g.first.clone();
    let mut work = Work {
        queue: std::collections::VecDeque::with_capacity(n),
        ..Work::default()
    };
    let mut potential = None;
    // The first refine starts from an arbitrary feasible flow and zero prices: it goes
    // straight to ε₀/α² (measured: the ε₀/α phase only shuffles flow that the next one
    // moves again; 25 % less time on the 100,000-customer instance, docs/benchmarks.md).
    let mut step = ALPHA * ALPHA;
    while eps > 1 {
        eps = (eps / step).max(1);
        step = ALPHA;
        refine(&mut g, n, eps, &mut price, &mut excess, &mut current, &mut work);
        // Early termination: once ε is below 1/α of a unit of the original costs the flow
        // is often optimal already. Try to turn the prices into exact potentials with a
        // bounded amount of work; if they prove optimality, the remaining refines are
        // skipped (the certificate below is checked all the same).
        if eps > 1 && eps.saturating_mul(ALPHA) <= scale {
            potential = exact_potentials(&g, n, &price, scale, EARLY_CHECK_POPS * n)
                .filter(|d| reduced_costs_nonnegative(&g, n, d, scale));
            if potential.is_some() {
                break;
            }
        }
    }
    let flow: Vec<i64> = net
        .arcs
        .iter()
        .zip(&g.of_input)
        .map(|(a, &f)| a.capacity - g.arcs[f].res())
        .collect();
    let potential = match potential {
        Some(d) => d,
        // unbounded: an optimal flow has no negative cycle, so Bellman–Ford converges; if it
        // does not, the scaled prices stand in and the certificate below fails (no panic)
        None => exact_potentials(&g, n, &price, scale, usize::MAX)
            .unwrap_or_else(|| price.iter().map(|p| p.div_euclid(scale)).collect()),
    };
    let cost = net
        .arcs
        .iter()
        .zip(&flow)
        .map(|(a, &f)| i128::from(a.cost) * i128::from(f))
        .sum();
    let mut sol = Solution {
        status: Status::Optimal,
        cost,
        flow,
        potential,
    };
    // the certificate is checked every time, not only in tests
    if excess.iter().any(|&e| e != 0) || verify(net, &sol).is_err() {
        sol.status = Status::Failed;
    }
    sol
}

/// One ε-refinement: from an ε·α-optimal flow to an ε-optimal one.
fn refine<W: Word>(
    g: &mut Residual<W>,
    n: usize,
    eps: i64,
    price: &mut [i64],
    excess: &mut [i64],
    current: &mut [usize],
    work: &mut Work,
) {
    // saturate every residual arc of negative reduced cost
    for u in 0..n {
        for a in g.first[u]..g.first[u + 1] {
            let r = g.arcs[a].res();
            if r > 0 && g.arcs[a].cost() + price[u] - price[g.arcs[a].head as usize] < 0 {
                let v = g.arcs[a].head as usize;
                g.arcs[a].set_res(0);
                {
                    let m = g.arcs[a].mate as usize;
                    g.arcs[m].add_res(r);
                }
                excess[u] -= r;
                excess[v] += r;
            }
        }
    }
    let Work {
        update,
        scratch,
        queue,
    } = work;
    price_update(g, n, eps, price, excess, update);
    current[..n].copy_from_slice(&g.first[..n]);
    queue.clear();
    for (u, &e) in excess.iter().enumerate().take(n) {
        if e > 0 {
            queue.push_back(u);
        }
    }
    // another price update after about n relabels
    let mut relabels = 0usize;
    while let Some(u) = queue.pop_front() {
        if relabels > n {
            relabels = 0;
            price_update(g, n, eps, price, excess, update);
            current[..n].copy_from_slice(&g.first[..n]);
        }
        // discharge u
        while excess[u] > 0 {
            let end = g.first[u + 1];
            let mut a = current[u];
            let pu = price[u];
            while a < end {
                if g.arcs[a].res() > 0 {
                    let v = g.arcs[a].head as usize;
                    if g.arcs[a].cost() + pu - price[v] < 0 {
                        let delta = excess[u].min(g.arcs[a].res());
                        push(g, a, u, delta, excess, queue);
                        if excess[u] == 0 {
                            break;
                        }
                    }
                }
                a += 1;
            }
            if excess[u] == 0 {
                current[u] = a.min(end);
                break;
            }
            // relabel: the smallest price drop that makes an arc admissible, and ε more
            let (mut best, mut at_best) = (i64::MIN, 0i64);
            for arc in &g.arcs[g.first[u]..end] {
                if arc.res() > 0 {
                    let value = price[arc.head as usize] - arc.cost();
                    if value > best {
                        (best, at_best) = (value, arc.res());
                    } else if value == best {
                        at_best += arc.res();
                    }
                }
            }
            if best == i64::MIN {
                // no residual arc out of u with positive excess: cannot happen for a
                // feasible network (feasibility was established first)
                return;
            }
            if at_best < excess[u] {
                // Not enough room at the best arcs for the whole excess (an offer sending
                // back many units): drop the price at once to where enough arcs admit it
                // and saturate those that would otherwise fall below −ε. Their residuals
                // add up to less than the excess, so u keeps a non-negative excess and
                // ε-optimality holds; it saves the many small relabels (each a full scan
                // of u's arcs) that would reach the same price one arc at a time.
                let threshold = deep_relabel_threshold(g, u, end, price, excess[u], scratch);
                price[u] = threshold - eps;
                let pu = price[u];
                for a in g.first[u]..end {
                    let r = g.arcs[a].res();
                    if r > 0 {
                        let v = g.arcs[a].head as usize;
                        if g.arcs[a].cost() + pu - price[v] < -eps {
                            push(g, a, u, r, excess, queue);
                        }
                    }
                }
                debug_assert!(excess[u] >= 0);
            } else {
                price[u] = best - eps;
            }
            current[u] = g.first[u];
            relabels += 1;
        }
    }
}

/// Sends `delta` units along arc `a` out of `u`; the head becomes active when it gains
/// an excess.
#[inline(always)]
fn push<W: Word>(
    g: &mut Residual<W>,
    a: usize,
    u: usize,
    delta: i64,
    excess: &mut [i64],
    queue: &mut std::collections::VecDeque<usize>,
) {
    let v = g.arcs[a].head as usize;
    g.arcs[a].add_res(-delta);
    let m = g.arcs[a].mate as usize;
    g.arcs[m].add_res(delta);
    excess[u] -= delta;
    let was = excess[v];
    excess[v] += delta;
    if was <= 0 && excess[v] > 0 {
        queue.push_back(v);
    }
}

/// The price level for a relabel of `u` with a large excess: the highest arc value
/// `price(v) − cost` such that the arcs valued at least as much can take the whole excess.
fn deep_relabel_threshold<W: Word>(
    g: &Residual<W>,
    u: usize,
    end: usize,
    price: &[i64],
    excess: i64,
    scratch: &mut Vec<(i64, i64)>,
) -> i64 {
    scratch.clear();
    scratch.extend(
        g.arcs[g.first[u]..end]
            .iter()
            .filter(|arc| arc.res() > 0)
            .map(|arc| (price[arc.head as usize] - arc.cost(), arc.res())),
    );
    scratch.sort_unstable_by_key(|&(value, _)| std::cmp::Reverse(value));
    let mut room = 0i64;
    for &(value, res) in scratch.iter() {
        room += res;
        if room >= excess {
            return value;
        }
    }
    // all arcs together cannot take the excess: admit them all
    scratch.last().map_or(i64::MIN, |&(value, _)| value)
}

/// Goldberg's price update (a global relabel for cost scaling): Dijkstra from the
/// deficits backwards over residual arcs, where an arc of reduced cost `c_p` costs
/// `max(0, ⌊c_p/ε⌋ + 1)` steps of ε; every node's price drops by its distance (nodes not
/// reached by the time every excess is, by that distance). Keeps ε-optimality and gives
/// every excess an admissible path, which saves most single relabels.
fn price_update<W: Word>(
    g: &Residual<W>,
    n: usize,
    eps: i64,
    price: &mut [i64],
    excess: &[i64],
    work: &mut UpdateWork,
) {
    let UpdateWork {
        dist,
        scanned,
        buckets,
    } = work;
    dist.clear();
    dist.resize(n, i64::MAX);
    scanned.clear();
    scanned.resize(n, false);
    // Dial's buckets: distances are small integers; one bucket per distance up to n
    // (a node farther than that is treated like one not reached, which is still sound)
    let limit = n.max(1);
    for b in buckets.iter_mut() {
        b.clear();
    }
    if buckets.len() < limit + 1 {
        buckets.resize_with(limit + 1, Vec::new);
    }
    let mut active = 0usize;
    for v in 0..n {
        if excess[v] < 0 {
            dist[v] = 0;
            buckets[0].push(v);
        } else if excess[v] > 0 {
            active += 1;
        }
    }
    let mut level = 0usize;
    'search: while level <= limit {
        while let Some(v) = buckets[level].pop() {
            if scanned[v] || dist[v] != level as i64 {
                continue;
            }
            scanned[v] = true;
            if excess[v] > 0 {
                active -= 1;
                if active == 0 {
                    break 'search;
                }
            }
            let pv = price[v];
            for arc in &g.arcs[g.first[v]..g.first[v + 1]] {
                // the arc u → v is this arc's mate: its residual and cost without a jump
                if arc.pair() - arc.res() > 0 {
                    let u = arc.head as usize;
                    if scanned[u] {
                        continue;
                    }
                    let cp = -arc.cost() + price[u] - pv;
                    let len = if cp < 0 { 0 } else { cp / eps + 1 };
                    let nd = level as i64 + len;
                    if nd < dist[u] && nd <= limit as i64 {
                        dist[u] = nd;
                        buckets[nd as usize].push(u);
                    }
                }
            }
        }
        level += 1;
    }
    let level = level.min(limit) as i64;
    for u in 0..n {
        let shift = if scanned[u] { dist[u] } else { dist[u].min(level) };
        price[u] -= shift * eps;
    }
}

/// Buffers the refines reuse (allocated once per solve).
#[derive(Default)]
struct Work {
    update: UpdateWork,
    scratch: Vec<(i64, i64)>,
    /// active nodes in FIFO order
    queue: std::collections::VecDeque<usize>,
}

#[derive(Default)]
struct UpdateWork {
    dist: Vec<i64>,
    scanned: Vec<bool>,
    buckets: Vec<Vec<usize>>,
}

/// Potentials for the original costs: π with π(v) ≤ π(u) + c(u, v) on every residual
/// arc, i.e. reduced costs `c + π(u) − π(v) ≥ 0` (Bellman–Ford in FIFO order, started
/// from the scaled prices, which are nearly right, so it converges in few rounds). Exists
/// for an optimal flow, whose residual graph has no negative cycle.
///
/// Gives up (`None`) after `max_pops` queue steps, or after n² of them (a negative cycle).
fn exact_potentials<W: Word>(
    g: &Residual<W>,
    n: usize,
    price: &[i64],
    scale: i64,
    max_pops: usize,
) -> Option<Vec<i64>> {
    let mut d: Vec<i64> = price.iter().map(|p| p.div_euclid(scale)).collect();
    let mut in_queue = vec![true; n];
    let mut queue: std::collections::VecDeque<usize> = (0..n).collect();
    let limit = max_pops.min(n.saturating_mul(n).max(1_000_000_000));
    let mut rounds = 0usize;
    while let Some(u) = queue.pop_front() {
        in_queue[u] = false;
        rounds += 1;
        if rounds > limit {
            return None;
        }
        for a in g.first[u]..g.first[u + 1] {
            if g.arcs[a].res() > 0 {
                let v = g.arcs[a].head as usize;
                let nd = d[u] + g.arcs[a].cost() / scale;
                if nd < d[v] {
                    d[v] = nd;
                    if !in_queue[v] {
                        in_queue[v] = true;
                        queue.push_back(v);
                    }
                }
            }
        }
    }
    Some(d)
}

/// Whether every residual arc has non-negative reduced cost under the potentials `d`
/// (original costs: the scaled ones divided by `scale`, exactly).
fn reduced_costs_nonnegative<W: Word>(g: &Residual<W>, n: usize, d: &[i64], scale: i64) -> bool {
    (0..n).all(|u| {
        g.arcs[g.first[u]..g.first[u + 1]]
            .iter()
            .all(|a| a.res() == 0 || a.cost() / scale + d[u] - d[a.head as usize] >= 0)
    })
}

/// Checks a solution: bounds, conservation and — for `Optimal` — that every residual arc
/// has reduced cost `cost + π(from) − π(to) ≥ 0`.
pub fn verify(net: &Network, sol: &Solution) -> Result<(), String> {
    if sol.status != Status::Optimal {
        return Ok(());
    }
    let mut balance = net.supply.clone();
    for (i, (a, &f)) in net.arcs.iter().zip(&sol.flow).enumerate() {
        if f < a.lower || f > a.capacity {
            return Err(format!("arc {i}: flow {f} outside [{}, {}]", a.lower, a.capacity));
        }
        balance[a.from] -= f;
        balance[a.to] += f;
        let rc = i128::from(a.cost) + i128::from(sol.potential[a.from]) - i128::from(sol.potential[a.to]);
        if f < a.capacity && rc < 0 {
            return Err(format!("arc {i}: residual forward arc with reduced cost {rc}"));
        }
        if f > a.lower && rc > 0 {
            return Err(format!(
                "arc {i}: residual backward arc with reduced cost {}",
                -rc
            ));
        }
    }
    if let Some((u, b)) = balance.iter().enumerate().find(|(_, b)| **b != 0) {
        return Err(format!("node {u}: flow not conserved ({b})"));
    }
    Ok(())
}
