//! Solves a DIMACS file and prints the phase times (for tuning the solver).
fn main() {
    let path = std::env::args().nth(1).expect("file");
    let text = std::fs::read_to_string(path).expect("read");
    let net = passgenau_allocation::dimacs::parse(&text).expect("parse");
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let sol = passgenau_allocation::flow::solve(&net);
        println!(
            "{:?} cost {} in {:.1} ms",
            sol.status,
            sol.cost,
            t.elapsed().as_secs_f64() * 1000.0
        );
    }
}
